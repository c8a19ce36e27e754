"""Several copies of one model trained as one: weights stacked along a leading member axis, so each
step is one set of kernel launches for all members. Members share the batch order and differ in
initial weights, dropout masks, and (for a strength sweep) their L1/L2 penalty or weight decay.

A plain stack of Linear layers (the perceptron, an MLP without batch norm) runs directly on the
stacked weights: each layer one batched matrix product over the members, the loss computed per
member, autograd for the backward. Any other model runs as `vmap(functional_call)` over the
stack (torch.func), whose dispatch costs several times the arithmetic on these small models.

The epochs run through the training loop (engine/training/loop.py) as a single run's do: each
member is a run of its own there, with its own hooks, history and status.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from nnplay.engine.core.batches import iterations_per_epoch
from nnplay.engine.core.control import Control
from nnplay.engine.data.augment import augment
from nnplay.engine.models.mlp import MLP, Perceptron
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

# Layers the direct path computes itself: parameter-free functions of each number alone.
ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.LeakyReLU, nn.Identity)
# Activations computed in place on a Linear layer's output (their backward reads the output, not the input).
IN_PLACE = {nn.ReLU: torch.relu_, nn.Tanh: torch.tanh_, nn.Sigmoid: torch.sigmoid_}
# Models whose forward calls their layers in the order they were registered (the MLP flattens inputs of more
# than two axes first, which its registered Flatten does too).
IN_ORDER = (nn.Sequential, MLP, Perceptron)
# The per-sample loss of each loss name, reduced as Criterion's mean over the batch (tests compare the two).
ELEMENTWISE_LOSSES: dict[str, Callable[..., Tensor]] = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}


def dense_layers(model: nn.Module) -> list[tuple[str, nn.Module]] | None:
    """The layers of a plain stack (Linear layers with elementwise activations and dropout between them,
    flattened inputs), named as in the model and in the order the input meets them; None for any other model."""
    if type(model) not in IN_ORDER or next(model.buffers(), None) is not None:
        return None
    layers: list[tuple[str, nn.Module]] = []
    seen: set[int] = set()
    for name, module in model.named_modules(remove_duplicate=False):
        if id(module) in seen:  # a layer applied twice (shared weights): not a plain stack
            return None
        seen.add(id(module))
        if module is model or type(module) is nn.Sequential:
            continue
        kind = type(module)
        if kind is nn.Flatten:
            # Only flattening each sample, before any Linear layer meets it.
            if (module.start_dim, module.end_dim) != (1, -1) or any(type(m) is nn.Linear for _, m in layers):
                return None
        elif kind is not nn.Linear and kind is not nn.Dropout and kind not in ELEMENTWISE:
            return None
        layers.append((name, module))
    if not any(type(m) is nn.Linear for _, m in layers):
        return None
    return layers


def member_losses(criterion: Criterion, outputs: Tensor, y: Tensor) -> Tensor:
    """Each member's loss from the members' (K, B, ...) outputs on one batch: the criterion's mean over the batch, for
    all members in one call."""
    k = outputs.shape[0]
    if criterion.name == "cross_entropy":  # (K, B, C) logits as (K, C, B): the class axis second
        per_sample = F.cross_entropy(outputs.transpose(1, 2), y.expand(k, -1), reduction="none")
    elif criterion.name == "bce":
        logits = outputs.squeeze(-1)
        per_sample = F.binary_cross_entropy_with_logits(logits, y.float().expand_as(logits), reduction="none")
    elif criterion.name in ELEMENTWISE_LOSSES and criterion.task != "generation":
        per_sample = ELEMENTWISE_LOSSES[criterion.name](outputs, y.expand_as(outputs), reduction="none")
    else:
        return vmap(criterion, in_dims=(0, None))(outputs, y)
    return per_sample.flatten(1).mean(1)


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
        direct: bool = True,
    ) -> None:
        """`strengths`: each member's l1, l2 and weight_decay; `hooks`: each member's. `direct=False` runs even a
        plain stack of Linear layers through vmap (the tests and the benchmark compare the two paths)."""
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
        self._vmapped = vmap(forward_one, in_dims=(0, 0, None), randomness="different")
        self._batch_sums = vmap(criterion.batch_sums, in_dims=(0, None))
        layers = dense_layers(template) if direct else None
        flat_samples = train.x.dim() == 2 or (layers is not None and type(layers[0][1]) is nn.Flatten)
        self.direct = layers is not None and flat_samples and criterion.task != "generation"
        self.member_losses: Callable[[Tensor, Tensor], Tensor]  # (K, B, ...) outputs, targets -> (K,) losses
        if self.direct:
            assert layers is not None
            self._layers = [
                (self.params[f"{name}.weight"], self.params.get(f"{name}.bias"), layer)
                if type(layer) is nn.Linear
                else (None, None, layer)
                for name, layer in layers
                if type(layer) is not nn.Flatten  # the inputs are flattened before the members' axis is added
            ]
            self.member_losses = functools.partial(member_losses, criterion)
        else:
            self.member_losses = vmap(criterion, in_dims=(0, None))
        self.l1 = torch.tensor(strengths["l1"], device=device)
        self.l2 = torch.tensor(strengths["l2"], device=device)
        self.weight_decay = torch.tensor(strengths["weight_decay"], device=device)
        self.decay = bool(self.weight_decay.any())
        self.penalize = bool(self.l1.any() or self.l2.any())
        # Decay is applied here per member, so the optimizer itself has none.
        self._all_params = list(self.params.values())
        self.optimizer = make_optimizer(self._all_params, 0.0)
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

    def outputs(self, x: Tensor) -> Tensor:
        """Every member's outputs on the same inputs: (K, B, ...) from (B, ...); dropout follows the template's
        mode and draws each member's own masks."""
        if not self.direct:
            return self._vmapped(self.params, self.buffers, x)
        training = self.template.training
        h = x.flatten(1) if x.dim() > 2 else x
        h = h.expand(self.k, *h.shape)
        fresh = False  # whether h is a product of this forward that nothing else holds
        for weight, bias, layer in self._layers:
            if weight is not None:  # Linear: (K, B, in) @ (K, in, out), plus each member's bias
                h = torch.bmm(h, weight.mT) if bias is None else torch.baddbmm(bias.unsqueeze(1), h, weight.mT)
                fresh = True
            elif type(layer) is nn.Dropout:
                h = F.dropout(h, layer.p, training)  # a mask over all (K, B, F) numbers: each member its own
            elif fresh and type(layer) in IN_PLACE:
                # The product's backward does not read it, and these activations' own backward reads their
                # output: computing in place saves an allocation the size of the layer's output.
                h = IN_PLACE[type(layer)](h)
                fresh = False
            else:
                h = layer(h)
                fresh = False
        return h

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
                losses = self.member_losses(self.outputs(xb), self.train.y[idx])
                penalty = self._penalty() if self.penalize else None
                total = losses.sum() if penalty is None else (losses + penalty).sum()
            for p in self._all_params:  # what zero_grad(set_to_none=True) does, without its per-call profiling hooks
                p.grad = None
            total.backward()
            if s.grad_clip > 0:
                self._clip()
            if self.decay:
                with torch.no_grad():
                    lr = self.optimizer.param_groups[0]["lr"]
                    for p in self.params.values():
                        p.mul_(_per_member(1 - lr * self.weight_decay, p))
            self._step()
            batch = idx.shape[0]
            loss_sum.add_(losses.detach().float(), alpha=batch)  # stays on the device: no sync per step
            if penalty is not None:
                penalty_sum.add_(penalty.detach().float(), alpha=batch)
            seen += batch
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
                    for name, values in self._evaluate_members(split).items():
                        columns[f"{prefix}_{name}"] = values
        names = list(columns)
        table = torch.stack([columns[n].float() for n in names]).tolist()  # the one host sync per epoch, for all
        lr = self.optimizer.param_groups[0]["lr"]
        seen = sums["seen"]
        timing = {"lr": lr, "time_s": seconds, "samples_per_s": seen / seconds if seconds > 0 else None}
        member_grads = {name: g.unbind(0) for name, g in grads.items()}  # every member's view, in one call a tensor
        records = []
        for k, member in enumerate(self.members):
            records.append({"epoch": self.epoch, **{n: row[k] for n, row in zip(names, table, strict=True)}, **timing})
            member.global_step = self.global_step
            for name, param in self._member_params[k]:  # the layers view reads each layer's last gradient
                param.grad = member_grads[name][k] if name in member_grads else None
        if self.scheduler is not None:
            self.scheduler.step()
        return records

    def evaluate(self, split: Split) -> list[dict[str, Tensor]]:
        """Each member's metrics on a whole split (evaluation mode: dropout off)."""
        metrics = self._evaluate_members(split)
        return [{name: v[k] for name, v in metrics.items()} for k in range(self.k)]

    @torch.no_grad()
    def _evaluate_members(self, split: Split) -> dict[str, Tensor]:
        """Every member's metrics on a whole split, each a (K,) device tensor."""
        self.template.eval()
        sums: dict[str, Tensor] = {}
        for start in range(0, len(split), EVAL_CHUNK):
            xb, yb = split.x[start : start + EVAL_CHUNK], split.y[start : start + EVAL_CHUNK]
            with autocast(self.device, self.settings.precision):
                out = self.outputs(xb)
            for name, v in self._batch_sums(out, yb).items():  # each member's sums, all members in one call
                sums[name] = sums[name] + v if name in sums else v
        self.template.train()
        return self.criterion.finish(sums, len(split), self.settings.target_std)


def _as_views(model: nn.Module, params: dict[str, Tensor], buffers: dict[str, Tensor], k: int) -> nn.Module:
    """The member's module, its parameters and buffers turned into views of member k's slice of the stacked ones."""
    for name, p in model.named_parameters():
        p.data = params[name].detach()[k]
    for name, b in model.named_buffers():
        b.data = buffers[name][k]
    return model
