"""Hooks that carry everything the loop itself does not know about: best weights and early
stopping, the event stream, and throttled snapshots. Each run has its own: a batched sweep's
members each have theirs, as single runs do."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from nnplay.engine.core.diagnosis import BestTracker, diagnose
from nnplay.engine.core.events import STEP_FLUSH_INTERVAL_S
from nnplay.engine.runtime import memory_in_use_mb
from nnplay.engine.training.loop import Hook, Run


class Events(Protocol):
    """Where hooks send their events: the run's Emitter, or (a sweep's member) what passes them on as the sweep's."""

    def emit(self, type_: str, **fields: Any) -> object:
        """Send one event of `type_` with `fields`."""
        ...


class WeightCopy:
    """A copy of a model's state (parameters and buffers) on its device, taken and put back in place
    with one foreach kernel each: the state dict's tensors are the model's own for the whole run."""

    def __init__(self, model: nn.Module) -> None:
        self._live = [v.detach() for v in model.state_dict().values()]
        self._copy: list[Tensor] | None = None

    def take(self) -> None:
        """Copy the model's state now (the first call allocates the copy)."""
        if self._copy is None:
            self._copy = [v.clone() for v in self._live]
        elif self._live:  # a model without parameters or buffers has nothing to copy
            torch._foreach_copy_(self._copy, self._live)

    def put_back(self) -> bool:
        """Load the copy into the model; False when none was taken."""
        if self._copy is None:
            return False
        if self._live:
            torch._foreach_copy_(self._live, self._copy)
        return True


class BestWeights(Hook):
    """Tracks the best validation epoch (by the diagnosis's own rule), keeps its weights, and stops
    early when asked to."""

    def __init__(self, patience: int, min_delta: float, early_stopping: bool) -> None:
        self.tracker = BestTracker(patience, min_delta)
        self.early_stopping = early_stopping
        self.weights: WeightCopy | None = None

    @property
    def best_epoch(self) -> int | None:
        """The best validation epoch so far (None before the first measurement)."""
        return self.tracker.best_epoch

    @property
    def best_loss(self) -> float:
        """The best validation loss so far (inf before the first measurement)."""
        return self.tracker.best_loss

    def on_epoch_end(self, trainer: Run, record: dict) -> None:
        """Count this epoch's validation loss: copy the weights at a new best, stop once patience ran out when early
        stopping."""
        if self.tracker.update(record["epoch"], record.get("val_loss")):
            self.weights = self.weights or WeightCopy(trainer.model)
            self.weights.take()
        elif self.early_stopping and self.tracker.stop_epoch is not None:
            trainer.should_stop = True

    def restore(self, trainer: Run) -> bool:
        """Load the best weights back into the model; False when there are none."""
        return self.weights is not None and self.weights.put_back()


class LastGoodWeights(Hook):
    """A copy of the weights at the end of the last finished epoch whose loss and weights were finite.

    A stop in the middle of an epoch, or a divergence, then leaves the run with weights that belong
    to a named epoch: the one its final table and model.pt describe."""

    def __init__(self) -> None:
        self.epoch: int | None = None
        self.weights: WeightCopy | None = None

    def on_fit_start(self, trainer: Run) -> None:
        """Allocate the copy of the model's state."""
        self.weights = WeightCopy(trainer.model)

    def on_epoch_end(self, trainer: Run, record: dict) -> None:
        """Copy the weights when the epoch ended with a finite running loss and weight norm."""
        finite = all(
            isinstance(record.get(k), float | int) and math.isfinite(record[k])
            for k in ("train_loss_running", "weight_norm")
        )
        if finite:
            assert self.weights is not None  # made in on_fit_start
            self.weights.take()
            self.epoch = record["epoch"]

    def on_fit_end(self, trainer: Run) -> None:
        """Put the last good weights back when a stop cut an epoch short."""
        # A stop cut an epoch short: its half-updated weights go before the final views are drawn.
        if trainer.status == "stopped":
            self.restore(trainer)

    def restore(self, trainer: Run) -> bool:
        """Put the last good weights back; False when no epoch finished with finite weights."""
        return self.epoch is not None and self.weights is not None and self.weights.put_back()


class EventStream(Hook):
    """Epoch events, and step events batched so they reach the reader at most 20 times a second."""

    def __init__(self, emitter: Events, best: BestWeights, fold: int | None = None) -> None:
        self.emitter, self.best, self.fold = emitter, best, fold
        self.started = time.perf_counter()
        self.pending_steps: list[tuple[int, int, Tensor]] = []
        self.last_flush = 0.0

    def on_fit_start(self, trainer: Run) -> None:
        """Start the clock the elapsed time and the ETA are counted from."""
        self.started = time.perf_counter()

    def on_step(self, trainer: Run, iteration: int, loss: Tensor) -> None:
        """Queue the step's loss; send the queue when the last send is long enough ago."""
        self.pending_steps.append((trainer.epoch, iteration, loss))
        now = time.perf_counter()
        if now - self.last_flush >= STEP_FLUSH_INTERVAL_S:
            self.flush_steps()
            self.last_flush = now

    def flush_steps(self) -> None:
        """Send the queued steps' losses as one step event (one host sync)."""
        if not self.pending_steps:
            return
        losses = torch.stack(
            [loss.float() for _, _, loss in self.pending_steps]
        ).tolist()  # sync: step events asked for
        steps = [[epoch, it, loss] for (epoch, it, _), loss in zip(self.pending_steps, losses, strict=True)]
        self.pending_steps.clear()
        self.emitter.emit("step", fold=self.fold, steps=steps)

    def on_epoch_end(self, trainer: Run, record: dict) -> None:
        """Send the epoch event: the record with its gap, the progress, the best epoch so far and the ETA."""
        # Steps carry their epoch, so they may wait for the next flush: short epochs must not
        # turn the step stream into one line per epoch.
        if time.perf_counter() - self.last_flush >= STEP_FLUSH_INTERVAL_S:
            self.flush_steps()
            self.last_flush = time.perf_counter()
        elapsed = time.perf_counter() - self.started
        done = record["epoch"]
        total = trainer.settings.epochs
        event = dict(record)
        if event.get("val_loss") is not None and event.get("train_loss") is not None:
            event["gap"] = event["val_loss"] - event["train_loss"]
        event.update(
            epochs=total,
            fold=self.fold,
            iterations=trainer.global_step,
            elapsed_s=elapsed,
            eta_s=elapsed / done * (total - done),
            best_epoch=self.best.best_epoch,
            best_val_loss=self.best.best_loss if self.best.best_epoch else None,
            gpu_memory_mb=memory_in_use_mb(trainer.device),
        )
        self.emitter.emit("epoch", **event)

    def on_fit_end(self, trainer: Run) -> None:
        """Send the steps still queued."""
        self.flush_steps()


# Snapshots and live diagnoses of fast epochs: no more often than this, whatever snapshot_every says
# (a 4 ms epoch would otherwise send 50 a second, costing more than the training).
MIN_VIEW_INTERVAL_S = 0.25
LIVE_GAP_POINTS = 200  # the live diagnosis sends a downsampled gap curve; the final one sends all


class Throttle:
    """Every N epochs, but not more often than MIN_VIEW_INTERVAL_S."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.last_sent = -math.inf

    def due(self, epoch: int) -> bool:
        """True when the epoch is one of every N and the last view is long enough ago; it then counts as sent."""
        now = time.perf_counter()
        if epoch % self.every or now - self.last_sent < MIN_VIEW_INTERVAL_S:
            return False
        self.last_sent = now
        return True


class Snapshots(Hook):
    """Model views (decision boundary, curves, predictions, layer norms) every N epochs and at the end."""

    def __init__(self, every: int, take: Callable[[Run], list[dict]], emitter: Events, fold: int | None = None):
        self.throttle, self.take, self.emitter, self.fold = Throttle(every), take, emitter, fold
        self.last_epoch = 0

    def on_epoch_end(self, trainer: Run, record: dict) -> None:
        """Send the views when due, unless the run diverged."""
        if trainer.status != "diverged" and self.throttle.due(record["epoch"]):
            self.send(trainer)

    def on_fit_end(self, trainer: Run) -> None:
        """Send the views of the last epoch, unless they went out already, no epoch finished or the run diverged."""
        if trainer.epoch != self.last_epoch and trainer.history and trainer.status != "diverged":
            self.send(trainer)

    def send(self, trainer: Run) -> None:
        """Take every view of the model now and send each as a snapshot event."""
        self.last_epoch = trainer.epoch
        for view in self.take(trainer):
            self.emitter.emit("snapshot", epoch=trainer.epoch, fold=self.fold, **view)


class LiveDiagnosis(Hook):
    """The overfitting diagnosis so far, every N epochs, so a watcher sees the verdict form."""

    def __init__(self, every: int, emitter: Events, patience: int, min_delta: float, baseline: float | None, fold=None):
        self.throttle, self.emitter, self.fold = Throttle(every), emitter, fold
        self.patience, self.min_delta, self.baseline = patience, min_delta, baseline
        self.last_epoch: int | None = None  # the epoch the last diagnosis sent describes

    def on_epoch_end(self, trainer: Run, record: dict) -> None:
        """Send the diagnosis so far when due, unless the run diverged."""
        if trainer.status != "diverged":
            self.after_epoch(trainer.history)

    def on_pause(self, trainer: Run) -> None:
        """Paused: the verdict so far, whatever the throttle says, unless it already describes the last epoch."""
        self.on_hold(trainer.history)

    def after_epoch(self, history: list[dict]) -> None:
        """Send the diagnosis of `history` (the epochs so far) when due."""
        if self.throttle.due(history[-1]["epoch"]):
            self.send(history)

    def on_hold(self, history: list[dict]) -> None:
        """Send the diagnosis of `history` now, unless the last one sent already describes its last epoch."""
        if history and history[-1]["epoch"] != self.last_epoch:
            self.send(history)

    def send(self, history: list[dict]) -> None:
        """Diagnose the epochs so far and send it, with its gap curve downsampled."""
        self.last_epoch = history[-1]["epoch"]
        result = diagnose(history, self.patience, self.min_delta, self.baseline)
        gaps = result["generalization_gap"]
        # Downsampled, or a long run would resend a growing list each time (quadratic bytes).
        result["generalization_gap"] = gaps[:: math.ceil(len(gaps) / LIVE_GAP_POINTS) or 1]
        self.emitter.emit("diagnosis", final=False, epoch=self.last_epoch, fold=self.fold, **result)
