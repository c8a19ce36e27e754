"""Several copies of one model trained as one: weights stacked along a leading member axis and
the forward pass vmapped over it (torch.func), so each step is one set of kernel launches for
all members. Members share the batch order and differ in initial weights, dropout masks, and
(for a strength sweep) their L1/L2 penalty or weight decay.
"""

from __future__ import annotations

import copy
import time
from types import SimpleNamespace
from typing import cast

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from nnplay.engine.core.batches import iterations_per_epoch
from nnplay.engine.core.control import Control
from nnplay.engine.data.augment import augment
from nnplay.engine.runtime import autocast
from nnplay.engine.training.loop import EVAL_CHUNK, Split, Trainer, TrainSettings
from nnplay.engine.training.losses import Criterion
from nnplay.engine.training.optim import stepper


def _per_member(values: Tensor, like: Tensor) -> Tensor:
    """A (K,) vector shaped to broadcast over a stacked (K, ...) tensor."""
    return values.view(-1, *([1] * (like.dim() - 1)))


class BatchedTrainer:
    """Trains K models of identical shape together; one host sync per epoch for all of them."""

    def __init__(
        self,
        models: list[nn.Module],
        criterion: Criterion,
        make_optimizer,
        train: Split,
        val: Split | None,
        settings: TrainSettings,
        device: torch.device,
        control: Control,
        l1: list[float],
        l2: list[float],
        weight_decay: list[float],
    ) -> None:
        self.models, self.criterion, self.settings = models, criterion, settings
        self.train, self.val, self.device, self.control = train, val, device, control
        self.k = len(models)
        self.params, self.buffers = stack_module_state(models)
        # The shape-only copy that functional_call runs; its mode decides dropout for every member.
        self.template = template = copy.deepcopy(models[0]).to("meta")

        def forward_one(params, buffers, x):
            return functional_call(template, (params, buffers), (x,))

        # Dropout draws different masks per member, as separate models would.
        self.forward = vmap(forward_one, in_dims=(0, 0, None), randomness="different")
        self.member_loss = vmap(criterion, in_dims=(0, None))
        self.l1 = torch.tensor(l1, device=device)
        self.l2 = torch.tensor(l2, device=device)
        self.weight_decay = torch.tensor(weight_decay, device=device)
        self.decay = bool(self.weight_decay.any())
        self.penalize = bool(self.l1.any() or self.l2.any())
        # Decay is applied here per member, so the optimizer itself has none.
        self.optimizer = make_optimizer(list(self.params.values()), 0.0)
        self._step = stepper(self.optimizer)
        self.penalized = [p for p in self.params.values() if p.dim() > 2]  # matrices and kernels of each member
        self.generator = torch.Generator(device=device).manual_seed(settings.seed)
        self.epoch = 0
        self.history: list[list[dict]] = []  # per epoch, one record per member

    @property
    def iterations_per_epoch(self) -> int:
        """Updates per epoch, as in a single run."""
        return iterations_per_epoch(len(self.train), self.settings.batch_size, self.settings.drop_last)

    def _penalty(self) -> Tensor:
        total = self.penalized[0].new_zeros(self.k)
        for w in self.penalized:
            dims = tuple(range(1, w.dim()))
            total = total + self.l1 * w.abs().sum(dims) + self.l2 * w.pow(2).sum(dims)
        return total

    def _clip(self) -> None:
        """Clip each member's own gradient norm."""
        grads = [p.grad for p in self.params.values() if p.grad is not None]
        norms = torch.stack([g.pow(2).flatten(1).sum(1) for g in grads]).sum(0).sqrt()
        scale = (self.settings.grad_clip / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(_per_member(scale, g))

    def train_epoch(self) -> dict[str, Tensor | int | float] | None:
        """One epoch for every member; None when a stop was requested."""
        s = self.settings
        self.epoch += 1
        order = torch.randperm(len(self.train), device=self.device, generator=self.generator)
        loss_sum = torch.zeros(self.k, device=self.device)
        penalty_sum = torch.zeros(self.k, device=self.device)
        seen = 0
        started = time.perf_counter()
        for i in range(self.iterations_per_epoch):
            if self.control.paused:
                self.control.wait_if_paused()
            if self.control.stop_requested:
                return None
            idx = order[i * s.batch_size : (i + 1) * s.batch_size]
            xb = augment(self.train.x[idx], s.augment_noise, s.augment_shift, self.generator)
            with autocast(self.device, s.precision):
                losses = self.member_loss(self.forward(self.params, self.buffers, xb), self.train.y[idx])
                penalty = self._penalty() if self.penalize else None
                total = losses.sum() if penalty is None else (losses + penalty).sum()
            self.optimizer.zero_grad(set_to_none=True)
            total.backward()
            if s.grad_clip > 0:
                self._clip()
            if self.decay:
                with torch.no_grad():
                    lr = self.optimizer.param_groups[0]["lr"]
                    for p in self.params.values():
                        p.mul_(_per_member(1 - lr * self.weight_decay, p))
            self._step()
            loss_sum += losses.detach().float() * idx.shape[0]
            if penalty is not None:
                penalty_sum += penalty.detach().float() * idx.shape[0]
            seen += idx.shape[0]
        grads = [p.grad.float() for p in self.params.values() if p.grad is not None]
        weights = [p.detach().float() for p in self.params.values()]
        return {
            "train_loss_running": loss_sum / max(seen, 1),
            "penalty": penalty_sum / max(seen, 1),
            "grad_norm": torch.stack([g.pow(2).flatten(1).sum(1) for g in grads]).sum(0).sqrt(),
            "weight_norm": torch.stack([w.pow(2).flatten(1).sum(1) for w in weights]).sum(0).sqrt(),
            "_seen": seen,
            "_seconds": time.perf_counter() - started,
        }

    @torch.no_grad()
    def evaluate(self, split: Split) -> list[dict[str, Tensor]]:
        """Each member's metrics on a whole split (evaluation mode: dropout off)."""
        self.template.eval()
        sums: list[dict[str, Tensor]] = [{} for _ in range(self.k)]
        for start in range(0, len(split), EVAL_CHUNK):
            xb, yb = split.x[start : start + EVAL_CHUNK], split.y[start : start + EVAL_CHUNK]
            with autocast(self.device, self.settings.precision):
                out = self.forward(self.params, self.buffers, xb)
            for k in range(self.k):
                for name, v in self.criterion.batch_sums(out[k], yb).items():
                    sums[k][name] = sums[k][name] + v if name in sums[k] else v
        self.template.train()
        return [self.criterion.finish(member, len(split), self.settings.target_std) for member in sums]

    def sync(self, sums: dict) -> list[dict]:
        """Every member's epoch record, brought to Python in one transfer."""
        seen, seconds = sums.pop("_seen"), sums.pop("_seconds")
        columns = dict(sums)
        for prefix, split in (("train", self.train), ("val", self.val)):
            if split is not None and len(split):
                for k, metrics in enumerate(self.evaluate(split)):
                    for name, v in metrics.items():
                        columns.setdefault(f"{prefix}_{name}", [None] * self.k)[k] = v
        names = list(columns)
        stacked = torch.stack(
            [torch.stack(list(columns[n])) if isinstance(columns[n], list) else columns[n] for n in names]
        )
        table = stacked.float().tolist()  # the one host sync per epoch, for every member
        lr = self.optimizer.param_groups[0]["lr"]
        records = []
        for k in range(self.k):
            record = {"epoch": self.epoch, **{n: table[i][k] for i, n in enumerate(names)}}
            record.update(lr=lr, time_s=seconds, samples_per_s=seen / seconds if seconds > 0 else None)
            records.append(record)
        self.history.append(records)
        return records

    def member_model(self, k: int) -> nn.Module:
        """Member k as an ordinary module (for snapshots and saving)."""
        model = self.models[k]
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(self.params[name][k])
        return model

    def as_trainer(self, k: int = 0) -> Trainer:
        """What snapshot functions read from a trainer (model, device, epoch), for member k."""
        return cast(Trainer, SimpleNamespace(model=self.member_model(k), device=self.device, epoch=self.epoch))
