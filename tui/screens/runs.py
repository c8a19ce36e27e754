"""Past runs from the run store: a sortable table; mark several to compare; open one as recorded."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from engine.runs import list_runs, load_run
from tui.report import format_metric, headline_metric, summary_of

COLUMNS = ("", "run", "date", "task", "model", "status", "best val", "test", "verdict")
SHORT = {"accuracy": "acc", "r2": "R²", "recon_error": "recon", "loss": "loss"}


def run_row(path: Path) -> tuple[dict, tuple]:
    """A run's summary and the table cells that show it."""
    summary = summary_of(load_run(path))
    metric, value = headline_metric(summary)
    started = datetime.fromtimestamp(summary["started"]).strftime("%m-%d %H:%M") if summary.get("started") else "—"
    cells = (
        summary.get("name") or path.name,
        started,
        summary.get("task") or "—",
        f"{summary.get('dataset')}/{summary.get('architecture')}",
        summary["status"],
        format_metric("loss", summary.get("best_val_loss")),
        f"{SHORT.get(metric, metric)} {format_metric(metric, value)}" if value is not None else "—",
        summary.get("verdict") or "—",
    )
    return summary, cells


class RunsScreen(Screen):
    """Every run under the runs directory, newest first."""

    BINDINGS = [
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare marked"),
        Binding("enter", "open", "Open"),
        Binding("e", "export", "Export"),
        Binding("r", "reload", "Reload"),
        Binding("escape", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.paths: dict[str, Path] = {}
        self.marked: set[str] = set()
        self.sort_reverse = False

    def compose(self) -> ComposeResult:
        yield Static("", id="runs-title")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column or "mark")
        self.action_reload()

    def action_reload(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.paths = {}
        for path in list_runs(self.app.runs_root):
            try:
                _, cells = run_row(path)
            except (OSError, ValueError) as exc:
                self.notify(f"{path.name} cannot be read: {exc}", severity="warning")
                continue
            self.paths[path.name] = path
            table.add_row("●" if path.name in self.marked else " ", *cells, key=path.name)
        count = len(self.paths)
        self.query_one("#runs-title", Static).update(
            f"[b]{count} run{'s' * (count != 1)}[/b] in {self.app.runs_root}/ · space marks, c compares the marked runs, "
            "enter opens one, click a column to sort"
        )
        table.focus()

    def _current(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.paths or table.cursor_row is None:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    def action_mark(self) -> None:
        key = self._current()
        if key is None:
            return
        self.marked ^= {key}
        self.query_one(DataTable).update_cell(key, "mark", "●" if key in self.marked else " ")

    def action_compare(self) -> None:
        from tui.screens.compare import CompareScreen

        keys = [k for k in self.paths if k in self.marked]
        if len(keys) < 2:
            self.notify("Mark two or more runs with space, then press c.", severity="warning")
            return
        self.app.push_screen(CompareScreen([self.paths[k] for k in keys]))

    def action_open(self) -> None:
        key = self._current()
        if key is not None:
            self.app.open_recorded(self.paths[key])

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open()

    def action_export(self) -> None:
        keys = [k for k in self.paths if k in self.marked] or [k for k in [self._current()] if k]
        for key in keys:
            self.app.export_files(self.paths[key])

    @on(DataTable.HeaderSelected)
    def _sort(self, event: DataTable.HeaderSelected) -> None:
        self.sort_reverse = not self.sort_reverse
        self.query_one(DataTable).sort(event.column_key, reverse=self.sort_reverse, key=_sort_key)


def _sort_key(value):
    """Numbers sort as numbers ("acc 97.5%" by 97.5), the rest as text."""
    text = str(value).rstrip("%").split(" ")[-1]
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, str(value))
