"""An experiment from config to run directory: data, training, test, diagnosis.

The public Python API of the engine:
    planning.plan(config) -> dict                 the plan event, without training (engine/planning.py)
    experiment.run(config, emitter=..., control=...) -> dict   the run's summary
"""

from __future__ import annotations

import os
import statistics
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import torch

from nnplay.engine.core.config import ConfigError, ExperimentConfig, batch_size_of
from nnplay.engine.core.control import Control
from nnplay.engine.core.diagnosis import diagnose, diagnose_folds
from nnplay.engine.core.events import Emitter, RunFailed
from nnplay.engine.core.i18n import N_, _
from nnplay.engine.core.runs import RunStoreError, RunWriter, runs_root
from nnplay.engine.data.load import Dataset, load_dataset, settled
from nnplay.engine.data.normalize import Normalizer, TargetScaler
from nnplay.engine.models import build_model
from nnplay.engine.planning import check_memory, fold_indices, hello, make_plan, n_outputs
from nnplay.engine.runtime import configure
from nnplay.engine.training.hooks import BestWeights, EventStream, LastGoodWeights, LiveDiagnosis, Snapshots
from nnplay.engine.training.loop import Run, Split, Trainer, TrainSettings, as_numbers
from nnplay.engine.training.losses import Criterion
from nnplay.engine.training.optim import make_optimizer, make_scheduler
from nnplay.engine.training.snapshots import SnapshotContext, views_for
from nnplay.engine.transfer import apply_transfer, source_scaling

# A sweep's hint when some of its members diverged (a single run's comes from its diagnosis).
DIVERGED_HINT = N_(
    "The loss became NaN or infinite: lower the learning rate (try 10x smaller), or turn on gradient clipping."
)


@dataclass
class FoldData:
    """One training's data, normalized with training-split statistics and resident on the device."""

    train: Split
    val: Split
    test: Split
    normalizer: Normalizer
    scaler: TargetScaler | None
    context: SnapshotContext


def prepare_fold(
    config: ExperimentConfig,
    dataset: Dataset,
    indices: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    device: torch.device,
    scaling: dict | None = None,
) -> FoldData:
    """Fit the input (and target) scaling on the training split, apply it, move the splits to the device.
    `scaling` is an input scaling to use instead (a transferred model's, which its layers expect)."""
    train_idx, val_idx, test_idx = indices
    if scaling is not None:
        normalizer = Normalizer.from_state(scaling)
    else:
        normalizer = Normalizer().fit(dataset.x[train_idx], config.data.normalization)
    scaler = TargetScaler().fit(dataset.y[train_idx]) if config.task in ("regression", "forecasting") else None
    y = scaler.apply(dataset.y) if scaler else dataset.y
    x = normalizer.apply(dataset.x)

    def on_device(idx: torch.Tensor) -> Split:
        # Pinned host memory lets the copy to a GPU run asynchronously.
        xs, ys = x[idx], y[idx]
        if device.type == "cuda":
            xs, ys = xs.pin_memory(), ys.pin_memory()
        return Split(xs.to(device, non_blocking=True), ys.to(device, non_blocking=True))

    val = on_device(val_idx)
    image = dataset.kind == "image"
    context = SnapshotContext(
        task=config.task,
        kind=dataset.kind,
        loss=config.resolved_loss,
        normalize=normalizer.apply,
        to_original=scaler.invert if scaler else (lambda t: t),
        train_x_raw=dataset.x[train_idx],
        train_y=dataset.y[train_idx],
        val=val if len(val) else None,
        val_x_raw=dataset.x[val_idx] if image else None,
        val_y_raw=dataset.y[val_idx] if image else None,
        class_names=dataset.class_names,
        n_classes=dataset.n_classes,
        is_vae=config.model.architecture == "vae",
    )
    return FoldData(on_device(train_idx), val, on_device(test_idx), normalizer, scaler, context)


def train_settings(config: ExperimentConfig, n_train: int, target_std: float, seed: int) -> TrainSettings:
    """The training loop's settings from the config, for a training split of n_train samples."""
    r = config.regularization
    return TrainSettings(
        epochs=config.training.epochs,
        batch_size=batch_size_of(config, n_train),
        drop_last=config.training.drop_last,
        eval_every=config.training.eval_every,
        grad_clip=r.grad_clip,
        l1=r.l1,
        l2=r.l2,
        augment_noise=r.augment_noise,
        augment_shift=r.augment_shift,
        precision=config.training.precision,
        step_every=config.training.step_every,
        target_std=target_std,
        seed=seed,
    )


def _train_fold(
    config: ExperimentConfig,
    dataset: Dataset,
    indices: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    device: torch.device,
    emitter: Emitter,
    control: Control,
    fold: int | None,
    root: str | Path | None = None,
) -> dict:
    """One training (the whole run, or one fold): returns status, history, the kept weights' metrics,
    the diagnosis and the model."""
    data = prepare_fold(config, dataset, indices, device, source_scaling(config, root))
    train, val, context = data.train, data.val, data.context
    seed = config.training.seed + (fold or 0)
    torch.manual_seed(seed)
    model = build_model(config, dataset.input_shape, n_outputs(config))
    apply_transfer(model, config, root)  # the plan already checked that it fits
    model = model.to(device)
    criterion = Criterion(config)
    optimizer = make_optimizer(model, config, device)
    r = config.regularization
    settings = train_settings(config, len(train), data.scaler.std if data.scaler else 1.0, seed)
    best = BestWeights(r.patience, r.min_delta, r.early_stopping)
    last_good = LastGoodWeights()
    criterion_baseline = criterion.baseline(dataset.n_classes)
    hooks = [
        best,
        last_good,
        EventStream(emitter, best, fold),
        Snapshots(config.training.snapshot_every, views_for(context), emitter, fold),
        LiveDiagnosis(config.training.snapshot_every, emitter, r.patience, r.min_delta, criterion_baseline, fold),
    ]
    trainer = Trainer(
        model,
        criterion,
        optimizer,
        make_scheduler(optimizer, config),
        train,
        val if len(val) else None,
        settings,
        device,
        hooks,
        control,
    )
    try:
        status = trainer.fit()
    except KeyboardInterrupt:
        status = trainer.status = "stopped"
    kept_epoch, weights = keep_weights(trainer, best, last_good, status, r.early_stopping and r.restore_best)
    kept = measure_kept(trainer, data, kept_epoch, weights)
    diagnosis = diagnose(
        trainer.history,
        r.patience,
        r.min_delta,
        criterion_baseline,
        status=status,
        kept_epoch=kept_epoch,
        epochs=config.training.epochs,
    )
    return {
        "status": status,
        "history": trainer.history,
        "kept": kept,
        "test": kept["test"],
        "weights_epoch": kept_epoch,
        "diagnosis": diagnosis,
        "model": model,
        "normalizer": data.normalizer.state_dict(),
    }


def keep_weights(
    trainer: Run, best: BestWeights, last_good: LastGoodWeights, status: str, restore_best: bool
) -> tuple[int | None, str | None]:
    """Put the weights the run keeps into the model: (their epoch, why those), or (None, None) when
    no epoch finished with finite weights."""
    if restore_best and status != "diverged" and best.restore(trainer):
        return best.best_epoch, "best"
    if last_good.restore(trainer):  # a stop mid-epoch or a divergence leaves unfinished or broken weights
        return last_good.epoch, "last finite" if status == "diverged" else "last"
    return None, None


def measure_kept(trainer: Trainer, data: FoldData, epoch: int | None, weights: str | None) -> dict:
    """The kept weights' metrics on the whole training split, the validation split and the test split:
    every number of the final table describes these same weights."""
    kept: dict = {
        "epoch": epoch,
        "weights": weights,
        "n_train": len(data.train),
        "train": None,
        "val": None,
        "test": None,
    }
    if epoch is None:
        return kept
    for name, split in (("train", data.train), ("val", data.val), ("test", data.test)):
        if len(split):
            kept[name] = as_numbers(trainer.evaluate(split))
    return kept


def run(
    config: ExperimentConfig,
    emitter: Emitter | None = None,
    control: Control | None = None,
    root: str | Path | None = None,
    announce: bool = False,
) -> dict:
    """Train an experiment end to end, recording it in a run directory; returns the summary.

    Config problems that only show once the data is read raise ConfigError before any run
    directory is made. Any later failure is recorded in the run and reported as an error event.
    """
    emitter = emitter or Emitter()
    control = control or Control()
    device = configure(config)
    if announce:
        emitter.emit("hello", **hello(device))
    needed = check_memory(config, device)  # before any allocation: one sentence, not an allocator's error
    dataset = load_dataset(config)
    config = settled(config, dataset)  # your own data decided the task and its classes
    the_plan = make_plan(config, dataset, device, root, needed)
    try:
        writer = RunWriter.create(runs_root(root), config.name, config.to_toml())
    except RunStoreError as exc:  # the runs directory went bad after the start-up check: the user's to fix
        raise ConfigError(str(exc)) from None
    emitter.attach(writer.events)
    emitter.record_failure = None
    emitter.on_record_failure = lambda _failure: control.stop()  # a full disk: stop, rather than train on unrecorded
    started = time.time()
    try:
        emitter.emit("plan", run_dir=str(writer.path), **the_plan)
        if config.training.precision == "bf16" and device.type != "cuda":
            emitter.emit(
                "warning",
                message=_("precision = bf16 applies on CUDA only; training in fp32 on {device}").format(
                    device=device.type
                ),
            )
        if config.sweep.members > 1:
            from nnplay.engine.sweep import run_sweep

            return run_sweep(config, dataset, device, the_plan, writer, emitter, control, started)
        results = []
        for fold, indices in enumerate(fold_indices(config, dataset.x.shape[0])):
            result = _train_fold(
                config, dataset, indices, device, emitter, control, fold if config.data.k_folds else None, root
            )
            results.append(result)
            if config.data.k_folds:
                emitter.emit("fold", **fold_row(fold, config.data.k_folds, result))
            if result["status"] in ("stopped", "diverged") or emitter.record_failure:
                break
        if emitter.record_failure:
            raise RecordingFailed(emitter.record_failure)
        summary = _finish(config, writer, emitter, the_plan, results, started)
    except KeyboardInterrupt:  # a second Ctrl+C: no test metrics or summary; every finished epoch is kept
        emitter.emit("warning", message=_("stopped at once by a second interrupt: no test metrics or summary"))
        _close_quietly(writer, "stopped")
        raise
    except Exception as exc:  # record what happened in the run, then tell the caller it is reported
        user_error = isinstance(exc, ConfigError | RecordingFailed)
        if isinstance(exc, OSError) and not isinstance(exc, RecordingFailed):  # summary.json or model.pt
            exc = RecordingFailed(
                _("{file} could not be written ({reason})").format(
                    file=exc.filename or _("a file of the run"), reason=exc.strerror or exc
                )
            )
        emitter.emit(
            "error",
            message=str(exc) or type(exc).__name__,
            kind="record" if isinstance(exc, RecordingFailed) else "config" if user_error else "internal",
            traceback=None if user_error else traceback.format_exc(),
            run_dir=str(writer.path),
        )
        summary = {"status": "failed", "error": str(exc), "run_dir": str(writer.path), "plan": the_plan}
        _close_quietly(writer, "failed", summary, reason=str(exc))
        raise RunFailed(str(exc)) from exc
    finally:
        emitter.detach(writer.events)
        emitter.on_record_failure = None
    return summary


class RecordingFailed(RuntimeError):
    """A file of the run could not be written (a full or read-only disk): the run stops and says so."""

    def __init__(self, what: str) -> None:
        super().__init__(
            _(
                "The run was stopped because {what}; what was written before is kept in the run directory. "
                "Free some space (or choose another runs directory with --runs) and run it again."
            ).format(what=what)
        )


def _close_quietly(writer: RunWriter, status: str, summary: dict | None = None, reason: str | None = None) -> None:
    """Record how the run ended as far as the disk allows: the summary if it fits, the status (with the
    reason) in any case where status.json can be rewritten."""
    if summary is not None:
        try:
            writer.record(status, summary)
            return
        except OSError:
            pass
    try:
        writer.set_status(status, reason)
    except OSError:
        pass
    try:
        writer.close()
    except OSError:
        pass


def fold_row(fold: int, k: int, result: dict) -> dict:
    """One fold's line of the cross-validation table: its kept weights' metrics and its verdict."""
    kept, diagnosis = result["kept"], result["diagnosis"]
    return {
        "fold": fold,
        "k": k,
        "status": result["status"],
        "weights_epoch": kept["epoch"],
        "best_epoch": diagnosis["best_epoch"],
        "train": kept["train"],
        "val": kept["val"],
        "test": kept["test"],
        "verdict": diagnosis["verdict"],
        "explanation": diagnosis["explanation"],
    }


def _finish(config, writer: RunWriter, emitter: Emitter, the_plan: dict, results: list[dict], started: float) -> dict:
    main = results[-1]
    history = main["history"]
    status = main["status"]
    if config.data.k_folds:
        folds = [fold_row(i, config.data.k_folds, res) for i, res in enumerate(results)]
        cv = {part: mean_std([f[part] for f in folds if f[part]]) for part in ("train", "val", "test")}
        diagnosis = diagnose_folds([res["diagnosis"] for res in results], cv, config.data.k_folds)
        # The folds one after another, as the charts draw them.
        diagnosis["generalization_gap"] = [
            [i * config.training.epochs + epoch, gap]
            for i, res in enumerate(results)
            for epoch, gap in res["diagnosis"]["generalization_gap"]
        ]
        kept, test, extra = None, cv["test"], {"folds": folds, "cv": cv}
    else:
        diagnosis, kept, test, extra = main["diagnosis"], main["kept"], main["test"], {}
    emitter.emit("diagnosis", final=True, **diagnosis)
    # After a divergence, the diverged training's own advice (in k-fold mode, not the folds' majority's).
    hint = main["diagnosis"]["advice"] if status == "diverged" else None
    if main["weights_epoch"] is not None:
        save_weights(main["model"].state_dict(), writer.path / "model.pt")
    summary = summary_of_run(config, writer, status, started, history, diagnosis, the_plan)
    summary.update(
        weights_epoch=main["weights_epoch"],
        kept=kept,
        test=test,
        normalizer=main["normalizer"],
        hint=hint,
        **extra,
    )
    return conclude(writer, emitter, summary, kept=kept, **extra)


def save_weights(state: dict, path: Path) -> None:
    """model.pt written whole or not at all: a full disk leaves no half-written file behind."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def summary_of_run(
    config: ExperimentConfig,
    writer: RunWriter,
    status: str,
    started: float,
    history: list[dict],
    diagnosis: dict,
    plan: dict,
) -> dict:
    """The part of summary.json every run has: what ran, how it ended, its curves' last point, the diagnosis."""
    return {
        "id": writer.path.name,
        "run_dir": str(writer.path),
        "name": config.name,
        "status": status,
        "task": config.task,
        "dataset": config.data.dataset,
        "architecture": config.model.architecture,
        "started": started,
        "duration_s": time.time() - started,
        "epochs_run": len(history),
        "final": history[-1] if history else None,
        "best_epoch": diagnosis["best_epoch"],
        "best_val_loss": diagnosis["best_val_loss"],
        "verdict": diagnosis["verdict"],
        "diagnosis": diagnosis,
        "plan": {k: v for k, v in plan.items() if k != "model"},
    }


def conclude(writer: RunWriter, emitter: Emitter, summary: dict, **extra) -> dict:
    """Record the summary and final status, then send `done` (so its reader finds them), then close."""
    writer.record(summary["status"], summary)
    emitter.emit(
        "done",
        status=summary["status"],
        run_dir=summary["run_dir"],
        final=summary["final"],
        test=summary["test"],
        best_epoch=summary["best_epoch"],
        weights_epoch=summary["weights_epoch"],
        verdict=summary["verdict"],
        hint=summary["hint"],
        **extra,
    )
    emitter.detach(writer.events)
    writer.close()
    return summary


def mean_std(metrics: list[dict]) -> dict | None:
    """Per-metric mean and standard deviation across folds (or members); the spread of one is unknown, not 0."""
    if not metrics:
        return None
    out = {}
    for key in metrics[0]:
        values = [m[key] for m in metrics if m.get(key) is not None]
        out[key] = statistics.fmean(values) if values else None
        out[f"{key}_std"] = statistics.pstdev(values) if len(values) > 1 else None
    return out
