"""Compare recorded runs: their loss curves overlaid and their configs side by side, with the
settings that differ highlighted."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from nnplay.engine.core.i18n import N_, _, ngettext
from nnplay.engine.core.runs import load_run
from nnplay.tui.changes import IDENTITY
from nnplay.tui.report import config_of, flatten
from nnplay.tui.state import RunState
from nnplay.tui.widgets.compare_chart import CompareChart
from nnplay.tui.widgets.footer import Footer


def replay(path: Path) -> tuple[RunState, dict]:
    """A recorded run as the app's state (its events replayed), and its flattened config."""
    record = load_run(path)
    state = RunState()
    for event in record.events:
        state.ingest(event)
    if not state.finished:
        state.status = record.status
    return state, flatten(config_of(record))


def config_rows(configs: list[dict]) -> list[tuple[str, list, bool]]:
    """(setting, values per run, differs) for every setting any run has. A run's name and description
    say what it is, not how it trained: they never count as a difference (the columns name the runs)."""
    keys: list[str] = []
    for config in configs:
        keys += [k for k in config if k not in keys]
    rows = []
    for key in keys:
        values = [config.get(key) for config in configs]
        rows.append((key, values, key not in IDENTITY and any(v != values[0] for v in values)))
    return rows


class CompareScreen(Screen):
    """Recorded runs side by side: their loss curves on one chart, their settings in one table."""

    BINDINGS = [  # descriptions translated by the footer
        Binding("d", "toggle_diff", N_("Only differences")),
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("q", "app.quit", N_("Quit")),
    ]

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self.paths = paths
        loaded = [replay(p) for p in paths]
        self.states = [s for s, _config in loaded]
        self.rows = config_rows([c for _state, c in loaded])
        self.only_differences = True

    def compose(self) -> ComposeResult:
        """The chart, the title line, the settings table and the footer."""
        names = [f"{i + 1}:{s.name or p.name}" for i, (s, p) in enumerate(zip(self.states, self.paths, strict=True))]
        yield CompareChart(list(zip(names, self.states, strict=True)), id="compare-chart")
        yield Static("", id="compare-title")
        yield DataTable(id="compare-config", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        """One settings column per run, then the rows."""
        self._fill()

    def relabel(self) -> None:
        """The chart, the title and the table again in the language spoken now (after a language switch)."""
        self.query_one(CompareChart).replot()
        self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column(_("setting"))
        for i, path in enumerate(self.paths):
            table.add_column(f"{i + 1}: {path.name}")
        shown = 0
        for key, values, differs in self.rows:
            if self.only_differences and not differs:
                continue
            style = "bold yellow" if differs else ""
            table.add_row(Text(key, style=style), *(Text("—" if v is None else str(v), style=style) for v in values))
            shown += 1
        differing = sum(1 for *_row, d in self.rows if d)
        differ = ngettext("{count} setting differs", "{count} settings differ", differing).format(count=differing)
        toggle = _("d shows all settings") if self.only_differences else _("d shows only the differences")
        self.query_one("#compare-title", Static).update(
            Text.assemble((differ, "bold"), " " + _("(highlighted)") + " · " + toggle)
        )

    def action_toggle_diff(self) -> None:
        """Show only the settings that differ, or all of them."""
        self.only_differences = not self.only_differences
        self._fill()
