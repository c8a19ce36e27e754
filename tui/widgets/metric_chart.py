"""The task's metric per epoch (accuracy, R² or reconstruction error), train vs validation."""

from __future__ import annotations

from nnplay.engine.core.i18n import _
from nnplay.tui.report import train_label
from nnplay.tui.state import RunState, metric_label
from nnplay.tui.widgets.keyed_plot import segments
from nnplay.tui.widgets.loss_chart import drawable, ghost_label, value_range
from nnplay.tui.widgets.run_chart import (
    GHOST_TRAIN_COLOR,
    GHOST_VAL_COLOR,
    LABELS,
    TRAIN_COLOR,
    VAL_COLOR,
    Curve,
    RunChart,
    ghost_key,
)

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
        """The metric charted: the run's, or accuracy before there is one."""
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
        """Clear; draw same-task ghosts inside the live run's range, then the live curves; refresh."""
        self.begin()
        self.drawn, self.clipped = {}, False
        live: dict[str, Curve] = {}
        if self._state is not None:
            for split in ("train", "val"):
                curve = self._curve(self._state, split)
                if curve[0]:
                    live[split] = curve
        y_range = value_range(list(live.values()))
        for index, ghost in enumerate(self._ghosts):
            # Only ghosts of the same task share the metric; labels match the loss chart's numbering.
            if ghost.metric != self.metric:
                continue
            for split, color in (("train", GHOST_TRAIN_COLOR), ("val", GHOST_VAL_COLOR)):
                xs, ys = self._curve(ghost, split)
                if xs:
                    self.drawn[ghost_label(split, index, len(self._ghosts))] = (xs, ys)
                    for part in segments(xs, ys, *y_range) if y_range else [(xs, ys)]:
                        self.line(*part, color=color)
                    self.key_text(ghost_key(ghost, index, len(self._ghosts)))
        plan = self._state.plan if self._state is not None else None
        for split, color in (("train", TRAIN_COLOR), ("val", VAL_COLOR)):
            if split in live:
                label = train_label(plan) if split == "train" else _(LABELS[split])
                self.line(*live[split], label=label, color=color)
                self.drawn[split] = live[split]
        if y_range is not None and len(self.drawn) > len(live):
            self.plt.ylim(*y_range)
        self.finish_plot(self._title())

    def _title(self) -> str:
        title = metric_label(self.metric)
        if self.metric == "accuracy":
            title += " (%)"
        elif self.metric == "recon_error":
            title = _("{metric} (lower is better)").format(metric=title)
        if self.clipped:
            title = _("{metric} (clipped at {floor})").format(metric=title, floor=f"{R2_FLOOR:g}")
        return title if self.drawn else _("{title}: waiting for the first epoch").format(title=title)
