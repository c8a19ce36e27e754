"""Reading the loss curves like a teacher: best epoch, generalization gap, onset of overfitting,
what early stopping would have done, and a verdict whose explanation names the numbers it rests on.

Pure Python over the per-epoch history, so the same diagnosis can be recomputed from events.jsonl
(the app and the CLI import it without torch). One rule decides the best epoch everywhere: the
`BestTracker` below, used by the training hook that keeps the best weights and by the diagnosis.

Verdicts, checked in this order:
    diverged                  the loss became NaN or infinite
    learning rate too high    training loss ends above the know-nothing baseline, or climbs far above where it began
    unknown                   no validation measurements
    still improving           training well above the baseline but both losses still falling steadily
    underfitting              training loss levelled off well above zero, validation close by
    overfitting caught        early stopping stopped a run whose validation loss had turned upward
    overfitting               validation loss turned upward while training loss kept falling
    still improving           (also) a fitting model whose losses both still fall steadily at the last epoch
    good fit                  none of the above
A vanishing-gradient note may join any verdict.
"""

from __future__ import annotations

import math
import statistics

from nnplay.engine.core.events import is_number
from nnplay.engine.core.i18n import _

# How much worse than its best the final validation loss must be to call it overfitting
# (validation loss on a few dozen samples wobbles by several percent from epoch to epoch).
OVERFIT_RISE = 0.20
# ...and by more than this share of the know-nothing loss: near zero, a doubling of 0.001 means nothing.
OVERFIT_FLOOR = 0.02
# Overfitting needs the training loss to have kept falling meanwhile, by at least this share.
TRAIN_FELL = 0.05
# A training loss above this share of the know-nothing baseline means the model did not fit.
UNDERFIT_SHARE = 0.6
# Training loss this far above the know-nothing baseline means the steps overshoot.
UNSTABLE_SHARE = 1.1
# ...or this many times above where it began.
EXPLODED_FACTOR = 10.0
# "Still falling steadily": both losses fell by at least this share over the last window of epochs
# (a model near the know-nothing loss that creeps down slowly but surely needs the smaller share)...
STILL_FALLING = 0.05
STILL_FALLING_SLOW = 0.002
# ...and the training loss fell in at least this share of the window's epochs (a plateau wobbles).
STEADY_SHARE = 0.75
# First-layer gradient norm this many times smaller than the last layer's: gradients vanish.
VANISHING_RATIO = 1e-3

VERDICTS = (
    "good fit",
    "overfitting",
    "overfitting caught",
    "underfitting",
    "still improving",
    "learning rate too high",
    "diverged",
    "unknown",
)


def verdict_name(verdict: str) -> str:
    """A verdict as the learner reads it, in the current language ('good fit' -> '적절한 적합'). The verdict
    itself stays English: it is a value in summary.json and in the events, which programs compare."""
    names = {  # translated at each call: the language may change while the app runs
        "good fit": _("good fit"),
        "overfitting": _("overfitting"),
        "overfitting caught": _("overfitting caught"),
        "underfitting": _("underfitting"),
        "still improving": _("still improving"),
        "learning rate too high": _("learning rate too high"),
        "diverged": _("diverged"),
        "unknown": _("unknown"),
    }
    return names.get(verdict, verdict)


def percent(share: float) -> str:
    """A share as a percentage to three digits: 0.105 -> '10.5%', 0.47 -> '47%', 1.5 -> '150%'
    (`percent_against` adds digits where it would read the same as a threshold it is compared with)."""
    value = share * 100
    return f"{value:.0f}%" if abs(value) >= 100 else f"{value:.3g}%"


def _num(x: float) -> str:
    return f"{x:.3g}"


def _nums(a: float, b: float) -> tuple[str, str]:
    """Two numbers with as many digits as it takes for them to read differently when they differ."""
    for digits in range(3, 8):
        shown = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if shown[0] != shown[1] or a == b:
            return shown
    return shown


def percent_against(share: float, threshold: float) -> str:
    """A percentage beside a threshold it is compared with: more digits when the two would read the same."""
    shown = percent(share)
    if shown == percent(threshold) and share != threshold:
        return f"{share * 100:.6g}%"
    return shown


class BestTracker:
    """The best validation epoch so far and the epochs waited since: the one rule for 'best epoch',
    'improvement' (a decrease of more than min_delta) and early stopping's patience."""

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        self.patience, self.min_delta = patience, min_delta
        self.best_epoch: int | None = None
        self.best_loss = math.inf
        self.waited = 0
        self.stop_epoch: int | None = None  # the first epoch at which patience ran out

    def update(self, epoch: int, val_loss) -> bool:
        """Count one evaluation; True when it is a new best."""
        if not is_number(val_loss):
            return False
        if val_loss < self.best_loss - self.min_delta:
            self.best_epoch, self.best_loss, self.waited = epoch, val_loss, 0
            return True
        self.waited += 1
        if self.waited >= self.patience and self.stop_epoch is None:
            self.stop_epoch = epoch
        return False


def best_epoch(history: list[dict], min_delta: float = 0.0) -> tuple[int | None, float | None]:
    """The epoch with the lowest validation loss (improvements smaller than min_delta do not count)."""
    tracker = BestTracker(patience=1, min_delta=min_delta)
    for rec in history:
        tracker.update(rec["epoch"], rec.get("val_loss"))
    return tracker.best_epoch, (tracker.best_loss if tracker.best_epoch is not None else None)


def early_stopping_epoch(history: list[dict], patience: int, min_delta: float = 0.0) -> dict | None:
    """Where early stopping with this patience would stop, and the epoch whose weights it would keep."""
    tracker = BestTracker(patience, min_delta)
    for rec in history:
        tracker.update(rec["epoch"], rec.get("val_loss"))
        if tracker.stop_epoch is not None:
            return {
                "stop_epoch": tracker.stop_epoch,
                "best_epoch": tracker.best_epoch,
                "best_val_loss": tracker.best_loss,
            }
    return None


def _evals(history: list[dict]) -> list[dict]:
    return [r for r in history if is_number(r.get("val_loss")) and is_number(r.get("train_loss"))]


def rise_matters(best_loss: float, final_loss: float, baseline: float | None, min_delta: float = 0.0) -> bool:
    """A rise of validation loss above its best large enough to call overfitting: more than OVERFIT_RISE of
    the best, and more than OVERFIT_FLOOR of the know-nothing loss when that is known."""
    relative = final_loss > best_loss * (1 + OVERFIT_RISE) + min_delta
    return relative and (baseline is None or final_loss - best_loss > OVERFIT_FLOOR * baseline)


def lasting(after_best: list[dict], patience: int) -> list[dict]:
    """The measurements a rise of validation loss is judged on: the last max(3, patience / 2) after the best."""
    return after_best[-max(3, patience // 2) :]


def overfitting_onset(
    history: list[dict], patience: int, min_delta: float = 0.0, baseline: float | None = None
) -> int | None:
    """The epoch after the best validation epoch, when validation loss then stayed above its best for
    at least `patience` evaluations and the last of them sit clearly higher (`rise_matters`, judged on
    their median, so one lucky dip followed by the usual bounce is not a turn), while the training loss
    over those same evaluations is lower than at the best epoch."""
    evals = _evals(history)
    best, best_loss = best_epoch(evals, min_delta)
    if best is None or best_loss is None:  # the two are None together
        return None
    at_best = next(i for i, r in enumerate(evals) if r["epoch"] == best)
    after = evals[at_best + 1 :]
    if len(after) < patience:
        return None
    tail = lasting(after, patience)
    val_now = statistics.median(r["val_loss"] for r in tail)
    train_now = statistics.median(r["train_loss"] for r in tail)
    train_fell = train_now < (1 - TRAIN_FELL) * evals[at_best]["train_loss"]
    val_rose = rise_matters(best_loss, val_now, baseline, min_delta)
    return after[0]["epoch"] if train_fell and val_rose else None


def _train_curve(history: list[dict]) -> list[tuple[int, float]]:
    """Training loss per epoch: measured in evaluation mode where it was, else the running average."""
    curve: list[tuple[int, float]] = []
    for rec in history:
        value = rec.get("train_loss") if is_number(rec.get("train_loss")) else rec.get("train_loss_running")
        if is_number(value):
            curve.append((rec["epoch"], value))
    return curve


def _window(n: int) -> int:
    """How many of the last evaluations count as 'the end' of a run of n."""
    return max(3, n // 5)


def gradient_ratio(history: list[dict]) -> tuple[float, float, float] | None:
    """(first-layer gradient norm, last layer's, their ratio), medians over the last epochs that have both."""
    pairs = [
        (r["grad_norm_first"], r["grad_norm_last"])
        for r in history
        if is_number(r.get("grad_norm_first")) and is_number(r.get("grad_norm_last")) and r["grad_norm_last"] > 0
    ][-5:]
    if not pairs:
        return None
    first = statistics.median(p[0] for p in pairs)
    last = statistics.median(p[1] for p in pairs)
    return first, last, first / last


def vanishing_note(history: list[dict]) -> str | None:
    """A sentence when the first layer's gradients are many orders of magnitude below the last layer's."""
    found = gradient_ratio(history)
    if found is None or found[2] >= VANISHING_RATIO:
        return None
    first, last, ratio = found
    if first == 0:
        return _(
            "The first layer's gradient is zero while the last layer's is {last:.2g}: the first layer no longer "
            "learns (its units are dead or the gradient vanished on the way back). Try ReLU activations, batch "
            "norm, fewer layers, or a lower learning rate."
        ).format(last=last)
    times = float(f"{1 / ratio:.2g}")  # two significant digits: 8,100,000, not 8,083,079
    return _(
        "Gradients vanish: the first layer's gradient norm ({first:.2g}) is {times:,.0f} times smaller than "
        "the last layer's ({last:.2g}), so the early layers barely learn. Try ReLU activations, batch norm, "
        "or fewer layers."
    ).format(first=first, times=times, last=last)


def _good_fit_advice() -> str:
    return _("Try a harder dataset, fewer samples, or more noise to see where it breaks.")


def _suggest_lower(lr: float) -> str:
    return f"{lr / 10:.2g}"


def diagnose(
    history: list[dict],
    patience: int = 10,
    min_delta: float = 0.0,
    baseline: float | None = None,
    *,
    status: str | None = None,
    kept_epoch: int | None = None,
    epochs: int | None = None,
) -> dict:
    """The whole diagnosis as plain JSON.

    `status` is how the run ended (a diverged or early-stopped run is judged as such), `kept_epoch`
    whose weights the run keeps, `epochs` the epochs it was set to run.
    """
    evals = _evals(history)
    gaps = [[r["epoch"], r["val_loss"] - r["train_loss"]] for r in evals]
    best, best_loss = best_epoch(history, min_delta)
    onset = overfitting_onset(history, patience, min_delta, baseline)
    would_stop = early_stopping_epoch(history, patience, min_delta)
    if would_stop and best is not None and would_stop["best_epoch"] != best:
        would_stop["note"] = _(
            "It would have kept epoch {kept}, not the best epoch {best}: patience {patience} "
            "gives up after {patience} epochs without improvement, and validation loss only improved again later."
        ).format(kept=would_stop["best_epoch"], best=best, patience=patience)
    result = {
        "best_epoch": best,
        "best_val_loss": best_loss,
        "generalization_gap": gaps,
        "final_gap": gaps[-1][1] if gaps else None,
        "overfitting_epoch": onset,
        "early_stopping": would_stop,
        "patience": patience,
        "kept_epoch": kept_epoch,
    }
    facts = _Facts(history, evals, best, best_loss, onset, would_stop, baseline, patience, min_delta)
    result.update(facts.verdict(status, kept_epoch, epochs))
    notes = [note] if (note := vanishing_note(history)) else []
    result["notes"] = notes
    return result


class _Facts:
    """The numbers a verdict rests on, and the sentences built from them."""

    def __init__(self, history, evals, best, best_loss, onset, would_stop, baseline, patience, min_delta) -> None:
        self.history, self.evals = history, evals
        self.best, self.best_loss, self.onset, self.would_stop = best, best_loss, onset, would_stop
        self.baseline, self.patience, self.min_delta = baseline, patience, min_delta
        self.at_best = next((r for r in evals if r["epoch"] == best), None)  # its measurement, None if unmeasured
        self.since = [r for r in evals if best is not None and r["epoch"] > best]  # measurements after it
        self.train = _train_curve(history)
        lrs = [r["lr"] for r in history if is_number(r.get("lr"))]
        self.lr = lrs[0] if lrs else None

    def verdict(self, status, kept_epoch, epochs) -> dict:
        diverged = status == "diverged" or any(
            not is_number(r.get("train_loss_running")) and "train_loss_running" in r for r in self.history
        )
        if diverged:
            return self._diverged(kept_epoch)
        if (unstable := self._unstable()) is not None:
            return unstable
        if not self.evals and status == "stopped":
            return {
                "verdict": "unknown",
                "explanation": _(
                    "The run was stopped before its first validation measurement: there is nothing to judge yet."
                ),
                "advice": _("Let it run for a few epochs."),
            }
        if not self.evals:
            return {
                "verdict": "unknown",
                "explanation": _("No validation measurements, so generalization cannot be judged."),
                "advice": _("Give data.val a share above 0."),
            }
        last = self.evals[-1]
        if self.baseline and last["train_loss"] > UNDERFIT_SHARE * self.baseline:
            return self._underfitting(epochs)
        rise = (last["val_loss"] - self.best_loss) / max(abs(self.best_loss), 1e-12)
        if self.onset is not None:
            if status == "early_stopped":
                return self._caught(kept_epoch)
            return self._overfitting(rise)
        if status == "early_stopped":
            return self._stopped_on_plateau(kept_epoch)
        if (falling := self._still_falling()) is not None:
            return self._still_improving(falling, epochs)
        return self._good_fit(rise)

    # The verdicts, one method each.

    def _diverged(self, kept_epoch) -> dict:
        bad = next(
            (r["epoch"] for r in self.history if not is_number(r.get("train_loss_running"))),
            self.history[-1]["epoch"] if self.history else None,
        )
        finite = [(e, v) for e, v in self.train if bad is None or e < bad]
        if len(finite) >= 2 and finite[-1][1] > finite[0][1]:
            text = _(
                "The training loss became NaN or infinite at epoch {epoch}, after rising from {first} at epoch "
                "{first_epoch} to {last}."
            ).format(epoch=bad, first=_num(finite[0][1]), first_epoch=finite[0][0], last=_num(finite[-1][1]))
        else:
            text = _("The training loss became NaN or infinite at epoch {epoch}.").format(epoch=bad)
        if kept_epoch is not None:
            kept = _("The weights kept are those of epoch {epoch}, the last with finite values.").format(
                epoch=kept_epoch
            )
        else:
            kept = _("No weights were kept: none of them were finite after a whole epoch.")
        if self.lr:
            advice = _(
                "Lower optimizer.lr from {lr:g} to {lower}, or set regularization.grad_clip = 1 to cap each step."
            ).format(lr=self.lr, lower=_suggest_lower(self.lr))
        else:
            advice = _("Lower the learning rate, or set regularization.grad_clip = 1 to cap each step.")
        return {"verdict": "diverged", "explanation": f"{text} {kept}", "advice": advice}

    def _unstable(self) -> dict | None:
        if len(self.train) < 2:
            return None
        first_epoch, first = self.train[0]
        tail = [v for _epoch, v in self.train[-_window(len(self.train)) :]]
        end = statistics.median(tail)
        peak_epoch, peak = max(self.train[1:], key=lambda p: p[1])
        if self.lr:
            advice = _("Lower optimizer.lr from {lr:g} to {lower} (10 times smaller).").format(
                lr=self.lr, lower=_suggest_lower(self.lr)
            )
        else:
            advice = _("Lower the learning rate about 10 times.")
        numbers = {"first": _num(first), "first_epoch": first_epoch, "lr": self.lr}
        if self.baseline and end > UNSTABLE_SHARE * self.baseline:
            if self.lr:
                text = _(
                    "Training loss ended around {end}, above the {baseline} of a model that learned nothing (it was "
                    "{first} after epoch {first_epoch}): with optimizer.lr = {lr:g} each update overshoots, so the "
                    "model ends worse than guessing."
                )
            else:
                text = _(
                    "Training loss ended around {end}, above the {baseline} of a model that learned nothing (it was "
                    "{first} after epoch {first_epoch}): with the learning rate each update overshoots, so the "
                    "model ends worse than guessing."
                )
            explanation = text.format(end=_num(end), baseline=_num(self.baseline), **numbers)
            return {"verdict": "learning rate too high", "explanation": explanation, "advice": advice}
        if first > 0 and peak > EXPLODED_FACTOR * first:
            if self.lr:
                text = _(
                    "Training loss climbed from {first} after epoch {first_epoch} to {peak} at epoch {peak_epoch}, "
                    "{times:,.0f} times higher, without becoming NaN: with optimizer.lr = {lr:g} the updates throw "
                    "the weights around instead of descending."
                )
            else:
                text = _(
                    "Training loss climbed from {first} after epoch {first_epoch} to {peak} at epoch {peak_epoch}, "
                    "{times:,.0f} times higher, without becoming NaN: with the learning rate the updates throw "
                    "the weights around instead of descending."
                )
            explanation = text.format(peak=_num(peak), peak_epoch=peak_epoch, times=peak / first, **numbers)
            return {"verdict": "learning rate too high", "explanation": explanation, "advice": advice}
        return None

    def _still_falling(self, min_fall: float = STILL_FALLING) -> tuple[dict, dict] | None:
        """(start, end) of the last window when both losses fell steadily over it, else None."""
        k = _window(len(self.evals))
        if len(self.evals) <= k:
            return None
        window = self.evals[-1 - k :]
        start, end = window[0], window[-1]
        train_fell = end["train_loss"] < (1 - min_fall) * start["train_loss"]
        val_fell = end["val_loss"] < (1 - min_fall) * start["val_loss"]
        at_best = end["val_loss"] <= self.best_loss * (1 + STILL_FALLING)
        pairs = list(zip(window, window[1:], strict=False))
        steady = all(sum(b[key] < a[key] for a, b in pairs) >= STEADY_SHARE * k for key in ("train_loss", "val_loss"))
        return (start, end) if train_fell and val_fell and at_best and steady else None

    def _still_improving(self, falling: tuple[dict, dict], epochs) -> dict:
        start, end = falling
        if epochs and self.lr:
            advice = _("Train longer (training.epochs = {epochs}) or raise optimizer.lr (now {lr:g}).")
        elif epochs:
            advice = _("Train longer (training.epochs = {epochs}) or raise the learning rate.")
        elif self.lr:
            advice = _("Train longer (more epochs) or raise optimizer.lr (now {lr:g}).")
        else:
            advice = _("Train longer (more epochs) or raise the learning rate.")
        train = _nums(start["train_loss"], end["train_loss"])
        val = _nums(start["val_loss"], end["val_loss"])
        explanation = _(
            "Both losses were still falling at the last epoch: training loss from {train_start} to {train_end} and "
            "validation loss from {val_start} to {val_end} between epochs {start} and {end}. The model has not "
            "finished learning."
        ).format(
            train_start=train[0],
            train_end=train[1],
            val_start=val[0],
            val_end=val[1],
            start=start["epoch"],
            end=end["epoch"],
        )
        return {
            "verdict": "still improving",
            "explanation": explanation,
            "advice": advice.format(epochs=2 * epochs if epochs else None, lr=self.lr),
        }

    def _underfitting(self, epochs) -> dict:
        last = self.evals[-1]
        if (falling := self._still_falling(STILL_FALLING_SLOW)) is not None:
            result = self._still_improving(falling, epochs)
            still = _("Training loss is still {share} of the {baseline} of a model that learned nothing.").format(
                share=percent(last["train_loss"] / self.baseline), baseline=_num(self.baseline)
            )
            result["explanation"] += f" {still}"
            return result
        share = percent(last["train_loss"] / self.baseline)
        window = self.evals[-1 - _window(len(self.evals)) :]
        if len(window) > 1 and last["train_loss"] < (1 - STILL_FALLING) * window[0]["train_loss"]:
            start = _nums(window[0]["train_loss"], last["train_loss"])
            return {
                "verdict": "underfitting",
                "explanation": _(
                    "Training loss is still falling (from {start} at epoch {epoch} to {end}) but is {share} of the "
                    "{baseline} of a model that learned nothing, and validation loss did not follow ({val}): what "
                    "the model learns does not carry over to new data."
                ).format(
                    start=start[0],
                    epoch=window[0]["epoch"],
                    end=start[1],
                    share=share,
                    baseline=_num(self.baseline),
                    val=_num(last["val_loss"]),
                ),
                "advice": _(
                    "Train longer to see whether validation follows; if it does not, use a bigger model "
                    "(more or wider layers, a non-linear activation) or lower the regularization."
                ),
            }
        return {
            "verdict": "underfitting",
            "explanation": _(
                "Training loss levelled off at {train}, {share} of the {baseline} of a model that learned nothing, "
                "with validation loss at {val}: the model is not fitting even the data it trains on."
            ).format(
                train=_num(last["train_loss"]), share=share, baseline=_num(self.baseline), val=_num(last["val_loss"])
            ),
            "advice": _(
                "Use a bigger model (more or wider layers, a non-linear activation), or lower the regularization."
            ),
        }

    def _overfitting(self, rise: float) -> dict:
        last = self.evals[-1]
        text = _(
            "Validation loss bottomed out at {best_loss} at epoch {best} and rose {rise} to {val} from epoch {onset} "
            "on, while training loss kept falling to {train}: the model is memorizing the training set."
        ).format(
            best_loss=_num(self.best_loss),
            best=self.best,
            rise=percent(rise),
            val=_num(last["val_loss"]),
            onset=self.onset,
            train=_num(last["train_loss"]),
        )
        if self.would_stop:
            stop = _(
                "Early stopping with patience {patience} would have stopped at epoch {stop} and kept epoch {kept}."
            ).format(patience=self.patience, stop=self.would_stop["stop_epoch"], kept=self.would_stop["best_epoch"])
            text += f" {stop}"
        return {
            "verdict": "overfitting",
            "explanation": text,
            "advice": _(
                "Add dropout, an L2 penalty or weight decay, use early stopping, get more data, or shrink the model."
            ),
        }

    def _by_kept(self, kept_epoch, best: str, last: str, none: str) -> str:
        """The one of three messages that says which weights the run kept: the best epoch's, its last epoch's
        (restore_best off) or none."""
        if kept_epoch == self.best:
            return best
        return last if kept_epoch is not None else none

    def _caught(self, kept_epoch) -> dict:
        last = self.evals[-1]
        text = self._by_kept(
            kept_epoch,
            _(
                "Early stopping caught overfitting: validation loss bottomed out at {best_loss} at epoch {best} and "
                "rose to {val} by epoch {epoch} while training loss fell to {train}; after {waited} epochs without "
                "improvement (patience {patience}) it stopped at epoch {epoch} and kept the weights of epoch {kept}, "
                "the best."
            ),
            _(
                "Early stopping caught overfitting: validation loss bottomed out at {best_loss} at epoch {best} and "
                "rose to {val} by epoch {epoch} while training loss fell to {train}; after {waited} epochs without "
                "improvement (patience {patience}) it stopped at epoch {epoch} and kept the weights of its last "
                "epoch, {kept} (regularization.restore_best is off)."
            ),
            _(
                "Early stopping caught overfitting: validation loss bottomed out at {best_loss} at epoch {best} and "
                "rose to {val} by epoch {epoch} while training loss fell to {train}; after {waited} epochs without "
                "improvement (patience {patience}) it stopped at epoch {epoch} and kept no weights."
            ),
        )
        return {
            "verdict": "overfitting caught",
            "explanation": text.format(
                best_loss=_num(self.best_loss),
                best=self.best,
                val=_num(last["val_loss"]),
                epoch=last["epoch"],
                train=_num(last["train_loss"]),
                waited=last["epoch"] - self.best,
                patience=self.patience,
                kept=kept_epoch,
            ),
            "advice": _(
                "The kept model is the one from before overfitting began. To overfit less in the first place, "
                "add dropout or an L2 penalty, or get more data."
            ),
        }

    def _stopped_on_plateau(self, kept_epoch) -> dict:
        last = self.evals[-1]
        assert self.at_best is not None  # both losses are measured together, so the best epoch is among evals
        tail = lasting(self.since, self.patience) or [last]
        val_now = statistics.median(r["val_loss"] for r in tail)
        if rise_matters(self.best_loss, val_now, self.baseline, self.min_delta):
            text = self._by_kept(
                kept_epoch,
                _(
                    "Validation loss rose from {best_loss} at epoch {best} to {val}, but training loss did not keep "
                    "falling ({then} then, {now} at the end), so this is not memorizing; early stopping waited "
                    "{waited} epochs (patience {patience}), stopped at epoch {epoch} and kept the weights of epoch "
                    "{kept}, the best."
                ),
                _(
                    "Validation loss rose from {best_loss} at epoch {best} to {val}, but training loss did not keep "
                    "falling ({then} then, {now} at the end), so this is not memorizing; early stopping waited "
                    "{waited} epochs (patience {patience}), stopped at epoch {epoch} and kept the weights of its last "
                    "epoch, {kept} (regularization.restore_best is off)."
                ),
                _(
                    "Validation loss rose from {best_loss} at epoch {best} to {val}, but training loss did not keep "
                    "falling ({then} then, {now} at the end), so this is not memorizing; early stopping waited "
                    "{waited} epochs (patience {patience}), stopped at epoch {epoch} and kept no weights."
                ),
            )
        else:
            text = self._by_kept(
                kept_epoch,
                _(
                    "Validation loss stopped improving after epoch {best} ({best_loss}) without turning clearly "
                    "upward; early stopping waited {waited} epochs (patience {patience}), stopped at epoch {epoch} "
                    "and kept the weights of epoch {kept}, the best."
                ),
                _(
                    "Validation loss stopped improving after epoch {best} ({best_loss}) without turning clearly "
                    "upward; early stopping waited {waited} epochs (patience {patience}), stopped at epoch {epoch} "
                    "and kept the weights of its last epoch, {kept} (regularization.restore_best is off)."
                ),
                _(
                    "Validation loss stopped improving after epoch {best} ({best_loss}) without turning clearly "
                    "upward; early stopping waited {waited} epochs (patience {patience}), stopped at epoch {epoch} "
                    "and kept no weights."
                ),
            )
            text += " " + _("Training loss reached {train}.")
        explanation = text.format(
            best_loss=_num(self.best_loss),
            best=self.best,
            val=_num(last["val_loss"]),
            then=_num(self.at_best["train_loss"]),
            now=_num(last["train_loss"]),
            train=_num(last["train_loss"]),
            waited=last["epoch"] - self.best,
            patience=self.patience,
            epoch=last["epoch"],
            kept=kept_epoch,
        )
        return {
            "verdict": "good fit",
            "explanation": explanation,
            "advice": _good_fit_advice(),
        }

    def _good_fit(self, rise: float) -> dict:
        """Every branch says why a rise of validation loss, if any, is not overfitting, in its own numbers."""
        last = self.evals[-1]
        val, train = last["val_loss"], last["train_loss"]
        numbers = {
            "val": _num(val),
            "train": _num(train),
            "gap": val - train,
            "best_loss": _num(self.best_loss),
            "best": self.best,
            "rise": percent(rise),
        }
        advice = _good_fit_advice()
        since = self.since
        if val < self.best_loss:  # lower, by less than min_delta: not counted as an improvement
            text = _(
                "Validation loss ended at {val}, below its lowest ({best_loss} at epoch {best}) by less than "
                "regularization.min_delta ({min_delta:g}), which does not count as an improvement, while training "
                "loss reached {train} (gap {gap:+.3g}): the model generalizes."
            ).format(min_delta=self.min_delta, **numbers)
        elif rise <= 0.02 and self.best == last["epoch"]:
            text = _(
                "Validation loss ended at {val}, at its lowest ({best_loss} at epoch {best}), while training loss "
                "reached {train} (gap {gap:+.3g}): the model generalizes."
            ).format(**numbers)
        elif rise <= 0.02:
            text = _(
                "Validation loss ended at {val}, {rise} above its lowest ({best_loss} at epoch {best}), while "
                "training loss reached {train} (gap {gap:+.3g}): the model generalizes."
            ).format(**numbers)
        elif not rise_matters(self.best_loss, val, None, self.min_delta):
            text = _(
                "Validation loss ended at {val}, {rise} above its lowest ({best_loss} at epoch {best}): less than "
                "the {threshold} rise counted as overfitting, while training loss reached {train} "
                "(gap {gap:+.3g}): the model generalizes."
            ).format(**(numbers | {"rise": percent_against(rise, OVERFIT_RISE), "threshold": percent(OVERFIT_RISE)}))
        elif self.baseline and not rise_matters(self.best_loss, val, self.baseline, self.min_delta):
            text = _(
                "Validation loss ended at {val}, up from its lowest ({best_loss} at epoch {best}) by {up:.3g}: "
                "under {floor} of the {baseline} of a model that learned nothing, too small to count as "
                "overfitting, while training loss reached {train} (gap {gap:+.3g}): the model generalizes."
            ).format(up=val - self.best_loss, floor=percent(OVERFIT_FLOOR), baseline=_num(self.baseline), **numbers)
        else:
            window = lasting(since, self.patience)
            at_best = self.at_best
            assert at_best is not None  # both losses are measured together, so the best epoch is among evals
            train_now = statistics.median(r["train_loss"] for r in window)
            val_now = statistics.median(r["val_loss"] for r in window)
            if len(since) < self.patience:
                text = _(
                    "Validation loss ended at {val}, {rise} above its lowest ({best_loss} at epoch {best}), which "
                    "came only {waited} epoch(s) before the end: a rise must last {patience} measurements "
                    "(regularization.patience) to count as overfitting."
                ).format(waited=last["epoch"] - self.best, patience=self.patience, **numbers)
            elif not rise_matters(self.best_loss, val_now, self.baseline, self.min_delta):
                text = _(
                    "Validation loss ended at {val}, {rise} above its lowest ({best_loss} at epoch {best}), but the "
                    "median of its last {n} measurements, {median}, is not: no lasting rise."
                ).format(n=len(window), median=_num(val_now), **numbers)
            else:
                then, now = _nums(at_best["train_loss"], train_now)
                if train_now > at_best["train_loss"]:
                    text = _(
                        "Validation loss ended at {val}, {rise} above its lowest ({best_loss} at epoch {best}), but "
                        "training loss rose meanwhile ({then} then, {now} now): memorizing would have driven it down."
                    )
                else:
                    text = _(
                        "Validation loss ended at {val}, {rise} above its lowest ({best_loss} at epoch {best}), but "
                        "training loss fell by less than {fell} meanwhile ({then} then, {now} now): memorizing would "
                        "have driven it down."
                    )
                text = text.format(then=then, now=now, fell=percent(TRAIN_FELL), **numbers)
            recent = [r["val_loss"] for r in self.evals[-20:]]
            lo, hi = min(recent), max(recent)
            if hi - lo > 0.3 * statistics.median(recent):
                bounced = _("Over the last {n} epochs it bounced between {low} and {high}.")
                text += " " + bounced.format(n=len(recent), low=_num(lo), high=_num(hi))
                if self.lr:
                    advice = _(
                        "To make validation loss settle, lower optimizer.lr from {lr:g} to {lower:.2g} or use bigger "
                        "batches."
                    ).format(lr=self.lr, lower=self.lr / 3)
                else:
                    advice = _("To make validation loss settle, lower the learning rate or use bigger batches.")
            text += " " + _("Training loss reached {train}.").format(train=_num(train))
        return {"verdict": "good fit", "explanation": text, "advice": advice}


# Which verdict a cross-validation reports when its folds disagree equally often: the more worrying one.
CONCERN = (
    "diverged",
    "learning rate too high",
    "overfitting",
    "underfitting",
    "still improving",
    "overfitting caught",
    "good fit",
    "unknown",
)
HEADLINE_METRICS = (("accuracy", "accuracy"), ("r2", "R²"), ("recon_error", "reconstruction error"), ("loss", "loss"))


def format_value(metric: str, value: float) -> str:
    """A metric value as the tables show it: accuracy in percent, anything else to 4 digits."""
    return f"{value:.1%}" if metric.endswith("accuracy") else f"{value:.4g}"


def _fold_score(metric: str, score: str) -> str:
    """A cross-validation's headline score in one sentence, for a metric of HEADLINE_METRICS."""
    sentences = {
        "accuracy": _(
            "Validation accuracy across the folds: {score}; each fold was scored on the part it did not train on."
        ),
        "r2": _("Validation R² across the folds: {score}; each fold was scored on the part it did not train on."),
        "recon_error": _(
            "Validation reconstruction error across the folds: {score}; each fold was scored on the part it did not "
            "train on."
        ),
        "loss": _("Validation loss across the folds: {score}; each fold was scored on the part it did not train on."),
    }
    return sentences[metric].format(score=score)


def diagnose_folds(diagnoses: list[dict], cv: dict, k: int) -> dict:
    """One verdict over the folds of a cross-validation: how many folds got each verdict, the folds'
    validation score as mean ± std, and the advice of the verdict most folds share."""
    counts: dict[str, int] = {}
    for d in diagnoses:
        counts[d["verdict"]] = counts.get(d["verdict"], 0) + 1
    verdict = max(counts, key=lambda v: (counts[v], -CONCERN.index(v) if v in CONCERN else 0))
    order = sorted(counts, key=lambda v: (-counts[v], CONCERN.index(v) if v in CONCERN else 99))
    trained = len(diagnoses)
    parts = [
        _("{verdict} in {count} of {folds} folds").format(verdict=verdict_name(v), count=counts[v], folds=trained)
        for v in order
    ]
    text = "; ".join(parts)
    text = text[0].upper() + text[1:] + "."
    if trained < k:
        text += " " + _("Only {trained} of the {k} folds ran.").format(trained=trained, k=k)
    val = cv.get("val") or {}
    for key, _label in HEADLINE_METRICS:
        if is_number(val.get(key)):
            spread = f" ± {format_value(key, val[f'{key}_std'])}" if is_number(val.get(f"{key}_std")) else ""
            text += " " + _fold_score(key, f"{format_value(key, val[key])}{spread}")
            break
    advice = next(d["advice"] for d in diagnoses if d["verdict"] == verdict)
    best_losses = [d["best_val_loss"] for d in diagnoses if is_number(d.get("best_val_loss"))]
    return {
        "best_epoch": None,
        "best_val_loss": statistics.fmean(best_losses) if best_losses else None,
        "generalization_gap": [],
        "final_gap": None,
        "overfitting_epoch": None,
        "early_stopping": None,
        "patience": diagnoses[0]["patience"] if diagnoses else None,
        "kept_epoch": None,
        "verdict": verdict,
        "explanation": text,
        "advice": advice,
        "notes": sorted({n for d in diagnoses for n in d.get("notes", [])}),
        "fold_verdicts": [d["verdict"] for d in diagnoses],
    }
