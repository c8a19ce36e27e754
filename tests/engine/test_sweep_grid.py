"""Grids and random searches: the members they make, the refusals, and a grid's members as runs of their own."""

from __future__ import annotations

import json

import pytest

from nnplay.engine import experiment
from nnplay.engine.core.batches import batch_arithmetic
from nnplay.engine.core.config import ConfigError, validate
from nnplay.engine.core.events import Emitter
from nnplay.engine.core.protocol import check_event
from nnplay.engine.core.runs import load_run
from nnplay.engine.core.sweep_members import member_configs
from nnplay.engine.core.sweep_results import best_member
from nnplay.engine.sweep import executor_of

BASE = {
    "name": "grid",
    "data": {"dataset": "moons", "n_samples": 200},
    "model": {"hidden": [8]},
    "training": {"epochs": 3, "batch_size": 32, "device": "cpu", "snapshot_every": 3},
}


def with_sweep(**sweep) -> dict:
    return {**BASE, "sweep": sweep}


def test_a_grid_crosses_its_settings_and_the_seeds():
    config = validate(with_sweep(grid={"optimizer.lr": [0.001, 0.1], "training.batch_size": [16, 64]}, seeds=2))
    members = member_configs(config)
    assert config.sweep.members == len(members) == 8
    assert [m.label for m in members[:3]] == [
        "lr=0.001, batch_size=16, seed 0",
        "lr=0.001, batch_size=16, seed 1",
        "lr=0.001, batch_size=64, seed 0",
    ]
    last = members[-1]
    assert last.settings == {"optimizer.lr": 0.1, "training.batch_size": 64, "training.seed": 1}
    assert (last.config.optimizer.lr, last.config.training.batch_size, last.config.training.seed) == (0.1, 64, 1)
    assert last.config.sweep.members == 1 and last.config.name == "grid-7"  # a member is a plain run


def test_nested_tables_and_the_old_name_of_the_executor_are_understood():
    config = validate(with_sweep(grid={"model": {"hidden": [[4], [8, 8]]}}, mode="processes"))
    assert config.sweep.grid == {"model.hidden": [[4], [8, 8]]} and config.sweep.executor == "processes"
    assert [m.label for m in member_configs(config)] == ["hidden=[4]", "hidden=[8, 8]"]


def test_a_random_search_draws_within_its_ranges_the_same_way_each_time():
    sweep = {"random": {"optimizer.lr": [0.0001, 0.1, "log"], "training.batch_size": [16, 128]}, "samples": 6}
    members = member_configs(validate(with_sweep(**sweep)))
    again = member_configs(validate(with_sweep(**sweep)))
    assert [m.settings for m in members] == [m.settings for m in again]  # seeded by training.seed
    assert all(0.0001 <= m.config.optimizer.lr <= 0.1 for m in members)
    assert all(
        isinstance(m.config.training.batch_size, int) and 16 <= m.config.training.batch_size <= 128 for m in members
    )
    assert len({m.config.optimizer.lr for m in members}) == 6


@pytest.mark.parametrize(
    ("sweep", "setting", "words"),
    [
        ({"grid": {"optimizer.lrr": [0.1]}}, "sweep.grid", "did you mean optimizer.lr"),
        ({"grid": {"optimizer.lr": []}}, "sweep.grid", "has no values"),
        ({"grid": {"optimizer.lr": [0.01, -1.0]}}, "sweep.grid", "sweep member 1 (lr=-1): optimizer.lr = -1"),
        ({"grid": {"sweep.seeds": [1, 2]}}, "sweep.grid", "not a setting a sweep can vary"),
        ({"random": {"model.hidden": [1, 2]}, "samples": 2}, "sweep.random", "is not a number"),
        ({"random": {"optimizer.lr": [0.1, 0.01]}, "samples": 2}, "sweep.random", "low end must be below"),
        ({"random": {"optimizer.lr": [0.0, 0.1, "log"]}, "samples": 2}, "sweep.random", 'a "log" range'),
        ({"random": {"optimizer.lr": [0.01, 0.1]}}, "sweep.samples", "needs sweep.samples"),
        ({"samples": 3}, "sweep.samples", "needs sweep.random"),
        ({"grid": {"regularization.l2": [0.1]}, "parameter": "l1", "values": [0.1, 0.2]}, "sweep.parameter", "put"),
        (
            {"grid": {"optimizer.lr": [0.1] * 20, "training.batch_size": list(range(1, 15))}, "seeds": 2},
            "sweep.max_members",
            "a sweep of 560 members (20 × 14 × 2 seeds) is more than sweep.max_members = 256",
        ),
    ],
)
def test_an_impossible_search_is_one_sentence_naming_the_setting(sweep, setting, words):
    with pytest.raises(ConfigError) as caught:
        validate(with_sweep(**sweep))
    assert [p.setting for p in caught.value.problems] == [setting]
    assert words in str(caught.value)


def test_a_combination_no_member_can_run_names_the_member():
    # Each value fits alone (60 samples: 36 to train on, batch 32; batch 64 of 120): the pair does not.
    config = validate(with_sweep(grid={"data.n_samples": [200, 60], "training.batch_size": [16, 64]}))
    with pytest.raises(ConfigError, match=r"sweep member 3 \(n_samples=60, batch_size=64\): training.batch_size = 64"):
        member_configs(config)


def test_the_executor_follows_what_the_members_differ_in():
    assert executor_of(validate(with_sweep(grid={"regularization.l2": [0.0, 0.1]}, seeds=2))) == "batched"
    assert executor_of(validate(with_sweep(grid={"optimizer.lr": [0.01, 0.1]}))) == "processes"
    with pytest.raises(ConfigError, match="sweep.executor = 'batched' is not possible here: its members differ in"):
        executor_of(validate(with_sweep(grid={"optimizer.lr": [0.01, 0.1]}, executor="batched")))


def test_the_best_member_is_chosen_on_validation_and_a_lucky_seed_does_not_win():
    def row(member, lr, seed, acc, test):
        return {
            "member": member,
            "settings": {"optimizer.lr": lr, "training.seed": seed},
            "status": "completed",
            "best_val_loss": 1 - acc,
            "val": {"accuracy": acc, "loss": 1 - acc},
            "test": {"accuracy": test},
        }

    rows = [
        row(0, 0.1, 0, 0.99, 0.5),
        row(1, 0.1, 1, 0.60, 0.5),
        row(2, 0.01, 0, 0.90, 0.99),
        row(3, 0.01, 1, 0.88, 0.99),
    ]
    assert best_member(rows) == 2  # lr=0.01's mean (0.89) beats lr=0.1's (0.795), whatever test says
    rows[2]["status"] = rows[3]["status"] = "diverged"
    assert best_member(rows) == 0


def test_a_batched_grid_records_every_member_as_a_run_and_sends_its_row_as_it_ends(tmp_path):
    events: list[dict] = []
    config = validate(with_sweep(grid={"regularization.l2": [0.0, 0.05]}, seeds=2))
    summary = experiment.run(config, Emitter(callback=events.append), root=tmp_path)
    for event in events:
        assert check_event(json.loads(json.dumps(event))) == [], event["type"]
    plan = next(e for e in events if e["type"] == "plan")["sweep"]
    assert plan["executor"] == "batched" and plan["settings"] == ["regularization.l2"]
    done_rows = [e for e in events if e["type"] == "member_done"]
    assert [e["member"] for e in done_rows] == [0, 1, 2, 3]
    assert summary["best_member"] is not None
    best = summary["members"][summary["best_member"]]
    final = next(e for e in events if e["type"] == "diagnosis" and e["final"])
    assert (final["member"], final["label"]) == (best["member"], best["label"])  # the verdict is the best member's
    assert summary["test"] == best["test"]
    for row in summary["members"]:
        member = load_run(tmp_path / summary["id"] / "members" / row["run_dir"].rsplit("/", 1)[-1])
        assert member.status == "completed" and member.summary["status"] == "completed"
        assert member.summary["verdict"] == row["verdict"]
        assert [e["epoch"] for e in member.epochs] == [1, 2, 3]
        assert (member.path / "model.pt").is_file()
        own = member.config
        assert own["regularization"]["l2"] == row["settings"]["regularization.l2"]
        assert own["training"]["seed"] == row["settings"]["training.seed"]
        assert (
            row["val"]["accuracy"] == next(e for e in member.epochs if e["epoch"] == row["best_epoch"])["val_accuracy"]
        )


def test_a_plan_whose_members_differ_in_their_batches_says_so_instead_of_one_arithmetic():
    plan = {"n_train": 600, "batch_size": 32, "iterations_per_epoch": 19, "epochs": 20, "total_updates": 380}
    assert batch_arithmetic(plan) == "⌈600 / 32⌉ = 19 iterations per epoch × 20 epochs = 380 updates"
    lr_only = {**plan, "sweep": {"settings": ["optimizer.lr"]}}
    assert batch_arithmetic(lr_only) == batch_arithmetic(plan)  # every member batches as the plan says
    grid = {**plan, "sweep": {"settings": ["optimizer.lr", "training.batch_size"]}}
    assert batch_arithmetic(grid) == "iterations and updates differ from member to member (training.batch_size)"
