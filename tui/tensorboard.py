"""A recorded run as TensorBoard event files: `nnplay export RUN --format tensorboard`.

Written with tensorboardX, an optional extra (`pip install 'nnplay[tensorboard]'`). Training and validation
go to sibling runs (`<run id>/train`, `<run id>/validation`; one pair per fold in k-fold runs), so that
TensorBoard overlays their curves under one tag ("loss", "accuracy", ...); the run's settings and final
metrics are its hparams, on the run itself (`<run id>`). Plain numbers only: no torch in this process.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from nnplay.engine.core.events import is_number
from nnplay.engine.core.i18n import _
from nnplay.engine.core.runs import RunRecord

EXTRA = "pip install 'nnplay[tensorboard]'"
EVENT_FILES = "events.out.tfevents.*"  # what tensorboardX writes, one file per writer
# Besides the train_* and val_* metrics, the training run also gets these curves of the epoch events.
TRAINING_CURVES = ("lr", "grad_norm", "weight_norm")


class TensorBoardMissing(ValueError):
    """tensorboardX is not installed: the message names the extra that installs it."""


def tensorboardx() -> tuple[Any, Any]:
    """tensorboardX's SummaryWriter class and its hparams summaries, or TensorBoardMissing naming the extra."""
    # tensorboardX imports torch when it can, only to accept torch tensors; these are plain numbers, and
    # importing torch would cost this process seconds. Hide it during the import unless it is loaded already.
    hide_torch = "torch" not in sys.modules
    if hide_torch:
        sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        from tensorboardX import SummaryWriter
        from tensorboardX.summary import hparams
    except ImportError as exc:
        if exc.name == "tensorboardX":
            problem = _(
                "--format tensorboard needs the tensorboardX package, which is not installed; install it with {extra}"
            )
        else:
            problem = _(
                "--format tensorboard needs the tensorboardX package, which cannot be imported ({error}); "
                "install it with {extra}"
            )
        raise TensorBoardMissing(problem.format(extra=EXTRA, error=exc)) from None
    finally:
        if hide_torch:
            del sys.modules["torch"]
    return SummaryWriter, hparams


def hparams_of(record: RunRecord) -> tuple[dict[str, Any], dict[str, float]]:
    """The run's settings as hparams (dotted names; lists as text) and its final metrics ("hparam/test_loss",
    "hparam/best_val_loss", ...), for TensorBoard's HParams dashboard."""
    from nnplay.tui.report import flatten

    settings = {k: v for k, v in flatten(record.config).items() if k not in ("name", "description")}
    hparams = {k: v if isinstance(v, bool | int | float | str) else str(v) for k, v in settings.items()}
    summary = record.summary or {}
    metrics = {f"hparam/test_{k}": v for k, v in (summary.get("test") or {}).items() if is_number(v)}
    if is_number(summary.get("best_val_loss")):
        metrics["hparam/best_val_loss"] = summary["best_val_loss"]
    return hparams, metrics


def write_tensorboard(record: RunRecord, directory: Path) -> Path:
    """Event files of the run's epochs and hparams under directory/<run id>; returns that directory.
    Event files a previous export left there are replaced, so TensorBoard shows each curve once."""
    writer_class, hparams_summaries = tensorboardx()
    root = directory / record.id
    if root.is_dir():
        for old in root.rglob(EVENT_FILES):
            old.unlink()
    writers: dict[str, Any] = {}

    def writer(name: str) -> Any:
        if name not in writers:
            writers[name] = writer_class(logdir=str(root / name))
        return writers[name]

    try:
        for event in record.epochs:
            fold = event.get("fold")
            prefix = f"fold-{fold + 1}/" if isinstance(fold, int) else ""
            step = event.get("epoch")
            for key, value in event.items():
                if not is_number(value):
                    continue
                if key.startswith("train_"):
                    writer(f"{prefix}train").add_scalar(key.removeprefix("train_"), value, step)
                elif key.startswith("val_"):
                    writer(f"{prefix}validation").add_scalar(key.removeprefix("val_"), value, step)
                elif key in TRAINING_CURVES:
                    writer(f"{prefix}train").add_scalar(key, value, step)
        hparams, metrics = hparams_of(record)
        session = writer("")  # the run itself: its settings, and the metrics they are compared by
        for summary in hparams_summaries(hparams, metrics):
            session.file_writer.add_summary(summary)
        for name, value in metrics.items():
            session.add_scalar(name, value)
    finally:
        for w in writers.values():
            w.close()
    return root
