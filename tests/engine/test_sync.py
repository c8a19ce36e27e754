"""Host syncs and event rates: the properties that keep the engine fast on a GPU and its stream light.

A host sync (`.item()`, `.tolist()`, `.cpu()`, `.numpy()`, `bool`/`float`/`int` of a tensor) makes the
CPU wait for the device. The engine may sync a fixed number of times per epoch, never once per
update. The calls are counted by wrapping those Tensor methods: CPU tensors go through the same
Python methods a GPU run would, so the count is the same here as on a GPU.

(That the app imports neither torch nor sklearn is checked for every module of tui/, tui.app
included, by tests/tui/test_no_torch.py.)
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

from nnplay.engine import experiment
from nnplay.engine.core.events import STEP_FLUSH_INTERVAL_S, Emitter
from nnplay.engine.training.loop import Trainer

SYNC_METHODS = ("item", "tolist", "cpu", "numpy", "__bool__", "__float__", "__int__", "__index__")
STEP_EVENTS_PER_S = 1 / STEP_FLUSH_INTERVAL_S  # 20: what the protocol promises


class SyncCounter:
    """Counts host-sync calls on tensors, by method, while `active`; `in_steps` counts those made
    inside Trainer._train_one_epoch (the update loop) apart."""

    def __init__(self) -> None:
        self.during_fit: Counter[str] = Counter()
        self.in_steps: Counter[str] = Counter()
        self.active = False
        self.stepping = False

    def record(self, method: str) -> None:
        if self.active:
            self.during_fit[method] += 1
            if self.stepping:
                self.in_steps[method] += 1


@pytest.fixture
def syncs(monkeypatch) -> SyncCounter:
    """Wrap every sync method of torch.Tensor and the trainer's fit and epoch loop with counters."""
    counter = SyncCounter()
    for method in SYNC_METHODS:
        original = getattr(torch.Tensor, method)

        def counting(self, *args, _original=original, _method=method, **kwargs):
            counter.record(_method)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, counting)

    fit, train_one_epoch = Trainer.fit, Trainer._train_one_epoch

    def counted_fit(self):
        counter.active = True
        try:
            return fit(self)
        finally:
            counter.active = False

    def counted_epoch(self):
        counter.stepping = True
        try:
            return train_one_epoch(self)
        finally:
            counter.stepping = False

    monkeypatch.setattr(Trainer, "fit", counted_fit)
    monkeypatch.setattr(Trainer, "_train_one_epoch", counted_epoch)
    return counter


def count_syncs(syncs: SyncCounter, config, tmp_path) -> tuple[Counter, Counter, int]:
    """Train `config` and return (syncs during fit, syncs in the update loops, updates made)."""
    syncs.during_fit.clear()
    syncs.in_steps.clear()
    epochs: list[dict] = []
    emitter = Emitter(callback=lambda event: epochs.append(event) if event["type"] == "epoch" else None)
    summary = experiment.run(config, emitter=emitter, root=tmp_path)
    assert summary["status"] == "completed"
    return Counter(syncs.during_fit), Counter(syncs.in_steps), epochs[-1]["iterations"]


def sync_config(tiny_config, batch_size: int, epochs: int = 3):
    # 400 samples → 240 training samples: 15 iterations per epoch at batch 16, 60 at batch 4.
    # Snapshots only at the end (they sync, once per view), so that every epoch looks alike.
    return tiny_config(
        data={"n_samples": 400},
        training={"batch_size": batch_size, "epochs": epochs, "snapshot_every": 1000, "step_every": 0},
    )


def test_syncs_per_epoch_do_not_grow_with_iterations(syncs, tiny_config, tmp_path):
    fit15, steps15, updates15 = count_syncs(syncs, sync_config(tiny_config, 16), tmp_path)
    fit60, steps60, updates60 = count_syncs(syncs, sync_config(tiny_config, 4), tmp_path)
    assert (updates15, updates60) == (3 * 15, 3 * 60)
    # Four times the updates, not one sync more: the running loss stays on the device.
    assert fit60 == fit15, f"syncs with 15 vs 60 iterations per epoch: {dict(fit15)} vs {dict(fit60)}"
    assert steps60 == steps15


def test_syncs_grow_with_epochs_by_a_constant(syncs, tiny_config, tmp_path):
    fit3, _, _ = count_syncs(syncs, sync_config(tiny_config, 16, epochs=3), tmp_path)
    fit6, _, _ = count_syncs(syncs, sync_config(tiny_config, 16, epochs=6), tmp_path)
    # Three more epochs, a few more syncs: one tolist() per epoch today (snapshots come only at the end here).
    extra = sum(fit6.values()) - sum(fit3.values())
    assert extra % 3 == 0 and 1 <= extra // 3 <= 2, (dict(fit3), dict(fit6))


def test_the_counter_sees_a_sync_added_to_every_update(syncs, tiny_config, tmp_path):
    # What the tests above guard against: someone logging `loss.item()` after each update.
    def sync_after_every_update(optimizer, args, kwargs) -> None:
        optimizer.param_groups[0]["params"][0].sum().item()

    handle = register_optimizer_step_post_hook(sync_after_every_update)
    try:
        fit15, steps15, _ = count_syncs(syncs, sync_config(tiny_config, 16), tmp_path)
        fit60, steps60, _ = count_syncs(syncs, sync_config(tiny_config, 4), tmp_path)
    finally:
        handle.remove()
    assert steps60["item"] - steps15["item"] == 3 * (60 - 15)
    assert fit60 != fit15


def step_events_of(config, tmp_path) -> tuple[list[dict], float, int]:
    """Run with step events on: (step events, seconds from the first to the last event, updates)."""
    events: list[dict] = []
    marks: list[float] = []

    def on_event(event: dict) -> None:
        events.append(event)
        marks.append(time.perf_counter())

    summary = experiment.run(config, emitter=Emitter(callback=on_event), root=tmp_path)
    assert summary["status"] == "completed"
    steps = [e for e in events if e["type"] == "step"]
    updates = [e for e in events if e["type"] == "epoch"][-1]["iterations"]
    return steps, marks[-1] - marks[0], updates


def assert_every_update_once(steps: list[dict], updates: int) -> None:
    iterations = [iteration for event in steps for _, iteration, _ in event["steps"]]
    assert iterations == list(range(1, updates + 1))
    assert all(isinstance(loss, float) for event in steps for _, _, loss in event["steps"])


def test_step_events_are_batched_to_about_20_a_second(tiny_config, tmp_path):
    # 2,400 updates in two long epochs (batch 1); every update asks for a step event.
    config = tiny_config(
        data={"n_samples": 2000},
        training={"batch_size": 1, "epochs": 2, "step_every": 1, "snapshot_every": 1000},
    )
    steps, seconds, updates = step_events_of(config, tmp_path)
    assert updates == 2 * 1200
    # About 20 a second: the interval flushes (the first comes at once), plus the flush that ends each epoch.
    bound = 1.1 * STEP_EVENTS_PER_S * seconds + 1 + 2
    assert len(steps) <= bound, f"{len(steps)} step events in {seconds:.2f} s"
    assert len(steps) < updates / 10  # batched, not one line per update
    assert_every_update_once(steps, updates)


def test_step_events_stay_under_20_a_second_with_short_epochs(tiny_config, tmp_path):
    # 600 one-update epochs (full batch), each a few milliseconds long.
    config = tiny_config(training={"batch_size": "full", "epochs": 600, "step_every": 1, "snapshot_every": 1000})
    steps, seconds, updates = step_events_of(config, tmp_path)
    assert_every_update_once(steps, updates)
    assert len(steps) <= STEP_EVENTS_PER_S * seconds + 2, f"{len(steps)} step events in {seconds:.2f} s"
