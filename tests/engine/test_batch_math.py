"""Epochs, batches and iterations: the plan's arithmetic, and the number of updates a run really makes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from torch.optim.optimizer import register_optimizer_step_post_hook

from nnplay.engine import experiment, planning
from nnplay.engine.core.config import split_sizes
from nnplay.engine.core.config_files import load
from nnplay.engine.core.events import Emitter

PRESETS = Path(__file__).resolve().parents[2] / "presets"


@pytest.fixture
def moons_1000_train(tiny_config):
    """A config factory whose training split holds exactly 1,000 samples (1,250 × 0.8)."""

    def make(**training):
        return tiny_config(
            data={"n_samples": 1250, "train": 0.8, "val": 0.1, "test": 0.1},
            training={"epochs": 10, **training},
        )

    return make


def test_batch_math_preset_plan():
    config = load(PRESETS / "batch-math.toml")
    plan = planning.plan(config)
    assert plan["n_train"] == 1000
    assert plan["batch_size"] == 20
    assert plan["iterations_per_epoch"] == 50
    assert plan["epochs"] == 10
    assert plan["total_updates"] == 500
    assert plan["last_batch"] == "every batch holds 20 samples"


def test_partial_last_batch(moons_1000_train):
    plan = planning.plan(moons_1000_train(batch_size=64))
    assert plan["n_train"] == 1000
    assert plan["iterations_per_epoch"] == 16  # 15 full batches of 64 and one of 40
    assert plan["total_updates"] == 160
    assert "remaining 40 samples" in plan["last_batch"]


def test_drop_last_drops_the_partial_batch(moons_1000_train):
    plan = planning.plan(moons_1000_train(batch_size=64, drop_last=True))
    assert plan["iterations_per_epoch"] == 15
    assert plan["total_updates"] == 150
    assert "last 40 samples" in plan["last_batch"] and "dropped" in plan["last_batch"]


def test_drop_last_changes_nothing_when_batches_divide_the_split(moons_1000_train):
    plan = planning.plan(moons_1000_train(batch_size=50, drop_last=True))
    assert plan["iterations_per_epoch"] == 20
    assert plan["last_batch"] == "every batch holds 50 samples"


def test_full_batch_is_one_iteration(moons_1000_train):
    plan = planning.plan(moons_1000_train(batch_size="full"))
    assert plan["batch_size"] == 1000
    assert plan["iterations_per_epoch"] == 1
    assert plan["total_updates"] == 10


@pytest.mark.parametrize(
    ("n_samples", "fractions"),
    [
        (200, (0.6, 0.2, 0.2)),
        (101, (0.7, 0.15, 0.15)),
        (333, (0.5, 0.25, 0.25)),
        (57, (0.8, 0.1, 0.1)),
        (90, (0.9, 0.0, 0.1)),
    ],
)
def test_split_sizes_add_up(tiny_config, n_samples, fractions):
    train, val, test = fractions
    config = tiny_config(
        data={"n_samples": n_samples, "train": train, "val": val, "test": test}, training={"batch_size": 8}
    )
    plan = planning.plan(config)
    assert plan["n_samples"] == n_samples
    assert plan["n_train"] + plan["n_val"] + plan["n_test"] == n_samples
    assert (plan["n_train"], plan["n_val"], plan["n_test"]) == split_sizes(n_samples, train, val, test)
    assert plan["n_val"] == round(n_samples * val) and plan["n_test"] == round(n_samples * test)
    assert plan["iterations_per_epoch"] == math.ceil(plan["n_train"] / 8)


def test_fixed_size_dataset_split(tiny_config):
    plan = planning.plan(tiny_config(data={"dataset": "iris", "n_samples": None}))
    assert plan["n_samples"] == 150
    assert (plan["n_train"], plan["n_val"], plan["n_test"]) == (90, 30, 30)
    assert plan["input_shape"] == [4] and plan["n_classes"] == 3


def test_k_fold_plan(tiny_config):
    # 1,000 samples: 200 held out for test, a pool of 800 in 4 folds of 200 → 600 train, 200 val per fold.
    config = tiny_config(
        data={"n_samples": 1000, "k_folds": 4, "train": 0.6, "val": 0.2, "test": 0.2},
        training={"batch_size": 64, "epochs": 5},
    )
    plan = planning.plan(config)
    assert plan["k_folds"] == 4
    assert (plan["n_train"], plan["n_val"], plan["n_test"]) == (600, 200, 200)
    assert plan["iterations_per_epoch"] == 10  # ⌈600 / 64⌉
    assert plan["total_updates"] == 10 * 5 * 4


class StepCounter:
    """Counts optimizer.step() calls of every optimizer while installed (torch's global step hook)."""

    def __init__(self) -> None:
        self.steps = 0

    def __enter__(self) -> StepCounter:
        self.handle = register_optimizer_step_post_hook(self._count)
        return self

    def _count(self, optimizer, args, kwargs) -> None:
        self.steps += 1

    def __exit__(self, *exc) -> None:
        self.handle.remove()


@pytest.mark.parametrize(
    ("training", "iterations"),
    [
        ({"batch_size": 32}, 4),
        ({"batch_size": 32, "drop_last": True}, 3),
        ({"batch_size": "full"}, 1),
        ({"batch_size": 7}, 18),
    ],
    ids=["partial-last-batch", "drop-last", "full-batch", "batch-7"],
)
def test_run_makes_iterations_times_epochs_updates(tiny_config, runs_dir, training, iterations):
    # 120 training samples.
    config = tiny_config(training={"epochs": 3, "step_every": 1, **training})
    events: list[dict] = []
    with StepCounter() as counter:
        summary = experiment.run(config, Emitter(callback=events.append), root=runs_dir)
    plan = next(e for e in events if e["type"] == "plan")
    assert plan["iterations_per_epoch"] == iterations
    assert summary["status"] == "completed"
    assert counter.steps == iterations * 3 == plan["total_updates"]
    # The step events report every update once, numbered 1..N, each in its epoch.
    steps = [step for e in events if e["type"] == "step" for step in e["steps"]]
    assert [it for _, it, _ in steps] == list(range(1, iterations * 3 + 1))
    assert [epoch for epoch, _, _ in steps] == [1 + i // iterations for i in range(iterations * 3)]
    assert [e["iterations"] for e in events if e["type"] == "epoch"] == [iterations, 2 * iterations, 3 * iterations]
