"""Sweeps: several seeds or strengths of one experiment, trained batched (vmap) or as processes."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest

from nnplay.engine import experiment
from nnplay.engine.core.config import ConfigError, validate
from nnplay.engine.core.diagnosis import VERDICTS
from nnplay.engine.core.events import Emitter
from nnplay.engine.core.sweep_members import member_configs
from nnplay.engine.sweep import Bands
from nnplay.engine.training.hooks import MIN_VIEW_INTERVAL_S

BASE = {
    "name": "sweep",
    "data": {"dataset": "moons", "n_samples": 200},
    "model": {"hidden": [16, 16]},
    "training": {"epochs": 4, "batch_size": 32, "device": "cpu", "snapshot_every": 2},
}


def sweep_config(**sweep) -> dict:
    return {**BASE, "sweep": sweep}


def run(config: dict, tmp_path) -> tuple[dict, list[dict]]:
    events: list[dict] = []
    summary = experiment.run(validate(config), Emitter(callback=events.append), root=tmp_path)
    return summary, events


def test_members_differ_only_in_seed_or_in_the_swept_strength():
    seeds = member_configs(validate(sweep_config(seeds=3)))
    assert [m.label for m in seeds] == ["seed 0", "seed 1", "seed 2"]
    assert [m.config.training.seed for m in seeds] == [0, 1, 2]
    assert all(m.config.sweep.members == 1 for m in seeds)  # members are plain runs
    strengths = member_configs(validate(sweep_config(parameter="l2", values=[0.0, 0.01])))
    assert [m.config.regularization.l2 for m in strengths] == [0.0, 0.01]
    assert [m.label for m in strengths] == ["l2=0", "l2=0.01"]
    assert {m.config.training.seed for m in strengths} == {0}


@pytest.mark.parametrize(
    ("sweep", "field"),
    [
        ({"parameter": "l2", "values": [0.1]}, "sweep.values"),
        ({"values": [0.1, 0.2]}, "sweep.values"),
        ({"parameter": "dropout", "values": [0.1, 1.0]}, "sweep.values"),
        ({"parameter": "l2", "values": [0.1, 0.2], "seeds": 2}, "sweep.seeds"),
        ({"seeds": 0}, "sweep.seeds"),
    ],
)
def test_impossible_sweeps_are_config_errors_naming_the_field(sweep, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        validate(sweep_config(**sweep))


def test_batched_mode_refuses_what_it_cannot_batch(tmp_path):
    config = {**sweep_config(seeds=2, executor="batched"), "regularization": {"batch_norm": True}}
    with pytest.raises(ConfigError, match="sweep.executor = 'batched' is not possible here: batch norm"):
        run(config, tmp_path)
    assert not any(tmp_path.iterdir())  # refused before a run directory was made


def test_bands_average_members_and_close_epochs_as_members_finish():
    emitted: list[dict] = []
    bands = Bands(3, Emitter(callback=emitted.append), epochs=3)
    for member, loss in enumerate((1.0, 2.0, 6.0)):
        bands.add(member, {"epoch": 1, "val_loss": loss, "samples_per_s": 10.0})
    assert emitted[-1]["val_loss"] == pytest.approx(3.0)
    assert (emitted[-1]["val_loss_min"], emitted[-1]["val_loss_max"]) == (1.0, 6.0)
    assert emitted[-1]["samples_per_s"] == 30.0 and emitted[-1]["members"] == 3
    bands.add(0, {"epoch": 2, "val_loss": 1.0})
    bands.add(1, {"epoch": 2, "val_loss": 3.0})
    assert len(emitted) == 1  # member 2 has not reported epoch 2 yet
    bands.finish(2, 1)  # member 2 stopped after epoch 1: epoch 2 is complete without it
    assert len(emitted) == 2 and emitted[-1]["members"] == 2 and emitted[-1]["val_loss"] == pytest.approx(2.0)


def test_a_band_has_its_own_best_epoch_and_leaves_non_finite_numbers_out():
    emitted: list[dict] = []
    bands = Bands(2, Emitter(callback=emitted.append), epochs=3)
    for epoch, losses in enumerate(((1.0, 3.0), (2.5, 0.5), (0.2, 4.0)), start=1):
        for member, loss in enumerate(losses):
            bands.add(
                member, {"epoch": epoch, "val_loss": loss, "iterations": 4 * epoch, "gpu_memory_mb": 10.0 + member}
            )
    # Mean validation loss 2.0, 1.5, 2.1: the band's best epoch is the mean's, not any member's (epochs 3 and 2).
    assert [(e["best_epoch"], e["best_val_loss"]) for e in emitted] == [(1, 2.0), (2, 1.5), (2, 1.5)]
    assert [e["iterations"] for e in emitted] == [4, 8, 12] and {e["gpu_memory_mb"] for e in emitted} == {11.0}
    bands = Bands(2, Emitter(callback=emitted.append), epochs=1)
    bands.add(0, {"epoch": 1, "train_loss_running": 0.5})
    bands.add(1, {"epoch": 1, "train_loss_running": math.nan})  # the epoch member 1 diverged in
    assert emitted[-1]["train_loss_running"] == 0.5 and emitted[-1]["train_loss_running_max"] == 0.5


def test_batched_member_reproduces_the_single_run_with_its_seed(tmp_path):
    single, _ = run(BASE, tmp_path / "single")
    summary, events = run(sweep_config(seeds=3, executor="batched"), tmp_path / "sweep")
    member0 = [e for e in events if e["type"] == "member" and e["member"] == 0]
    assert [e["epoch"] for e in member0] == [1, 2, 3, 4]
    single_epochs = single["final"]
    assert member0[-1]["val_loss"] == pytest.approx(single_epochs["val_loss"], rel=1e-4)
    assert summary["members"][0]["test"]["accuracy"] == pytest.approx(single["test"]["accuracy"], abs=1e-6)


def test_a_sweep_streams_mean_and_band_and_records_itself_like_a_run(tmp_path):
    summary, events = run(sweep_config(seeds=3, executor="batched"), tmp_path)
    plan = next(e for e in events if e["type"] == "plan")
    assert plan["sweep"] == {
        "members": 3,
        "executor": "batched",
        "parameter": "none",
        "settings": [],
        "labels": ["seed 0", "seed 1", "seed 2"],
    }
    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    for e in epochs:
        assert e["val_loss_min"] <= e["val_loss"] <= e["val_loss_max"] and e["members"] == 3
    members = [e for e in events if e["type"] == "member"]
    assert len(members) == 3 * 4
    last = [m for m in members if m["epoch"] == 4]
    assert epochs[-1]["val_loss"] == pytest.approx(sum(m["val_loss"] for m in last) / 3)
    done = events[-1]
    assert done["type"] == "done" and done["status"] == "completed"
    assert {"accuracy", "accuracy_std"} <= set(done["test"]) and len(done["members"]) == 3
    assert summary["status"] == "completed" and summary["verdict"] in VERDICTS
    assert any(e["type"] == "snapshot" and e["view"] == "boundary" for e in events)


def test_a_strength_sweep_gives_each_member_its_own_penalty(tmp_path):
    _, events = run(sweep_config(parameter="l2", values=[0.0, 0.05], executor="batched"), tmp_path)
    last = {e["member"]: e for e in events if e["type"] == "member" and e["epoch"] == 4}
    assert last[0]["penalty"] == 0.0 and last[1]["penalty"] > 0.0
    assert last[1]["weight_norm"] < last[0]["weight_norm"]  # the L2 member's weights are pulled in


# Snapshot views are computed after the throttle lets them through, and event times are rounded to the
# millisecond: the engine's clock may put two sends this much closer than the interval between them.
VIEW_TIME_SLACK_S = 0.05


def test_a_batched_sweep_sends_snapshots_at_most_4_a_second_and_its_eta_falls_to_zero(tmp_path):
    epochs = 40
    config = {**sweep_config(seeds=2, executor="batched"), "training": {**BASE["training"], "epochs": epochs}}
    config["training"]["snapshot_every"] = 1  # every epoch is due: only the rate limit holds them back
    _, events = run(config, tmp_path)
    sent: dict[int, float] = {}  # epoch -> when the engine sent its views
    for e in events:
        if e["type"] == "snapshot":
            sent.setdefault(e["epoch"], e["time"])
    shown = sorted(sent)
    assert shown[0] == 1 and shown[-1] == epochs  # the first due epoch, and always the end
    times = [sent[epoch] for epoch in shown[:-1]]  # the end's views go out whatever the rate
    assert all(later - earlier >= MIN_VIEW_INTERVAL_S - VIEW_TIME_SLACK_S for earlier, later in pairwise(times))
    for e in events:  # an epoch without views came sooner than the interval after the last views sent
        if e["type"] == "epoch" and e["epoch"] not in sent:
            last_sent = max(sent[epoch] for epoch in shown if epoch < e["epoch"])
            assert e["time"] - last_sent < MIN_VIEW_INTERVAL_S + VIEW_TIME_SLACK_S
    # The ETA is a single run's: the time per epoch so far times the epochs left, down to 0 at the end.
    for kind in ("member", "epoch"):
        timed = [e for e in events if e["type"] == kind and e.get("member", 0) == 0]
        assert [e["epoch"] for e in timed] == list(range(1, epochs + 1))
        assert timed[0]["eta_s"] > 0 and timed[-1]["eta_s"] == 0
        for e in timed:
            assert e["eta_s"] == pytest.approx(e["elapsed_s"] / e["epoch"] * (epochs - e["epoch"]))
        assert all(a["elapsed_s"] < b["elapsed_s"] for a, b in pairwise(timed))


def test_a_diverged_member_ends_alone_and_the_band_goes_on_without_it(tmp_path):
    config = {
        **sweep_config(parameter="l2", values=[0.0, 100.0], executor="batched"),
        "optimizer": {"kind": "sgd", "lr": 0.5},  # the strong L2 pull overshoots: member 1's weights blow up
    }
    summary, events = run(config, tmp_path)
    assert [m["status"] for m in summary["members"]] == ["completed", "diverged"]
    # The diverged member keeps its last finite weights, as a single run does; the sweep's test mean leaves it out.
    assert summary["status"] == "completed" and summary["members"][1]["verdict"] == "diverged"
    assert summary["test"]["accuracy"] == summary["members"][0]["test"]["accuracy"]
    diverged = next(
        e["epoch"]
        for e in events
        if e["type"] == "member" and e["member"] == 1 and not math.isfinite(e["train_loss_running"])
    )
    assert not [e for e in events if e["type"] == "member" and e["member"] == 1 and e["epoch"] > diverged]
    band = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in band] == [1, 2, 3, 4]
    assert all(e["members"] == 1 for e in band if e["epoch"] > diverged)
    for e in band[:-1]:  # each band goes out as its epoch ends, not held back for the member that diverged
        first_of_next = next(m for m in events if m["type"] == "member" and m["epoch"] == e["epoch"] + 1)
        assert events.index(e) < events.index(first_of_next)


def test_a_sweep_as_processes_runs_each_member_as_its_own_engine(tmp_path):
    summary, events = run(sweep_config(seeds=2, executor="processes"), tmp_path)
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2, 3, 4]
    assert summary["status"] == "completed"
    run_dirs = [m["run_dir"] for m in summary["members"]]
    assert all(d and "members" in d for d in run_dirs)
    assert {m["status"] for m in summary["members"]} == {"completed"}
