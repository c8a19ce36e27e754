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
from typing import TypeGuard

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

GOOD_FIT_ADVICE = "Try a harder dataset, fewer samples, or more noise to see where it breaks."

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


def _finite(x: object) -> TypeGuard[float]:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


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
        if not _finite(val_loss):
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
    return [r for r in history if _finite(r.get("val_loss")) and _finite(r.get("train_loss"))]


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
        value = rec.get("train_loss") if _finite(rec.get("train_loss")) else rec.get("train_loss_running")
        if _finite(value):
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
        if _finite(r.get("grad_norm_first")) and _finite(r.get("grad_norm_last")) and r["grad_norm_last"] > 0
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
        return (
            f"The first layer's gradient is zero while the last layer's is {last:.2g}: the first layer no longer "
            "learns (its units are dead or the gradient vanished on the way back). Try ReLU activations, batch "
            "norm, fewer layers, or a lower learning rate."
        )
    times = float(f"{1 / ratio:.2g}")  # two significant digits: 8,100,000, not 8,083,079
    return (
        f"Gradients vanish: the first layer's gradient norm ({first:.2g}) is {times:,.0f} times smaller than "
        f"the last layer's ({last:.2g}), so the early layers barely learn. Try ReLU activations, batch norm, "
        "or fewer layers."
    )


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
        would_stop["note"] = (
            f"It would have kept epoch {would_stop['best_epoch']}, not the best epoch {best}: patience {patience} "
            f"gives up after {patience} epochs without improvement, and validation loss only improved again later."
        )
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
        lrs = [r["lr"] for r in history if _finite(r.get("lr"))]
        self.lr = lrs[0] if lrs else None

    def verdict(self, status, kept_epoch, epochs) -> dict:
        diverged = status == "diverged" or any(
            not _finite(r.get("train_loss_running")) and "train_loss_running" in r for r in self.history
        )
        if diverged:
            return self._diverged(kept_epoch)
        if (unstable := self._unstable()) is not None:
            return unstable
        if not self.evals and status == "stopped":
            return {
                "verdict": "unknown",
                "explanation": "The run was stopped before its first validation measurement: there is nothing to judge yet.",
                "advice": "Let it run for a few epochs.",
            }
        if not self.evals:
            return {
                "verdict": "unknown",
                "explanation": "No validation measurements, so generalization cannot be judged.",
                "advice": "Give data.val a share above 0.",
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
            (r["epoch"] for r in self.history if not _finite(r.get("train_loss_running"))),
            self.history[-1]["epoch"] if self.history else None,
        )
        text = f"The training loss became NaN or infinite at epoch {bad}"
        finite = [(e, v) for e, v in self.train if bad is None or e < bad]
        if len(finite) >= 2 and finite[-1][1] > finite[0][1]:
            text += f", after rising from {_num(finite[0][1])} at epoch {finite[0][0]} to {_num(finite[-1][1])}"
        text += "."
        if kept_epoch is not None:
            text += f" The weights kept are those of epoch {kept_epoch}, the last with finite values."
        else:
            text += " No weights were kept: none of them were finite after a whole epoch."
        lr = (
            f"Lower optimizer.lr from {self.lr:g} to {_suggest_lower(self.lr)}"
            if self.lr
            else "Lower the learning rate"
        )
        return {
            "verdict": "diverged",
            "explanation": text,
            "advice": f"{lr}, or set regularization.grad_clip = 1 to cap each step.",
        }

    def _unstable(self) -> dict | None:
        if len(self.train) < 2:
            return None
        first_epoch, first = self.train[0]
        tail = [v for _, v in self.train[-_window(len(self.train)) :]]
        end = statistics.median(tail)
        peak_epoch, peak = max(self.train[1:], key=lambda p: p[1])
        lr = f"optimizer.lr = {self.lr:g}" if self.lr else "the learning rate"
        advice = (
            f"Lower optimizer.lr from {self.lr:g} to {_suggest_lower(self.lr)} (10 times smaller)."
            if self.lr
            else "Lower the learning rate about 10 times."
        )
        if self.baseline and end > UNSTABLE_SHARE * self.baseline:
            return {
                "verdict": "learning rate too high",
                "explanation": f"Training loss ended around {_num(end)}, above the {_num(self.baseline)} of a model "
                f"that learned nothing (it was {_num(first)} after epoch {first_epoch}): with {lr} each update "
                "overshoots, so the model ends worse than guessing.",
                "advice": advice,
            }
        if first > 0 and peak > EXPLODED_FACTOR * first:
            return {
                "verdict": "learning rate too high",
                "explanation": f"Training loss climbed from {_num(first)} after epoch {first_epoch} to {_num(peak)} "
                f"at epoch {peak_epoch}, {peak / first:,.0f} times higher, without becoming NaN: with {lr} the updates "
                "throw the weights around instead of descending.",
                "advice": advice,
            }
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
        more = f"training.epochs = {2 * epochs}" if epochs else "more epochs"
        lr = f" or raise optimizer.lr (now {self.lr:g})" if self.lr else " or raise the learning rate"
        train = _nums(start["train_loss"], end["train_loss"])
        val = _nums(start["val_loss"], end["val_loss"])
        return {
            "verdict": "still improving",
            "explanation": f"Both losses were still falling at the last epoch: training loss from {train[0]} "
            f"to {train[1]} and validation loss from {val[0]} to {val[1]} between epochs {start['epoch']} and "
            f"{end['epoch']}. The model has not finished learning.",
            "advice": f"Train longer ({more}){lr}.",
        }

    def _underfitting(self, epochs) -> dict:
        last = self.evals[-1]
        if (falling := self._still_falling(STILL_FALLING_SLOW)) is not None:
            result = self._still_improving(falling, epochs)
            result["explanation"] += (
                f" Training loss is still {percent(last['train_loss'] / self.baseline)} of the "
                f"{_num(self.baseline)} of a model that learned nothing."
            )
            return result
        share = percent(last["train_loss"] / self.baseline)
        window = self.evals[-1 - _window(len(self.evals)) :]
        if len(window) > 1 and last["train_loss"] < (1 - STILL_FALLING) * window[0]["train_loss"]:
            start = _nums(window[0]["train_loss"], last["train_loss"])
            return {
                "verdict": "underfitting",
                "explanation": f"Training loss is still falling (from {start[0]} at epoch {window[0]['epoch']} to "
                f"{start[1]}) but is {share} of the {_num(self.baseline)} of a model that learned nothing, and "
                f"validation loss did not follow ({_num(last['val_loss'])}): what the model learns does not carry "
                "over to new data.",
                "advice": "Train longer to see whether validation follows; if it does not, use a bigger model "
                "(more or wider layers, a non-linear activation) or lower the regularization.",
            }
        return {
            "verdict": "underfitting",
            "explanation": f"Training loss levelled off at {_num(last['train_loss'])}, {share} "
            f"of the {_num(self.baseline)} of a model that learned nothing, with validation loss at "
            f"{_num(last['val_loss'])}: the model is not fitting even the data it trains on.",
            "advice": "Use a bigger model (more or wider layers, a non-linear activation), or lower the regularization.",
        }

    def _overfitting(self, rise: float) -> dict:
        last = self.evals[-1]
        stop = ""
        if self.would_stop:
            stop = (
                f" Early stopping with patience {self.patience} would have stopped at epoch "
                f"{self.would_stop['stop_epoch']} and kept epoch {self.would_stop['best_epoch']}."
            )
        return {
            "verdict": "overfitting",
            "explanation": f"Validation loss bottomed out at {_num(self.best_loss)} at epoch {self.best} and rose "
            f"{percent(rise)} to {_num(last['val_loss'])} from epoch {self.onset} on, while training loss kept "
            f"falling to {_num(last['train_loss'])}: the model is memorizing the training set.{stop}",
            "advice": "Add dropout, an L2 penalty or weight decay, use early stopping, get more data, or shrink the model.",
        }

    def _kept_words(self, kept_epoch) -> str:
        if kept_epoch == self.best:
            return f"kept the weights of epoch {kept_epoch}, the best"
        if kept_epoch is not None:
            return f"kept the weights of its last epoch, {kept_epoch} (regularization.restore_best is off)"
        return "kept no weights"

    def _caught(self, kept_epoch) -> dict:
        last = self.evals[-1]
        return {
            "verdict": "overfitting caught",
            "explanation": f"Early stopping caught overfitting: validation loss bottomed out at {_num(self.best_loss)} "
            f"at epoch {self.best} and rose to {_num(last['val_loss'])} by epoch {last['epoch']} while training "
            f"loss fell to {_num(last['train_loss'])}; after {last['epoch'] - self.best} epochs without improvement "
            f"(patience {self.patience}) it stopped at epoch {last['epoch']} and {self._kept_words(kept_epoch)}.",
            "advice": (
                "The kept model is the one from before overfitting began. To overfit less in the first place, "
                "add dropout or an L2 penalty, or get more data."
            ),
        }

    def _stopped_on_plateau(self, kept_epoch) -> dict:
        last = self.evals[-1]
        assert self.at_best is not None  # both losses are measured together, so the best epoch is among evals
        tail = lasting(self.since, self.patience) or [last]
        val_now = statistics.median(r["val_loss"] for r in tail)
        waited = f"early stopping waited {last['epoch'] - self.best} epochs (patience {self.patience}), stopped at "
        waited += f"epoch {last['epoch']} and {self._kept_words(kept_epoch)}"
        if rise_matters(self.best_loss, val_now, self.baseline, self.min_delta):
            text = (
                f"Validation loss rose from {_num(self.best_loss)} at epoch {self.best} to {_num(last['val_loss'])}, "
                f"but training loss did not keep falling ({_num(self.at_best['train_loss'])} then, "
                f"{_num(last['train_loss'])} at the end), so this is not memorizing; {waited}."
            )
        else:
            text = (
                f"Validation loss stopped improving after epoch {self.best} ({_num(self.best_loss)}) without "
                f"turning clearly upward; {waited}. Training loss reached {_num(last['train_loss'])}."
            )
        return {
            "verdict": "good fit",
            "explanation": text,
            "advice": GOOD_FIT_ADVICE,
        }

    def _good_fit(self, rise: float) -> dict:
        """Every branch says why a rise of validation loss, if any, is not overfitting, in its own numbers."""
        last = self.evals[-1]
        val, train = last["val_loss"], last["train_loss"]
        tail = f"while training loss reached {_num(train)} (gap {val - train:+.3g}): the model generalizes."
        best = f"its lowest ({_num(self.best_loss)} at epoch {self.best})"
        advice = GOOD_FIT_ADVICE
        since = self.since
        if val < self.best_loss:  # lower, by less than min_delta: not counted as an improvement
            text = (
                f"Validation loss ended at {_num(val)}, below {best} by less than regularization.min_delta "
                f"({self.min_delta:g}), which does not count as an improvement, {tail}"
            )
        elif rise <= 0.02:
            where = f"at {best}" if self.best == last["epoch"] else f"{percent(rise)} above {best}"
            text = f"Validation loss ended at {_num(val)}, {where}, {tail}"
        elif not rise_matters(self.best_loss, val, None, self.min_delta):
            text = (
                f"Validation loss ended at {_num(val)}, {percent_against(rise, OVERFIT_RISE)} above {best}: less than "
                f"the {percent(OVERFIT_RISE)} rise counted as overfitting, {tail}"
            )
        elif self.baseline and not rise_matters(self.best_loss, val, self.baseline, self.min_delta):
            text = (
                f"Validation loss ended at {_num(val)}, up from {best} by {val - self.best_loss:.3g}: under "
                f"{percent(OVERFIT_FLOOR)} of the {_num(self.baseline)} of a model that learned nothing, too small "
                f"to count as overfitting, {tail}"
            )
        else:
            window = lasting(since, self.patience)
            at_best = self.at_best
            assert at_best is not None  # both losses are measured together, so the best epoch is among evals
            train_now = statistics.median(r["train_loss"] for r in window)
            val_now = statistics.median(r["val_loss"] for r in window)
            head = f"Validation loss ended at {_num(val)}, {percent(rise)} above {best}"
            if len(since) < self.patience:
                text = (
                    f"{head}, which came only {last['epoch'] - self.best} epoch(s) before the end: a rise must last "
                    f"{self.patience} measurements (regularization.patience) to count as overfitting."
                )
            elif not rise_matters(self.best_loss, val_now, self.baseline, self.min_delta):
                text = f"{head}, but the median of its last {len(window)} measurements, {_num(val_now)}, is not: no lasting rise."
            else:
                then, now = _nums(at_best["train_loss"], train_now)
                how = "rose" if train_now > at_best["train_loss"] else f"fell by less than {percent(TRAIN_FELL)}"
                text = (
                    f"{head}, but training loss {how} meanwhile ({then} then, {now} now): memorizing would have "
                    "driven it down."
                )
            recent = [r["val_loss"] for r in self.evals[-20:]]
            lo, hi = min(recent), max(recent)
            if hi - lo > 0.3 * statistics.median(recent):
                text += f" Over the last {len(recent)} epochs it bounced between {_num(lo)} and {_num(hi)}."
                lr = f"optimizer.lr from {self.lr:g} to {self.lr / 3:.2g}" if self.lr else "the learning rate"
                advice = f"To make validation loss settle, lower {lr} or use bigger batches."
            text += f" Training loss reached {_num(train)}."
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


def diagnose_folds(diagnoses: list[dict], cv: dict, k: int) -> dict:
    """One verdict over the folds of a cross-validation: how many folds got each verdict, the folds'
    validation score as mean ± std, and the advice of the verdict most folds share."""
    counts: dict[str, int] = {}
    for d in diagnoses:
        counts[d["verdict"]] = counts.get(d["verdict"], 0) + 1
    verdict = max(counts, key=lambda v: (counts[v], -CONCERN.index(v) if v in CONCERN else 0))
    order = sorted(counts, key=lambda v: (-counts[v], CONCERN.index(v) if v in CONCERN else 99))
    trained = len(diagnoses)
    parts = [f"{v} in {counts[v]} of {trained} folds" for v in order]
    text = "; ".join(parts)
    text = text[0].upper() + text[1:] + "."
    if trained < k:
        text += f" Only {trained} of the {k} folds ran."
    val = cv.get("val") or {}
    for key, label in HEADLINE_METRICS:
        if _finite(val.get(key)):
            spread = f" ± {format_value(key, val[f'{key}_std'])}" if _finite(val.get(f"{key}_std")) else ""
            text += (
                f" Validation {label} across the folds: {format_value(key, val[key])}{spread}; each fold was scored "
                "on the part it did not train on."
            )
            break
    advice = next(d["advice"] for d in diagnoses if d["verdict"] == verdict)
    best_losses = [d["best_val_loss"] for d in diagnoses if _finite(d.get("best_val_loss"))]
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
