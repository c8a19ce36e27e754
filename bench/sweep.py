"""K seeds of one experiment: trained as one batched model (vmap), one after another in this
process, and (for the smaller K) as separate engine processes. Wall time of the whole sweep, and per
member.

K = 8 and 32: the batched model's cost grows with K far slower than K separate runs', which is the
point of batching (target: 32 seeds batched at least BATCHED_32_SPEEDUP times faster than one after
another). Processes are measured at K = 8 only: each pays a torch import of a few seconds, and 32 of
them on a 2-core machine take about a minute for what the batched model does in one second; their
per-member overhead against batched comes from K = 8.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nnplay.engine import experiment
from nnplay.engine.core.config import validate
from nnplay.engine.core.events import Emitter

SIZES = (8, 32)
PROCESSES_AT = 8
BATCHED_32_SPEEDUP = 5.0  # issue target: 32 seeds batched vs one after another
EPOCHS = 20
CONFIG = {
    "name": "sweep-bench",
    "data": {"dataset": "moons", "n_samples": 1250, "train": 0.8, "val": 0.1, "test": 0.1},
    "model": {"hidden": [64, 64]},
    "training": {"epochs": EPOCHS, "batch_size": 64, "device": "auto", "snapshot_every": 10},
}


def _timed(config: dict, root: Path) -> float:
    started = time.perf_counter()
    summary = experiment.run(validate(config), Emitter(), root=root)
    if summary["status"] != "completed":
        raise RuntimeError(f"sweep benchmark run ended {summary['status']}")
    return time.perf_counter() - started


def measure(rounds: int = 2, device: str = "auto", log=print) -> dict:
    """Seconds for K seeds each way (min over rounds) on `device`, per member, and the speed-ups of batching."""
    base = {**CONFIG, "training": {**CONFIG["training"], "device": device}}
    results: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for k in SIZES:
            times: dict[str, list[float]] = {"batched": [], "sequential": []}
            if k == PROCESSES_AT:
                times["processes"] = []
            for r in range(rounds):
                log(f"sweep of {k} seeds, round {r + 1}/{rounds}: {', '.join(times)}")
                times["batched"].append(_timed({**base, "sweep": {"seeds": k, "executor": "batched"}}, root))
                times["sequential"].append(
                    sum(_timed({**base, "training": {**base["training"], "seed": seed}}, root) for seed in range(k))
                )
                if "processes" in times:
                    times["processes"].append(_timed({**base, "sweep": {"seeds": k, "executor": "processes"}}, root))
            best = {style: min(values) for style, values in times.items()}
            results[k] = {
                "seconds": best,
                "per_member_s": {style: s / k for style, s in best.items()},
                "rounds": times,
                "batched_speedup_vs_sequential": best["sequential"] / best["batched"],
                "batched_speedup_vs_processes": best["processes"] / best["batched"] if "processes" in best else None,
            }
    return {
        "epochs": EPOCHS,
        "workload": "moons MLP 2-64-64-2, 1,000 training samples, batch 64",
        "sizes": results,
    }


def targets(sweeps: dict) -> list[dict]:
    """The sweep's target: 32 seeds batched at least BATCHED_32_SPEEDUP times faster than one after another."""
    largest = sweeps["sizes"].get(32)
    if largest is None:
        return []
    value = largest["batched_speedup_vs_sequential"]
    return [
        {
            "target": f"32 seeds batched ≥ {BATCHED_32_SPEEDUP:g}× one after another",
            "value": value,
            "pass": value >= BATCHED_32_SPEEDUP,
        }
    ]


def lines(sweeps: dict) -> list[str]:
    """The sweep figures as printed under the tables."""
    out = []
    for k, r in sweeps["sizes"].items():
        s, per = r["seconds"], r["per_member_s"]
        text = (
            f"sweep of {k} seeds ({sweeps['workload']}, {sweeps['epochs']} epochs): batched {s['batched']:.2f} s "
            f"({per['batched'] * 1e3:.0f} ms a member) · one after another {s['sequential']:.2f} s "
            f"({per['sequential'] * 1e3:.0f} ms a member) · batched is {r['batched_speedup_vs_sequential']:.1f}x sequential"
        )
        if "processes" in s:
            overhead = per["processes"] - per["batched"]
            text += (
                f" · as processes {s['processes']:.2f} s ({per['processes'] * 1e3:.0f} ms a member, "
                f"{overhead * 1e3:.0f} ms more than batched), {r['batched_speedup_vs_processes']:.1f}x slower than batched"
            )
        out.append(text)
    return out


def main(argv: list[str] | None = None) -> int:
    """The sweep figures alone (bench/run.py measures them with everything else): `python bench/sweep.py`."""
    parser = argparse.ArgumentParser(description="K seeds trained batched against one after another")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each size (the best counts; default 2)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to train")
    args = parser.parse_args(argv)
    sweeps = measure(rounds=args.rounds, device=args.device)
    for line in lines(sweeps):
        print(line)
    for t in targets(sweeps):
        print(f"{t['target']}: {t['value']:.2f} {'PASS' if t['pass'] else 'MISS'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
