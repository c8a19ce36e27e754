"""Losses by task, and the metrics measured with them, all kept as device tensors."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from nnplay.engine.core.config import ExperimentConfig
from nnplay.engine.core.i18n import N_, _

LOSS_DESCRIPTIONS = {
    "cross_entropy": N_("cross-entropy over the class logits (softmax inside)"),
    "bce": N_("binary cross-entropy with logits (one output, sigmoid inside)"),
    "mse": N_("mean squared error on standardized targets"),
    "mae": N_("mean absolute error on standardized targets"),
    "huber": N_("Huber loss on standardized targets (squared near 0, absolute far away)"),
    "bce+kl": N_("reconstruction (binary cross-entropy summed over pixels) + KL divergence to N(0, I), per image"),
    "mse+kl": N_("reconstruction (squared error summed over pixels) + KL divergence to N(0, I), per image"),
}
LOSS_DESCRIPTIONS["bce_recon"] = N_("reconstruction: binary cross-entropy with logits, averaged over pixels")
LOSS_DESCRIPTIONS["mse_recon"] = N_("reconstruction: squared error of the sigmoid output, averaged over pixels")


def describe_loss(config: ExperimentConfig) -> str:
    """The configured loss in words, in the language spoken now."""
    name = config.resolved_loss
    if config.task == "generation" and "+" not in name:
        return _(LOSS_DESCRIPTIONS[f"{name}_recon"])
    return _(LOSS_DESCRIPTIONS[name])


class Criterion:
    """The training loss for a task, plus the per-batch sums that evaluation accumulates."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.task = config.task
        self.name = config.resolved_loss
        self.vae = config.model.architecture == "vae"
        self.recon = self.name.split("+")[0]

    def __call__(self, output, y: Tensor) -> Tensor:
        """Mean loss over the batch (what backward() sees)."""
        if self.task == "generation":
            return self._generation_loss(output, y)
        if self.name == "cross_entropy":
            return F.cross_entropy(output, y)
        if self.name == "bce":
            return F.binary_cross_entropy_with_logits(output.squeeze(-1), y.float())
        if self.name == "mae":
            return F.l1_loss(output, y)
        if self.name == "huber":
            return F.huber_loss(output, y)
        return F.mse_loss(output, y)

    def _generation_loss(self, output, target: Tensor) -> Tensor:
        logits = output.recon_logits if self.vae else output
        reduction = "sum" if self.vae else "mean"
        if self.recon == "bce":
            recon = F.binary_cross_entropy_with_logits(logits, target, reduction=reduction)
        else:
            recon = F.mse_loss(torch.sigmoid(logits), target, reduction=reduction)
        if not self.vae:
            return recon
        kl = -0.5 * torch.sum(1 + output.logvar - output.mu.pow(2) - output.logvar.exp())
        return (recon + kl) / target.shape[0]

    def batch_sums(self, output, y: Tensor) -> dict[str, Tensor]:
        """Sums over one evaluation batch; `finish` turns them into metrics."""
        n = y.shape[0]
        sums = {"loss": self(output, y).float() * n}
        if self.task == "classification":
            pred = (output.squeeze(-1) > 0).long() if self.name == "bce" else output.argmax(-1)
            sums["correct"] = (pred == y).sum()
        elif self.task == "generation":
            logits = output.recon_logits if self.vae else output
            err = (torch.sigmoid(logits.float()) - y).pow(2)
            sums["recon_error"] = err.flatten(1).mean(1).sum()
            if self.vae:
                kl = -0.5 * (1 + output.logvar - output.mu.pow(2) - output.logvar.exp()).sum(1)
                sums["kl"] = kl.float().sum()
        else:
            diff = (output.float() - y).squeeze(-1)
            sums["abs_err"] = diff.abs().sum()
            sums["sq_err"] = diff.pow(2).sum()
            sums["y_sum"] = y.sum()
            sums["y_sq_sum"] = y.pow(2).sum()
        return sums

    def finish(self, sums: dict[str, Tensor], n: int, target_std: float = 1.0) -> dict[str, Tensor]:
        """Metrics from accumulated sums (still on the device)."""
        out = {"loss": sums["loss"] / n}
        if "correct" in sums:
            out["accuracy"] = sums["correct"].float() / n
        if "recon_error" in sums:
            out["recon_error"] = sums["recon_error"] / n
        if "kl" in sums:
            out["kl"] = sums["kl"] / n
        if "abs_err" in sums:
            out["mae"] = sums["abs_err"] / n * target_std
            total = sums["y_sq_sum"] - sums["y_sum"].pow(2) / n
            out["r2"] = 1 - sums["sq_err"] / total.clamp_min(1e-12)
        return out

    def baseline(self, n_classes: int | None) -> float | None:
        """The loss of a model that learned nothing (uniform classes, mean target), for the verdict."""
        if self.task == "classification":
            return math.log(2) if self.name == "bce" else math.log(n_classes or 2)
        if self.task in ("regression", "forecasting"):
            # Targets are standardized, so predicting their mean scores about this.
            return {"mse": 1.0, "mae": math.sqrt(2 / math.pi), "huber": 0.4}[self.name]
        return None


def regularization_penalty(weights: Sequence[Tensor], l1: float, l2: float) -> Tensor | None:
    """λ1·Σ|w| + λ2·Σw² over weight matrices and kernels (biases and norm scales are not penalized)."""
    if not weights or (l1 == 0 and l2 == 0):
        return None
    penalty = weights[0].new_zeros(())
    if l1:
        penalty = penalty + l1 * sum(w.abs().sum() for w in weights)
    if l2:
        penalty = penalty + l2 * sum(w.pow(2).sum() for w in weights)
    return penalty
