"""What the model does right now, one view at a time: the decision boundary or fitted curve,
images, the confusion matrix and per-layer norms, as tabs for the views this task has."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static, TabbedContent, TabPane

from nnplay.engine.core.i18n import N_, _
from nnplay.tui.state import RunState
from nnplay.tui.sweep_view import searched_in
from nnplay.tui.widgets.boundary_view import BoundaryView
from nnplay.tui.widgets.confusion_view import ConfusionView
from nnplay.tui.widgets.curve_view import CurveView
from nnplay.tui.widgets.image_grid import ImageGrid
from nnplay.tui.widgets.layer_norms import LayerNorms
from nnplay.tui.widgets.sweep_results import SweepResults

# Which tab shows which snapshot view, and the tab's title for it (translated where shown); tabs keep this order.
VIEW_TABS = {
    "boundary": ("prediction", N_("boundary")),
    "surface": ("prediction", N_("surface")),
    "curve": ("fit", N_("fit")),
    "forecast": ("fit", N_("forecast")),
    "samples": ("images", N_("samples")),
    "reconstructions": ("images", N_("reconstructions")),
    "generated": ("generated", N_("generated")),
    "confusion": ("confusion", N_("confusion")),
    "layers": ("layers", N_("layers")),
}
# A sweep's results last (shown for sweeps only); a grid's or random search's are in front from the start: they
# are what it is for.
TAB_ORDER = ("prediction", "fit", "images", "generated", "confusion", "layers", "results")
TAB_TITLES = {  # before a snapshot names the view
    "results": N_("results"),
    "prediction": N_("prediction"),
    "fit": N_("fit"),
    "images": N_("images"),
    "generated": N_("generated"),
    "confusion": N_("confusion"),
    "layers": N_("layers"),
}


class ModelView(Widget):
    """Tabs for the snapshot views present in the run, and a sweep's results; "waiting for the first
    snapshot" before."""

    DEFAULT_CSS = """
    ModelView {
        height: 1fr;
    }
    ModelView > #waiting {
        height: 1fr;
        content-align: center middle;
        color: $text-muted;
    }
    ModelView > TabbedContent { display: none; height: 1fr; }
    ModelView.-ready > TabbedContent { display: block; }
    ModelView.-ready > #waiting { display: none; }
    ModelView TabPane { height: 1fr; padding: 0; }
    """

    BINDINGS = [Binding("v", "next_view", N_("next view"))]

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._drawn_key: tuple | None = None
        self.available: list[str] = []  # tab ids with data, in TAB_ORDER
        self._results_shown = False  # whether the results tab was available at the last update

    def compose(self) -> ComposeResult:
        """The waiting line and one tab per view."""
        yield Static(_("waiting for the first snapshot"), id="waiting")
        with TabbedContent(id="views"):
            with TabPane(_(TAB_TITLES["prediction"]), id="prediction"):
                yield BoundaryView()
            with TabPane(_(TAB_TITLES["fit"]), id="fit"):
                yield CurveView()
            with TabPane(_(TAB_TITLES["images"]), id="images"), VerticalScroll():
                yield ImageGrid(views=("samples", "reconstructions"))
            with TabPane(_(TAB_TITLES["generated"]), id="generated"), VerticalScroll():
                yield ImageGrid(views=("generated",))
            with TabPane(_(TAB_TITLES["confusion"]), id="confusion"), VerticalScroll():
                yield ConfusionView()
            with TabPane(_(TAB_TITLES["layers"]), id="layers"), VerticalScroll():
                yield LayerNorms()
            with TabPane(_(TAB_TITLES["results"]), id="results"):
                yield SweepResults()

    def update_from(self, state: RunState) -> None:
        """Pass new snapshots to the views and show the tabs that have data."""
        key = (id(state), state.version)
        if key == self._drawn_key:
            return
        self._drawn_key = key
        views: list[BoundaryView | CurveView | ImageGrid | ConfusionView | LayerNorms] = [
            *self.query(BoundaryView),
            *self.query(CurveView),
            *self.query(ImageGrid),
            *self.query(ConfusionView),
            *self.query(LayerNorms),
        ]
        for view in views:
            view.update_from(state)
        titles = {VIEW_TABS[v][0]: _(VIEW_TABS[v][1]) for v in state.snapshots if v in VIEW_TABS}
        if state.members_total:  # a sweep: its results fill in as its members finish
            self.query_one(SweepResults).update_from(state)
            titles["results"] = _(TAB_TITLES["results"])
        available = [tab for tab in TAB_ORDER if tab in titles]
        if available != self.available:
            self._show_tabs(available)
            if "results" in available and not self._results_shown and searched_in(state.plan):
                self.query_one(TabbedContent).active = "results"  # a search's results, in front once
        self._results_shown = "results" in available
        tabs = self.query_one(TabbedContent)
        for tab_id, title in titles.items():
            tab = tabs.get_tab(tab_id)
            if str(tab.label) != title:
                tab.label = title
        self.set_class(bool(available), "-ready")

    def relabel(self, state: RunState) -> None:
        """Draw every view again, in the current language (after a language switch)."""
        self.query_one("#waiting", Static).update(_("waiting for the first snapshot"))
        tabs = self.query_one(TabbedContent)
        for tab_id, title in TAB_TITLES.items():
            tabs.get_tab(tab_id).label = _(title)
        views: list[BoundaryView | CurveView | ImageGrid | ConfusionView | LayerNorms] = [
            *self.query(BoundaryView),
            *self.query(CurveView),
            *self.query(ImageGrid),
            *self.query(ConfusionView),
            *self.query(LayerNorms),
        ]
        for view in views:
            view.snapshot = {}  # not the state's: drawn again from it (or as waiting), with the new words
        self.query_one(SweepResults).relabel()
        self._drawn_key = None
        self.update_from(state)

    def _show_tabs(self, available: list[str]) -> None:
        tabs = self.query_one(TabbedContent)
        for tab_id in available:
            if tab_id not in self.available:
                tabs.show_tab(tab_id)
        if available and tabs.active not in available:
            tabs.active = available[0]
        for tab_id in TAB_ORDER:
            if tab_id not in available and (tab_id in self.available or not self.available):
                tabs.hide_tab(tab_id)
        self.available = available

    def action_next_view(self) -> None:
        """Cycle to the next tab that has data (bind this from a screen to use it anywhere)."""
        if not self.available:
            return
        tabs = self.query_one(TabbedContent)
        index = self.available.index(tabs.active) if tabs.active in self.available else -1
        tabs.active = self.available[(index + 1) % len(self.available)]
