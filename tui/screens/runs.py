"""Past runs from the run store: a table sorted by any column (o, O or a header click); mark several
to compare or export; open one as recorded. A sweep is one row; m shows its members under it, each a run
that opens, compares and exports like any other."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.widgets.data_table import RowKey

from nnplay.engine.core.diagnosis import verdict_name
from nnplay.engine.core.i18n import N_, _, ngettext
from nnplay.engine.core.runs import SweepMember, list_runs, listed_sweep_size, sweep_members
from nnplay.tui.report import (
    RUN_READ_ERRORS,
    UNREADABLE,
    format_metric,
    headline_metric,
    listed_summary,
    metric_short,
    unreadable_reason,
)
from nnplay.tui.state import status_name
from nnplay.tui.widgets.confusion_view import short
from nnplay.tui.widgets.footer import Footer

if TYPE_CHECKING:
    from nnplay.tui.app import NNPlayApp

COLUMNS = ("run", "date", "task", "model", "status", "best val", "test", "verdict")
COLUMN_TITLES = {  # each column's heading, translated where shown
    "run": N_("run"),
    "date": N_("date"),
    "task": N_("task"),
    "model": N_("model"),
    "status": N_("status"),
    "best val": N_("best val"),
    "test": N_("test"),
    "verdict": N_("verdict"),
}
# Dropped in this order when the terminal is too narrow; the run, its status and verdict always show.
DROP_ORDER = ("task", "date", "model", "best val", "test")
PADDING = 2  # the table's cell padding, one column each side
MARK_WIDTH = 1 + PADDING
SCROLLBAR = 2  # kept free for the vertical scrollbar of a long table
MIN_RUN_WIDTH = 12
# Rows put in the table before it is first drawn, more than a screen shows; the others are added right
# after (DataTable takes about 50 µs a row: half a second for 10,000 runs).
FIRST_ROWS = 200
ARROWS = {False: "↑", True: "↓"}
SWEEP_MARKS = {False: "▸", True: "▾"}  # before a sweep's name: its members hidden, shown


@dataclass
class Row:
    """One run as the table shows it (cells) and as it sorts (order: None when not measured); `unreadable`
    says why its files cannot be read."""

    key: str
    cells: dict[str, str]
    order: dict[str, Any]  # per column: a number or folded text to sort by (one kind per column), None when empty
    unreadable: str | None = None
    members: int | None = None  # a sweep's number of members
    sweep: str | None = None  # a member's sweep (its row's key)


def run_row(path: Path) -> Row:
    """A run's table cells and sort values, from its listing (listed_summary)."""
    summary = listed_summary(path)
    metric, value = headline_metric(summary)
    started = summary.get("started")
    best = summary.get("best_val_loss")

    def text(key: str) -> str:
        return str(summary.get(key) or "—")

    members = listed_sweep_size(path, summary)
    name = summary.get("name") or path.name
    cells = {
        "run": sweep_cell(name, members, False) if members else name,
        "date": datetime.fromtimestamp(started).strftime("%m-%d %H:%M") if started else "—",
        "task": text("task"),
        "model": model_cell(summary),
        "status": status_name(summary["status"]),
        "best val": format_metric("loss", best),
        "test": f"{metric_short(metric)} {format_metric(metric, value)}" if value is not None else "—",
        "verdict": verdict_name(summary["verdict"]) if summary.get("verdict") else "—",
    }
    order: dict[str, Any] = {name: None if cell == "—" else cell.casefold() for name, cell in cells.items()}
    order["run"] = name.casefold()  # not the cell, which may begin with a sweep's mark
    order["date"] = started  # not the cell: "12-31" of one year sorts after "01-02" of the next
    order["best val"] = best
    order["test"] = (metric, value) if value is not None else None  # grouped by metric, then by value
    return Row(path.name, cells, order, members=members)


def sweep_cell(name: str, members: int, shown: bool) -> str:
    """A sweep's run cell: its mark (members hidden or shown), its name and how many members it has."""
    text = ngettext("{name} · {count} member", "{name} · {count} members", members).format(name=name, count=members)
    return f"{SWEEP_MARKS[shown]} {text}"


def member_row(sweep_key: str, member: SweepMember, last: bool) -> Row:
    """A sweep's member as a row under it: its label indented in the run cell, the rest as for any run (a
    member is one); a member without a run directory shows how it ended and cannot be opened."""
    label = member.label or f"#{member.index}"
    if member.best:
        label = _("{label} (best)").format(label=label)
    branch = f" {'└' if last else '├'} {label}"
    key = f"{sweep_key}/{member.index}"
    if member.path is None:
        status = member.result.get("status")
        error = member.result.get("error")
        cells = {name: "—" for name in COLUMNS} | {
            "run": branch,
            "status": status_name(status) if isinstance(status, str) else _("not started"),
            "verdict": str(error) if error else "—",
        }
        reason = _("member {member} has no run directory").format(member=member.index)
        return Row(key, cells, {name: None for name in COLUMNS}, unreadable=reason, sweep=sweep_key)
    try:
        row = run_row(member.path)
    except RUN_READ_ERRORS as exc:
        row = unreadable_row(member.path, unreadable_reason(exc))
    row.cells["run"] = branch
    row.key, row.sweep = key, sweep_key
    return row


def model_cell(summary: dict) -> str:
    """The model column's text: data set/architecture, or a dash when neither is known."""
    dataset, architecture = summary.get("dataset"), summary.get("architecture")
    return "—" if dataset is None and architecture is None else f"{dataset}/{architecture}"


def unreadable_row(path: Path, reason: str) -> Row:
    """A run whose files cannot be read: listed as unreadable, with the reason as its verdict, so that
    one damaged run neither hides the others nor goes unnoticed."""
    cells = {name: "—" for name in COLUMNS} | {"run": path.name, "status": status_name(UNREADABLE), "verdict": reason}
    order: dict[str, Any] = {name: None for name in COLUMNS}
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
    """The text cut to `width` cells (a Korean character takes two), with an ellipsis when it is cut."""
    return short(text, width)


class TextCell:
    """A cell's text, made into Rich Text only when it is drawn: Text, not str, because DataTable parses a
    str cell as markup and a run's name is the user's text; made late, because building Text for every
    cell of 10,000 runs took longer than reading the runs."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __rich__(self) -> Text:
        return Text(self.text)


class RunsTable(DataTable):
    """The runs table. Its columns all have a width and its rows are one line each, so a row added needs
    no measuring; DataTable measures every cell of every row added (seconds for 10,000 runs)."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        if any(column.auto_width for column in self.columns.values()):
            super()._update_dimensions(new_rows)
        else:
            super()._update_dimensions(())  # the scrollable size only


class RunsScreen(Screen):
    """Every run under the runs directory, newest first until sorted otherwise."""

    app: NNPlayApp  # Textual types it as any App; this screen runs only in nnplay's

    BINDINGS = [  # descriptions translated by the footer
        Binding("space", "mark", N_("Mark")),
        Binding("c", "compare", N_("Compare")),
        Binding("enter", "open", N_("Open")),
        Binding("e", "export", N_("Export")),
        Binding("o", "sort_next", N_("Sort")),
        Binding("O,shift+o", "sort_reverse", N_("Reverse")),
        Binding("escape", "app.pop_screen", N_("Back")),
        # Not in the footer, which then fits in 80 columns (the title names m when there are sweeps).
        Binding("m", "members", N_("Members"), show=False),
        Binding("r", "reload", N_("Reload"), show=False),
        Binding("q", "app.quit", N_("Quit"), show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.paths: dict[str, Path] = {}  # every row's run directory, members' included
        self.rows: list[Row] = []  # newest first, as read
        self.expanded: set[str] = set()  # the sweeps whose members show
        self.member_rows: dict[str, list[Row]] = {}  # the members of each of those, in member order
        self.by_key: dict[str, Row] = {}
        self.marked: set[str] = set()
        self.sort_column = "date"
        self.sort_reverse = True
        self.fitted_width = 0  # the screen width the columns were fitted to
        # Each column's widest cell as read (longest), and the widths the columns are fitted to: the same but
        # for the verdict, whose is the readable runs' (why a run cannot be read is long: it is cut to that).
        self.longest: dict[str, int] = {}
        self.cell_widths: dict[str, int] = {}
        self.filling = 0  # which fill of the table adds rows: a new one (a sort) ends the one before

    def compose(self) -> ComposeResult:
        """The title, the table and the footer."""
        yield Static("", id="runs-title")
        yield RunsTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        """Read the runs into the table."""
        self.action_reload()

    def on_resize(self, event: events.Resize) -> None:
        """Refit the columns to a new width."""
        if event.size.width != self.fitted_width:
            self._fill()

    def action_reload(self) -> None:
        """Read every run again (new runs appear, deleted ones go)."""
        unreadable = self._read()
        if unreadable:
            self.notify(
                ngettext(
                    "{count} run cannot be read: listed as {status}, the reason as its verdict.",
                    "{count} runs cannot be read: listed as {status}, the reason as its verdict.",
                    unreadable,
                ).format(count=unreadable, status=status_name(UNREADABLE)),
                severity="warning",
            )
        self._fill()
        self.query_one(DataTable).focus()

    def relabel(self) -> None:
        """The table again in the language spoken now (after a language switch)."""
        self._read()
        self._fill()

    def _read(self) -> int:
        """Read every run into rows (and the members of the sweeps that show them) and measure the columns;
        returns how many runs cannot be read."""
        self.paths, self.rows, self.member_rows = {}, [], {}
        for path in list_runs(self.app.runs_root):
            try:
                row = run_row(path)
            except RUN_READ_ERRORS as exc:
                row = unreadable_row(path, unreadable_reason(exc))
            self.paths[path.name] = path
            self.rows.append(row)
        for row in self.rows:
            if row.key in self.expanded and row.members:
                self._read_members(row)
        self.expanded &= set(self.member_rows)
        self.marked &= set(self.paths)
        self._measure()
        return sum(row.unreadable is not None for row in self.rows)

    def _read_members(self, sweep: Row) -> None:
        """Read a sweep's members into rows under it, its mark turned to say they show."""
        members = sweep_members(self.paths[sweep.key])
        rows = [member_row(sweep.key, m, i == len(members) - 1) for i, m in enumerate(members)]
        for row, member in zip(rows, members, strict=True):
            if member.path is not None:
                self.paths[row.key] = member.path
        self.member_rows[sweep.key] = rows
        sweep.cells["run"] = SWEEP_MARKS[True] + sweep.cells["run"][1:]

    def _measure(self) -> None:
        """Each column's widest cell, members shown included. Measured once a reading (or a sweep opened or
        closed), not at each sort: 80,000 cells for 10,000 runs."""
        rows = self.rows + [row for members in self.member_rows.values() for row in members]
        self.by_key = {row.key: row for row in rows}
        self.longest = {name: max((cell_len(row.cells[name]) for row in rows), default=0) for name in COLUMNS}
        # Why a run cannot be read is long: the verdicts' room is that of the others.
        verdicts = (cell_len(row.cells["verdict"]) for row in rows if row.cells["verdict"] != row.unreadable)
        self.cell_widths = self.longest | {"verdict": max(verdicts, default=0)}

    def _sorted(self) -> list[Row]:
        """The rows by the sort column; runs without that number or text come last either way. A sweep's
        members shown follow it, in member order."""
        column = self.sort_column
        present = [row for row in self.rows if row.order[column] is not None]
        missing = [row for row in self.rows if row.order[column] is None]
        rows = sorted(present, key=lambda row: row.order[column], reverse=self.sort_reverse) + missing
        return [shown for row in rows for shown in (row, *self.member_rows.get(row.key, ()))]

    def _fill(self, current: str | None = None) -> None:
        """(Re)build the table: the columns that fit the screen, the rows in sort order, the cursor kept (or
        put on the row `current`)."""
        table = self.query_one(DataTable)
        current = current or self._current()
        self.fitted_width = self.app.size.width
        arrow = ARROWS[self.sort_reverse]
        titles = {name: _(COLUMN_TITLES[name]) for name in COLUMNS}
        labels = {name: f"{titles[name]} {arrow}" if name == self.sort_column else titles[name] for name in COLUMNS}
        widths = {name: max(cell_len(labels[name]), self.cell_widths.get(name, 0)) for name in COLUMNS}
        shown = fit_columns(widths, self.fitted_width - SCROLLBAR)
        table.clear(columns=True)
        table.add_column("", key="mark", width=1)
        for name, width in shown.items():
            table.add_column(labels[name], key=name, width=width)
        rows = self._sorted()
        cursor = next((i for i, row in enumerate(rows) if row.key == current), None)
        self.filling += 1
        self._add_rows(rows, 0, FIRST_ROWS, shown, cursor, self.filling)
        count = len(self.rows)
        sweeps = " · " + _("m shows or hides a sweep's members") if any(row.members for row in self.rows) else ""
        self.query_one("#runs-title", Static).update(
            Text.assemble(
                (ngettext("{count} run", "{count} runs", count).format(count=count), "bold"),
                " " + _("in {path}/").format(path=self.app.runs_root) + " · ",
                (_("sorted by {column} {arrow}").format(column=titles[self.sort_column], arrow=arrow), "bold"),
                " · " + _("o sorts by the next column, O reverses · space marks runs to compare or export") + sweeps,
            )
        )

    def _add_rows(
        self, rows: list[Row], start: int, stop: int, shown: dict[str, int], cursor: int | None, filling: int
    ) -> None:
        """Add rows[start:stop] to the table, the cursor put back on its row once that is added, and the
        rest once the screen is refreshed (unless a new fill, such as a sort, began meanwhile)."""
        if filling != self.filling or not self.is_attached:
            return
        table = self.query_one(DataTable)
        cut = {name for name, width in shown.items() if width < self.longest.get(name, 0)}  # others fit whole
        for row in rows[start:stop]:
            cells = (shortened(row.cells[name], shown[name]) if name in cut else row.cells[name] for name in shown)
            table.add_row("●" if row.key in self.marked else " ", *map(TextCell, cells), key=row.key)
        if cursor is not None and start <= cursor < stop:
            table.move_cursor(row=cursor)
        if stop < len(rows):
            self.call_after_refresh(self._add_rows, rows, stop, len(rows), shown, cursor, filling)

    def _current(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.paths or table.row_count == 0 or table.cursor_row is None:
            return None
        return table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value

    def sort_by(self, column: str, reverse: bool = False) -> None:
        """Sort the table by `column`, ascending unless `reverse`."""
        self.sort_column, self.sort_reverse = column, reverse
        self._fill()

    def action_sort_next(self) -> None:
        """Sort by the next column shown, ascending."""
        shown = [str(c.key.value) for c in self.query_one(DataTable).ordered_columns if c.key.value in COLUMNS]
        at = shown.index(self.sort_column) if self.sort_column in shown else -1
        self.sort_by(shown[(at + 1) % len(shown)])

    def action_sort_reverse(self) -> None:
        """Reverse the order of the sort column."""
        self.sort_by(self.sort_column, not self.sort_reverse)

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by it ascending; a second click on the same header reverses."""
        column = str(event.column_key.value)
        if column in COLUMNS:
            self.sort_by(column, reverse=column == self.sort_column and not self.sort_reverse)

    def action_mark(self) -> None:
        """Mark or unmark the run under the cursor, for compare and export."""
        key = self._current()
        if key is None:
            return
        self.marked ^= {key}
        self.query_one(DataTable).update_cell(key, "mark", "●" if key in self.marked else " ")

    def action_members(self) -> None:
        """Show the members of the sweep under the cursor under it, or hide them (from the sweep's row or
        from one of its members'); they are marked, compared, exported and opened like runs."""
        key = self._current()
        row = self.by_key.get(key) if key is not None else None
        if row is None:
            return
        if row.sweep is not None:
            row = self.by_key[row.sweep]
        elif not row.members:
            self.notify(
                _("{run} is not a sweep: it has no members to show.").format(run=row.cells["run"]),
                severity="warning",
                markup=False,
            )
            return
        if row.key in self.expanded:
            self.expanded.discard(row.key)
            for member in self.member_rows.pop(row.key, []):
                self.paths.pop(member.key, None)
                self.marked.discard(member.key)  # hidden: no longer compared or exported
            row.cells["run"] = SWEEP_MARKS[False] + row.cells["run"][1:]
        else:
            self.expanded.add(row.key)
            self._read_members(row)
        self._measure()
        self._fill(row.key)

    def _readable(self, keys: list[str]) -> list[str]:
        """The keys of runs that can be read; each of the others is named in a warning."""
        unreadable = {row.key: row.unreadable for row in self.by_key.values() if row.unreadable is not None}
        for key in keys:
            if key in unreadable:
                self.notify(
                    _("{run} cannot be read: {reason}").format(run=key, reason=unreadable[key]),
                    severity="warning",
                    markup=False,
                )
        return [key for key in keys if key not in unreadable]

    def action_compare(self) -> None:
        """Compare the marked runs side by side."""
        from nnplay.tui.screens.compare import CompareScreen

        keys = self._readable([k for k in self.paths if k in self.marked])
        if len(keys) < 2:
            self.notify(_("Mark two or more runs with space, then press c."), severity="warning")
            return
        self.app.push_screen(CompareScreen([self.paths[k] for k in keys]))

    def action_open(self) -> None:
        """Open the run under the cursor on a dashboard."""
        key = self._current()
        if key is not None and self._readable([key]):
            self.app.open_recorded(self.paths[key])

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open()

    def action_export(self) -> None:
        """Export the marked runs (or the one under the cursor) as report files."""
        keys = self._readable([k for k in self.paths if k in self.marked] or [k for k in [self._current()] if k])
        if keys:
            self.app.export_files(*(self.paths[k] for k in keys))
