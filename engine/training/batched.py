"""Several copies of one model trained as one: weights stacked along a leading member axis and
the forward pass vmapped over it (torch.func), so each step is one set of kernel launches for
all members. Members share the batch order and differ in initial weights, dropout masks, and
(for a strength sweep) their L1/L2 penalty or weight decay.

The epochs run through the training loop (engine/training/loop.py) as a single run's do: each
member is a run of its own there, with its own hooks, history and status.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from nnplay.engine.core.batches import iterations_per_epoch
from nnplay.engine.core.control import Control
from nnplay.engine.data.augment import augment
from nnplay.engine.runtime import autocast
from nnplay.engine.training.loop import (
    EVAL_CHUNK,
    SPARSE_BELOW,
    Hook,
    Loop,
    Split,
    TrainSettings,
    train_eval_subset,
)
from nnplay.engine.training.losses import Criterion
from nnplay.engine.training.optim import stepper


def _per_member(values: Tensor, like: Tensor) -> Tensor:
    """A (K,) vector shaped to broadcast over a stacked (K, ...) tensor."""
    return values.view(-1, *([1] * (like.dim() - 1)))


def _member_norms(tensors: list[Tensor]) -> Tensor:
    """Each member's L2 norm of all the stacked tensors together, in fp32: a (K,) device tensor."""
    return torch.stack([t.float().pow(2).flatten(1).sum(1) for t in tensors]).sum(0).sqrt()


@dataclass(eq=False)
class Member:
    """One member of a batched sweep as the loop and its hooks see it, like a single run's Trainer: its own module,
    whose parameters are views into its slice of the stacked weights (so that hooks read, copy and restore them in
    place), and its own hooks, status and history."""

    model: nn.Module
    device: torch.device
    settings: TrainSettings
    hooks: list[Hook]
    status: str = "running"
    epoch: int = 0
    global_step: int = 0
    should_stop: bool = False
    history: list[dict] = field(default_factory=list)
    val_output: tuple[int, Tensor] | None = None  # never kept: the views compute the member's own


class BatchedTrainer(Loop):
    """Trains K models of identical shape together; one host sync per epoch for all of them."""

    def __init__(
        self,
        models: list[nn.Module],
        criterion: Criterion,
        make_optimizer: Callable[[list[Tensor], float], torch.optim.Optimizer],
        make_scheduler: Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler | None],
        train: Split,
        val: Split | None,
        settings: TrainSettings,
        device: torch.device,
        control: Control,
        strengths: dict[str, list[float]],
        hooks: list[list[Hook]],
    ) -> None:
        """`strengths`: each member's l1, l2 and weight_decay; `hooks`: each member's."""
        self.criterion, self.settings = criterion, settings
        self.train, self.val, self.device, self.control = train, val, device, control
        self.k = len(models)
        # The shape-only copy that functional_call runs; its mode decides dropout for every member.
        self.template = template = copy.deepcopy(models[0]).to("meta")
        self.params, self.buffers = stack_module_state(models)
        self.members = [
            Member(_as_views(model, self.params, self.buffers, k), device, settings, member_hooks)
            for k, (model, member_hooks) in enumerate(zip(models, hooks, strict=True))
        ]
        self._member_params = [list(model.named_parameters()) for model in models]

        def forward_one(params, buffers, x):
            return functional_call(template, (params, buffers), (x,))

        # Dropout draws different masks per member, as separate models would.
        self.forward = vmap(forward_one, in_dims=(0, 0, None), randomness="different")
        self.member_loss = vmap(criterion, in_dims=(0, None))
        self.l1 = torch.tensor(strengths["l1"], device=device)
        self.l2 = torch.tensor(strengths["l2"], device=device)
        self.weight_decay = torch.tensor(strengths["weight_decay"], device=device)
        self.decay = bool(self.weight_decay.any())
        self.penalize = bool(self.l1.any() or self.l2.any())
        # Decay is applied here per member, so the optimizer itself has none.
        self.optimizer = make_optimizer(list(self.params.values()), 0.0)
        self.scheduler = make_scheduler(self.optimizer)
        self._step = stepper(self.optimizer)
        # Matrices and kernels of each member are penalized (and counted for sparsity); biases are not. The
        # first and last of them, in the order the input meets them, show gradients vanishing on the way back.
        matrices = [name for name, p in self.params.items() if p.dim() > 2]
        self.penalized = [self.params[name] for name in matrices]
        self._n_penalized = sum(p[0].numel() for p in self.penalized)
        self._first_last = (matrices[0], matrices[-1]) if len(matrices) > 1 else None
        self.generator = torch.Generator(device=device).manual_seed(settings.seed)
        self.train_eval = train_eval_subset(train, len(val) if val is not None else 0, settings.seed)
        self.epoch = 0
        self.global_step = 0

    @property
    def iterations_per_epoch(self) -> int:
        """Updates per epoch, as in a single run."""
        return iterations_per_epoch(len(self.train), self.settings.batch_size, self.settings.drop_last)

    def fit(self) -> list[str]:
        """Train every member through the loop: a stop ends them all, a divergence one; returns how each ended."""
        self._fit(self.members)
        return [member.status for member in self.members]

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

    def _train_one_epoch(self) -> dict[str, Tensor | int]:
        s = self.settings
        order = torch.randperm(len(self.train), device=self.device, generator=self.generator)
        loss_sum = torch.zeros(self.k, device=self.device)
        penalty_sum = torch.zeros(self.k, device=self.device)
        seen = 0
        augmenting = s.augment_noise > 0 or s.augment_shift > 0
        precision = autocast(self.device, s.precision)  # one context object, entered once per step
        for i in range(self.iterations_per_epoch):
            if self.control.paused:
                for member in self.members:  # what a paused run shows describes the epochs finished so far
                    for hook in member.hooks:
                        hook.on_pause(member)
                self.control.wait_if_paused()
            if self.control.stop_requested:
                break
            idx = order[i * s.batch_size : (i + 1) * s.batch_size]
            xb = self.train.x[idx]
            if augmenting:
                xb = augment(xb, s.augment_noise, s.augment_shift, self.generator)
            with precision:
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
            loss_sum += losses.detach().float() * idx.shape[0]  # stays on the device: no sync per step
            if penalty is not None:
                penalty_sum += penalty.detach().float() * idx.shape[0]
            seen += idx.shape[0]
            self.global_step += 1
        return {"loss_running": loss_sum / max(seen, 1), "penalty": penalty_sum / max(seen, 1), "seen": seen}

    def _sync_runs(self, sums: dict, seconds: float) -> list[dict]:
        """Every member's epoch record, with the same numbers as a single run's, brought to Python in one transfer."""
        columns: dict[str, Tensor] = {"train_loss_running": sums["loss_running"], "penalty": sums["penalty"]}
        grads = {name: p.grad for name, p in self.params.items() if p.grad is not None}
        if grads:
            columns["grad_norm"] = _member_norms(list(grads.values()))
        if self._first_last is not None and len(grads) == len(self.params):
            columns["grad_norm_first"], columns["grad_norm_last"] = (
                _member_norms([grads[n]]) for n in self._first_last
            )
        columns["weight_norm"] = _member_norms([p.detach() for p in self.params.values()])
        if self._n_penalized:
            near_zero = torch.stack([(w.detach().abs() < SPARSE_BELOW).flatten(1).sum(1) for w in self.penalized])
            columns["weight_sparsity"] = near_zero.sum(0) / self._n_penalized
        if self.epoch % self.settings.eval_every == 0 or self.epoch == self.settings.epochs:
            for prefix, split in (("train", self.train_eval), ("val", self.val)):
                if split is not None and len(split):
                    per_member = self.evaluate(split)
                    for name in per_member[0]:
                        columns[f"{prefix}_{name}"] = torch.stack([metrics[name] for metrics in per_member])
        names = list(columns)
        table = torch.stack([columns[n].float() for n in names]).tolist()  # the one host sync per epoch, for all
        lr = self.optimizer.param_groups[0]["lr"]
        seen = sums["seen"]
        records = []
        for k, member in enumerate(self.members):
            record = {"epoch": self.epoch, **{n: table[i][k] for i, n in enumerate(names)}}
            record.update(lr=lr, time_s=seconds, samples_per_s=seen / seconds if seconds > 0 else None)
            records.append(record)
            member.global_step = self.global_step
            for name, param in self._member_params[k]:  # the layers view reads each layer's last gradient
                param.grad = grads[name][k] if name in grads else None
        if self.scheduler is not None:
            self.scheduler.step()
        return records

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


def _as_views(model: nn.Module, params: dict[str, Tensor], buffers: dict[str, Tensor], k: int) -> nn.Module:
    """The member's module, its parameters and buffers turned into views of member k's slice of the stacked ones."""
    for name, p in model.named_parameters():
        p.data = params[name].detach()[k]
    for name, b in model.named_buffers():
        b.data = buffers[name][k]
    return model
