"""The base of the charts that draw a run's curves over epochs, with earlier runs as ghosts."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text

from nnplay.engine.core.i18n import N_, _
from nnplay.tui.state import RunState
from nnplay.tui.widgets.keyed_plot import DOTTED, KeyedPlot, rich_color

Curve = tuple[list[float], list[float]]
# Live curves are saturated; ghosts (earlier runs) and a sweep's band are the same hues, darker, so
# they read as background.
TRAIN_COLOR = (90, 160, 255)
VAL_COLOR = (255, 150, 60)
GHOST_TRAIN_COLOR = (60, 80, 115)
GHOST_VAL_COLOR = (120, 85, 55)
BEST_COLOR = (110, 200, 120)
LABELS = {"train": N_("train"), "val": N_("validation")}  # translated where drawn


def ghost_name(ghost: RunState, index: int, n_ghosts: int) -> str:
    """'prev', or 'prev 2' when several are kept; with what changed since it, when the app knows."""
    which = _("prev") if n_ghosts == 1 else _("prev {number}").format(number=index + 1)
    return f"{which}: {ghost.change}" if ghost.change else which


def ghost_key(ghost: RunState, index: int, n_ghosts: int) -> Text:
    """One key entry for an earlier run's two curves: both dim swatches, then its name."""
    return Text.assemble(
        (DOTTED, rich_color(GHOST_TRAIN_COLOR)),
        (DOTTED + " ", rich_color(GHOST_VAL_COLOR)),
        ghost_name(ghost, index, n_ghosts),
    )


def epoch_ticks(xs: Sequence[float], count: int = 6) -> list[float]:
    """Whole-epoch ticks at a round step (1, 2, 5, 10, 20, ...); plotext alone labels epoch 10.8."""
    if not xs:
        return []
    lo, hi = math.floor(min(xs)), math.ceil(max(xs))
    raw = max(1.0, (hi - lo) / max(1, count - 1))
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    ticks: list[float] = [t for t in range(math.ceil(lo / step) * step, hi + 1, step)]  # whole numbers
    return ticks if len(ticks) >= 2 else sorted({lo, hi})


class RunChart(KeyedPlot):
    """Keeps the run and its ghosts; `update_from` calls `replot()` only when one of them changed.

    Subclasses define `replot()` (clear, plot, refresh) and record what is on screen in `drawn` (label -> (xs, ys)).
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

    def finish_plot(self, title: str, note: str = "") -> None:
        """The end of every `replot()`: whole-epoch ticks under all that is drawn, the title (the
        x axis is the epoch: the title says so, which leaves one more row to the curves), a refresh."""
        if ticks := epoch_ticks([x for xs, _ys in self.drawn.values() for x in xs]):
            self.plt.xticks(ticks)
        self.set_title(_("{title} by epoch").format(title=title) + note if self.drawn else title)
        self.refresh()
