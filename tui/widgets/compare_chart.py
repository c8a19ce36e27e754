"""Loss curves of several recorded runs on one chart, each run in its own colour."""

from __future__ import annotations

from nnplay.engine.core.i18n import _
from nnplay.tui.state import RunState
from nnplay.tui.widgets.keyed_plot import DOTTED, SOLID, KeyedPlot

PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75))


class CompareChart(KeyedPlot):
    """Validation loss (solid) and training loss (dotted) of each run, labelled by run name."""

    DEFAULT_CSS = """
    CompareChart { min-height: 8; }
    """
    # KeyedPlot redraws on resize: `replot()` needs nothing but the runs.

    def __init__(self, runs: list[tuple[str, RunState]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.runs = runs
        self.drawn: dict[str, tuple[list[float], list[float]]] = {}

    def on_mount(self) -> None:
        """Draw the runs as soon as the chart is mounted."""
        self.replot()

    def replot(self) -> None:
        """Draw every run's validation and training loss in its colour; refresh."""
        self.begin(_("loss by epoch: validation ━━, training ┅┅"))
        self.drawn = {}
        for index, (label, state) in enumerate(self.runs):
            color = PALETTE[index % len(PALETTE)]
            for key, suffix, marker in (("val_loss", "val", "braille"), ("train_loss", "train", "dot")):
                xs, ys = state.series[key].points()
                if xs:
                    self.plt.plot(xs, ys, color=color, marker=marker)
                    self.drawn[f"{label} {suffix}"] = (xs, ys)
            self.key_entry(label, color, SOLID if f"{label} val" in self.drawn else DOTTED)
        if not self.drawn:
            self.set_title(_("no epochs recorded in these runs"))
        self.refresh()
