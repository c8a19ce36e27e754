"""Optimizers and learning-rate schedules from the config."""

from __future__ import annotations

import torch
from torch import nn

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
