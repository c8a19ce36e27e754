"""Training vs validation loss per epoch, with earlier runs as dim ghosts for comparison."""

from __future__ import annotations

import math
from collections.abc import Sequence

from textual.reactive import reactive

from tui.charts import finite_pairs
from tui.report import train_label
from tui.state import RunState, Series
from tui.widgets.run_chart import Curve, RunChart

# Live curves are saturated; ghosts (earlier runs) are the same hues, darker, so they read as background.
TRAIN_COLOR = (90, 160, 255)
VAL_COLOR = (255, 150, 60)
GHOST_TRAIN_COLOR = (60, 80, 115)
GHOST_VAL_COLOR = (120, 85, 55)
BEST_COLOR = (110, 200, 120)
EMA_ALPHA = 0.3


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
        xs, ys = [x for x, _ in kept], [y for _, y in kept]
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


def legend(label: str) -> str | None:
    """The legend's entry for a curve: a band's two bounds share one entry ("train min–max")."""
    if label.endswith(" min"):
        return None
    if label.endswith(" max"):
        return label.removesuffix(" max") + " min–max"
    return label


def ghost_label(name: str, index: int, n_ghosts: int) -> str:
    """'val (prev)' for the one earlier run, 'val (prev 2)' and so on when several are kept."""
    return f"{name} (prev)" if n_ghosts == 1 else f"{name} (prev {index + 1})"


def train_series(state: RunState) -> Series:
    """Training loss in evaluation mode, else the running average measured during the epoch."""
    measured = state.series["train_loss"]
    return measured if len(measured) or measured.last else state.series["train_loss_running"]


def best_epoch(state: RunState) -> float | None:
    """The engine's best epoch (`RunState.best`) on the chart's x axis, which in k-fold mode continues
    across folds; None after a cross-validation, whose folds each have their own."""
    epoch, _ = state.best
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
        self.replot()  # the empty chart says what it waits for

    def watch_log_scale(self) -> None:
        self.replot()

    def watch_smoothing(self) -> None:
        self.replot()

    def curves(self) -> dict[str, tuple[Curve, tuple[int, int, int]]]:
        """Every curve to draw, ghosts first so live curves paint over them."""
        curves: dict[str, tuple[Curve, tuple[int, int, int]]] = {}
        for index, ghost in enumerate(self._ghosts):
            for name, series, color in (
                ("train", train_series(ghost), GHOST_TRAIN_COLOR),
                ("val", ghost.series["val_loss"], GHOST_VAL_COLOR),
            ):
                curves[ghost_label(name, index, len(self._ghosts))] = (self._prepare(series), color)
        if self._state is not None:
            # A sweep: its min–max band as dim bounds under the members' mean.
            for name, color in (("val", GHOST_VAL_COLOR), ("train", GHOST_TRAIN_COLOR)):
                for bound in ("min", "max"):
                    series = self._state.series[f"{name}_loss_{bound}"]
                    if len(series) or series.last:
                        curves[f"{name} {bound}"] = (self._prepare(series), color)
            curves["train"] = (self._prepare(train_series(self._state)), TRAIN_COLOR)
            curves["val"] = (self._prepare(self._state.series["val_loss"]), VAL_COLOR)
        return curves

    def _prepare(self, series: Series) -> Curve:
        return drawable(*series.points(), log_scale=self.log_scale, smoothing=self.smoothing)

    def replot(self) -> None:
        """Clear, plot the current data, refresh."""
        plt = self.plt
        plt.clear_figure()
        self.drawn = {}
        for label, ((xs, ys), color) in self.curves().items():
            if xs:
                # plotext's own log axis re-applies log10 on every build (each render), so the chart
                # plots log10(loss) itself and labels the ticks in loss units.
                shown = legend(label)
                if shown == "train" and self._state is not None:
                    shown = train_label(self._state.plan)  # says so when measured on a subset
                plt.plot(xs, [math.log10(y) for y in ys] if self.log_scale else ys, label=shown, color=color)
                self.drawn[label] = (xs, ys)
        self.best_marker = None
        best = best_epoch(self._state) if self._state is not None else None
        live_xs = [x for label in ("train", "val") for x in self.drawn.get(label, ([], []))[0]]
        if best is not None and live_xs and min(live_xs) <= best <= max(live_xs):
            plt.vline(best, color=BEST_COLOR)
            self.best_marker = best
        if self.log_scale and self.drawn:
            plt.yticks(*log_ticks([y for _, ys in self.drawn.values() for y in ys]))
        self.finish_plot(self._title())

    def _title(self) -> str:
        modes = [m for m, on in (("log", self.log_scale), ("smoothed", self.smoothing)) if on]
        title = f"loss ({', '.join(modes)})" if modes else "loss"
        if not self.drawn:
            return f"{title}: waiting for the first epoch"
        if self.best_marker is not None:
            title += f"  | best epoch {self.best_marker:g}"
        return title
