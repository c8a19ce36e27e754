"""Many runs of one experiment: several seeds, or several values of one regularization strength.

The copies ("members") train either as one batched model (torch.func.vmap over stacked
weights: one kernel launch serves every member, which keeps a GPU busy) or as separate
engine processes (on the CPU, where each process uses one core). Either way the sweep's
epoch events carry the members' mean, with `<metric>_min` / `<metric>_max` for the band,
and a `member` event carries each member's own epoch.
"""

from __future__ import annotations

import copy
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
from collections import defaultdict

from nnplay.engine.core.config import ConfigError, ExperimentConfig, validate
from nnplay.engine.core.control import Control
from nnplay.engine.core.events import Emitter
from nnplay.engine.core.i18n import _, current_language

# Numbers averaged across members; the band is their min and max.
BAND_KEYS = (
    "train_loss",
    "val_loss",
    "train_loss_running",
    "gap",
    "train_accuracy",
    "val_accuracy",
    "train_mae",
    "val_mae",
    "train_r2",
    "val_r2",
    "train_recon_error",
    "val_recon_error",
    "lr",
    "grad_norm",
    "weight_norm",
    "penalty",
)
SUMMED_KEYS = ("samples_per_s",)  # members train side by side: their throughputs add up
LONGEST_KEYS = ("time_s", "elapsed_s", "eta_s")


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
    sweep's epoch event with the mean and the min–max band."""

    def __init__(self, n_members: int, emitter: Emitter, epochs: int) -> None:
        self.n = n_members
        self.emitter = emitter
        self.epochs = epochs
        self.rows: dict[int, dict[int, dict]] = defaultdict(dict)
        self.last_epoch: dict[int, int] = {}  # members that finished: their last epoch
        self.next_epoch = 1
        self.history: list[dict] = []

    def add(self, member: int, record: dict) -> None:
        """Add member's epoch record to the band of its epoch."""
        self.rows[record["epoch"]][member] = record
        self._flush()

    def finish(self, member: int, last_epoch: int) -> None:
        """The member ended after `last_epoch`: later bands no longer wait for it."""
        self.last_epoch[member] = last_epoch
        self._flush()

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
        for key in BAND_KEYS:
            values = [r[key] for r in records if isinstance(r.get(key), int | float)]
            if values:
                event[key] = statistics.fmean(values)
                event[f"{key}_min"], event[f"{key}_max"] = min(values), max(values)
        for key in SUMMED_KEYS:
            event[key] = sum(r.get(key) or 0.0 for r in records)
        for key in LONGEST_KEYS:
            event[key] = max((r.get(key) or 0.0 for r in records), default=None)
        self.history.append(event)
        self.emitter.emit("epoch", **event)


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
            emitter.emit("member", member=k, label=members[k][0], **fields)
            bands.add(k, fields)
        elif kind == "snapshot" and k == 0:
            emitter.emit("snapshot", **fields)
        elif kind == "warning" and k == 0:
            emitter.emit("warning", **fields)
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
    """All members as one vmapped model; returns per-member results and the stacked weights."""
    import torch

    from nnplay.engine.experiment import prepare_fold, train_settings
    from nnplay.engine.models import build_model
    from nnplay.engine.planning import fold_indices, n_outputs
    from nnplay.engine.training.batched import BatchedTrainer
    from nnplay.engine.training.loop import as_numbers
    from nnplay.engine.training.losses import Criterion
    from nnplay.engine.training.optim import make_optimizer, make_scheduler
    from nnplay.engine.training.snapshots import views_for

    data = prepare_fold(config, dataset, fold_indices(config, dataset.x.shape[0])[0], device)
    models = []
    for _label, member in members:
        torch.manual_seed(member.training.seed)  # each member starts from its own initial weights
        models.append(build_model(member, dataset.input_shape, n_outputs(config)).to(device))

    def strength(name: str) -> list[float]:
        return [getattr(member.regularization, name) for _label, member in members]

    settings = train_settings(config, len(data.train), data.scaler.std if data.scaler else 1.0, config.training.seed)
    trainer = BatchedTrainer(
        models,
        Criterion(config),
        lambda params, wd: make_optimizer(params, config, device, weight_decay=wd),
        data.train,
        data.val if len(data.val) else None,
        settings,
        device,
        control,
        strength("l1"),
        strength("l2"),
        strength("weight_decay"),
    )
    scheduler = make_scheduler(trainer.optimizer, config)
    take_views = views_for(data.context)
    every = config.training.snapshot_every
    status = ["running"] * len(members)
    alive = set(range(len(members)))
    last = 0
    for epoch in range(1, config.training.epochs + 1):
        sums = trainer.train_epoch()
        if sums is None:
            break
        records = trainer.sync(sums)
        last = epoch
        if scheduler is not None:
            scheduler.step()
        for k, record in enumerate(records):
            if k not in alive:
                continue
            emitter.emit("member", member=k, label=members[k][0], epochs=config.training.epochs, **record)
            loss = record.get("train_loss_running")
            if loss is None or loss != loss or abs(loss) == float("inf"):
                status[k] = "diverged"
                alive.discard(k)
                bands.finish(k, epoch - 1)
            else:
                bands.add(k, record)
        if 0 in alive and (epoch % every == 0 or epoch == config.training.epochs):
            for view in take_views(trainer.as_trainer(0)):
                emitter.emit("snapshot", epoch=epoch, fold=None, member=0, **view)
        if not alive:
            break
    final = "stopped" if control.stop_requested else "completed"
    for k in alive:
        status[k] = final
        bands.finish(k, last)
    tests = trainer.evaluate(data.test) if len(data.test) else [None] * len(members)
    results = []
    for k, metrics in enumerate(tests):
        test = None
        if metrics is not None and status[k] != "diverged":
            test = as_numbers(metrics)
        results.append({"status": status[k], "test": test, "label": members[k][0]})
    weights = {name: p.detach().cpu() for name, p in trainer.params.items()}
    return results, weights


def run_sweep(
    config: ExperimentConfig, dataset, device, plan: dict, writer, emitter: Emitter, control: Control, started
) -> dict:
    """Train every member, stream the band, record the sweep like a run; returns its summary."""

    from nnplay.engine.core.diagnosis import diagnose
    from nnplay.engine.experiment import DIVERGED_HINT, conclude, mean_std, save_weights, summary_of_run

    members = member_configs(config)
    bands = Bands(len(members), emitter, config.training.epochs)
    weights = None
    if plan["sweep"]["mode"] == "batched":
        results, weights = run_batched(config, members, dataset, device, emitter, control, bands)
    else:
        results = run_processes(members, emitter, control, str(writer.path / "members"), bands)
    statuses = [r.get("status") for r in results]
    status = "stopped" if control.stop_requested else "completed" if "completed" in statuses else str(statuses[0])
    r = config.regularization
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
        test=test,
        members=member_rows,
        hint=_(DIVERGED_HINT) if "diverged" in statuses else None,
    )
    return conclude(writer, emitter, summary, members=member_rows)
