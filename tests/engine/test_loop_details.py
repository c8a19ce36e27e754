"""Details of the loop that keep it fast without changing what it reports."""

from __future__ import annotations

import torch

from nnplay.engine.core.config import TRAIN_EVAL_MIN
from nnplay.engine.training.hooks import MIN_VIEW_INTERVAL_S, Throttle
from nnplay.engine.training.loop import Split, train_eval_subset


def split(n: int) -> Split:
    return Split(torch.arange(n, dtype=torch.float32).unsqueeze(1), torch.arange(n))


def test_small_training_splits_are_measured_whole():
    train = split(TRAIN_EVAL_MIN)
    assert train_eval_subset(train, n_val=100, seed=0) is train


def test_large_training_splits_are_measured_on_a_fixed_subset_as_large_as_validation():
    train = split(5000)
    subset = train_eval_subset(train, n_val=1200, seed=0)
    assert len(subset) == 1200  # like with like: as many samples as the validation split
    assert len(set(subset.y.tolist())) == 1200  # distinct training samples
    assert torch.equal(subset.y, train_eval_subset(train, n_val=1200, seed=0).y)  # the same every epoch
    assert len(train_eval_subset(train, n_val=50, seed=0)) == TRAIN_EVAL_MIN


def test_views_follow_snapshot_every_but_never_faster_than_the_minimum_interval(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("nnplay.engine.training.hooks.time.perf_counter", lambda: clock[0])
    throttle = Throttle(every=2)
    assert not throttle.due(1)  # not a multiple of snapshot_every
    assert throttle.due(2)
    clock[0] += MIN_VIEW_INTERVAL_S / 2
    assert not throttle.due(4)  # too soon after the last one
    clock[0] += MIN_VIEW_INTERVAL_S
    assert throttle.due(6)
