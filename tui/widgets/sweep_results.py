"""A sweep's results as its members finish: how many have, the table (sortable by a click on a header, the
best member's row marked and highlighted) and below it the heatmap of a grid over two settings or the
metric against one setting's values (tui/sweep_view.py draws them, as for `nnplay show`)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from nnplay.engine.core.i18n import _
from nnplay.tui.state import RunState
from nnplay.tui.sweep_view import best_member_line, failures, figures, results_table, searched_in, sort_columns

BEST_STYLE = "bold green"


class SweepResults(VerticalScroll):
    """The results of the sweep in a RunState, filled in as `member_done` events arrive."""

    DEFAULT_CSS = """
    SweepResults { height: 1fr; padding: 0 1; }
    SweepResults > #sweep-progress { height: auto; color: $text-muted; }
    SweepResults > #sweep-table { height: auto; max-height: 100%; }
    SweepResults > #sweep-best { height: auto; }
    SweepResults > #sweep-figure { height: auto; margin-top: 1; }
    SweepResults.-empty > #sweep-table, SweepResults.-empty > #sweep-figure { display: none; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.sort: str | None = None  # the column the table is sorted by; None: best first
        self.reverse = False
        self._state: RunState | None = None
        self._drawn_key: tuple | None = None
        self.best_row: int | None = None  # the best member's row in the table, as drawn
        self.members_shown: list[int] = []  # the member of each row, top to bottom

    def compose(self) -> ComposeResult:
        """The progress line, the table, the best member's line and the figure."""
        yield Static(_("waiting for the first member to finish"), id="sweep-progress")
        yield DataTable(id="sweep-table", cursor_type="none", show_cursor=False)
        yield Static("", id="sweep-best")
        yield Static("", id="sweep-figure")

    def update_from(self, state: RunState) -> None:
        """Draw the results again when a member has finished (or the sort, the width or the run changed)."""
        self._state = state
        rows = state.member_rows
        key = (
            id(state),
            tuple((row["member"], row.get("status")) for row in rows),
            state.best_member,
            state.finished,
            self.sort,
            self.reverse,
            self.size.width,
        )
        if key == self._drawn_key:
            return
        self._drawn_key = key
        total = state.members_total
        searched = searched_in(state.plan)
        progress = _("{done} of {total} members finished").format(done=len(rows), total=total)
        if not rows:
            progress = _("waiting for the first member to finish") + "\n" + progress
        elif searched and not state.finished:  # the best member is chosen once every member has finished
            progress = _("{done} of {total} members finished; ★ marks the best so far").format(
                done=len(rows), total=total
            )
        self.query_one("#sweep-progress", Static).update(progress)
        self.set_class(not rows, "-empty")
        table = results_table(rows, sort=self.sort, reverse=self.reverse, best=state.best_member, search=bool(searched))
        self.best_row, self.members_shown = table.best_row, table.members
        grid = self.query_one("#sweep-table", DataTable)
        grid.clear(columns=True)
        for c, column in enumerate(table.columns):
            # Widths given, not measured: a table rebuilt during a resize would otherwise keep only its headings'.
            width = max([cell_len(column.title), *(cell_len(cells[c]) for cells in table.rows)])
            grid.add_column(
                Text(column.title, justify="right" if column.numeric else "left"), key=column.key, width=width
            )
        for i, cells in enumerate(table.rows):
            style = BEST_STYLE if i == table.best_row else ""
            grid.add_row(
                *(
                    Text(cell, style=style, justify="right" if c.numeric else "left")
                    for c, cell in zip(table.columns, cells, strict=True)
                ),
                key=str(table.members[i]),
            )
        grid.scroll_to(x=0, animate=False)  # the mark and the settings in view, whatever was scrolled before
        words = [best_member_line(rows, table.best)] if searched and state.finished else []
        words += failures(rows)
        self.query_one("#sweep-best", Static).update(Text("\n".join(w for w in words if w)))
        width = max(40, (self.size.width or 72) - 2)
        blocks = figures(rows, searched, width=width, best=table.best) if rows else []
        self.query_one("#sweep-figure", Static).update(Text("\n\n".join(blocks)))

    def relabel(self) -> None:
        """Every word again, in the language spoken now."""
        self._drawn_key = None
        if self._state is not None:
            self.update_from(self._state)

    def on_resize(self) -> None:
        """The figure fits the new width."""
        if self._state is not None:
            self.update_from(self._state)

    @on(DataTable.HeaderSelected, "#sweep-table")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a header sorts by it (best first for the metrics); a second click reverses; the mark's
        column goes back to best first."""
        column = str(event.column_key.value)
        rows = self._state.member_rows if self._state is not None else []
        if column not in sort_columns(rows):
            self.sort, self.reverse = None, False
        else:
            self.reverse = column == self.sort and not self.reverse
            self.sort = column
        if self._state is not None:
            self.update_from(self._state)
