"""K = 8 seeds of the moons MLP (bench/sweep.py's workload) trained by each sweep executor: batched (one vmapped
model in this process), processes (one engine process per member, as many at once as cores) and ray (a Ray
started on this machine for the sweep, one task per member, as many at once as cores). Wall time of the whole
sweep as the user waits for it, per member, and each executor's cost per member over batched.

Processes pay a torch import per member; Ray pays its own start (timed apart: `ray start` once for many sweeps
takes it off every sweep) and a torch import per worker, which its workers then reuse for later members.
`python bench/sweep_executors.py [--rounds N] [--device cpu|auto|cuda]`.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from sweep import CONFIG, EPOCHS

from nnplay.engine import experiment, sweep_ray
from nnplay.engine.core.config import validate
from nnplay.engine.core.events import Emitter

K = 8
EXECUTORS = ("batched", "processes", "ray")


class RayStart:
    """Times sweep_ray.connect: how long starting (or joining) Ray took in the last sweep."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._connect = sweep_ray.connect

    def __call__(self, address: str) -> bool:
        started = time.perf_counter()
        try:
            return self._connect(address)
        finally:
            self.seconds = time.perf_counter() - started


def _timed(config: dict, root: Path) -> float:
    started = time.perf_counter()
    summary = experiment.run(validate(config), Emitter(), root=root)
    if summary["status"] != "completed" or {m["status"] for m in summary["members"]} != {"completed"}:
        raise RuntimeError(f"sweep benchmark run ended {summary['status']}")
    return time.perf_counter() - started


def measure(rounds: int = 1, device: str = "cpu", log=print) -> dict:
    """Seconds for K seeds with each executor (best of rounds), per member, and over batched per member."""
    base = {**CONFIG, "training": {**CONFIG["training"], "device": device}}
    times: dict[str, list[float]] = {executor: [] for executor in EXECUTORS}
    ray_start: list[float] = []
    timer = RayStart()
    sweep_ray.connect = timer  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(rounds):
                for executor in EXECUTORS:
                    log(f"{K} seeds, round {r + 1}/{rounds}: {executor}")
                    sweep = {"seeds": K, "executor": executor, "ray_address": ""}
                    times[executor].append(_timed({**base, "sweep": sweep}, Path(tmp)))
                    if executor == "ray":
                        ray_start.append(timer.seconds)
    finally:
        sweep_ray.connect = timer._connect  # type: ignore[assignment]
    best = {executor: min(values) for executor, values in times.items()}
    per = {executor: s / K for executor, s in best.items()}
    return {
        "members": K,
        "epochs": EPOCHS,
        "workload": "moons MLP 2-64-64-2, 1,000 training samples, batch 64",
        "device": device,
        "cores": os.cpu_count(),
        "seconds": best,
        "per_member_s": per,
        "over_batched_per_member_s": {executor: per[executor] - per["batched"] for executor in EXECUTORS},
        "ray_start_s": min(ray_start),
        "rounds": times,
    }


def lines(result: dict) -> list[str]:
    """The figures as printed."""
    s, per, over = result["seconds"], result["per_member_s"], result["over_batched_per_member_s"]
    out = [f"{result['members']} seeds of the {result['workload']}, {result['epochs']} epochs, on {result['device']} "]
    out[0] += f"({result['cores']} cores):"
    for executor in EXECUTORS:
        text = f"  {executor:<9} {s[executor]:6.2f} s  ({per[executor] * 1e3:5.0f} ms a member"
        text += ")" if executor == "batched" else f", {over[executor] * 1e3:+.0f} ms over batched)"
        out.append(text)
    start = result["ray_start_s"]
    ray_less_start = (s["ray"] - start) / result["members"]
    out.append(
        f"  ray's start {start:.2f} s of it; without it {ray_less_start * 1e3:.0f} ms a member "
        f"({(ray_less_start - per['batched']) * 1e3:+.0f} ms over batched), as on a Ray already running"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure and print; --json writes the figures too."""
    parser = argparse.ArgumentParser(description="8 seeds trained by each sweep executor")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of each executor (the best counts; default 1)")
    parser.add_argument("--device", choices=("cpu", "auto", "cuda"), default="cpu", help="where to train")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = measure(rounds=args.rounds, device=args.device)
    for line in lines(result):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
