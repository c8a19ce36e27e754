"""Past runs from the run store: a table sorted by any column (o, O or a header click); mark several
to compare or export; open one as recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from nnplay.engine.core.runs import list_runs, load_run
from nnplay.tui.report import RUN_READ_ERRORS, UNREADABLE, format_metric, headline_metric, summary_of, unreadable_reason

COLUMNS = ("run", "date", "task", "model", "status", "best val", "test", "verdict")
# Dropped in this order when the terminal is too narrow; the run, its status and verdict always show.
DROP_ORDER = ("task", "date", "model", "best val", "test")
SHORT = {"accuracy": "acc", "r2": "R²", "recon_error": "recon", "loss": "loss"}
PADDING = 2  # the table's cell padding, one column each side
MARK_WIDTH = 1 + PADDING
SCROLLBAR = 2  # kept free for the vertical scrollbar of a long table
MIN_RUN_WIDTH = 12
ARROWS = {False: "↑", True: "↓"}


@dataclass
class Row:
    """One run as the table shows it (cells) and as it sorts (order: None when not measured); `unreadable`
    says why its files cannot be read."""

    key: str
    cells: dict[str, str]
    order: dict[str, object]
    unreadable: str | None = None


def run_row(path: Path) -> Row:
    """A run's table cells and sort values."""
    summary = summary_of(load_run(path))
    metric, value = headline_metric(summary)
    started = summary.get("started")
    best = summary.get("best_val_loss")

    def text(key: str) -> str:
        return str(summary.get(key) or "—")

    cells = {
        "run": summary.get("name") or path.name,
        "date": datetime.fromtimestamp(started).strftime("%m-%d %H:%M") if started else "—",
        "task": text("task"),
        "model": model_cell(summary),
        "status": summary["status"],
        "best val": format_metric("loss", best),
        "test": f"{SHORT.get(metric, metric)} {format_metric(metric, value)}" if value is not None else "—",
        "verdict": text("verdict"),
    }
    order: dict[str, object] = {name: None if cell == "—" else cell.casefold() for name, cell in cells.items()}
    order["date"] = started  # not the cell: "12-31" of one year sorts after "01-02" of the next
    order["best val"] = best
    order["test"] = (metric, value) if value is not None else None  # grouped by metric, then by value
    return Row(path.name, cells, order)


def model_cell(summary: dict) -> str:
    dataset, architecture = summary.get("dataset"), summary.get("architecture")
    return "—" if dataset is None and architecture is None else f"{dataset}/{architecture}"


def unreadable_row(path: Path, reason: str) -> Row:
    """A run whose files cannot be read: listed as unreadable, with the reason as its verdict, so that
    one damaged run neither hides the others nor goes unnoticed."""
    cells = {name: "—" for name in COLUMNS} | {"run": path.name, "status": UNREADABLE, "verdict": reason}
    order: dict[str, object] = {name: None for name in COLUMNS}
    order |= {"run": path.name.casefold(), "status": UNREADABLE, "verdict": reason.casefold()}
    return Row(path.name, cells, order, unreadable=reason)


def fit_columns(widths: dict[str, int], available: int) -> dict[str, int]:
    """The columns that fit in `available` cells, with their widths: the least important go first
    (DROP_ORDER), then the run's name is shortened; the verdict is never cut."""
    shown = dict(widths)

    def total() -> int:
        return MARK_WIDTH + sum(w + PADDING for w in shown.values())

    for name in DROP_ORDER:
        if total() <= available:
            break
        shown.pop(name, None)
    if total() > available and "run" in shown:
        shown["run"] = max(MIN_RUN_WIDTH, shown["run"] - (total() - available))
    return shown


def shortened(text: str, width: int) -> str:
    return text if cell_len(text) <= width else text[: width - 1] + "…"


class RunsScreen(Screen):
    """Every run under the runs directory, newest first until sorted otherwise."""

    BINDINGS = [
        Binding("space", "mark", "Mark"),
        Binding("c", "compare", "Compare"),
        Binding("enter", "open", "Open"),
        Binding("e", "export", "Export"),
        Binding("o", "sort_next", "Sort"),
        Binding("O,shift+o", "sort_reverse", "Reverse"),
        Binding("escape", "app.pop_screen", "Back"),
        # Not in the footer, which then fits in 80 columns.
        Binding("r", "reload", "Reload", show=False),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.paths: dict[str, Path] = {}
        self.rows: list[Row] = []  # newest first, as read
        self.marked: set[str] = set()
        self.sort_column = "date"
        self.sort_reverse = True
        self.fitted_width = 0  # the screen width the columns were fitted to

    def compose(self) -> ComposeResult:
        yield Static("", id="runs-title")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self.fitted_width:
            self._fill()

    def action_reload(self) -> None:
        self.paths, self.rows = {}, []
        for path in list_runs(self.app.runs_root):
            try:
                row = run_row(path)
            except RUN_READ_ERRORS as exc:
                row = unreadable_row(path, unreadable_reason(exc))
            self.paths[path.name] = path
            self.rows.append(row)
        unreadable = sum(row.unreadable is not None for row in self.rows)
        if unreadable:
            what = "1 run cannot be read" if unreadable == 1 else f"{unreadable} runs cannot be read"
            self.notify(f"{what}: listed as {UNREADABLE}, the reason as its verdict.", severity="warning")
        self._fill()
        self.query_one(DataTable).focus()

    def _sorted(self) -> list[Row]:
        """The rows by the sort column; runs without that number or text come last either way."""
        column = self.sort_column
        present = [row for row in self.rows if row.order[column] is not None]
        missing = [row for row in self.rows if row.order[column] is None]
        return sorted(present, key=lambda row: row.order[column], reverse=self.sort_reverse) + missing

    def _fill(self) -> None:
        """(Re)build the table: the columns that fit the screen, the rows in sort order, the cursor kept."""
        table = self.query_one(DataTable)
        current = self._current()
        self.fitted_width = self.app.size.width
        arrow = ARROWS[self.sort_reverse]
        labels = {name: f"{name} {arrow}" if name == self.sort_column else name for name in COLUMNS}
        # Why a run cannot be read is long: it is cut to the real verdicts' width (enter shows it whole).
        ordinary = [row for row in self.rows if row.unreadable is None]
        widths = {
            name: max(cell_len(labels[name]), *(cell_len(row.cells[name]) for row in self.rows))
            for name in COLUMNS
            if name != "verdict"
        }
        widths["verdict"] = max(cell_len(labels["verdict"]), *(cell_len(row.cells["verdict"]) for row in ordinary))
        shown = fit_columns(widths, self.fitted_width - SCROLLBAR)
        table.clear(columns=True)
        table.add_column("", key="mark", width=1)
        for name, width in shown.items():
            table.add_column(labels[name], key=name, width=width)
        for row in self._sorted():
            mark = "●" if row.key in self.marked else " "
            # Text, not str: DataTable parses str cells as markup, and a run's name is the user's text.
            table.add_row(mark, *(Text(shortened(row.cells[name], shown[name])) for name in shown), key=row.key)
        if current in self.paths:
            table.move_cursor(row=table.get_row_index(current))
        count = len(self.rows)
        self.query_one("#runs-title", Static).update(
            Text.assemble(
                (f"{count} run{'s' * (count != 1)}", "bold"),
                f" in {self.app.runs_root}/ · ",
                (f"sorted by {self.sort_column} {arrow}", "bold"),
                " · o sorts by the next column, O reverses · space marks runs to compare or export",
            )
        )

    def _current(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.paths or table.row_count == 0 or table.cursor_row is None:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    def sort_by(self, column: str, reverse: bool = False) -> None:
        self.sort_column, self.sort_reverse = column, reverse
        self._fill()

    def action_sort_next(self) -> None:
        """Sort by the next column shown, ascending."""
        shown = [str(c.key.value) for c in self.query_one(DataTable).ordered_columns if c.key.value in COLUMNS]
        at = shown.index(self.sort_column) if self.sort_column in shown else -1
        self.sort_by(shown[(at + 1) % len(shown)])

    def action_sort_reverse(self) -> None:
        self.sort_by(self.sort_column, not self.sort_reverse)

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by it ascending; a second click on the same header reverses."""
        column = str(event.column_key.value)
        if column in COLUMNS:
            self.sort_by(column, reverse=column == self.sort_column and not self.sort_reverse)

    def action_mark(self) -> None:
        key = self._current()
        if key is None:
            return
        self.marked ^= {key}
        self.query_one(DataTable).update_cell(key, "mark", "●" if key in self.marked else " ")

    def _readable(self, keys: list[str]) -> list[str]:
        """The keys of runs that can be read; each of the others is named in a warning."""
        unreadable = {row.key: row.unreadable for row in self.rows if row.unreadable is not None}
        for key in keys:
            if key in unreadable:
                self.notify(f"{key} cannot be read: {unreadable[key]}", severity="warning", markup=False)
        return [key for key in keys if key not in unreadable]

    def action_compare(self) -> None:
        from nnplay.tui.screens.compare import CompareScreen

        keys = self._readable([k for k in self.paths if k in self.marked])
        if len(keys) < 2:
            self.notify("Mark two or more runs with space, then press c.", severity="warning")
            return
        self.app.push_screen(CompareScreen([self.paths[k] for k in keys]))

    def action_open(self) -> None:
        key = self._current()
        if key is not None and self._readable([key]):
            self.app.open_recorded(self.paths[key])

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open()

    def action_export(self) -> None:
        keys = self._readable([k for k in self.paths if k in self.marked] or [k for k in [self._current()] if k])
        if keys:
            self.app.export_files(*(self.paths[k] for k in keys))
