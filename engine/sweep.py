"""Many runs of one experiment: several seeds, values of one regularization strength, a grid over
any settings or a random search (engine/core/sweep_members.py makes the members).

The copies ("members") train as one batched model (torch.func.vmap over stacked weights: one
kernel launch serves every member, which keeps a GPU busy) when they differ only in seed or
L1/L2/weight decay, or as separate engine processes (one a core), or as Ray tasks
(engine/sweep_ray.py). Whichever way, each member is a run of the training loop with a single
run's hooks and a run directory of its own under the sweep's `members/`; its events pass through
`MemberEvents` (its epochs as `member` events), the sweep's epoch events carry the members' mean,
with `<metric>_min` / `<metric>_max` for the band, and each member's row of the results
(engine/core/sweep_results.py) goes out as a `member_done` event when it ends.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from nnplay.engine.core.config import ConfigError, ExperimentConfig
from nnplay.engine.core.control import Control
from nnplay.engine.core.diagnosis import BestTracker
from nnplay.engine.core.events import Emitter
from nnplay.engine.core.i18n import _, current_language
from nnplay.engine.core.protocol import BAND_METRICS
from nnplay.engine.core.runs import RunWriter, UnreadableRun, load_run, read_status
from nnplay.engine.core.sweep_members import BATCHABLE, Member, member_configs
from nnplay.engine.core.sweep_results import best_member, member_row
from nnplay.engine.training.hooks import LiveDiagnosis
from nnplay.engine.training.loop import Hook, Run

SUMMED_KEYS = ("samples_per_s",)  # members train side by side: their throughputs add up
LONGEST_KEYS = ("time_s", "elapsed_s", "eta_s")  # the sweep lasts as long as its slowest member
MOST_KEYS = ("iterations", "gpu_memory_mb")


def batched_obstacle(config: ExperimentConfig) -> str | None:
    """Why this sweep cannot train as one batched model, or None when it can."""
    varied = [name for name in config.sweep.searched if name not in BATCHABLE]
    if varied:
        return _("its members differ in {settings}, which one batched model cannot hold").format(
            settings=", ".join(varied)
        )
    if config.task == "generation":
        return _("generation models return several outputs")
    if config.regularization.batch_norm:
        return _("batch norm keeps running statistics per model")
    if config.sweep.parameter == "dropout":
        return _("the dropout probability is fixed inside the model")
    if config.regularization.early_stopping:
        return _("members would stop at different epochs")
    if config.optimizer.schedule == "plateau":
        return _("the plateau schedule follows each member's own validation loss")
    return None


def executor_of(config: ExperimentConfig) -> str:
    """How the members train: "batched", "processes" or "ray". auto is batched whenever the experiment allows
    it, else processes; an impossible choice is a config error.

    Batched is the default on the CPU too: each engine process pays a torch import of a few seconds,
    which for lesson-sized runs costs far more than the training (bench/README.md: 8 seeds of the
    moons MLP took 0.6 s batched and 15 s as processes on 2 cores).
    """
    executor = config.sweep.executor
    obstacle = batched_obstacle(config)
    if executor == "batched" and obstacle:
        raise ConfigError(
            _("sweep.executor = 'batched' is not possible here: {obstacle}; allowed: auto, processes, ray").format(
                obstacle=obstacle
            ),
            setting="sweep.executor",
        )
    if executor == "ray" and importlib.util.find_spec("ray") is None:
        raise ConfigError(
            _(
                "sweep.executor = 'ray' needs Ray, which is not installed here; install it with "
                "pip install 'nnplay[ray]', or choose auto, batched or processes"
            ),
            setting="sweep.executor",
        )
    if executor == "auto":
        return "batched" if obstacle is None else "processes"
    return executor


class Bands:
    """Collects members' epochs; once every member still training has reported an epoch, emits the
    sweep's epoch event with the mean and the min–max band, the band's own best epoch, and (when
    due) the diagnosis of the band so far, as a single run's live diagnosis."""

    def __init__(
        self, n_members: int, emitter: Emitter, epochs: int, min_delta: float = 0.0, live: LiveDiagnosis | None = None
    ) -> None:
        self.n = n_members
        self.emitter = emitter
        self.epochs = epochs
        self.rows: dict[int, dict[int, dict]] = defaultdict(dict)
        self.last_epoch: dict[int, int] = {}  # members that finished: their last epoch
        self.next_epoch = 1
        self.history: list[dict] = []
        self.best = BestTracker(patience=1, min_delta=min_delta)  # the one rule for the best epoch, on the mean
        self.live = live

    def add(self, member: int, record: dict) -> None:
        """Add member's epoch record to the band of its epoch."""
        self.rows[record["epoch"]][member] = record
        self._flush()

    def finish(self, member: int, last_epoch: int) -> None:
        """The member ended after `last_epoch`: later bands no longer wait for it."""
        self.last_epoch[member] = last_epoch
        self._flush()

    def hold(self) -> None:
        """A pause took hold: the diagnosis of the band so far, as a paused single run sends its own."""
        if self.live is not None:
            self.live.on_hold(self.history)

    def _flush(self) -> None:
        while self.next_epoch <= self.epochs:
            e = self.next_epoch
            expected = {m for m in range(self.n) if self.last_epoch.get(m, self.epochs) >= e}
            if not expected or not expected <= set(self.rows[e]):
                return
            row = self.rows.pop(e)
            self._emit(e, [row[m] for m in sorted(expected)])
            self.next_epoch += 1

    def _emit(self, epoch: int, records: list[dict]) -> None:
        event: dict = {"epoch": epoch, "epochs": self.epochs, "members": len(records), "fold": None}
        for key in BAND_METRICS:  # a diverged member's non-finite numbers stay out of the band
            values = [r[key] for r in records if isinstance(r.get(key), int | float) and math.isfinite(r[key])]
            if values:
                event[key] = statistics.fmean(values)
                event[f"{key}_min"], event[f"{key}_max"] = min(values), max(values)
        for key in SUMMED_KEYS:
            event[key] = sum(r.get(key) or 0.0 for r in records)
        for key in LONGEST_KEYS:
            event[key] = max((r.get(key) or 0.0 for r in records), default=None)
        for key in MOST_KEYS:
            event[key] = max((r[key] for r in records if isinstance(r.get(key), int | float)), default=None)
        self.best.update(epoch, event.get("val_loss"))
        event["best_epoch"] = self.best.best_epoch
        event["best_val_loss"] = self.best.best_loss if self.best.best_epoch else None
        self.history.append(event)
        self.emitter.emit("epoch", **event)
        if self.live is not None:
            self.live.after_epoch(self.history)


class MemberEvents:
    """Where a member's own events go, whatever trains it: its epochs become `member` events and join the
    band; member 0's snapshots (saying `member: 0`) and warnings are the sweep's. A batched member's events
    also go to its own run directory (`own`), as a member engine writes its own."""

    def __init__(self, member: int, label: str, emitter: Emitter, bands: Bands, own: Emitter | None = None) -> None:
        self.member, self.label, self.emitter, self.bands, self.own = member, label, emitter, bands, own

    def emit(self, type_: str, **fields: Any) -> None:
        """Pass one of the member's events on as the sweep's, or not at all."""
        if self.own is not None:
            self.own.emit(type_, **fields)
        if type_ == "epoch":
            self.emitter.emit("member", member=self.member, label=self.label, **fields)
            self.bands.add(self.member, fields)
        elif type_ == "snapshot" and self.member == 0:
            self.emitter.emit("snapshot", **{**fields, "member": 0})
        elif type_ == "warning" and self.member == 0:
            self.emitter.emit("warning", **fields)


class Results:
    """Each member's row of the sweep's results, read from its run directory when it ends and sent as a
    `member_done` event; its summary's diagnosis is kept for the sweep's verdict."""

    def __init__(self, members: list[Member], emitter: Emitter) -> None:
        self.members, self.emitter = members, emitter
        self.rows: list[dict | None] = [None] * len(members)
        self.diagnoses: list[dict | None] = [None] * len(members)

    def finished(
        self,
        k: int,
        run_dir: str | Path | None,
        error: str | None = None,
        status: str = "failed",
        recorded: tuple[dict, list[dict]] | None = None,
    ) -> dict:
        """Member k ended; its run directory (None when it never made one: then `status` says how) holds what
        it did. `recorded`: its summary and epochs, when the caller has them (a batched member's), not read back."""
        summary: dict | None = {"status": status}
        epochs: list[dict] = []
        if recorded is not None:
            summary, epochs = recorded
        elif run_dir is not None:
            try:
                record = load_run(Path(run_dir))
                summary, epochs = record.summary, record.epochs
                if summary is None:  # it never finished: its status says how it ended (crashed, stopped)
                    summary = {"status": read_status(Path(run_dir)), "run_dir": str(run_dir)}
            except (OSError, UnreadableRun) as exc:
                error = error or str(exc)
        member = self.members[k]
        row = member_row(k, member.label, member.settings, summary, epochs, error)
        if row["status"] in ("crashed", "running"):
            row["status"] = "failed"
        self.rows[k] = row
        self.diagnoses[k] = (summary or {}).get("diagnosis")
        self.emitter.emit("member_done", **row)
        return row


class InBand(Hook):
    """A batched member's hook: its end closes its part of the band at once (as a member engine's exit does in
    processes mode), and a pause sends the band's diagnosis so far."""

    def __init__(self, bands: Bands, member: int) -> None:
        self.bands, self.member = bands, member

    def on_epoch_end(self, trainer: Run, record: dict) -> None:
        """The member trains no further after this epoch: later bands no longer wait for it."""
        if trainer.status != "running" or trainer.should_stop:
            self.bands.finish(self.member, record["epoch"])

    def on_pause(self, trainer: Run) -> None:
        """The band's diagnosis so far (sent once, whichever member's hook comes first)."""
        self.bands.hold()

    def on_fit_end(self, trainer: Run) -> None:
        """However the member ended, the band ends for it at its last finished epoch."""
        self.bands.finish(self.member, trainer.epoch)


def warn_failed(emitter: Emitter, member: Member, reason: str | None) -> None:
    """The warning a member that failed sends, whichever executor trained it."""
    emitter.emit(
        "warning",
        message=_("member {member} ({label}) failed: {reason}").format(
            member=member.index, label=member.label, reason=reason
        ),
    )


def _reader(k: int, stream, out: queue.Queue) -> None:
    for line in stream:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict):
            out.put((k, event))
    out.put((k, None))


def run_processes(
    members: list[Member], emitter: Emitter, control: Control, root: str, bands: Bands, results: Results
) -> None:
    """Each member as its own `python -m nnplay.engine --runs <sweep>/members`, as many at once as there are
    cores; each member's row goes to `results` as it ends."""
    parallel = max(1, min(len(members), os.cpu_count() or 1))
    relays = [MemberEvents(m.index, m.label, emitter, bands) for m in members]
    events: queue.Queue = queue.Queue()
    ended: list[dict] = [{"status": "not run"} for _member in members]
    run_dirs: list[str | None] = [None] * len(members)
    waiting = list(range(len(members)))
    running: dict[int, subprocess.Popen] = {}
    paused = stop_sent = False

    def start(k: int) -> None:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nnplay.engine", "--runs", root],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            # The members speak the language this engine speaks now (serve mode may have switched it).
            env={**os.environ, "PYTHONUNBUFFERED": "1", "NNPLAY_LANG": current_language()},
        )
        assert proc.stdin is not None and proc.stdout is not None  # both are pipes
        proc.stdin.write(json.dumps(members[k].config.model_dump(exclude_none=True)) + "\n")
        proc.stdin.flush()
        running[k] = proc
        threading.Thread(target=_reader, args=(k, proc.stdout, events), daemon=True).start()

    def tell_all(command: str) -> None:
        for proc in running.values():
            try:
                assert proc.stdin is not None
                proc.stdin.write(command + "\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass

    last_epochs: dict[int, int] = defaultdict(int)
    while waiting or running:
        while waiting and len(running) < parallel and not control.stop_requested:
            start(waiting.pop(0))
        if control.stop_requested and waiting:
            for k in waiting:  # never started: no run directory, nothing to compare
                results.finished(k, None, _("stopped before it started"), status="stopped")
                bands.finish(k, 0)
            waiting.clear()
        if control.stop_requested and not stop_sent:
            tell_all("stop")
            stop_sent = True
        elif control.paused != paused:
            paused = control.paused
            tell_all("pause" if paused else "resume")
            if paused:
                bands.hold()
        try:
            k, event = events.get(timeout=0.1)
        except queue.Empty:
            continue
        if event is None:  # the member's output ended
            proc = running.pop(k)
            proc.wait()
            error = ended[k].get("error")
            if ended[k].get("status") == "not run":
                error = _("member {member} ended without finishing (exit code {code})").format(
                    member=k, code=proc.returncode
                )
            bands.finish(k, last_epochs[k])
            results.finished(k, run_dirs[k], error)
            continue
        kind = event.get("type")
        fields = {key: v for key, v in event.items() if key not in ("type", "time")}
        if kind == "epoch":
            last_epochs[k] = fields["epoch"]
        if kind == "plan":
            run_dirs[k] = fields.get("run_dir")
        elif kind in ("epoch", "snapshot", "warning"):
            relays[k].emit(kind, **fields)
        elif kind == "done":
            ended[k] = fields
        elif kind == "error":
            ended[k] = {"status": "failed", "error": fields.get("message")}
            run_dirs[k] = fields.get("run_dir", run_dirs[k])
            warn_failed(emitter, members[k], fields.get("message"))


class MemberRecord:
    """A batched member's own run directory under the sweep's `members/`, written as a member engine writes its
    own: its config, plan, events and, at the end, its summary and weights."""

    def __init__(self, root: Path, member: Member, plan: dict) -> None:
        # Not fsynced: the sweep's own summary holds every member's row, durably.
        self.writer = RunWriter.create(root, member.config.name, member.config.to_toml(), durable=False)
        self.emitter = Emitter()
        self.emitter.attach(self.writer.events)
        self.plan = {**plan, "name": member.config.name, "sweep": None}
        self.started = time.time()
        self.emitter.emit("plan", run_dir=str(self.writer.path), **self.plan)

    def close(self, status: str) -> None:
        """The member ended without its summary (a second interrupt): its status says so."""
        from nnplay.engine.experiment import _close_quietly

        _close_quietly(self.writer, status)


def member_plan(plan: dict, members: int) -> dict:
    """A batched member's plan: the sweep's, with its share of the memory."""
    return {**plan, "memory_bytes": plan["memory_bytes"] // members}


def run_batched(
    config: ExperimentConfig,
    members: list[Member],
    dataset,
    device,
    emitter: Emitter,
    control: Control,
    bands: Bands,
    root: Path,
    plan: dict,
    results: Results,
) -> dict:
    """All members as one vmapped model, each a run of the training loop with a single run's hooks and a run
    directory of its own; returns the stacked weights."""
    import torch

    from nnplay.engine.core.diagnosis import diagnose
    from nnplay.engine.experiment import (
        conclude,
        keep_weights,
        prepare_fold,
        save_weights,
        summary_of_run,
        train_settings,
    )
    from nnplay.engine.models import build_model
    from nnplay.engine.planning import fold_indices, n_outputs
    from nnplay.engine.training.batched import BatchedTrainer
    from nnplay.engine.training.hooks import BestWeights, EventStream, LastGoodWeights, Snapshots
    from nnplay.engine.training.loop import as_numbers
    from nnplay.engine.training.losses import Criterion
    from nnplay.engine.training.optim import make_optimizer, make_scheduler
    from nnplay.engine.training.snapshots import views_for

    data = prepare_fold(config, dataset, fold_indices(config, dataset.x.shape[0])[0], device)
    r = config.regularization
    records = [MemberRecord(root, m, member_plan(plan, len(members))) for m in members]
    models, hooks, kept = [], [], []
    for m, record in zip(members, records, strict=True):
        torch.manual_seed(m.config.training.seed)  # each member starts from its own initial weights
        models.append(build_model(m.config, dataset.input_shape, n_outputs(config)).to(device))
        best, last_good = BestWeights(r.patience, r.min_delta, r.early_stopping), LastGoodWeights()
        relay = MemberEvents(m.index, m.label, emitter, bands, record.emitter)
        member_hooks: list[Hook] = [best, last_good, EventStream(relay, best)]
        if m.index == 0:  # the sweep's snapshots are member 0's
            member_hooks.append(Snapshots(config.training.snapshot_every, views_for(data.context), relay))
        hooks.append([*member_hooks, InBand(bands, m.index)])
        kept.append((best, last_good))
    settings = train_settings(config, len(data.train), data.scaler.std if data.scaler else 1.0, config.training.seed)
    trainer = BatchedTrainer(
        models,
        Criterion(config),
        lambda params, wd: make_optimizer(params, config, device, weight_decay=wd),
        lambda optimizer: make_scheduler(optimizer, config),
        data.train,
        data.val if len(data.val) else None,
        settings,
        device,
        control,
        {name: [getattr(m.config.regularization, name) for m in members] for name in ("l1", "l2", "weight_decay")},
        hooks,
    )
    try:
        statuses = trainer.fit()
    except KeyboardInterrupt:  # a second Ctrl+C: every member's finished epochs stay, marked stopped
        for record in records:
            record.close("stopped")
        raise
    kept_epochs = [
        keep_weights(run, best, last_good, status, r.early_stopping and r.restore_best)  # as a single run's
        for run, (best, last_good), status in zip(trainer.members, kept, statuses, strict=True)
    ]
    measured = {
        name: trainer.evaluate(split) if len(split) else [None] * len(members)
        for name, split in (("train", data.train), ("val", data.val), ("test", data.test))
    }
    normalizer = data.normalizer.state_dict()
    for k, (m, record, run) in enumerate(zip(members, records, trainer.members, strict=True)):
        epoch, weights = kept_epochs[k]
        own: dict[str, Any] = {"epoch": epoch, "weights": weights, "n_train": len(data.train)}
        for name in ("train", "val", "test"):  # the kept weights' metrics, as a single run measures them
            metrics = measured[name][k]
            own[name] = as_numbers(metrics) if epoch is not None and metrics else None
        diagnosis = diagnose(
            run.history,
            r.patience,
            r.min_delta,
            plan.get("baseline_loss"),
            status=statuses[k],
            kept_epoch=epoch,
            epochs=config.training.epochs,
        )
        record.emitter.emit("diagnosis", final=True, **diagnosis)
        if epoch is not None:
            save_weights(
                {name: t.detach().clone().cpu() for name, t in run.model.state_dict().items()},
                record.writer.path / "model.pt",
            )
        summary = summary_of_run(
            m.config, record.writer, statuses[k], record.started, run.history, diagnosis, record.plan
        )
        summary.update(
            weights_epoch=epoch,
            kept=own,
            test=own["test"],
            normalizer=normalizer,
            hint=diagnosis["advice"] if statuses[k] == "diverged" else None,
        )
        conclude(record.writer, record.emitter, summary, kept=own)
        results.finished(k, record.writer.path, recorded=(summary, run.history))
    return {name: p.detach().cpu() for name, p in trainer.params.items()}


def run_sweep(
    config: ExperimentConfig, dataset, device, plan: dict, writer, emitter: Emitter, control: Control, started
) -> dict:
    """Train every member, stream the band and each member's results, record the sweep like a run; returns
    its summary. A grid or random search is judged by its best member (chosen on validation); seeds and
    strengths by the members' mean."""

    from nnplay.engine.core.diagnosis import diagnose
    from nnplay.engine.experiment import DIVERGED_HINT, conclude, mean_std, save_weights, summary_of_run

    members = member_configs(config)
    search = bool(config.sweep.searched)
    r = config.regularization
    live = None
    if not search:  # the mean of members that differ in their settings is no one run's curve to judge
        live = LiveDiagnosis(
            config.training.snapshot_every, emitter, r.patience, r.min_delta, plan.get("baseline_loss")
        )
    bands = Bands(len(members), emitter, config.training.epochs, r.min_delta, live)
    results = Results(members, emitter)
    root = writer.path / "members"
    weights = None
    executor = plan["sweep"]["executor"]
    if executor == "batched":
        weights = run_batched(config, members, dataset, device, emitter, control, bands, root, plan, results)
    elif executor == "ray":
        from nnplay.engine.sweep_ray import run_ray

        run_ray(members, emitter, control, root, bands, results, config.sweep.ray_address)
    else:
        run_processes(members, emitter, control, str(root), bands, results)
    rows = [row or {"member": k, "status": "failed"} for k, row in enumerate(results.rows)]
    statuses = [row["status"] for row in rows]
    status = "stopped" if control.stop_requested else "completed" if "completed" in statuses else str(statuses[0])
    best = best_member(rows) if search else None
    best_diagnosis = results.diagnoses[best] if best is not None else None
    if best is not None and best_diagnosis:
        diagnosis = {**best_diagnosis, "member": best, "label": members[best].label}
        test = rows[best].get("test")
    else:
        diagnosis = diagnose(bands.history, r.patience, r.min_delta, plan.get("baseline_loss"))
        test = mean_std([row["test"] for row in rows if row.get("test") and row["status"] != "diverged"])
    emitter.emit("diagnosis", final=True, **diagnosis)
    if weights is not None:
        save_weights(weights, writer.path / "model.pt")
    summary = summary_of_run(config, writer, status, started, bands.history, diagnosis, plan)
    summary.update(
        weights_epoch=bands.history[-1]["epoch"] if bands.history else None,
        kept=None,  # each member keeps its own weights: no one set of them describes the sweep
        test=test,
        members=rows,
        best_member=best,
        hint=_(DIVERGED_HINT) if "diverged" in statuses else None,
    )
    return conclude(writer, emitter, summary, kept=None, members=rows, best_member=best)
