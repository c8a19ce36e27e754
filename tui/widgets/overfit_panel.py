"""The generalization gap over epochs and the diagnosis in words: best epoch, onset of
overfitting, what early stopping would have done, and the verdict with advice."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from nnplay.engine.core.diagnosis import verdict_name
from nnplay.engine.core.i18n import _
from nnplay.tui.live import table_of
from nnplay.tui.report import folds_table
from nnplay.tui.state import RunState, is_number
from nnplay.tui.sweep_view import verdict_title
from nnplay.tui.widgets.keyed_plot import KeyedPlot
from nnplay.tui.widgets.loss_chart import drawable
from nnplay.tui.widgets.run_chart import VAL_COLOR, Curve, epoch_ticks

ZERO_COLOR = (120, 120, 120)
VERDICT_CLASSES = {
    "overfitting": "-overfitting",
    "underfitting": "-underfitting",
    "still improving": "-underfitting",
    "good fit": "-good-fit",
    "overfitting caught": "-good-fit",
    "learning rate too high": "-diverged",
    "diverged": "-diverged",
}


def _epoch(value) -> str:
    return f"{value:g}" if is_number(value) else "?"


class OverfitPanel(Widget):
    """The verdict and its advice first (the point of the lesson, never scrolled away), the facts behind
    it, then the gap chart in whatever height is left; the verdict line carries a -<verdict> class."""

    DEFAULT_CSS = """
    OverfitPanel {
        height: 1fr;
        layout: vertical;
    }
    OverfitPanel > #gap-chart {
        height: 1fr;
        min-height: 0;
    }
    /* The words take what they need, and scroll beyond the panel; the chart gets the rest. */
    OverfitPanel > #diagnosis {
        height: auto;
        max-height: 100%;
    }
    OverfitPanel #facts, OverfitPanel #verdict {
        height: auto;
        padding: 0 1;
    }
    OverfitPanel #verdict.-overfitting { color: $warning; }
    OverfitPanel #verdict.-underfitting { color: $warning; }
    OverfitPanel #verdict.-good-fit { color: $success; }
    OverfitPanel #verdict.-diverged { color: $error; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._drawn_key: tuple | None = None
        self.gap: Curve = ([], [])
        self.verdict: str | None = None

    def compose(self) -> ComposeResult:
        """The verdict and its facts above the generalization-gap chart."""
        with VerticalScroll(id="diagnosis"):
            yield Static("", id="verdict")
            yield Static(_("no diagnosis yet: it arrives with the first snapshot"), id="facts")
        yield KeyedPlot(id="gap-chart")

    def update_from(self, state: RunState) -> None:
        """Redraw the gap and the diagnosis if the run changed since the last call."""
        key = (id(state), state.version)
        if key == self._drawn_key:
            return
        self._drawn_key = key
        self.replot(state)
        self._describe(state)

    def replot(self, state: RunState) -> None:
        """Clear, plot the gap with a zero line, refresh."""
        xs, ys = state.series["gap"].points()
        if not xs and state.diagnosis:  # e.g. a run rebuilt from a diagnosis alone
            pairs = state.diagnosis.get("generalization_gap") or []
            xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
        self.gap = drawable(xs, ys)
        chart = self.query_one("#gap-chart", KeyedPlot)
        if self.gap[0]:
            chart.begin(_("generalization gap by epoch"))
            chart.line(*self.gap, label=_("validation − train loss"), color=VAL_COLOR)
            chart.plt.hline(0, color=ZERO_COLOR)
            chart.plt.xticks(epoch_ticks(self.gap[0]))
        else:
            chart.begin(_("generalization gap: waiting for validation loss"))
        chart.refresh()

    def _describe(self, state: RunState) -> None:
        diagnosis = state.diagnosis or {}
        final = bool(diagnosis.get("final"))
        best, best_loss = state.best  # the engine's numbers, the same the loss chart marks
        facts = Text()
        if int((state.plan or {}).get("k_folds") or 1) > 1 and not final:
            # the one training now
            facts.append(_("fold {fold}:").format(fold=len(state.folds) + 1) + " ", style="bold")
        if is_number(best):
            facts.append(_("best epoch {epoch}").format(epoch=_epoch(best)), style="bold")
            if is_number(best_loss):
                facts.append(" · " + _("best val loss {loss:.4g}").format(loss=best_loss))
        elif not (final and state.folds):
            facts.append(_("no validation loss yet"))
        if is_number(diagnosis.get("final_gap")):
            facts.append(" · " + _("gap now {gap:+.3g}").format(gap=diagnosis["final_gap"]))
        if diagnosis and not (final and state.folds):
            onset = diagnosis.get("overfitting_epoch")
            facts.append("\n")
            if is_number(onset):
                facts.append(_("overfitting began at epoch {epoch}").format(epoch=_epoch(onset)), style="bold")
            else:
                facts.append(_("no sign of overfitting") if final else _("no sign of overfitting yet"))
            explanation = str(diagnosis.get("explanation", "")).lower()
            said = final and any(words in explanation for words in ("early stopping", _("early stopping")))
            if early_stopping := self._early_stopping(diagnosis, final, said):
                facts.append("\n" + early_stopping)
        parts: list = [facts]
        if state.folds:
            parts.append(self._folds(state))
        self.query_one("#facts", Static).update(Group(*parts))
        self._show_verdict(diagnosis, final)

    @staticmethod
    def _folds(state: RunState) -> Table:
        """The finished folds of a cross-validation: each fold's kept weights, scored on its own held-out part."""
        columns, rows = folds_table({"folds": state.folds, "cv": (state.done or {}).get("cv")})
        return table_of(columns, rows, compact=True)

    @staticmethod
    def _early_stopping(diagnosis: dict, final: bool, said: bool = False) -> str:
        """What early stopping would have done; only its note when the verdict's explanation said the rest."""
        patience = diagnosis.get("patience")
        stop = diagnosis.get("early_stopping")
        if said:
            return (stop or {}).get("note") or ""
        if not stop:
            if is_number(patience):
                return (
                    _("early stopping (patience {patience}) would not have stopped")
                    if final
                    else _("early stopping (patience {patience}) would not have stopped yet")
                ).format(patience=patience)
            return (
                _("early stopping would not have stopped") if final else _("early stopping would not have stopped yet")
            )
        epochs = {"stop": _epoch(stop.get("stop_epoch")), "best": _epoch(stop.get("best_epoch"))}
        if is_number(patience):
            text = _(
                "early stopping (patience {patience}) would have stopped at epoch {stop} "
                "and kept the weights of epoch {best}"
            ).format(patience=patience, **epochs)
        else:
            text = _("early stopping would have stopped at epoch {stop} and kept the weights of epoch {best}").format(
                **epochs
            )
        return text + (f". {stop['note']}" if stop.get("note") else "")

    def _show_verdict(self, diagnosis: dict, final: bool) -> None:
        verdict_box = self.query_one("#verdict", Static)
        verdict_box.remove_class(*VERDICT_CLASSES.values())
        self.verdict = diagnosis.get("verdict")
        if not self.verdict:
            verdict_box.update("")
            return
        if self.verdict in VERDICT_CLASSES:
            verdict_box.add_class(VERDICT_CLASSES[self.verdict])
        text = Text()
        name = verdict_name(self.verdict)
        if final:  # a grid's or random search's is its best member's own verdict, and says so
            heading = verdict_title(diagnosis)
        elif "epoch" in diagnosis:
            heading = _("verdict (so far, epoch {epoch}): {verdict}").format(
                epoch=_epoch(diagnosis["epoch"]), verdict=name
            )
        else:
            heading = _("verdict (so far): {verdict}").format(verdict=name)
        text.append(heading, style="bold")
        if diagnosis.get("explanation"):
            text.append(f" — {diagnosis['explanation']}")
        if diagnosis.get("advice"):
            text.append("\n" + _("advice: {advice}").format(advice=diagnosis["advice"]), style="italic")
        for note in diagnosis.get("notes") or []:
            text.append("\n" + _("note: {note}").format(note=note), style="bold")
        verdict_box.update(text)
