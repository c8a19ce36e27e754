"""What the model does right now, one view at a time: the decision boundary or fitted curve,
images, the confusion matrix and per-layer norms, as tabs for the views this task has."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static, TabbedContent, TabPane

from nnplay.tui.state import RunState
from nnplay.tui.widgets.boundary_view import BoundaryView
from nnplay.tui.widgets.confusion_view import ConfusionView
from nnplay.tui.widgets.curve_view import CurveView
from nnplay.tui.widgets.image_grid import ImageGrid
from nnplay.tui.widgets.layer_norms import LayerNorms

# Which tab shows which snapshot view, and the tab's title for it; tabs keep this order.
VIEW_TABS = {
    "boundary": ("prediction", "boundary"),
    "surface": ("prediction", "surface"),
    "curve": ("fit", "fit"),
    "forecast": ("fit", "forecast"),
    "samples": ("images", "samples"),
    "reconstructions": ("images", "reconstructions"),
    "generated": ("generated", "generated"),
    "confusion": ("confusion", "confusion"),
    "layers": ("layers", "layers"),
}
TAB_ORDER = ("prediction", "fit", "images", "generated", "confusion", "layers")


class ModelView(Widget):
    """Tabs for the snapshot views present in the run; "waiting for the first snapshot" before."""

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

    BINDINGS = [Binding("v", "next_view", "next view")]

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._drawn_key: tuple | None = None
        self.available: list[str] = []  # tab ids with data, in TAB_ORDER

    def compose(self) -> ComposeResult:
        """The waiting line and one tab per view."""
        yield Static("waiting for the first snapshot", id="waiting")
        with TabbedContent(id="views"):
            with TabPane("prediction", id="prediction"):
                yield BoundaryView()
            with TabPane("fit", id="fit"):
                yield CurveView()
            with TabPane("images", id="images"), VerticalScroll():
                yield ImageGrid(views=("samples", "reconstructions"))
            with TabPane("generated", id="generated"), VerticalScroll():
                yield ImageGrid(views=("generated",))
            with TabPane("confusion", id="confusion"), VerticalScroll():
                yield ConfusionView()
            with TabPane("layers", id="layers"), VerticalScroll():
                yield LayerNorms()

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
        titles = {VIEW_TABS[v][0]: VIEW_TABS[v][1] for v in state.snapshots if v in VIEW_TABS}
        available = [tab for tab in TAB_ORDER if tab in titles]
        if available != self.available:
            self._show_tabs(available)
        tabs = self.query_one(TabbedContent)
        for tab_id, title in titles.items():
            tab = tabs.get_tab(tab_id)
            if str(tab.label) != title:
                tab.label = title
        self.set_class(bool(available), "-ready")

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
