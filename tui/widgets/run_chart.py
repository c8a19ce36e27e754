"""The base of the charts that draw a run's curves over epochs, with earlier runs as ghosts."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plotext import PlotextPlot

from tui.state import RunState

Curve = tuple[list[float], list[float]]


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
