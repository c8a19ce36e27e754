"""The training loop: short, top to bottom; hooks do the logging, snapshots and early stopping. Single runs and
batched sweeps (engine/training/batched.py) pass through the same loop and the same hooks.

Data lives on the device as whole tensors; a batch is an index slice of a per-epoch permutation.
Running sums stay on the device and reach Python once per epoch (see `_sync`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import Tensor, nn

from nnplay.engine.core.batches import iterations_per_epoch
from nnplay.engine.core.config import train_eval_size
from nnplay.engine.core.control import Control
from nnplay.engine.data.augment import augment
from nnplay.engine.runtime import autocast
from nnplay.engine.training.losses import Criterion, regularization_penalty
from nnplay.engine.training.optim import stepper

EVAL_CHUNK = 8192  # samples per forward pass when evaluating a whole split
# A weight this close to zero counts as pruned when the epoch reports its sparsity (the L1 lesson).
SPARSE_BELOW = 1e-3


@dataclass
class Split:
    """One split of the data, resident on the training device."""

    x: Tensor
    y: Tensor

    def __len__(self) -> int:
        return self.x.shape[0]


class Hook:
    """Called by the loop at fixed points of one run; subclasses override what they need."""

    def on_fit_start(self, trainer: Run) -> None:
        """Before the first epoch."""

    def on_step(self, trainer: Run, iteration: int, loss: Tensor) -> None:
        """After an update, every `step_every` updates."""

    def on_epoch_end(self, trainer: Run, record: dict) -> None:
        """After an epoch, with its record of Python numbers."""

    def on_pause(self, trainer: Run) -> None:
        """When a pause holds the run, before it waits."""

    def on_fit_end(self, trainer: Run) -> None:
        """After the last epoch, however the run ended."""


@dataclass
class TrainSettings:
    """The loop's settings, taken from the config: epochs, batching, evaluation, clipping, penalties, augmentation,
    precision and seed."""

    epochs: int
    batch_size: int
    drop_last: bool = False
    eval_every: int = 1
    grad_clip: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    augment_noise: float = 0.0
    augment_shift: int = 0
    precision: str = "fp32"
    step_every: int = 0
    target_std: float = 1.0
    seed: int = 0


class Run(Protocol):
    """One training as its hooks see it: a single run's Trainer, or one member of a batched sweep."""

    model: nn.Module
    device: torch.device
    settings: TrainSettings
    hooks: list[Hook]
    status: str
    epoch: int
    should_stop: bool
    history: list[dict]

    @property
    def global_step(self) -> int:
        """Updates so far."""
        ...

    @property
    def val_output(self) -> tuple[int, Tensor] | None:
        """(epoch, the model's output on the validation split) when that epoch's evaluation kept it."""
        ...


class Loop:
    """The one training loop: a single run (Trainer, one run) and a batched sweep (BatchedTrainer, one run per
    member) both pass through it. A subclass trains one epoch of all its runs at once and brings their records to
    Python; the loop decides how each run goes on or ends, and calls each run's hooks."""

    settings: TrainSettings
    control: Control
    epoch: int

    def _train_one_epoch(self) -> dict:
        """One epoch of every run; its running sums stay on the device."""
        raise NotImplementedError

    def _sync_runs(self, sums: dict, seconds: float) -> list[dict]:
        """Each run's record of the epoch, in Python numbers."""
        raise NotImplementedError

    def _fit(self, runs: Sequence[Run]) -> None:
        """Train until the epochs run out or a stop request; a run ends earlier on early stopping or divergence."""
        for run in runs:
            for hook in run.hooks:
                hook.on_fit_start(run)
        for epoch in range(1, self.settings.epochs + 1):
            self.epoch = epoch
            training = [run for run in runs if run.status == "running"]
            for run in training:
                run.epoch = epoch
            started = time.perf_counter()
            sums = self._train_one_epoch()
            if self.control.stop_requested:
                for run in training:
                    run.status = "stopped"
                    run.epoch = epoch - 1  # the epoch the stop cut short is not one: views name the last finished
                break
            records = self._sync_runs(sums, time.perf_counter() - started)
            for run, record in zip(runs, records, strict=True):
                if run.status == "running":  # a member that ended earlier trains on in the batch, unheeded
                    _end_epoch(run, record)
            if all(run.status != "running" for run in runs):
                break
        else:
            for run in runs:
                if run.status == "running":
                    run.status = "completed"
        for run in runs:
            for hook in run.hooks:
                hook.on_fit_end(run)


def _end_epoch(run: Run, record: dict) -> None:
    """Add the epoch to the run's history and tell its hooks; the run ends here when it diverged or early stopping
    asks."""
    run.history.append(record)
    if not math.isfinite(record["train_loss_running"]):
        run.status = "diverged"
    for hook in run.hooks:
        hook.on_epoch_end(run, record)
    if run.status == "running" and run.should_stop:
        run.status = "early_stopped"


@dataclass
class Trainer(Loop):
    """A single run: the model, its data and optimizer, trained epoch by epoch through the loop and its hooks."""

    model: nn.Module
    criterion: Criterion
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    train: Split
    val: Split | None
    settings: TrainSettings
    device: torch.device
    hooks: list[Hook] = field(default_factory=list)
    control: Control = field(default_factory=Control)
    status: str = "running"
    epoch: int = 0
    global_step: int = 0
    should_stop: bool = False
    history: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.generator = torch.Generator(device=self.device).manual_seed(self.settings.seed)
        self._eval_cache: tuple = (None, None, None)
        self.val_output: tuple[int, Tensor] | None = None  # (epoch, the model's output on the validation split)
        self._step = stepper(self.optimizer)  # optimizer.step(), or its fused-Adam shortcut
        self._all_params = list(self.model.parameters())  # the same tensors for the whole run
        self._fp32 = all(p.dtype == torch.float32 for p in self._all_params)  # norms need no casting
        self._params = [p for p in self._all_params if p.requires_grad]
        # Switching modes walks every module; it only matters when some layer behaves differently.
        self._mode_matters = any(_mode_dependent(m) for m in self.model.modules())
        self.train_eval = train_eval_subset(
            self.train, len(self.val) if self.val is not None else 0, self.settings.seed
        )
        # Matrices and kernels are penalized; biases and norm scales are not.
        self.penalized = [p for n, p in self.model.named_parameters() if p.dim() > 1]
        self._n_penalized = sum(p.numel() for p in self.penalized)
        # The first and last weight tensors, in the order the input meets them: their gradient norms
        # side by side show gradients vanishing (or exploding) on the way back to the input.
        matrices = [i for i, p in enumerate(self._params) if p.dim() > 1]
        self._first_last = (matrices[0], matrices[-1]) if len(matrices) > 1 else None

    @property
    def iterations_per_epoch(self) -> int:
        """Updates per epoch for the training split and batch size."""
        return iterations_per_epoch(len(self.train), self.settings.batch_size, self.settings.drop_last)

    def fit(self) -> str:
        """Train until the epochs run out, early stopping, divergence or a stop request; returns how it ended."""
        self._fit([self])
        return self.status

    def _train_one_epoch(self) -> dict[str, Tensor | int | None]:
        model, s = self.model, self.settings
        self._set_training(True)
        n = len(self.train)
        order = torch.randperm(n, device=self.device, generator=self.generator)
        loss_sum = torch.zeros((), device=self.device)
        penalty_sum = torch.zeros((), device=self.device)
        seen = 0
        augmenting = s.augment_noise > 0 or s.augment_shift > 0
        precision = autocast(self.device, s.precision)  # one context object, entered once per step
        for i in range(self.iterations_per_epoch):
            if self.control.paused:
                for hook in self.hooks:  # what a paused run shows describes the epochs finished so far
                    hook.on_pause(self)
                self.control.wait_if_paused()
            if self.control.stop_requested:
                break
            idx = order[i * s.batch_size : (i + 1) * s.batch_size]
            xb = self.train.x[idx]
            if augmenting:
                xb = augment(xb, s.augment_noise, s.augment_shift, self.generator)
            yb = self.train.y[idx]
            with precision:
                loss = self.criterion(model(xb), yb)
                penalty = regularization_penalty(self.penalized, s.l1, s.l2)
                total = loss if penalty is None else loss + penalty
            for p in self._params:  # what zero_grad(set_to_none=True) does, without its per-call profiling hooks
                p.grad = None
            total.backward()
            if s.grad_clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), s.grad_clip, foreach=True)
            self._step()
            batch = idx.shape[0]
            loss_sum.add_(loss.detach(), alpha=batch)  # stays on the device: no sync per step
            if penalty is not None:
                penalty_sum.add_(penalty.detach(), alpha=batch)
            seen += batch
            self.global_step += 1
            if s.step_every and self.global_step % s.step_every == 0:
                for hook in self.hooks:
                    hook.on_step(self, self.global_step, loss.detach())
        return {
            "loss_running": loss_sum / max(seen, 1),
            "penalty": penalty_sum / max(seen, 1),
            "seen": seen,
        }

    def _norms(self) -> dict[str, Tensor | None]:
        """The last update's gradient norms (all gradients, and those of the first and last weight tensors) and
        the weights' norm, from one foreach kernel over gradients and weights together."""
        grads = [p.grad for p in self._params if p.grad is not None]
        tensors = grads + self._all_params
        with torch.no_grad():
            norms = torch._foreach_norm(tensors if self._fp32 else [t.float() for t in tensors])
            out: dict[str, Tensor | None] = {
                "grad_norm": torch.linalg.vector_norm(torch.stack(norms[: len(grads)])) if grads else None,
                "weight_norm": torch.linalg.vector_norm(torch.stack(norms[len(grads) :])),
            }
        if self._first_last is not None and len(grads) == len(self._params):
            out["grad_norm_first"], out["grad_norm_last"] = norms[self._first_last[0]], norms[self._first_last[1]]
        return out

    def _sync_runs(self, sums: dict, seconds: float) -> list[dict]:
        return [self._sync(sums, seconds)]

    def _sync(self, sums: dict, seconds: float) -> dict:
        """Evaluate train (eval mode) and val, then bring every number to Python at once."""
        seen = sums.pop("seen")
        values: dict[str, Tensor] = {"train_loss_running": sums["loss_running"], "penalty": sums["penalty"]}
        values.update((key, v) for key, v in self._norms().items() if v is not None)
        if self._n_penalized:
            values["weight_sparsity"] = weight_sparsity(self.penalized) / self._n_penalized
        if self.epoch % self.settings.eval_every == 0 or self.epoch == self.settings.epochs:
            named = [
                (p, split)
                for p, split in (("train", self.train_eval), ("val", self.val))
                if split is not None and len(split)
            ]
            for (prefix, _), metrics in zip(named, self.evaluate_together([split for _, split in named]), strict=True):
                for k, v in metrics.items():
                    values[f"{prefix}_{k}"] = v
        keys = list(values)
        # The one host sync per epoch (counts are integers: made float; float32 values go as they are).
        numbers = torch.stack([v if v.dtype == torch.float32 else v.float() for v in values.values()]).tolist()
        record = {"epoch": self.epoch, **dict(zip(keys, numbers, strict=True))}
        record["lr"] = self.optimizer.param_groups[0]["lr"]
        record["time_s"] = seconds
        record["samples_per_s"] = seen / seconds if seconds > 0 else None
        self._step_scheduler(record)
        return record

    def _step_scheduler(self, record: dict) -> None:
        if self.scheduler is None:
            return
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            if record.get("val_loss") is not None and math.isfinite(record["val_loss"]):
                self.scheduler.step(record["val_loss"])
        else:
            self.scheduler.step()

    def _set_training(self, training: bool) -> None:
        if self._mode_matters:
            self.model.train(training)
        else:
            self.model.training = training  # nothing inside depends on it

    def evaluate(self, split: Split) -> dict[str, Tensor]:
        """Metrics on a whole split in evaluation mode (dropout off, batch-norm statistics frozen)."""
        return self.evaluate_together([split])[0]

    @torch.inference_mode()
    def evaluate_together(self, splits: list[Split]) -> list[dict[str, Tensor]]:
        """Metrics of several splits from one forward pass over them all: small models pay a fixed
        cost per call (an LSTM per time step), so one call serves the training subset and validation."""
        key = tuple(id(s) for s in splits)
        if self._eval_cache[0] != key:  # the splits never change during training: join them once
            if len(splits) == 1:  # one split (a final measurement of a whole split): no copy of it
                self._eval_cache = (key, splits[0].x, splits[0].y)
            else:
                self._eval_cache = (key, torch.cat([s.x for s in splits]), torch.cat([s.y for s in splits]))
        _, x, y = self._eval_cache
        bounds = [0]
        for split in splits:
            bounds.append(bounds[-1] + len(split))
        was_training = self.model.training
        self._set_training(False)
        sums: list[dict[str, Tensor]] = [{} for _ in splits]
        for start in range(0, len(x), EVAL_CHUNK):
            end = min(start + EVAL_CHUNK, len(x))
            with autocast(self.device, self.settings.precision):
                out = self.model(x[start:end])
            for i, (lo, hi) in enumerate(zip(bounds, bounds[1:], strict=False)):
                a, b = max(lo, start), min(hi, end)
                if a < b:
                    part = _rows(out, a - start, b - start)
                    if splits[i] is self.val and (a, b) == (lo, hi) and isinstance(part, Tensor):
                        self.val_output = (self.epoch, part)  # the snapshot views reuse it
                    for k, v in self.criterion.batch_sums(part, y[a:b]).items():
                        sums[i][k] = sums[i][k] + v if k in sums[i] else v
        self._set_training(was_training)
        return [
            self.criterion.finish(s, len(split), self.settings.target_std)
            for s, split in zip(sums, splits, strict=True)
        ]


def _mode_dependent(module: nn.Module) -> bool:
    """Layers that compute differently in training and evaluation mode."""
    if isinstance(module, nn.Dropout | nn.modules.batchnorm._BatchNorm):
        return True
    return isinstance(module, nn.RNNBase) and module.dropout > 0


def _rows(out, a: int, b: int):
    """Rows a:b of a model's output: a tensor, or a tuple of them (the VAE's)."""
    if isinstance(out, Tensor):
        return out[a:b]
    return type(out)(*(t[a:b] for t in out))


def train_eval_subset(train: Split, n_val: int, seed: int) -> Split:
    """The training samples measured in evaluation mode each epoch: all of them, or a fixed random
    subset of `train_eval_size` when the split is larger."""
    size = train_eval_size(len(train), n_val)
    if len(train) <= size:
        return train
    generator = torch.Generator(device="cpu").manual_seed(seed + 1)
    rows = torch.randperm(len(train), generator=generator)[:size].to(train.x.device)
    return Split(train.x[rows], train.y[rows])


def as_numbers(metrics: dict[str, Tensor]) -> dict[str, float]:
    """Metrics as plain Python numbers, brought from the device in one host sync."""
    return dict(zip(metrics, torch.stack([v.float() for v in metrics.values()]).tolist(), strict=True))


def weight_sparsity(weights: Sequence[Tensor]) -> Tensor:
    """How many of the weights lie within SPARSE_BELOW of zero (a device tensor, a count)."""
    with torch.no_grad():
        return torch.cat([w.reshape(-1) for w in weights]).abs_().lt_(SPARSE_BELOW).sum()
