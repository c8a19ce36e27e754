"""The task's metric per epoch (accuracy, R² or reconstruction error), train vs validation."""

from __future__ import annotations

from tui.report import train_label
from tui.state import METRIC_LABELS, RunState
from tui.widgets.loss_chart import (
    GHOST_TRAIN_COLOR,
    GHOST_VAL_COLOR,
    TRAIN_COLOR,
    VAL_COLOR,
    drawable,
    ghost_label,
)
from tui.widgets.run_chart import Curve, RunChart

# R² is unbounded below (a fresh network easily scores -50); clipping keeps the useful range readable.
R2_FLOOR = -1.0


class MetricChart(RunChart):
    """Train vs validation metric; accuracy in percent. `drawn` holds what is on screen."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.clipped = False
        self.replot()  # the empty chart says what it waits for

    @property
    def metric(self) -> str:
        return self._state.metric if self._state is not None else "accuracy"

    def _curve(self, state: RunState, split: str) -> Curve:
        xs, ys = drawable(*state.series[f"{split}_{self.metric}"].points())
        if self.metric == "accuracy":
            ys = [100 * y for y in ys]
        elif self.metric == "r2" and any(y < R2_FLOOR for y in ys):
            ys = [max(y, R2_FLOOR) for y in ys]
            self.clipped = True
        return xs, ys

    def replot(self) -> None:
        """Clear, plot the current data, refresh."""
        plt = self.plt
        plt.clear_figure()
        self.drawn, self.clipped = {}, False
        curves: list[tuple[str, RunState, str, tuple[int, int, int]]] = []
        for index, ghost in enumerate(self._ghosts):
            # Only ghosts of the same task share the metric; labels match the loss chart's numbering.
            if ghost.metric == self.metric:
                label_train, label_val = (ghost_label(s, index, len(self._ghosts)) for s in ("train", "val"))
                curves += [(label_train, ghost, "train", GHOST_TRAIN_COLOR), (label_val, ghost, "val", GHOST_VAL_COLOR)]
        if self._state is not None:
            curves += [("train", self._state, "train", TRAIN_COLOR), ("val", self._state, "val", VAL_COLOR)]
        for label, state, split, color in curves:
            xs, ys = self._curve(state, split)
            if xs:
                shown = train_label(state.plan) if label == "train" else label  # says so when measured on a subset
                plt.plot(xs, ys, label=shown, color=color)
                self.drawn[label] = (xs, ys)
        self.finish_plot(self._title())

    def _title(self) -> str:
        title = METRIC_LABELS.get(self.metric, self.metric)
        if self.metric == "accuracy":
            title += " (%)"
        elif self.metric == "recon_error":
            title += " (lower is better)"
        if self.clipped:
            title += f" (clipped at {R2_FLOOR:g})"
        return title if self.drawn else f"{title}: waiting for the first epoch"
