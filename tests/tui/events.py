"""Synthetic engine events, shaped as engine/PROTOCOL.md describes them, for app-side tests.

Every factory returns one plain-JSON event dict; keyword arguments override or add fields.
`run_state(...)` folds a list of events into a fresh RunState.
"""

from __future__ import annotations

import math
import time

from nnplay.tui.state import RunState

CLASS_NAMES = ["orange", "blue"]


def _event(type_: str, **fields) -> dict:
    return {"type": type_, "time": time.time(), **fields}


def hello(**fields) -> dict:
    base = dict(
        protocol=1,
        engine_version="0.1.0",
        torch_version="2.13.0",
        cuda_available=False,
        device="cpu",
        device_name="cpu",
        memory_total_mb=16000,
    )
    return _event("hello", **{**base, **fields})


def plan(**fields) -> dict:
    """A moons classification plan: 1000 train, batch 20, 10 epochs -> 50 iterations, 500 updates."""
    base = dict(
        name="moons-mlp",
        task="classification",
        dataset="moons",
        dataset_kind="points",
        architecture="mlp",
        n_samples=1500,
        n_train=1000,
        n_val=250,
        n_test=250,
        n_train_eval=1000,  # all of them, so charts keep the plain "train" key their snapshots show
        k_folds=None,
        input_shape=[2],
        n_classes=2,
        class_names=CLASS_NAMES,
        batch_size=20,
        iterations_per_epoch=50,
        last_batch="every batch holds 20 samples",
        epochs=10,
        total_updates=500,
        params=177,
        model={
            "layers": [
                {"name": "0", "type": "Linear", "output_shape": [16], "params": 48},
                {"name": "1", "type": "ReLU", "output_shape": [16], "params": 0},
                {"name": "2", "type": "Linear", "output_shape": [2], "params": 34},
            ],
            "total_params": 177,
            "trainable_params": 177,
        },
        loss="cross_entropy",
        loss_description="cross-entropy between the predicted class probabilities and the true class",
        optimizer="adam",
        device="cpu",
        baseline_loss=0.693,
        precision="fp32",
        threads=1,
        memory_bytes=2.5e6,
        sweep=None,
        transfer=None,
        run_dir="runs/20250101-000000-moons-mlp",
    )
    return _event("plan", **{**base, **fields})


def epoch(n: int, epochs: int = 10, train_loss=..., val_loss=..., omit: tuple[str, ...] = (), **fields) -> dict:
    """Epoch n of a run whose loss falls as 1/n; pass losses to override (None is JSON's null, as for
    a diverged loss), `omit` to leave fields out (as eval_every does for train_loss and val_loss: the
    gap and that split's metrics go with them, as in the engine's events)."""
    train = 1.0 / n if train_loss is ... else train_loss
    val = 1.2 / n if val_loss is ... else val_loss
    finite = all(isinstance(v, int | float) and math.isfinite(v) for v in (train, val))
    base = dict(
        epoch=n,
        epochs=epochs,
        fold=0,
        iterations=50 * n,
        train_loss_running=train,
        train_loss=train,
        val_loss=val,
        gap=val - train if finite else None,
        train_accuracy=min(1.0, 0.5 + 0.05 * n),
        val_accuracy=min(1.0, 0.45 + 0.05 * n),
        penalty=0.0,
        lr=0.01,
        grad_norm=0.5 / n,
        weight_norm=3.0 + 0.1 * n,
        time_s=0.2,
        samples_per_s=5000.0,
        elapsed_s=0.2 * n,
        eta_s=0.2 * (epochs - n),
        best_epoch=n,
        best_val_loss=val if finite else None,
        gpu_memory_mb=None,
    )
    event = _event("epoch", **{**base, **fields})
    for key in omit:
        event.pop(key, None)
        if key in ("train_loss", "val_loss"):
            split = key.removesuffix("_loss")
            for measured in [k for k in event if k.startswith(f"{split}_") and k != "train_loss_running"]:
                event.pop(measured)
            event.pop("gap", None)
    return event


def boundary_snapshot(epoch_: int = 1, grid: int = 40, **fields) -> dict:
    """Class 1 above the diagonal y = x, class 0 below; confidence grows away from it; 4 points."""
    axis = [-2 + 4 * i / (grid - 1) for i in range(grid)]
    pred = [[1 if axis[r] > axis[c] else 0 for c in range(grid)] for r in range(grid)]
    confidence = [[round(min(1.0, 0.5 + abs(axis[r] - axis[c]) / 4), 2) for c in range(grid)] for r in range(grid)]
    points = {"x": [-1.5, 1.5, -1.0, 1.0], "y": [1.5, -1.5, 1.0, -1.0], "label": [1, 0, 1, 0]}
    base = dict(
        epoch=epoch_,
        fold=0,
        view="boundary",
        x=axis,
        y=axis,
        pred=pred,
        confidence=confidence,
        points=points,
        class_names=CLASS_NAMES,
    )
    return _event("snapshot", **{**base, **fields})


def surface_snapshot(epoch_: int = 1, grid: int = 40) -> dict:
    axis = [-1 + 2 * i / (grid - 1) for i in range(grid)]
    value = [[round(axis[c] + axis[r], 3) for c in range(grid)] for r in range(grid)]
    points = {"x": [-0.5, 0.5], "y": [-0.5, 0.5], "value": [-1.0, 1.0]}
    return _event("snapshot", epoch=epoch_, fold=0, view="surface", x=axis, y=axis, value=value, points=points)


def curve_snapshot(epoch_: int = 1) -> dict:
    xs = [-3 + 6 * i / 199 for i in range(200)]
    points = {"x": [-2.0, -1.0, 0.0, 1.0, 2.0], "y": [-0.9, -0.8, 0.1, 0.85, 0.9]}
    return _event(
        "snapshot", epoch=epoch_, fold=0, view="curve", x=xs, prediction=[math.sin(x) for x in xs], points=points
    )


def forecast_snapshot(epoch_: int = 1) -> dict:
    actual = [math.sin(i / 5) for i in range(80)]
    return _event(
        "snapshot", epoch=epoch_, fold=0, view="forecast", actual=actual, prediction=[a * 0.9 for a in actual]
    )


def confusion_snapshot(epoch_: int = 1, matrix=None, class_names=None) -> dict:
    matrix = matrix or [[120, 5], [10, 115]]
    return _event(
        "snapshot", epoch=epoch_, fold=0, view="confusion", matrix=matrix, class_names=class_names or CLASS_NAMES
    )


def digit(size: int = 8) -> list[list[float]]:
    """A bright square ring on black."""
    return [[1.0 if r in (1, size - 2) or c in (1, size - 2) else 0.0 for c in range(size)] for r in range(size)]


def samples_snapshot(epoch_: int = 1, size: int = 8, n: int = 8) -> dict:
    """n images; the first is right with 98% confidence, the second wrong (3 -> 8), then alternating."""
    labels = [7, 3] + [i % 10 for i in range(2, n)]
    preds = [7, 8] + [i % 10 if i % 2 else (i + 1) % 10 for i in range(2, n)]
    return _event(
        "snapshot",
        epoch=epoch_,
        fold=0,
        view="samples",
        images=[digit(size) for _ in range(n)],
        label=labels[:n],
        pred=preds[:n],
        confidence=[0.98, 0.61] + [0.9] * (n - 2),
        class_names=[str(i) for i in range(10)],
    )


def reconstructions_snapshot(epoch_: int = 1, size: int = 8, n: int = 8) -> dict:
    images = [digit(size) for _ in range(n)]
    recon = [[[v * 0.8 for v in row] for row in image] for image in images]
    return _event("snapshot", epoch=epoch_, fold=0, view="reconstructions", images=images, reconstructions=recon)


def generated_snapshot(epoch_: int = 1, size: int = 8, n: int = 8) -> dict:
    return _event("snapshot", epoch=epoch_, fold=0, view="generated", images=[digit(size) for _ in range(n)])


def layers_snapshot(epoch_: int = 1, grad_norm=None) -> dict:
    """Gradients shrinking towards the input layer: the picture of vanishing gradients."""
    grads = grad_norm or [1e-6, 1e-4, 1e-1]
    names = [f"layers.{i}" for i in range(len(grads))]
    return _event(
        "snapshot",
        epoch=epoch_,
        fold=0,
        view="layers",
        layers=names,
        weight_norm=[2.5, 3.1, 1.2][: len(grads)],
        grad_norm=grads,
        sparsity=[0.0] * len(grads),
        sparse_below=1e-3,
    )


def diagnosis(final: bool = False, verdict: str = "overfitting", **fields) -> dict:
    """The live diagnosis at epoch 10 (final false), or the final one."""
    live = {} if final else {"epoch": 10, "fold": None}
    base = dict(
        final=final,
        **live,
        best_epoch=4,
        best_val_loss=0.3,
        generalization_gap=[[e, 0.05 * e] for e in range(1, 11)],
        final_gap=0.5,
        overfitting_epoch=5,
        early_stopping={"stop_epoch": 9, "best_epoch": 4, "best_val_loss": 0.3},
        patience=5,
        verdict=verdict,
        kept_epoch=10 if final else None,
        explanation="validation loss rose while training loss kept falling",
        advice="add dropout or weight decay, or stop earlier",
        notes=[],
    )
    return _event("diagnosis", **{**base, **fields})


def warning(message: str) -> dict:
    return _event("warning", message=message)


def error(message: str, kind: str = "internal", **fields) -> dict:
    """An error event; an internal one carries a traceback, as the engine's do."""
    trace = "Traceback (most recent call last):\nRuntimeError: " + message if kind == "internal" else None
    return _event("error", message=message, kind=kind, **{"traceback": trace, **fields})


def done(status: str = "completed", **fields) -> dict:
    base = dict(
        status=status,
        run_dir="runs/20250101-000000-moons-mlp",
        final={"train_loss": 0.1, "val_loss": 0.12},
        kept={
            "epoch": 9,
            "weights": "last",
            "n_train": 1000,
            "train": {"loss": 0.1, "accuracy": 0.97},
            "val": {"loss": 0.12, "accuracy": 0.96},
            "test": {"loss": 0.13, "accuracy": 0.95},
        },
        test={"accuracy": 0.95, "loss": 0.13},
        best_epoch=9,
        weights_epoch=9,
        verdict="good fit",
        hint=None,
    )
    return _event("done", **{**base, **fields})


def run_state(*events: dict) -> RunState:
    """A fresh RunState with these events folded in."""
    state = RunState()
    for event in events:
        state.ingest(event)
    return state


def training_run(epochs: int = 10) -> RunState:
    """hello, plan and `epochs` epochs of a classification run with every snapshot view it has; its
    validation loss turns at epoch 4, as the diagnosis says."""
    return run_state(
        hello(),
        plan(epochs=epochs),
        *(
            epoch(n, epochs=epochs, val_loss=1.2 / n if n <= 4 else 0.3 + 0.05 * (n - 4), best_epoch=min(n, 4))
            for n in range(1, epochs + 1)
        ),
        boundary_snapshot(epochs),
        confusion_snapshot(epochs),
        layers_snapshot(epochs),
        diagnosis(),
    )
