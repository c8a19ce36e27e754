"""What the app knows about one run, built from the engine's events alone.

Everything is bounded: curves are downsampled series with a fixed capacity, the log is a
ring buffer, snapshots keep only the latest of each view. A 5,000-epoch run or a flood of
step events therefore costs the same memory as a short one. Non-finite values never enter a
series (plotext cannot draw them).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from nnplay.engine.core.batches import batch_arithmetic, counted, varied_batches
from nnplay.engine.core.events import is_number
from nnplay.engine.core.i18n import N_, _
from nnplay.tui import report
from nnplay.tui.report import fold_line

SERIES_CAPACITY = 1000
LOG_LINES = 300

# The metric charted beside the loss, by task.
TASK_METRIC = {"classification": "accuracy", "regression": "r2", "forecasting": "r2", "generation": "recon_error"}
# Marked here, translated where shown: metric_label().
METRIC_LABELS = {
    "loss": N_("loss"),
    "accuracy": N_("accuracy"),
    "r2": "R²",
    "mae": "MAE",
    "recon_error": N_("reconstruction error"),
    "kl": "KL",
}
FINISHED = ("completed", "early_stopped", "stopped", "diverged", "failed", "crashed")
# A run's status as the learner reads it; the status itself stays English (a value in status.json). The run
# store's statuses (tui.report.STATUS_NAMES) and the states only a live run passes through; the app writes
# "early stopped" where the CLI's tables keep the status's own word.
STATUS_NAMES = {
    **report.STATUS_NAMES,
    "idle": N_("idle"),
    "starting": N_("starting"),
    "paused": N_("paused"),
    "early_stopped": N_("early stopped"),
}
SERIES_KEYS = (
    "train_loss",
    "val_loss",
    "train_loss_running",
    "gap",
    "lr",
    "grad_norm",
    "train_accuracy",
    "val_accuracy",
    "train_r2",
    "val_r2",
    "train_mae",
    "val_mae",
    "train_recon_error",
    "val_recon_error",
    # A sweep's epochs carry the members' mean and these bounds of the min–max band.
    "train_loss_min",
    "train_loss_max",
    "val_loss_min",
    "val_loss_max",
)


def metric_label(metric: str) -> str:
    """A metric's display name in the current language ("accuracy", "R²", "reconstruction error")."""
    return _(METRIC_LABELS[metric]) if metric in METRIC_LABELS else metric


def status_name(status: str) -> str:
    """A run's status in the current language ("early_stopped" -> "early stopped")."""
    return report.status_name(status, STATUS_NAMES)


class LogLine(str):
    """A line of the run's log, with its kind ("error", "warning" or ""), which styles it whatever the
    language of its words."""

    kind = ""

    def __new__(cls, text: str, kind: str = "") -> LogLine:
        """The line `text`, of `kind`."""
        line = super().__new__(cls, text)
        line.kind = kind
        return line


class Series:
    """An (x, y) series of bounded length: past capacity it keeps every other point and from then
    on records only every stride-th point, so it always spans the whole run."""

    def __init__(self, capacity: int = SERIES_CAPACITY) -> None:
        self.capacity = capacity
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.stride = 1
        self._offered = 0
        self.last: tuple[float, float] | None = None  # the newest point, even when the stride skips it

    def append(self, x: float, y) -> None:
        """Add a point; a missing or non-finite value is skipped."""
        if not is_number(y) or not is_number(x):
            return
        self.last = (x, y)
        self._offered += 1
        if (self._offered - 1) % self.stride:
            return
        self.xs.append(x)
        self.ys.append(y)
        if len(self.xs) > self.capacity:
            self.xs, self.ys = self.xs[::2], self.ys[::2]
            self.stride *= 2

    def points(self) -> tuple[list[float], list[float]]:
        """The kept points plus the newest one, so a live chart always reaches the current epoch."""
        if self.last and (not self.xs or self.xs[-1] != self.last[0]):
            return self.xs + [self.last[0]], self.ys + [self.last[1]]
        return self.xs, self.ys

    def __len__(self) -> int:
        return len(self.xs)


@dataclass
class RunState:
    """One run as the app sees it; `version` changes whenever something visible changed."""

    name: str = ""
    status: str = "idle"
    hello: dict | None = None
    plan: dict | None = None
    last_epoch: dict | None = None
    diagnosis: dict | None = None
    done: dict | None = None
    error: str | None = None
    run_dir: str | None = None
    series: dict[str, Series] = field(default_factory=lambda: {k: Series() for k in SERIES_KEYS})
    steps: Series = field(default_factory=Series)
    snapshots: dict[str, dict] = field(default_factory=dict)
    log: deque = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    folds: list[dict] = field(default_factory=list)
    members_seen: int = 0
    members: dict[int, dict] = field(default_factory=dict)  # a sweep's rows of results, by member, as they end
    best_member: int | None = None  # a grid's or random search's, chosen on validation (done's best_member)
    change: str = ""  # shown as a ghost: what the next run changed ("dropout 0 → 0.5")
    version: int = 0

    @property
    def task(self) -> str | None:
        """The run's task, from its plan."""
        return (self.plan or {}).get("task")

    @property
    def metric(self) -> str:
        """The metric charted beside the loss for the run's task (accuracy until the plan says)."""
        return TASK_METRIC.get(self.task or "", "accuracy")

    @property
    def epochs_total(self) -> int:
        """Epochs in the whole run, over every fold."""
        return int((self.plan or {}).get("epochs") or 0) * int((self.plan or {}).get("k_folds") or 1)

    @property
    def epochs_done(self) -> int:
        """Epochs finished so far, over every fold."""
        return int((self.last_epoch or {}).get("epoch") or 0) + len(self.folds) * int(
            (self.plan or {}).get("epochs") or 0
        )

    @property
    def best(self) -> tuple[int | None, float | None]:
        """(best epoch, best validation loss) as the engine last said: its latest epoch event while it
        trains, its final diagnosis once done. Every panel shows these, never its own count."""
        final = (self.diagnosis or {}).get("final")
        for source in (self.diagnosis,) if final else (self.last_epoch, self.diagnosis):
            record = source or {}
            if is_number(record.get("best_epoch")):
                loss = record.get("best_val_loss")
                return int(record["best_epoch"]), (loss if is_number(loss) else None)
        return None, None

    @property
    def members_total(self) -> int:
        """How many members the sweep trains (0 for a single run)."""
        sweep = (self.plan or {}).get("sweep")
        return int(sweep.get("members") or 0) if isinstance(sweep, dict) else 0

    @property
    def member_rows(self) -> list[dict]:
        """The sweep's rows of results so far, in member order."""
        return [self.members[k] for k in sorted(self.members)]

    @property
    def finished(self) -> bool:
        """True once the run ended, however it ended."""
        return self.status in FINISHED

    def rediagnose(self) -> bool:
        """Judge the run again from its recorded epochs, in the language spoken now (after a language
        switch): the engine's own function on the same numbers, so only the words change; a diagnosis
        made during the run, of the epochs up to it. False, the diagnosis kept as it was, for a run
        without one or without a readable record, and for a cross-validation (judged fold by fold, then
        over the folds). A grid's or random search's final verdict is its best member's: judged again from
        that member's own run, as a single run's."""
        from nnplay.engine.core.diagnosis import diagnose
        from nnplay.engine.core.runs import load_run

        old = self.diagnosis or {}
        if not old or not self.run_dir or self.folds or int((self.plan or {}).get("k_folds") or 1) > 1:
            return False
        run_dir, plan, done = self.run_dir, self.plan or {}, self.done or {}
        member = old.get("member")
        if old.get("final") and isinstance(member, int):  # a search's verdict is its best member's, a run of its own
            member_dir = (self.members.get(member) or {}).get("run_dir")
            if not isinstance(member_dir, str) or not member_dir:
                return False
            run_dir = member_dir
        try:
            record = load_run(Path(run_dir))
            epochs, config = record.epochs, record.config
        except (OSError, ValueError):
            return False
        if run_dir != self.run_dir:
            plan, done = record.last("plan") or {}, record.last("done") or {}
        if not old.get("final") and is_number(old.get("epoch")):
            epochs = [e for e in epochs if is_number(e.get("epoch")) and e["epoch"] <= old["epoch"]]
        if not epochs:
            return False
        regularization = config.get("regularization") or {}
        patience = old.get("patience", regularization.get("patience", 10))
        judged = (patience, regularization.get("min_delta", 0.0), plan.get("baseline_loss"))
        if plan.get("sweep") or not old.get("final"):  # as the engine judges a sweep, and a run so far
            new = diagnose(epochs, *judged)
        else:
            new = diagnose(
                epochs,
                *judged,
                status=done.get("status"),
                kept_epoch=done.get("weights_epoch"),
                epochs=plan.get("epochs"),
            )
        self.diagnosis = {**old, **new}
        self.version += 1
        return True

    def note(self, line: str, kind: str = "") -> None:
        """Add a line to the log; `kind` "error" or "warning" colours it."""
        self.log.append(LogLine(line, kind) if kind else line)
        self.version += 1

    def ingest(self, event: dict) -> None:
        """Fold one engine event into the state."""
        handler = getattr(self, f"_on_{event.get('type')}", None)
        if handler is not None:
            handler(event)
            self.version += 1

    def _on_hello(self, e: dict) -> None:
        self.hello = e

    def _on_plan(self, e: dict) -> None:
        self.plan = e
        self.name = e.get("name", self.name)
        self.run_dir = e.get("run_dir")
        self.status = "running"
        if varied_batches(e):  # a grid over batch sizes or epochs: the experiment's own arithmetic is no member's
            self.log.append(
                _("plan: {train} train / {val} val / {test} test · {batches}").format(
                    train=e.get("n_train"), val=e.get("n_val"), test=e.get("n_test"), batches=batch_arithmetic(e)
                )
            )
            return
        self.log.append(
            _(
                "plan: {train} train / {val} val / {test} test · {iterations} per epoch · {updates} · "
                "{parameters} on {device}"
            ).format(
                train=e.get("n_train"),
                val=e.get("n_val"),
                test=e.get("n_test"),
                iterations=counted(e.get("iterations_per_epoch"), "iteration"),
                updates=counted(e.get("total_updates"), "update"),
                parameters=counted(e.get("params"), "parameter"),
                device=e.get("device"),
            )
        )

    def _on_epoch(self, e: dict) -> None:
        self.last_epoch = e
        fold_offset = len(self.folds) * int((self.plan or {}).get("epochs") or 0)
        x = e.get("epoch", 0) + fold_offset
        for key, series in self.series.items():
            if key in e:
                series.append(x, e[key])

    def _on_member(self, e: dict) -> None:
        """A sweep member's own epoch: the charts show the band; progress counts the members' epochs."""
        self.members_seen = max(self.members_seen, int(e.get("member", 0)) + 1)

    def _on_member_done(self, e: dict) -> None:
        """A sweep member ended: its row of the results."""
        if isinstance(e.get("member"), int):
            self.members[e["member"]] = {k: v for k, v in e.items() if k not in ("type", "time")}

    def _on_step(self, e: dict) -> None:
        for _epoch, iteration, loss in e.get("steps", []):
            self.steps.append(iteration, loss)

    def _on_snapshot(self, e: dict) -> None:
        self.snapshots[e.get("view", "?")] = e

    def _on_fold(self, e: dict) -> None:
        self.folds.append(e)
        self.log.append(fold_line(e))

    def _on_warning(self, e: dict) -> None:
        self.log.append(LogLine(_("warning: {message}").format(message=e.get("message")), "warning"))

    def _on_diagnosis(self, e: dict) -> None:
        self.diagnosis = e

    def _on_done(self, e: dict) -> None:
        self.done = e
        self.status = e.get("status", "completed")
        for row in e.get("members") or []:  # the whole results, also of members whose member_done never came
            if isinstance(row, dict) and isinstance(row.get("member"), int):
                self.members[row["member"]] = row
        if isinstance(e.get("best_member"), int):
            self.best_member = e["best_member"]
        test = e.get("test") or {}
        shown = ", ".join(
            f"{metric_label(k)} {v:.1%}" if k == "accuracy" else f"{metric_label(k)} {v:.4g}"
            for k, v in test.items()
            if is_number(v) and not k.endswith("_std")
        )
        weights = e.get("weights_epoch")
        status = status_name(self.status)
        if not shown:
            line = _("{status}: test not measured").format(status=status)
            if is_number(weights):
                line = _("{status} · weights of epoch {epoch}: test not measured").format(status=status, epoch=weights)
        elif is_number(weights):
            line = _("{status} · weights of epoch {epoch}: test {metrics}").format(
                status=status, epoch=weights, metrics=shown
            )
        else:
            line = _("{status}: test {metrics}").format(status=status, metrics=shown)
        self.log.append(line)
        if e.get("hint"):
            self.log.append(e["hint"])
        if e.get("run_dir"):
            self.log.append(_("run saved in {path}").format(path=e["run_dir"]))

    def _on_error(self, e: dict) -> None:
        self.error = e.get("message")
        if e.get("id") is None:  # an error of the run itself, not of a plan request
            self.status = "failed"
        self.log.append(LogLine(_("error: {message}").format(message=self.error), "error"))
