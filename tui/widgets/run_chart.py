"""The base of the charts that draw a run's curves over epochs, with earlier runs as ghosts."""

from __future__ import annotations

import math
from collections.abc import Sequence

from textual_plotext import PlotextPlot

from tui.state import RunState

Curve = tuple[list[float], list[float]]


def epoch_ticks(xs: Sequence[float], count: int = 6) -> list[int]:
    """Whole-epoch ticks at a round step (1, 2, 5, 10, 20, ...); plotext alone labels epoch 10.8."""
    if not xs:
        return []
    lo, hi = math.floor(min(xs)), math.ceil(max(xs))
    raw = max(1.0, (hi - lo) / max(1, count - 1))
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    ticks = [t for t in range(math.ceil(lo / step) * step, hi + 1, step)]
    return ticks if len(ticks) >= 2 else sorted({lo, hi})


class RunChart(PlotextPlot):
    """Keeps the run and its ghosts; `update_from` calls `replot()` only when one of them changed.

    Subclasses define `replot()` (clear, plot, refresh) and record what is on screen in `drawn` (label -> (xs, ys)).
    """

    DEFAULT_CSS = """
    RunChart {
        min-height: 6;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._state: RunState | None = None
        self._ghosts: list[RunState] = []
        self._drawn_key: tuple | None = None
        self.drawn: dict[str, Curve] = {}

    def update_from(self, state: RunState, ghosts: Sequence[RunState] = ()) -> None:
        """Redraw if the run (or a ghost) changed since the last call."""
        key = (id(state), state.version, tuple((id(g), g.version) for g in ghosts))
        if key == self._drawn_key:
            return
        self._drawn_key = key
        self._state, self._ghosts = state, list(ghosts)
        self.replot()

    def finish_plot(self, title: str) -> None:
        """The end of every `replot()`: whole-epoch ticks under all that is drawn, the title and the
        axis label, then a refresh."""
        if ticks := epoch_ticks([x for xs, _ in self.drawn.values() for x in xs]):
            self.plt.xticks(ticks)
        self.plt.title(title)
        self.plt.xlabel("epoch")
        self.refresh()
