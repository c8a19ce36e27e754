"""K seeds of one experiment: trained as one batched model (vmap), one after another in this
process, and as separate engine processes. Wall time of the whole sweep."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from nnplay.engine import experiment
from nnplay.engine.core.config import validate
from nnplay.engine.core.events import Emitter

K = 8
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
    """Seconds for K seeds each way (min over rounds) on `device`, and the speed-ups of batching."""
    base = {**CONFIG, "training": {**CONFIG["training"], "device": device}}
    times: dict[str, list[float]] = {"batched": [], "sequential": [], "processes": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for r in range(rounds):
            log(f"sweep round {r + 1}/{rounds}: {K} seeds batched, sequential, as processes")
            times["batched"].append(_timed({**base, "sweep": {"seeds": K, "mode": "batched"}}, root))
            times["sequential"].append(
                sum(_timed({**base, "training": {**base["training"], "seed": seed}}, root) for seed in range(K))
            )
            times["processes"].append(_timed({**base, "sweep": {"seeds": K, "mode": "processes"}}, root))
    best = {style: min(values) for style, values in times.items()}
    return {
        "members": K,
        "epochs": EPOCHS,
        "workload": "moons MLP 2-64-64-2, 1,000 training samples, batch 64",
        "seconds": best,
        "rounds": times,
        "batched_speedup_vs_sequential": best["sequential"] / best["batched"],
        "batched_speedup_vs_processes": best["processes"] / best["batched"],
    }
