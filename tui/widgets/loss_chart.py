"""Training vs validation loss per epoch, with earlier runs as dim ghosts for comparison."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive

from nnplay.engine.core.i18n import _
from nnplay.tui.charts import finite_pairs
from nnplay.tui.report import train_label
from nnplay.tui.state import RunState, Series
from nnplay.tui.widgets.keyed_plot import BLOCK, rich_color, segments
from nnplay.tui.widgets.run_chart import (
    BEST_COLOR,
    GHOST_TRAIN_COLOR,
    GHOST_VAL_COLOR,
    LABELS,
    TRAIN_COLOR,
    VAL_COLOR,
    Curve,
    RunChart,
    ghost_key,
)

EMA_ALPHA = 0.3
Y_MARGIN = 0.1  # ghosts may reach this far (a share of the live run's span) beyond the live curves


def ema(ys: Sequence[float], alpha: float = EMA_ALPHA) -> list[float]:
    """Exponential moving average, the way TensorBoard smooths noisy loss curves."""
    smoothed: list[float] = []
    for y in ys:
        smoothed.append(y if not smoothed else alpha * y + (1 - alpha) * smoothed[-1])
    return smoothed


def drawable(xs: Sequence, ys: Sequence, log_scale: bool = False, smoothing: bool = False) -> Curve:
    """What plotext can draw: finite points only, positive ones on a log axis, optionally smoothed."""
    xs, ys = finite_pairs(list(xs), list(ys))
    if log_scale:
        kept = [(x, y) for x, y in zip(xs, ys, strict=True) if y > 0]
        xs, ys = [x for x, _y in kept], [y for _x, y in kept]
    if smoothing:
        ys = ema(ys)
    return xs, ys


def log_ticks(ys: Sequence[float]) -> tuple[list[float], list[str]]:
    """Tick positions (log10) and labels (loss units) at 1, 2 and 5 times powers of ten."""
    lo, hi = math.log10(min(ys)), math.log10(max(ys))
    decades = range(math.floor(lo), math.ceil(hi) + 1)
    steps = (1,) if len(decades) > 4 else (1, 2, 5)
    values = [m * 10.0**d for d in decades for m in steps if lo - 1e-9 <= math.log10(m * 10.0**d) <= hi + 1e-9]
    if len(values) < 2:  # a range inside one step: label its ends
        values = sorted({min(ys), max(ys)})
    return [math.log10(v) for v in values], [f"{v:.3g}" for v in values]


def ghost_label(name: str, index: int, n_ghosts: int) -> str:
    """'val (prev)' for the one earlier run, 'val (prev 2)' and so on when several are kept: the keys of
    `drawn`, which tests and exports read (not shown: the key names a ghost by ghost_name)."""
    return f"{name} (prev)" if n_ghosts == 1 else f"{name} (prev {index + 1})"


def value_range(curves: Sequence[Curve], margin: float = Y_MARGIN) -> tuple[float, float] | None:
    """The y range of some curves, widened by a margin of its span on each side."""
    ys = [y for _xs, c in curves for y in c]
    if not ys:
        return None
    lo, hi = min(ys), max(ys)
    pad = (hi - lo) * margin or abs(hi) * margin or 1.0
    return lo - pad, hi + pad


def train_series(state: RunState) -> Series:
    """Training loss in evaluation mode, else the running average measured during the epoch."""
    measured = state.series["train_loss"]
    return measured if len(measured) or measured.last else state.series["train_loss_running"]


def best_epoch(state: RunState) -> float | None:
    """The engine's best epoch (`RunState.best`) on the chart's x axis, which in k-fold mode continues
    across folds; None after a cross-validation, whose folds each have their own. A grid's or random search's
    final verdict is its best member's, whose best epoch is not the mean curve's: the chart keeps the mean's."""
    epoch, _loss = state.best
    if "member" in (state.diagnosis or {}):
        best = (state.last_epoch or {}).get("best_epoch")
        epoch = int(best) if isinstance(best, int | float) else None
    if epoch is None:
        return None
    return epoch + len(state.folds) * int((state.plan or {}).get("epochs") or 0)


class LossChart(RunChart):
    """Loss per epoch: train (eval mode) and validation, optional log scale and EMA smoothing.

    `update_from(state, ghosts)` is cheap when nothing changed; what was last drawn is kept in
    `drawn` (label -> (epochs, losses)) so tests and exports can see exactly what is on screen.
    """

    log_scale: reactive[bool] = reactive(False)
    smoothing: reactive[bool] = reactive(False)

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.best_marker: float | None = None
        self.mean_of: int | None = None  # a sweep: how many runs the curves are the mean of
        self.replot()  # the empty chart says what it waits for

    def watch_log_scale(self) -> None:
        """Draw again on the new scale."""
        self.replot()

    def watch_smoothing(self) -> None:
        """Draw again with or without smoothing."""
        self.replot()

    def replot(self) -> None:
        """Clear; draw the ghosts (clipped to the live run's y range), a sweep's min–max bands, the live
        curves and the best epoch; refresh. `drawn` records every curve by label."""
        self.begin()
        self.drawn = {}
        to_y = (lambda ys: [math.log10(y) for y in ys]) if self.log_scale else list
        live: dict[str, Curve] = {}
        if self._state is not None:
            for name in ("train", "val"):
                for bound in ("min", "max"):
                    series = self._state.series[f"{name}_loss_{bound}"]
                    if len(series) or series.last:
                        live[f"{name} {bound}"] = self._prepare(series)
            live["train"] = self._prepare(train_series(self._state))
            live["val"] = self._prepare(self._state.series["val_loss"])
        live = {label: curve for label, curve in live.items() if curve[0]}
        y_range = value_range([(xs, to_y(ys)) for xs, ys in live.values()])
        self._ghost_curves(to_y, y_range)
        members = (self._state.last_epoch or {}).get("members") if self._state is not None else None
        plan = self._state.plan if self._state is not None else None
        band_key = Text()
        for name, color in (("train", GHOST_TRAIN_COLOR), ("val", GHOST_VAL_COLOR)):
            if f"{name} min" in live and f"{name} max" in live:
                (xs, lows), (_xs, highs) = live[f"{name} min"], live[f"{name} max"]
                self.band(xs, to_y(lows), to_y(highs), color=color)
                self.drawn[f"{name} min"], self.drawn[f"{name} max"] = (xs, lows), (xs, highs)
                band_key.append(BLOCK, style=rich_color(color))
        for name, color in (("train", TRAIN_COLOR), ("val", VAL_COLOR)):
            if name in live:
                label = train_label(plan) if name == "train" else _(LABELS[name])
                self.line(live[name][0], to_y(live[name][1]), label=label, color=color)
                self.drawn[name] = live[name]
        if band_key:  # one entry for both bands: the spread of the runs around their mean
            self.key_text(band_key.append(" " + _("lowest to highest run")))
        self.mean_of = members if band_key else None
        self.best_marker = None
        best = best_epoch(self._state) if self._state is not None else None
        live_xs = [x for name in ("train", "val") for x in live.get(name, ([], []))[0]]
        if best is not None and live_xs and min(live_xs) <= best <= max(live_xs):
            self.plt.vline(best, color=BEST_COLOR)
            self.best_marker = best
            self.key_entry(_("best epoch {epoch}").format(epoch=f"{best:g}"), BEST_COLOR, "│")
        if y_range is not None and self._ghosts:
            self.plt.ylim(*y_range)
        if self.log_scale and self.drawn:
            ys = [y for _xs, ys in live.values() for y in ys] or [y for _xs, ys in self.drawn.values() for y in ys]
            self.plt.yticks(*log_ticks(ys))
        self.finish_plot(self._title(), _(", mean of {count} runs").format(count=self.mean_of) if self.mean_of else "")

    def _ghost_curves(self, to_y, y_range: tuple[float, float] | None) -> None:
        """Earlier runs, dim, under the live curves; inside the live run's range when there is one."""
        for index, ghost in enumerate(self._ghosts):
            for name, series, color in (
                ("train", train_series(ghost), GHOST_TRAIN_COLOR),
                ("val", ghost.series["val_loss"], GHOST_VAL_COLOR),
            ):
                xs, ys = self._prepare(series)
                if not xs:
                    continue
                label = ghost_label(name, index, len(self._ghosts))
                self.drawn[label] = (xs, ys)
                shown = to_y(ys)
                parts = segments(xs, shown, *y_range) if y_range else [(xs, shown)]
                for part_xs, part_ys in parts:
                    self.line(part_xs, part_ys, color=color)
            self.key_text(ghost_key(ghost, index, len(self._ghosts)))

    def _prepare(self, series: Series) -> Curve:
        return drawable(*series.points(), log_scale=self.log_scale, smoothing=self.smoothing)

    def _title(self) -> str:
        if self.log_scale and self.smoothing:
            title = _("loss (log, smoothed)")
        elif self.log_scale:
            title = _("loss (log)")
        elif self.smoothing:
            title = _("loss (smoothed)")
        else:
            title = _("loss")
        return title if self.drawn else _("{title}: waiting for the first epoch").format(title=title)
