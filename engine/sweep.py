"""Many runs of one experiment: several seeds, or several values of one regularization strength.

The copies ("members") train either as one batched model (torch.func.vmap over stacked
weights: one kernel launch serves every member, which keeps a GPU busy) or as separate
engine processes (on the CPU, where each process uses one core). Either way each member is
a run of the training loop with a single run's hooks, its own events pass through
`MemberEvents` (its epochs as `member` events), and the sweep's epoch events carry the
members' mean, with `<metric>_min` / `<metric>_max` for the band.
"""

from __future__ import annotations

import copy
import json
import math
import os
import queue
import statistics
import subprocess
import sys
import threading
from collections import defaultdict
from typing import Any

from nnplay.engine.core.config import ConfigError, ExperimentConfig, validate
from nnplay.engine.core.control import Control
from nnplay.engine.core.diagnosis import BestTracker
from nnplay.engine.core.events import Emitter
from nnplay.engine.core.i18n import _, current_language
from nnplay.engine.core.protocol import BAND_METRICS
from nnplay.engine.training.hooks import LiveDiagnosis
from nnplay.engine.training.loop import Hook, Run

SUMMED_KEYS = ("samples_per_s",)  # members train side by side: their throughputs add up
LONGEST_KEYS = ("time_s", "elapsed_s", "eta_s")  # the sweep lasts as long as its slowest member
MOST_KEYS = ("iterations", "gpu_memory_mb")


def member_configs(config: ExperimentConfig) -> list[tuple[str, ExperimentConfig]]:
    """(label, config) of every member: plain single runs that differ in seed or one strength."""
    s = config.sweep
    base = config.model_dump(exclude_none=True)
    base.pop("sweep")
    members = []
    for k in range(s.members):
        data = copy.deepcopy(base)
        if s.parameter != "none":
            data["regularization"][s.parameter] = s.values[k]
            label = f"{s.parameter}={s.values[k]:g}"
        else:
            data["training"]["seed"] = config.training.seed + k
            label = _("seed {seed}").format(seed=data["training"]["seed"])
        data["name"] = f"{config.name}-{k}"
        members.append((label, validate(data)))
    return members


def batched_obstacle(config: ExperimentConfig) -> str | None:
    """Why this sweep cannot train as one batched model, or None when it can."""
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


def use_batched(config: ExperimentConfig, device_type: str) -> bool:
    """auto: batched whenever the experiment allows it, else processes; an impossible 'batched' is a
    config error.

    Batched is the default on the CPU too: each engine process pays a torch import of a few seconds,
    which for lesson-sized runs costs far more than the training (bench/README.md: 8 seeds of the
    moons MLP took 1.8 s batched and 19 s as processes on 2 cores).
    """
    obstacle = batched_obstacle(config)
    if config.sweep.mode == "batched" and obstacle:
        raise ConfigError(
            _("sweep.mode = 'batched' is not possible here: {obstacle}; allowed: auto, processes").format(
                obstacle=obstacle
            ),
            setting="sweep.mode",
        )
    if config.sweep.mode == "auto":
        return obstacle is None
    return config.sweep.mode == "batched"


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
    """Where a member's own events go, in either mode: its epochs become `member` events and join the
    band; member 0's snapshots (saying `member: 0`) and warnings are the sweep's; the rest are its own."""

    def __init__(self, member: int, label: str, emitter: Emitter, bands: Bands) -> None:
        self.member, self.label, self.emitter, self.bands = member, label, emitter, bands

    def emit(self, type_: str, **fields: Any) -> None:
        """Pass one of the member's events on as the sweep's, or not at all."""
        if type_ == "epoch":
            self.emitter.emit("member", member=self.member, label=self.label, **fields)
            self.bands.add(self.member, fields)
        elif type_ == "snapshot" and self.member == 0:
            self.emitter.emit("snapshot", **{**fields, "member": 0})
        elif type_ == "warning" and self.member == 0:
            self.emitter.emit("warning", **fields)


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
    members: list[tuple[str, ExperimentConfig]], emitter: Emitter, control: Control, root: str, bands: Bands
) -> list[dict]:
    """Each member as its own `python -m nnplay.engine`, as many at once as there are cores."""
    parallel = max(1, min(len(members), os.cpu_count() or 1))
    relays = [MemberEvents(k, label, emitter, bands) for k, (label, _config) in enumerate(members)]
    events: queue.Queue = queue.Queue()
    results: list[dict] = [{"status": "not run"} for _member in members]
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
        proc.stdin.write(json.dumps(members[k][1].model_dump(exclude_none=True)) + "\n")
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
            for k in waiting:
                results[k] = {"status": "stopped", "test": None}
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
            if results[k].get("status") == "not run":
                results[k] = {
                    "status": "failed",
                    "error": _("member {member} ended without finishing (exit code {code})").format(
                        member=k, code=proc.returncode
                    ),
                }
            bands.finish(k, last_epochs[k])
            continue
        kind = event.get("type")
        fields = {key: v for key, v in event.items() if key not in ("type", "time")}
        if kind == "epoch":
            last_epochs[k] = fields["epoch"]
        if kind in ("epoch", "snapshot", "warning"):
            relays[k].emit(kind, **fields)
        elif kind == "done":
            results[k] = fields
        elif kind == "error":
            results[k] = {"status": "failed", "error": fields.get("message")}
            emitter.emit(
                "warning",
                message=_("member {member} ({label}) failed: {reason}").format(
                    member=k, label=members[k][0], reason=fields.get("message")
                ),
            )
    return results


def run_batched(
    config: ExperimentConfig,
    members: list[tuple[str, ExperimentConfig]],
    dataset,
    device,
    emitter: Emitter,
    control: Control,
    bands: Bands,
) -> tuple[list[dict], dict]:
    """All members as one vmapped model, each a run of the training loop with a single run's hooks; returns
    per-member results and the stacked weights."""
    import torch

    from nnplay.engine.experiment import keep_weights, prepare_fold, train_settings
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
    models, hooks, kept = [], [], []
    for k, (label, member) in enumerate(members):
        torch.manual_seed(member.training.seed)  # each member starts from its own initial weights
        models.append(build_model(member, dataset.input_shape, n_outputs(config)).to(device))
        best, last_good = BestWeights(r.patience, r.min_delta, r.early_stopping), LastGoodWeights()
        relay = MemberEvents(k, label, emitter, bands)
        member_hooks: list[Hook] = [best, last_good, EventStream(relay, best)]
        if k == 0:  # the sweep's snapshots are member 0's
            member_hooks.append(Snapshots(config.training.snapshot_every, views_for(data.context), relay))
        hooks.append([*member_hooks, InBand(bands, k)])
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
        {name: [getattr(m.regularization, name) for _label, m in members] for name in ("l1", "l2", "weight_decay")},
        hooks,
    )
    statuses = trainer.fit()
    for run, (best, last_good), status in zip(trainer.members, kept, statuses, strict=True):
        keep_weights(run, best, last_good, status, r.early_stopping and r.restore_best)  # as a single run's
    tests = trainer.evaluate(data.test) if len(data.test) else [None] * len(members)
    results = []
    for k, metrics in enumerate(tests):
        test = None
        if metrics is not None and statuses[k] != "diverged":
            test = as_numbers(metrics)
        results.append({"status": statuses[k], "test": test, "label": members[k][0]})
    weights = {name: p.detach().cpu() for name, p in trainer.params.items()}
    return results, weights


def run_sweep(
    config: ExperimentConfig, dataset, device, plan: dict, writer, emitter: Emitter, control: Control, started
) -> dict:
    """Train every member, stream the band, record the sweep like a run; returns its summary."""

    from nnplay.engine.core.diagnosis import diagnose
    from nnplay.engine.experiment import DIVERGED_HINT, conclude, mean_std, save_weights, summary_of_run

    members = member_configs(config)
    r = config.regularization
    live = LiveDiagnosis(config.training.snapshot_every, emitter, r.patience, r.min_delta, plan.get("baseline_loss"))
    bands = Bands(len(members), emitter, config.training.epochs, r.min_delta, live)
    weights = None
    if plan["sweep"]["mode"] == "batched":
        results, weights = run_batched(config, members, dataset, device, emitter, control, bands)
    else:
        results = run_processes(members, emitter, control, str(writer.path / "members"), bands)
    statuses = [res.get("status") for res in results]
    status = "stopped" if control.stop_requested else "completed" if "completed" in statuses else str(statuses[0])
    diagnosis = diagnose(bands.history, r.patience, r.min_delta, plan.get("baseline_loss"))
    emitter.emit("diagnosis", final=True, **diagnosis)
    if weights is not None:
        save_weights(weights, writer.path / "model.pt")
    test = mean_std([res["test"] for res in results if res.get("test")])
    member_rows = [
        {
            "member": k,
            "label": label,
            "status": res.get("status"),
            "test": res.get("test"),
            "run_dir": res.get("run_dir"),
        }
        for k, ((label, _config), res) in enumerate(zip(members, results, strict=True))
    ]
    summary = summary_of_run(config, writer, status, started, bands.history, diagnosis, plan)
    summary.update(
        weights_epoch=bands.history[-1]["epoch"] if bands.history else None,
        kept=None,  # each member keeps its own weights: no one set of them describes the sweep
        test=test,
        members=member_rows,
        hint=_(DIVERGED_HINT) if "diverged" in statuses else None,
    )
    return conclude(writer, emitter, summary, kept=None, members=member_rows)
