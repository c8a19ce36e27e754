"""One glance at a run: name, device, status, progress through the epochs, speed and ETA."""

from __future__ import annotations

from rich.console import Group
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from nnplay.engine.core.i18n import _
from nnplay.tui.report import duration
from nnplay.tui.state import RunState, is_number, status_name

# Each status's mark (its name follows, in the current language: state.status_name) and state class.
STATUS_TEXT = {
    "idle": ("○", "-idle"),
    "starting": ("◌", "-running"),  # the engine is loading torch and the data
    "running": ("●", "-running"),
    "paused": ("‖", "-paused"),
    "completed": ("✓", "-completed"),
    "early_stopped": ("✓", "-completed"),
    "stopped": ("■", "-stopped"),
    "diverged": ("✗", "-diverged"),
    "failed": ("✗", "-failed"),
    "crashed": ("✗", "-crashed"),
}
STATUS_CLASSES = sorted({cls for _mark, cls in STATUS_TEXT.values()})


def rate(samples_per_s) -> str:
    """Samples per second in a few characters ('12.3k', '850'), or a dash."""
    if not is_number(samples_per_s):
        return "—"
    return f"{samples_per_s / 1000:.1f}k" if samples_per_s >= 1000 else f"{samples_per_s:.0f}"


def device_label(state: RunState) -> str:
    """The GPU's name when there is one, else the device the plan says."""
    hello, plan = state.hello or {}, state.plan or {}
    device = plan.get("device") or hello.get("device") or "?"
    name = hello.get("device_name")
    return f"{device} · {name}" if name and name != device and not str(device).startswith("cpu") else str(device)


class RunHeader(Static):
    """Two lines: name, status, device; then the epoch progress bar with speed and ETA.

    The status sets one state class: -idle, -running, -paused, -completed, -stopped,
    -diverged, -failed or -crashed (pausing is the app's knowledge, so it is passed in).
    """

    DEFAULT_CSS = """
    RunHeader {
        height: auto;
        padding: 0 1;
    }
    RunHeader.-running { border-left: wide $success; }
    RunHeader.-paused { border-left: wide $warning; }
    RunHeader.-diverged, RunHeader.-failed, RunHeader.-crashed { border-left: wide $error; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", name=name, id=id, classes=classes)
        self._drawn_key: tuple | None = None
        self.status = "idle"
        self.render_text = ""  # what the header says, as plain text

    def update_from(self, state: RunState, paused: bool = False) -> None:
        """Redraw if the run changed since the last call (or pausing changed)."""
        key = (id(state), state.version, paused)
        if key == self._drawn_key:
            return
        self._drawn_key = key
        self.status = "paused" if paused and not state.finished else state.status
        mark, cls = STATUS_TEXT.get(self.status, ("", "-idle"))
        label = f"{mark} {status_name(self.status)}" if mark else self.status
        self.remove_class(*STATUS_CLASSES)
        self.add_class(cls)
        title, progress = self._render_state(state, label)
        self.render_text = f"{title.plain}\n{progress}"
        self.update(Group(title, self._progress_row(state, progress)))

    def _render_state(self, state: RunState, label: str) -> tuple[Text, str]:
        """The title line, and the words beside the progress bar: speed and ETA only while it trains."""
        title = Text()
        title.append(state.name or _("unnamed run"), style="bold")
        title.append(f"  {label}", style=self._status_style())
        title.append("  " + _("on {device}").format(device=device_label(state)), style="dim")
        epoch = state.last_epoch or {}
        done, total = state.epochs_done, state.epochs_total
        counts = _("epoch {done}/{total}").format(done=done, total=total or "?")
        plan = state.plan or {}
        if int(plan.get("k_folds") or 1) > 1:
            fold = len(state.folds) + (0 if state.finished else 1)
            counts += " · " + _("fold {fold}/{folds}").format(fold=fold, folds=plan["k_folds"])
        if self.status == "running":
            counts += " · " + _("{rate} samples/s · ETA {eta}").format(
                rate=rate(epoch.get("samples_per_s")), eta=duration(epoch.get("eta_s"))
            )
        elif state.finished and is_number(epoch.get("elapsed_s")):
            counts += " · " + _("trained for {duration}").format(duration=duration(epoch["elapsed_s"]))
        return title, counts

    def _progress_row(self, state: RunState, counts: str) -> Table:
        done, total = state.epochs_done, state.epochs_total
        progress = Table.grid(padding=(0, 1), expand=True)
        progress.add_column(ratio=1)
        progress.add_column(no_wrap=True)
        bar = ProgressBar(
            total=max(total, 1),
            completed=min(done, total) if total else 0,
            complete_style=self._status_style().removeprefix("bold "),
        )
        progress.add_row(bar, counts)
        return progress

    def _status_style(self) -> str:
        if self.status in ("diverged", "failed", "crashed"):
            return "bold red"
        if self.status in ("paused", "stopped"):
            return "bold yellow"
        return "bold green" if self.status != "idle" else "dim"
