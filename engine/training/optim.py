"""Optimizers and learning-rate schedules from the config."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.optim import optimizer as torch_optimizer

from nnplay.engine.core.config import ExperimentConfig


def make_optimizer(
    model: nn.Module | list[torch.Tensor],
    config: ExperimentConfig,
    device: torch.device,
    weight_decay: float | None = None,
) -> torch.optim.Optimizer:
    """The configured optimizer; Adam/AdamW use the fused kernel (one launch per step for all tensors)."""
    o = config.optimizer
    wd = config.regularization.weight_decay if weight_decay is None else weight_decay
    params = list(model.parameters()) if isinstance(model, nn.Module) else list(model)
    if o.kind == "sgd":
        return torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, nesterov=o.nesterov, weight_decay=wd, foreach=True)
    if o.kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=o.lr, momentum=o.momentum, weight_decay=wd, foreach=True)
    # Weight decay is decoupled (applied to the weights, not through the gradient) in both,
    # so "adam" with weight_decay behaves as AdamW: the meaning the config documents.
    return torch.optim.AdamW(params, lr=o.lr, weight_decay=wd, fused=device.type in ("cuda", "cpu"))


class FusedAdamStep:
    """`optimizer.step()` for torch's fused AdamW, without the bookkeeping torch repeats on every call.

    Each `step()` of a torch optimizer enters a profiler range, looks up every parameter's state and
    sorts the tensors by device and dtype before it launches the one fused kernel; on a small model
    that costs as much as the kernel. None of it changes during a run, so after the first update (a
    real `optimizer.step()`, which creates the state) this keeps the lists and launches what
    `torch.optim.adam._fused_adam` launches: the same kernel on the same tensors with the same
    arguments, so the weights and the optimizer's state are bit for bit those of `optimizer.step()`
    (tests/engine/test_optim.py). It reads the group's learning rate at every call, as schedules change
    it, and falls back to `optimizer.step()` whenever its shortcut would not be exactly that: the set
    of parameters with gradients changed (frozen layers never have any), step hooks registered (globally or on the optimizer), more than
    one parameter group, settings the fused kernel's plain form does not cover.
    """

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self._state: _FusedLists | None = None
        self._usable = _plain_fused_adam(optimizer)

    def __call__(self) -> None:
        """One update of every parameter from its gradient."""
        state, opt = self._state, self.optimizer
        if state is None or _has_step_hooks(opt):
            opt.step()
            if self._usable and state is None:
                self._state = _fused_state(opt)
            return
        params, idle, exp_avgs, exp_avg_sqs, steps = state
        grads = [p.grad for p in params]
        # A layer the last batch did not reach (torch skips it), or one reached for the first time.
        if any(g is None for g in grads) or any(p.grad is not None for p in idle):
            opt.step()
            self._state = _fused_state(opt)
            return
        group = opt.param_groups[0]
        beta1, beta2 = group["betas"]
        kernel = torch._fused_adamw_ if group["decoupled_weight_decay"] else torch._fused_adam_
        with torch.no_grad():
            torch._foreach_add_(steps, 1)
            kernel(
                params,
                grads,  # type: ignore[arg-type]  # none is None: checked above
                exp_avgs,
                exp_avg_sqs,
                [],
                steps,
                amsgrad=False,
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=False,
                grad_scale=None,
                found_inf=None,
            )


def _plain_fused_adam(opt: torch.optim.Optimizer) -> bool:
    """Whether `opt` is a one-group fused Adam/AdamW on float tensors of one device and dtype, with
    the settings whose update is the kernel's plain call (no amsgrad, maximize, capturable...)."""
    if not isinstance(opt, torch.optim.Adam) or len(opt.param_groups) != 1:
        return False
    group = opt.param_groups[0]
    if not group.get("fused") or any(group.get(k) for k in ("amsgrad", "maximize", "capturable", "differentiable")):
        return False
    if "decoupled_weight_decay" not in group or isinstance(group["lr"], Tensor):
        return False
    params = group["params"]
    return bool(params) and len({(p.device, p.dtype) for p in params}) == 1 and params[0].is_floating_point()


def _fused_state(opt: torch.optim.Optimizer) -> _FusedLists | None:
    """The parameters that have Adam state (those the first update reached) with that state, as the
    lists the fused kernel takes, and the parameters without (frozen layers); None when none has."""
    params = list(opt.param_groups[0]["params"])
    stepped = [p for p in params if "exp_avg" in opt.state.get(p, {})]
    if not stepped:
        return None
    states = [opt.state[p] for p in stepped]
    return _FusedLists(
        stepped,
        [p for p in params if "exp_avg" not in opt.state.get(p, {})],
        [s["exp_avg"] for s in states],
        [s["exp_avg_sq"] for s in states],
        [s["step"] for s in states],
    )


class _FusedLists(NamedTuple):
    params: list[Tensor]
    idle: list[Tensor]  # parameters the updates have not reached: they must stay without gradients
    exp_avgs: list[Tensor]
    exp_avg_sqs: list[Tensor]
    steps: list[Tensor]


def _has_step_hooks(opt: torch.optim.Optimizer) -> bool:
    return bool(
        opt._optimizer_step_pre_hooks
        or opt._optimizer_step_post_hooks
        or torch_optimizer._global_optimizer_pre_hooks
        or torch_optimizer._global_optimizer_post_hooks
    )


def stepper(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
    """The function that applies one update: `FusedAdamStep` where it applies, else `optimizer.step`."""
    return FusedAdamStep(optimizer) if _plain_fused_adam(optimizer) else optimizer.step


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: ExperimentConfig
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The learning-rate schedule, stepped once per epoch (plateau watches validation loss)."""
    o = config.optimizer
    if o.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=o.step_size, gamma=o.gamma)
    if o.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.training.epochs)
    if o.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=o.gamma, patience=o.plateau_patience)
    return None
