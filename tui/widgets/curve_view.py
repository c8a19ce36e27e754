"""What a regression model predicts: the fitted curve over the training points (`curve`), or
actual vs predicted values over validation samples (`forecast`)."""

from __future__ import annotations

from nnplay.engine.core.i18n import N_, _
from nnplay.tui.state import RunState, is_number
from nnplay.tui.widgets.keyed_plot import KeyedPlot
from nnplay.tui.widgets.loss_chart import drawable
from nnplay.tui.widgets.run_chart import TRAIN_COLOR, VAL_COLOR, Curve

POINT_COLOR = (235, 235, 240)


class CurveView(KeyedPlot):
    """A `curve` or `forecast` snapshot; `drawn` holds what is on screen (label -> (x, y))."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.snapshot: dict | None = None
        self.drawn: dict[str, Curve] = {}
        self.replot()  # the empty chart says what it waits for

    def update_from(self, state: RunState) -> None:
        """Show the state's latest curve (or forecast) snapshot, if it is new."""
        self.set_snapshot(state.snapshots.get("curve") or state.snapshots.get("forecast"))

    def set_snapshot(self, snapshot: dict | None) -> None:
        """Show one snapshot event; the same object again costs nothing."""
        if snapshot is self.snapshot:
            return
        self.snapshot = snapshot
        self.replot()

    def replot(self) -> None:
        """Clear, plot the current snapshot, refresh."""
        self.begin(_("waiting for the first snapshot"))
        self.drawn = {}
        snapshot = self.snapshot or {}
        if snapshot.get("view") == "forecast":
            self._forecast(snapshot)
        elif snapshot.get("view") == "curve":
            self._curve(snapshot)
        self.refresh()

    def _curve(self, snapshot: dict) -> None:
        points = snapshot.get("points") or {}
        data = drawable(points.get("x") or [], points.get("y") or [])
        model = drawable(snapshot.get("x") or [], snapshot.get("prediction") or [])
        # The model first, so the training points sit on top of a curve that passes through them.
        self.set_title(_("model vs training data") + self._epoch(snapshot))
        if model[0]:
            self.line(*model, label=_("model"), color=VAL_COLOR)
            self.drawn["model"] = model
        if data[0]:
            self.plt.scatter(*data, color=POINT_COLOR, marker="●")
            self.key_entry(_("training data"), POINT_COLOR, "●")
            self.drawn["training data"] = data
        self.plt.xlabel("x")

    def _forecast(self, snapshot: dict) -> None:
        for label, key, color in ((N_("actual"), "actual", TRAIN_COLOR), (N_("predicted"), "prediction", VAL_COLOR)):
            values = snapshot.get(key) or []
            curve = drawable(range(len(values)), values)
            if curve[0]:
                self.line(*curve, label=_(label), color=color)
                self.drawn[label] = curve
        self.set_title(_("actual vs predicted, validation samples") + self._epoch(snapshot))
        self.plt.xlabel(_("sample"))

    @staticmethod
    def _epoch(snapshot: dict) -> str:
        epoch = snapshot.get("epoch")
        return " · " + _("epoch {epoch}").format(epoch=epoch) if is_number(epoch) else ""
