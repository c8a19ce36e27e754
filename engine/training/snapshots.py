"""Model views for the learner, as plain JSON: what the model currently predicts, by task.

Each view is a dict with a "view" key: boundary, surface, curve, forecast, confusion, samples,
reconstructions, generated, layers. Inputs are shown in the data's own units.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import torch
from torch import Tensor, nn

from nnplay.engine.training.loop import SPARSE_BELOW, Run, Split

if TYPE_CHECKING:
    from nnplay.engine.models.autoencoder import VAE

GRID = 40  # cells per side of decision-boundary and surface grids
MAX_POINTS = 300  # training points drawn under a boundary or curve
N_IMAGES = 8
PREVIEW_SIDE = 32  # images in views are at most this many pixels a side (a terminal shows fewer)
# ITU-R BT.601 luma: how bright each of red, green and blue looks, for grey previews of RGB images.
LUMA = (0.299, 0.587, 0.114)


@dataclass
class SnapshotContext:
    """What the views need besides the model: raw data for display and the input transform."""

    task: str
    kind: str
    loss: str
    normalize: Callable[[Tensor], Tensor]  # raw inputs (CPU) -> model inputs (CPU)
    to_original: Callable[[Tensor], Tensor]  # standardized targets -> original units
    train_x_raw: Tensor  # CPU, for boundaries and curves
    train_y: Tensor  # CPU, original units for regression
    val: Split | None  # on the device, model inputs
    val_x_raw: Tensor | None  # CPU, for images
    val_y_raw: Tensor | None
    class_names: list[str] | None
    n_classes: int | None
    is_vae: bool = False


def _preview(images: Tensor) -> Tensor:
    """Images (n, channels, h, w) as views send them: grey levels (n, h', w'), RGB by its luma, and scaled
    down by whole-pixel averaging to at most PREVIEW_SIDE a side."""
    images = images.detach().float()
    if images.shape[1] == 3:
        grey = torch.einsum("nchw,c->nhw", images, torch.tensor(LUMA, device=images.device))
    else:
        grey = images[:, 0]
    factor = -(-max(grey.shape[-2:]) // PREVIEW_SIDE)  # ceiling division
    if factor > 1:
        grey = nn.functional.avg_pool2d(grey.unsqueeze(1), factor, ceil_mode=True).squeeze(1)
    return grey


def _r(t: Tensor, digits: int = 3) -> list:
    """Round and convert for JSON (one host transfer)."""
    return torch.round(t.detach().double().cpu(), decimals=digits).tolist()


def _predict(trainer: Run, x: Tensor):
    model = trainer.model
    was = model.training
    model.eval()
    with torch.no_grad():
        out = model(x.to(trainer.device))
    model.train(was)
    return out


def _probabilities(out: Tensor, loss: str) -> Tensor:
    if loss == "bce":
        p1 = torch.sigmoid(out.float().squeeze(-1))
        return torch.stack([1 - p1, p1], dim=-1)
    return torch.softmax(out.float(), dim=-1)


def _points_sample(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    step = max(1, x.shape[0] // MAX_POINTS)
    return x[::step][:MAX_POINTS], y[::step][:MAX_POINTS]


def _grid(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    lo, hi = x.min(0).values, x.max(0).values
    pad = (hi - lo) * 0.1 + 1e-3
    xs = torch.linspace(float(lo[0] - pad[0]), float(hi[0] + pad[0]), GRID)
    ys = torch.linspace(float(lo[1] - pad[1]), float(hi[1] + pad[1]), GRID)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return xs, ys, torch.stack([gx.flatten(), gy.flatten()], dim=1)


def boundary(trainer: Run, ctx: SnapshotContext) -> dict:
    """Predicted class and confidence over a grid around the training points, with a sample of the points."""
    xs, ys, cells = _grid(ctx.train_x_raw)
    probs = _probabilities(_predict(trainer, ctx.normalize(cells)), ctx.loss).cpu()
    conf, pred = probs.max(-1)
    px, py = _points_sample(ctx.train_x_raw, ctx.train_y)
    return {
        "view": "boundary",
        "x": _r(xs),
        "y": _r(ys),
        "pred": pred.view(GRID, GRID).tolist(),
        "confidence": _r(conf.view(GRID, GRID), 2),
        "points": {"x": _r(px[:, 0]), "y": _r(px[:, 1]), "label": py.tolist()},
        "class_names": ctx.class_names,
    }


def surface(trainer: Run, ctx: SnapshotContext) -> dict:
    """The predicted value over a grid around the training points, with a sample of the points."""
    xs, ys, cells = _grid(ctx.train_x_raw)
    values = ctx.to_original(_predict(trainer, ctx.normalize(cells)).float().cpu()).view(GRID, GRID)
    px, py = _points_sample(ctx.train_x_raw, ctx.train_y)
    return {
        "view": "surface",
        "x": _r(xs),
        "y": _r(ys),
        "value": _r(values),
        "points": {"x": _r(px[:, 0]), "y": _r(px[:, 1]), "value": _r(py.flatten())},
    }


def curve(trainer: Run, ctx: SnapshotContext) -> dict:
    """The predicted curve over the training inputs' range, with a sample of the points."""
    lo, hi = float(ctx.train_x_raw.min()), float(ctx.train_x_raw.max())
    xs = torch.linspace(lo, hi, 200).unsqueeze(1)
    pred = ctx.to_original(_predict(trainer, ctx.normalize(xs)).float().cpu())
    px, py = _points_sample(ctx.train_x_raw, ctx.train_y)
    return {
        "view": "curve",
        "x": _r(xs.flatten()),
        "prediction": _r(pred.flatten()),
        "points": {"x": _r(px.flatten()), "y": _r(py.flatten())},
    }


def forecast(trainer: Run, ctx: SnapshotContext) -> dict | None:
    """Prediction against the actual next value for the first 80 validation windows; None without validation data."""
    if ctx.val is None or not len(ctx.val):
        return None
    n = min(80, len(ctx.val))
    pred = ctx.to_original(_predict(trainer, ctx.val.x[:n]).float().cpu())
    actual = ctx.to_original(ctx.val.y[:n].float().cpu())
    return {"view": "forecast", "actual": _r(actual.flatten()), "prediction": _r(pred.flatten())}


def _val_output(trainer: Run, val: Split):
    """The model's output on the validation split: the one this epoch's evaluation computed, if any."""
    cached = getattr(trainer, "val_output", None)
    if cached is not None and cached[0] == trainer.epoch:
        return cached[1]
    return _predict(trainer, val.x)


def confusion(trainer: Run, ctx: SnapshotContext) -> dict | None:
    """The validation split's confusion matrix (rows: true class, columns: predicted); None without validation data."""
    if ctx.val is None or not len(ctx.val):
        return None
    k = ctx.n_classes or 2
    pred = _probabilities(_val_output(trainer, ctx.val), ctx.loss).argmax(-1)
    matrix = torch.bincount(ctx.val.y * k + pred, minlength=k * k).view(k, k)
    return {
        "view": "confusion",
        "matrix": matrix.tolist(),
        "class_names": ctx.class_names or [str(i) for i in range(k)],
    }


def samples(trainer: Run, ctx: SnapshotContext) -> dict | None:
    """The first validation images with their labels, predictions and confidences; None without them."""
    if ctx.val is None or ctx.val_x_raw is None or ctx.val_y_raw is None:  # the raw images come with their labels
        return None
    n = min(N_IMAGES, len(ctx.val))
    probs = _probabilities(_predict(trainer, ctx.val.x[:n]), ctx.loss).cpu()
    conf, pred = probs.max(-1)
    return {
        "view": "samples",
        "images": _r(_preview(ctx.val_x_raw[:n]), 2),
        "label": ctx.val_y_raw[:n].tolist(),
        "pred": pred.tolist(),
        "confidence": _r(conf, 2),
        "class_names": ctx.class_names,
    }


def reconstructions(trainer: Run, ctx: SnapshotContext) -> dict | None:
    """The first validation images and the model's reconstructions of them; None without them."""
    if ctx.val is None or ctx.val_x_raw is None:
        return None
    n = min(N_IMAGES, len(ctx.val))
    out = _predict(trainer, ctx.val.x[:n])
    logits = out.recon_logits if ctx.is_vae else out
    return {
        "view": "reconstructions",
        "images": _r(_preview(ctx.val_x_raw[:n]), 2),
        "reconstructions": _r(_preview(torch.sigmoid(logits.float())), 2),
    }


def generated(trainer: Run, ctx: SnapshotContext) -> dict:
    """Images decoded from the same random codes each time."""
    model = cast("VAE", trainer.model)  # views_for adds this view only for a VAE
    was = model.training
    model.eval()
    with torch.no_grad():
        gen = torch.Generator(device=trainer.device).manual_seed(0)  # the same codes each time: watch them sharpen
        images = model.sample(N_IMAGES, generator=gen, device=trainer.device)
    model.train(was)
    return {"view": "generated", "images": _r(_preview(images), 2)}


def layer_norms(model: nn.Module) -> dict:
    """Weight and gradient L2 norms per layer (parameters grouped by their module), and the share of
    each layer's weights within SPARSE_BELOW of zero (matrices and kernels; null for layers without)."""
    weights: dict[str, list[Tensor]] = defaultdict(list)
    grads: dict[str, list[Tensor]] = defaultdict(list)
    near_zero: dict[str, list[Tensor]] = defaultdict(list)
    sizes: dict[str, int] = defaultdict(int)
    for name, p in model.named_parameters():
        layer = name.rsplit(".", 1)[0] if "." in name else name
        stacked = re.search(r"_l(\d+)(_reverse)?$", name)
        if stacked:  # recurrent modules hold every stacked layer: split them, to see gradients vanish with depth
            layer = f"{layer}.l{stacked.group(1)}"
        weights[layer].append(p.detach().float().pow(2).sum())
        if p.grad is not None:
            grads[layer].append(p.grad.detach().float().pow(2).sum())
        if p.dim() > 1:
            near_zero[layer].append((p.detach().abs() < SPARSE_BELOW).sum())
            sizes[layer] += p.numel()
    names = list(weights)
    w = torch.stack([torch.stack(weights[n]).sum().sqrt() for n in names])
    g = torch.stack([torch.stack(grads[n]).sum().sqrt() if grads[n] else w.new_zeros(()) for n in names])
    zeros = torch.stack([torch.stack(near_zero[n]).sum().float() if sizes[n] else w.new_zeros(()) for n in names])
    return {
        "view": "layers",
        "layers": names,
        "weight_norm": _r(w, 5),
        "grad_norm": [float(f"{v:.4g}") for v in g.tolist()],
        "sparsity": [round(z / sizes[n], 4) if sizes[n] else None for n, z in zip(names, zeros.tolist(), strict=True)],
        "sparse_below": SPARSE_BELOW,
    }


def views_for(ctx: SnapshotContext) -> Callable[[Run], list[dict]]:
    """The snapshot function for this task and kind of data."""
    builders: list[Callable[[Run, SnapshotContext], dict | None]] = []
    if ctx.task == "classification":
        if ctx.kind == "points":
            builders.append(boundary)
        if ctx.kind == "image":
            builders.append(samples)
        builders.append(confusion)
    elif ctx.task == "regression":
        builders.append(curve if ctx.kind == "curve" else surface if ctx.kind == "points" else forecast)
    elif ctx.task == "forecasting":
        builders.append(forecast)
    elif ctx.task == "generation":
        builders.append(reconstructions)
        if ctx.is_vae:
            builders.append(generated)

    def take(trainer: Run) -> list[dict]:
        views = [b(trainer, ctx) for b in builders]
        views.append(layer_norms(trainer.model))
        return [v for v in views if v is not None]

    return take
