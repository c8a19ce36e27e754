"""The run dashboard: progress, loss and metric curves, the overfitting panel, the model view
and the log, redrawn from the run's state up to four times a second (tui/pacing.py: less often when
frames are costly, so that drawing never takes much of a core from the engine)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Static

from nnplay.engine.core.i18n import N_, _
from nnplay.tui.pacing import REDRAW_INTERVAL_S, DrawPacer
from nnplay.tui.state import RunState, metric_label
from nnplay.tui.widgets import LogPanel, LossChart, MetricChart, ModelView, OverfitPanel, RunHeader
from nnplay.tui.widgets.footer import Footer

if TYPE_CHECKING:
    from nnplay.tui.app import NNPlayApp

PANELS = ("loss", "metric", "overfit", "model", "log")
PANEL_TITLES = (N_("loss"), N_("metric"), N_("overfitting"), N_("model"), N_("log"))  # translated where shown
COMPACT_WIDTH, COMPACT_HEIGHT = 110, 32
TINY_HEIGHT = 20


class DashboardScreen(Screen):
    """A live run (state taken from the app) or a recorded one (state given)."""

    app: NNPlayApp  # Textual types it as any App; this screen runs only in nnplay's

    BINDINGS = [  # descriptions translated by the footer
        Binding("space", "pause", N_("Pause")),
        Binding("space", "resume", N_("Resume")),
        Binding("s", "stop", N_("Stop")),
        Binding("t", "tweak", N_("Tweak")),
        Binding("n", "try_next", N_("Try next")),
        Binding("p", "pin", N_("Pin")),
        Binding("e", "export", N_("Export")),
        Binding("l", "log_scale", N_("Log")),
        Binding("m", "smoothing", N_("Smooth")),
        Binding("v", "next_view", N_("View")),
        Binding("tab", "next_panel", N_("Next panel"), show=False),
        *(Binding(str(n), f"show_panel({n - 1})", PANEL_TITLES[n - 1], show=False) for n in range(1, 6)),
        Binding("escape", "back", N_("Back")),
        Binding("f2", "app.runs", N_("Runs"), show=False),
        Binding("q", "app.quit", N_("Quit")),
    ]

    def __init__(self, state: RunState | None = None, ghosts: list[RunState] | None = None) -> None:
        super().__init__()
        self.recorded = state  # None: follow the app's live run
        self.ghosts = ghosts or []
        self.panel = 0  # the panel shown in compact layout
        self.pacer = DrawPacer()  # the charts charge it the time they take to build (KeyedPlot.render)
        self._drew_end = False  # whether the frame drawn last showed the run ended

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Pause, Resume and Stop are offered only while the live run trains (or is paused): a recorded or
        finished run (completed, stopped, crashed...) has nothing to pause or stop."""
        if action in ("pause", "resume", "stop"):
            if self.recorded is not None or self.state.finished or self.state.status == "idle":
                return False
            if action != "stop":
                return self.app.paused == (action == "resume")
        if action in ("try_next", "pin"):  # for a run that has ended
            return self.recorded is not None or self.state.finished
        return True

    @property
    def state(self) -> RunState:
        """The run shown: the recorded one, or the app's live run."""
        return self.recorded or self.app.live

    @property
    def live(self) -> bool:
        """True when the screen follows the app's live run."""
        return self.recorded is None

    def compose(self) -> ComposeResult:
        """The header, the panel tabs, the five panels and the footer."""
        yield RunHeader(id="header")
        yield Static("", id="panel-tabs")  # the compact layout's one panel at a time: which, and how to switch
        with Grid(id="panels"):
            yield LossChart(id="loss")
            yield MetricChart(id="metric")
            yield OverfitPanel(id="overfit")
            yield ModelView(id="model")
            yield LogPanel(id="log")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Lay out for the terminal's size, draw, and redraw as the pacer allows."""
        self.on_resize()
        self.redraw()
        self.set_interval(REDRAW_INTERVAL_S, self.tick)

    def tick(self) -> None:
        """A frame when one is due, and always the first one after the run has ended."""
        ended = self.state.finished
        if self.pacer.due() or (ended and not self._drew_end):
            self._drew_end = ended
            with self.pacer.timing():
                self.redraw()

    def on_resize(self, event=None) -> None:
        """The compact layout (one panel at a time) or the tiny one (no borders), as the terminal's size asks."""
        compact = self.app.size.width < COMPACT_WIDTH or self.app.size.height < COMPACT_HEIGHT
        self.set_class(compact, "-compact")
        self.set_class(self.app.size.height < TINY_HEIGHT, "-tiny")  # no panel borders: every row for the data
        self._show_panel()

    def _show_panel(self) -> None:
        for i, name in enumerate(PANELS):
            self.query_one(f"#{name}").set_class(i == self.panel, "-shown")
        tabs = Text()
        metric = metric_label(self.state.metric)
        for i, title in enumerate(PANEL_TITLES):
            title = metric if PANELS[i] == "metric" else _(title)
            if i == self.panel:
                tabs.append(f" {i + 1} {title} ", style="bold reverse")
            else:
                tabs.append(f" {i + 1} {title} ", style="dim")
        tabs.append("  " + _("tab: next"), style="dim")
        self.query_one("#panel-tabs", Static).update(tabs)

    def redraw(self) -> None:
        """Bring every panel up to the state; each widget skips work when nothing changed."""
        state = self.state
        ghosts = self.ghosts if self.recorded else self.app.ghosts
        header = self.query_one(RunHeader)
        shown = header.status
        header.update_from(state, paused=self.live and self.app.paused)
        if header.status != shown:
            self.refresh_bindings()  # the footer follows the state: no Pause once a run has ended
            self._show_panel()  # the metric's name arrives with the plan
        self.query_one(LossChart).update_from(state, ghosts)
        self.query_one(MetricChart).update_from(state, ghosts)
        self.query_one(OverfitPanel).update_from(state)
        self.query_one(ModelView).update_from(state)
        self.query_one(LogPanel).update_from(state)

    def relabel(self) -> None:
        """Every word in the language spoken now (after a language switch); the run and its charts stay."""
        self.state.version += 1  # every panel draws again, with the new words
        self.query_one(ModelView).relabel(self.state)
        self._show_panel()
        self.redraw()

    # Actions

    def action_pause(self) -> None:
        """Pause the live run."""
        self.app.toggle_pause()
        self.redraw()

    def action_resume(self) -> None:
        """Resume the paused live run."""
        self.app.toggle_pause()
        self.redraw()

    def action_stop(self) -> None:
        """Stop the live run while it trains."""
        if self.live and not self.state.finished:
            self.app.stop_run()

    def action_tweak(self) -> None:
        """Back to the form with this run's settings, to change one and run again; this run stays as a ghost."""
        self.app.tweak_and_rerun(self.state)

    def action_pin(self) -> None:
        """Pin this run: the next run draws it as a ghost, to compare."""
        self.app.pin_ghost(self.state)

    def action_export(self) -> None:
        """Export this run's reports and a screenshot of the dashboard into its directory."""
        self.app.export_run(self.state)

    def action_try_next(self) -> None:
        """Run the lesson's variation once this run has finished."""
        if self.live and not self.state.finished:
            self.notify(_("Let the lesson's run finish (or stop it with s) before trying its variation."))
            return
        self.app.try_next(self.state)

    def action_log_scale(self) -> None:
        """Switch the loss chart between a linear and a logarithmic y axis."""
        chart = self.query_one(LossChart)
        chart.log_scale = not chart.log_scale

    def action_smoothing(self) -> None:
        """Switch the loss chart's smoothing on or off."""
        chart = self.query_one(LossChart)
        chart.smoothing = not chart.smoothing

    def action_next_view(self) -> None:
        """Show the model panel's next view."""
        self.query_one(ModelView).action_next_view()

    def action_next_panel(self) -> None:
        """Show the next panel (compact layout)."""
        self.action_show_panel((self.panel + 1) % len(PANELS))

    def action_show_panel(self, index: int) -> None:
        """Show the panel of this index (compact layout)."""
        self.panel = index
        self._show_panel()

    def action_back(self) -> None:
        """Back to the previous screen."""
        self.app.pop_screen()
