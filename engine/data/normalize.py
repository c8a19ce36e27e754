"""Input normalization and target standardization, fitted on the training split only.

Fitting on the training split alone keeps validation and test honest: their statistics never
leak into the model. Both classes save as plain JSON-able numbers so a run can be replayed.
"""

from __future__ import annotations

from typing import Any

import torch

from nnplay.engine.core.i18n import _

METHODS = ("none", "minmax", "zscore")
_TINY = 1e-8  # a feature with less spread than this is constant: scale it by 1 instead of dividing by ~0


def _unknown_method(method: str) -> str:
    return _("normalization method {method} is not one of {allowed}").format(
        method=repr(method), allowed=", ".join(METHODS)
    )


class Normalizer:
    """x ↦ (x - shift) / scale, with shift and scale fitted by `fit`.

    Flat inputs (n, features), as for points, curves and tabular rows, get one shift and scale per
    feature. Images (n, 1, h, w) and sequences (n, t, f) get one global scalar each, so pixels and
    time steps keep their relative brightness and shape.
    """

    def __init__(self, method: str = "none", shift: float | list[float] = 0.0, scale: float | list[float] = 1.0):
        if method not in METHODS:
            raise ValueError(_unknown_method(method))
        self.method = method
        self.shift = torch.as_tensor(shift, dtype=torch.float32)
        self.scale = torch.as_tensor(scale, dtype=torch.float32)

    def fit(self, x_train: torch.Tensor, method: str) -> Normalizer:
        """Fit shift and scale on the training inputs with `method` (none, minmax, zscore); returns self."""
        if method not in METHODS:
            raise ValueError(_unknown_method(method))
        self.method = method
        x = x_train.detach().float()
        per_feature = x.ndim == 2
        dims = 0 if per_feature else tuple(range(x.ndim))
        if method == "zscore":
            shift, scale = x.mean(dim=dims), x.std(dim=dims, correction=0)
        elif method == "minmax":
            shift = x.amin(dim=dims)
            scale = x.amax(dim=dims) - shift
        else:
            shift = torch.zeros(x.shape[1]) if per_feature else torch.tensor(0.0)
            scale = torch.ones_like(shift)
        # Statistics live on the CPU as plain state; apply() copies them to the data's device, which is
        # cheap because it runs once per split at set-up, not once per batch.
        self.shift = shift.cpu()
        self.scale = torch.where(scale.cpu() < _TINY, 1.0, scale.cpu())
        return self

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """Normalized copy of x (a tensor on any device)."""
        if self.method == "none":
            return x.clone()
        return (x - self.shift.to(x.device, x.dtype)) / self.scale.to(x.device, x.dtype)

    def invert(self, x: torch.Tensor) -> torch.Tensor:
        """Back to the original units, e.g. to label a decision-boundary grid."""
        return x * self.scale.to(x.device, x.dtype) + self.shift.to(x.device, x.dtype)

    def state_dict(self) -> dict[str, Any]:
        """Plain numbers and lists, ready for JSON."""
        return {"method": self.method, "shift": self.shift.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Normalizer:
        """Rebuild a Normalizer saved with `state_dict`."""
        return cls(state["method"], state["shift"], state["scale"])


class TargetScaler:
    """Standardizes regression and forecasting targets: y ↦ (y - mean) / std.

    The engine trains on standardized targets, so one learning rate suits any target scale, and
    reports errors in original units with `invert` (an MAE times `std`).
    """

    def __init__(self, mean: float = 0.0, std: float = 1.0):
        self.mean = float(mean)
        self.std = float(std)

    def fit(self, y_train: torch.Tensor) -> TargetScaler:
        """Fit mean and std on the training targets; returns self. One sync, at set-up."""
        y = y_train.detach().double()
        self.mean = y.mean().item()
        std = y.std(correction=0).item()
        self.std = std if std > _TINY else 1.0
        return self

    def apply(self, y: torch.Tensor) -> torch.Tensor:
        """Standardized copy of y."""
        return (y - self.mean) / self.std

    def invert(self, y: torch.Tensor) -> torch.Tensor:
        """Predictions back in the targets' original units."""
        return y * self.std + self.mean

    def state_dict(self) -> dict[str, float]:
        """Plain numbers, ready for JSON."""
        return {"mean": self.mean, "std": self.std}

    @classmethod
    def from_state(cls, state: dict[str, float]) -> TargetScaler:
        """Rebuild a TargetScaler saved with `state_dict`."""
        return cls(state["mean"], state["std"])
