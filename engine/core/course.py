"""Whether a lesson's claim held: one check per lesson, over the lesson's run and its variation's.

Pure Python over what a run records (its summary and its epoch events), so the CLI, the app and the
tests judge a lesson the same way without torch. Each check returns an `Outcome`: whether the claim
held, and one or two sentences comparing the two runs with the numbers the claim names. The lessons'
words (claim, what to watch, the variation) live in their presets; see presets/course.toml.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from nnplay.engine.core.diagnosis import format_value, verdict_name
from nnplay.engine.core.i18n import N_, _, ngettext

OVERFIT = "overfitting"


@dataclass
class Run:
    """One finished run as a check sees it: its summary.json and its epoch events."""

    summary: dict
    epochs: list[dict]

    @classmethod
    def of(cls, record) -> Run:
        """A run as recorded in the run store (an engine.runs.RunRecord)."""
        return cls(record.summary or {}, record.epochs)

    def kept(self, split: str, metric: str) -> float | None:
        """A metric of the kept weights on train, val or test; a cross-validation gives the folds' mean."""
        if self.summary.get("cv"):
            return (self.summary["cv"].get(split) or {}).get(metric)
        return ((self.summary.get("kept") or {}).get(split) or {}).get(metric)

    def acc(self, split: str = "test") -> float:
        """Accuracy of the kept weights on a split (NaN when not measured)."""
        return _number(self.kept(split, "accuracy"))

    def loss(self, split: str = "val") -> float:
        """Loss of the kept weights on a split (NaN when not measured)."""
        return _number(self.kept(split, "loss"))

    @property
    def verdict(self) -> str:
        """The diagnosis's verdict, or 'unknown'."""
        return str(self.summary.get("verdict") or "unknown")

    @property
    def verdict_words(self) -> str:
        """The verdict as the learner reads it, in the current language."""
        return verdict_name(self.verdict)

    @property
    def gap(self) -> float:
        """The kept weights' generalization gap: validation loss minus training loss."""
        return self.loss("val") - self.loss("train")

    def plan(self, key: str):
        """A value of the run's plan (None when the plan lacks it)."""
        return (self.summary.get("plan") or {}).get(key)

    @property
    def lr(self) -> float:
        """The learning rate of the first epoch."""
        return _number((self.epochs[0] if self.epochs else {}).get("lr"))

    def last(self, key: str) -> float:
        """A value of the last epoch event (NaN when missing)."""
        return _number((self.epochs[-1] if self.epochs else {}).get(key))

    @property
    def notes(self) -> list[str]:
        """The diagnosis's notes (a vanishing-gradient warning, say)."""
        return list((self.summary.get("diagnosis") or {}).get("notes") or [])


@dataclass(frozen=True)
class Outcome:
    """Whether a lesson's claim held, and the two runs' numbers in words."""

    held: bool
    comparison: str  # the two runs' numbers side by side, in words


def _number(value) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else math.nan


def pct(value: float) -> str:
    """An accuracy as a percentage, or a dash for NaN."""
    return "—" if math.isnan(value) else format_value("accuracy", value)


def num(value: float) -> str:
    """A number to three significant digits, or a dash for NaN."""
    return "—" if math.isnan(value) else f"{value:.3g}"


# The checks, in course order. Each gets the lesson's run `a` and its variation's run `b`.


def train_test_split(a: Run, b: Run) -> Outcome:
    """Held when the run without a validation split gets no verdict (at 85% test accuracy or more) and the run with one
    does."""
    held = a.verdict == "unknown" and b.verdict != "unknown" and a.acc() >= 0.85
    return Outcome(
        held,
        _(
            "Without a validation split the verdict is {verdict} (test accuracy {acc}); with one it is "
            "{other_verdict} (test accuracy {other_acc})."
        ).format(verdict=a.verdict_words, acc=pct(a.acc()), other_verdict=b.verdict_words, other_acc=pct(b.acc())),
    )


def train_val_test(a: Run, b: Run) -> Outcome:
    """Held when validation and test accuracy lie within 5 points of each other."""
    held = abs(a.acc("val") - a.acc("test")) <= 0.05
    return Outcome(
        held,
        _(
            "Validation accuracy {val} and test accuracy {test} on {n_val} and {n_test} samples; with a validation "
            "split of {other_n_val}: {other_val} against {other_test}."
        ).format(
            val=pct(a.acc("val")),
            test=pct(a.acc("test")),
            n_val=a.plan("n_val"),
            n_test=a.plan("n_test"),
            other_n_val=b.plan("n_val"),
            other_val=pct(b.acc("val")),
            other_test=pct(b.acc("test")),
        ),
    )


def k_fold(a: Run, b: Run) -> Outcome:
    """Held when five folds give five scores, the best and the worst at least 3 points apart."""
    found = [(f.get("val") or {}).get("accuracy") for f in a.summary.get("folds") or []]
    scores: list[float] = [s for s in found if isinstance(s, int | float)]
    spread = max(scores) - min(scores) if scores else math.nan
    held = len(scores) == 5 and spread >= 0.03
    std = _number((a.summary.get("cv") or {}).get("val", {}).get("accuracy_std"))
    return Outcome(
        held,
        _(
            "Five folds scored {scores} on their own held-out parts: {mean} ± {std}, {spread} between the best and "
            "the worst fold. Ten folds: {ten}."
        ).format(
            scores=", ".join(pct(s) for s in scores),
            mean=pct(a.acc("val")),
            std=pct(std),
            spread=pct(spread),
            ten=pct(b.acc("val")),
        ),
    )


def _iterations(run: Run) -> int:
    return int(run.plan("iterations_per_epoch") or 0)


def batch_math(a: Run, b: Run) -> Outcome:
    """Held when batches of 20 give 50 iterations per epoch and 500 updates in all, and the variation 16 per epoch."""
    done = int(a.last("iterations")) if not math.isnan(a.last("iterations")) else 0
    held = _iterations(a) == 50 and a.plan("total_updates") == 500 and done == 500 and _iterations(b) == 16
    return Outcome(
        held,
        _(
            "Batches of 20: {iterations} iterations per epoch, {done} updates in {epochs} epochs; batches of 64: "
            "{other_iterations} iterations per epoch ({last_batch})."
        ).format(
            iterations=_iterations(a),
            done=done,
            epochs=len(a.epochs),
            other_iterations=_iterations(b),
            last_batch=b.plan("last_batch"),
        ),
    )


def batch_size(a: Run, b: Run) -> Outcome:
    """Held when small batches reach 90% test accuracy and at most 70% of the full batch's validation loss."""
    held = a.loss() <= 0.7 * b.loss() and a.acc() >= 0.9
    return Outcome(
        held,
        _(
            "After {epochs} epochs, batch {batch_size} ({updates} updates) ends with validation loss {loss} and test "
            "accuracy {acc}; full batch ({other_updates} updates) with {other_loss} and {other_acc}."
        ).format(
            epochs=len(a.epochs),
            batch_size=a.plan("batch_size"),
            updates=a.plan("total_updates"),
            loss=num(a.loss()),
            acc=pct(a.acc()),
            other_updates=b.plan("total_updates"),
            other_loss=num(b.loss()),
            other_acc=pct(b.acc()),
        ),
    )


def drop_last(a: Run, b: Run) -> Outcome:
    """Held when drop_last gives 15 iterations per epoch and keeping the last partial batch 16."""
    held = _iterations(a) == 15 and _iterations(b) == 16
    return Outcome(
        held,
        _(
            "With drop_last: {iterations} iterations per epoch ({last_batch}); without: {other_iterations} "
            "({other_last_batch})."
        ).format(
            iterations=_iterations(a),
            last_batch=a.plan("last_batch"),
            other_iterations=_iterations(b),
            other_last_batch=b.plan("last_batch"),
        ),
    )


def _test_accuracy(a: Run, b: Run, what: str, other: str) -> str:
    """The two runs' test accuracy, each after its label (in the current language)."""
    return _("Test accuracy: {what} {acc}, {other} {other_acc}.").format(
        what=what, acc=pct(a.acc()), other=other, other_acc=pct(b.acc())
    )


def _cannot_then_can(threshold_low: float, threshold_high: float, what: str, other: str):
    def check(a: Run, b: Run) -> Outcome:
        held = a.acc() <= threshold_low and b.acc() >= threshold_high
        return Outcome(held, _test_accuracy(a, b, _(what), _(other)))

    return check


def spiral_depth(a: Run, b: Run) -> Outcome:
    """Held when the deeper network reaches 90% test accuracy and at least 10 points more than one layer of 4."""
    held = b.acc() >= a.acc() + 0.10 and b.acc() >= 0.9
    return Outcome(held, _test_accuracy(a, b, _("one layer of 4 units"), _("three layers of 32")))


def vanishing_sigmoid(a: Run, b: Run) -> Outcome:
    """Held when sigmoid gets the vanishing-gradient note and at most 65% test accuracy, and ReLU 85% without it."""
    held = bool(a.notes) and a.acc() <= 0.65 and b.acc() >= 0.85 and not b.notes
    last_layer = a.last("grad_norm_last")
    ratio = a.last("grad_norm_first") / last_layer if last_layer else math.nan
    if a.notes:
        text = _(
            "Sigmoid: test accuracy {acc}, first-layer gradient {ratio:.1g} of the last layer's (vanishing); "
            "ReLU: {other_acc}."
        )
    else:
        text = _(
            "Sigmoid: test accuracy {acc}, first-layer gradient {ratio:.1g} of the last layer's; ReLU: {other_acc}."
        )
    return Outcome(held, text.format(acc=pct(a.acc()), ratio=ratio, other_acc=pct(b.acc())))


def batch_norm(a: Run, b: Run) -> Outcome:
    """Held when batch norm reaches 85% test accuracy and the run without it at most 65%."""
    held = a.acc() >= 0.85 and b.acc() <= 0.65
    return Outcome(held, _test_accuracy(a, b, _("with batch norm"), _("without")))


def _validation_loss(a: Run, b: Run, what: str, other: str) -> str:
    """The two runs' validation loss, each after its label (in the current language)."""
    return _("Validation loss after {epochs} epochs: {what} {loss}, {other} {other_loss}.").format(
        epochs=len(a.epochs), what=what, loss=num(a.loss()), other=other, other_loss=num(b.loss())
    )


def _lower_loss(share: float, what: str, other: str):
    def check(a: Run, b: Run) -> Outcome:
        held = a.loss() <= (1 - share) * b.loss()
        return Outcome(held, _validation_loss(a, b, _(what), _(other)))

    return check


def sgd_momentum(a: Run, b: Run) -> Outcome:
    """Held when momentum ends at most at 70% of plain SGD's validation loss."""
    held = b.loss() <= 0.7 * a.loss()
    return Outcome(held, _validation_loss(a, b, _("plain SGD"), _("momentum 0.9")))


def lr_too_high(a: Run, b: Run) -> Outcome:
    """Held when the high rate gets the verdict 'learning rate too high' and the lower one neither it nor 'diverged', at
    85% test accuracy or more."""
    held = (
        a.verdict == "learning rate too high"
        and b.verdict not in ("learning rate too high", "diverged")
        and b.acc() >= 0.85
    )
    return Outcome(
        held,
        _(
            "Learning rate {lr:g}: verdict {verdict}, test accuracy {acc}; learning rate {other_lr:g}: verdict "
            "{other_verdict}, {other_acc}."
        ).format(
            lr=a.lr,
            verdict=a.verdict_words,
            acc=pct(a.acc()),
            other_lr=b.lr,
            other_verdict=b.verdict_words,
            other_acc=pct(b.acc()),
        ),
    )


def lr_too_low(a: Run, b: Run) -> Outcome:
    """Held when the low rate is judged still improving and the higher one ends at most at half its validation loss."""
    held = a.verdict == "still improving" and b.loss() <= 0.5 * a.loss()
    return Outcome(
        held,
        _(
            "Learning rate {lr:g}: verdict {verdict}, validation loss {loss}; learning rate {other_lr:g}: {other_loss}."
        ).format(lr=a.lr, verdict=a.verdict_words, loss=num(a.loss()), other_lr=b.lr, other_loss=num(b.loss())),
    )


def _tail_band(run: Run, n: int = 10) -> float:
    values = [e["val_loss"] for e in run.epochs[-n:] if isinstance(e.get("val_loss"), int | float)]
    return max(values) - min(values) if values else math.nan


def lr_schedule(a: Run, b: Run) -> Outcome:
    """Held when validation loss moves within a narrower band over the last 10 epochs with the cosine schedule."""
    held = _tail_band(a) < _tail_band(b)
    return Outcome(
        held,
        _(
            "Over the last 10 epochs validation loss moved within {band} with the cosine schedule and within "
            "{other_band} at a constant learning rate."
        ).format(band=num(_tail_band(a)), other_band=num(_tail_band(b))),
    )


def normalization(a: Run, b: Run) -> Outcome:
    """Held when z-scored features reach 93% test accuracy and at least 5 points more than raw ones."""
    held = b.acc() >= 0.93 and b.acc() >= a.acc() + 0.05
    return Outcome(held, _test_accuracy(a, b, _("raw features"), _("z-scored")))


def minmax_scaling(a: Run, b: Run) -> Outcome:
    """Held when min-max scaled inputs reach 90% test accuracy and at least 10 points more than raw values."""
    held = a.acc() >= 0.9 and a.acc() >= b.acc() + 0.10
    return Outcome(held, _test_accuracy(a, b, _("min-max scaled"), _("raw values")))


def _gaps(a: Run, b: Run, label: str, other: str) -> str:
    """The two runs' verdicts and generalization gaps, each after its label (already in the current language)."""
    return _(
        "{label}: verdict {verdict}, generalization gap {gap}; {other}: verdict {other_verdict}, gap {other_gap}."
    ).format(
        label=label,
        verdict=a.verdict_words,
        gap=num(a.gap),
        other=other,
        other_verdict=b.verdict_words,
        other_gap=num(b.gap),
    )


def _epochs_label(run: Run) -> str:
    return ngettext("{n} epoch", "{n} epochs", len(run.epochs)).format(n=len(run.epochs))


def overfit_small_data(a: Run, b: Run) -> Outcome:
    """Held when the wide network overfits and the small one does not."""
    held = a.verdict == OVERFIT and b.verdict != OVERFIT
    return Outcome(held, _gaps(a, b, _("Wide network"), _("4 hidden units")))


def _cure(share: float, cure: str, without: str):
    """The check of a cure for overfitting: `cure` and `without` label the two runs (marked with N_ in CHECKS)."""

    def check(a: Run, b: Run) -> Outcome:
        held = a.verdict != OVERFIT and b.verdict == OVERFIT and a.gap <= share * b.gap
        return Outcome(held, _gaps(a, b, _(cure), _(without)))

    return check


def l1_sparsity(a: Run, b: Run) -> Outcome:
    """Held when the L1 penalty leaves at least half the weights near zero without overfitting, and no penalty at most a
    tenth."""
    held = a.last("weight_sparsity") >= 0.5 and b.last("weight_sparsity") <= 0.1 and a.verdict != OVERFIT
    return Outcome(
        held,
        _(
            "Weights within 0.001 of zero: {share} with the L1 penalty (verdict {verdict}), {other_share} without "
            "(verdict {other_verdict})."
        ).format(
            share=pct(a.last("weight_sparsity")),
            verdict=a.verdict_words,
            other_share=pct(b.last("weight_sparsity")),
            other_verdict=b.verdict_words,
        ),
    )


def early_stopping(a: Run, b: Run) -> Outcome:
    """Held when early stopping stops, keeps the best epoch and beats on test loss the full run, which overfits."""
    kept = (a.summary.get("kept") or {}).get("epoch")
    held = (
        a.summary.get("status") == "early_stopped"
        and kept == a.summary.get("best_epoch")
        and a.loss("test") < b.loss("test")
        and b.verdict == OVERFIT
    )
    return Outcome(
        held,
        _(
            "Early stopping stopped at epoch {stop} and kept epoch {kept}: test loss {loss}, accuracy {acc}; all "
            "{epochs} epochs: test loss {other_loss}, {other_acc} (verdict {other_verdict})."
        ).format(
            stop=len(a.epochs),
            kept=kept,
            loss=num(a.loss("test")),
            acc=pct(a.acc()),
            epochs=len(b.epochs),
            other_loss=num(b.loss("test")),
            other_acc=pct(b.acc()),
            other_verdict=b.verdict_words,
        ),
    )


def fewer_epochs(a: Run, b: Run) -> Outcome:
    """Held when the shorter run does not overfit and the longer one does."""
    held = a.verdict != OVERFIT and b.verdict == OVERFIT
    return Outcome(held, _gaps(a, b, _epochs_label(a), _epochs_label(b)))


def sine_regression(a: Run, b: Run) -> Outcome:
    """Held when the lesson's run overfits and the variation's does not."""
    held = a.verdict == OVERFIT and b.verdict != OVERFIT
    return Outcome(held, _gaps(a, b, _epochs_label(a), _epochs_label(b)))


def digits_cnn(a: Run, b: Run) -> Outcome:
    """Held when the CNN reaches 95% test accuracy, at most 1 point below the MLP, with fewer parameters."""
    params_a, params_b = a.plan("params") or 0, b.plan("params") or 0
    held = a.acc() >= 0.95 and a.acc() >= b.acc() - 0.01 and params_a < params_b
    return Outcome(
        held,
        _("Test accuracy: CNN {acc} with {params:,} parameters, MLP {other_acc} with {other_params:,}.").format(
            acc=pct(a.acc()), params=params_a, other_acc=pct(b.acc()), other_params=params_b
        ),
    )


def _memory(cell: str):
    def check(a: Run, b: Run) -> Outcome:
        held = a.acc() >= 0.95 and b.acc() <= 0.70
        return Outcome(
            held,
            _("Test accuracy after 40 noisy steps: {cell} {acc}, plain RNN {other_acc}.").format(
                cell=cell, acc=pct(a.acc()), other_acc=pct(b.acc())
            ),
        )

    return check


def sine_forecast(a: Run, b: Run) -> Outcome:
    """Held when the less noisy forecast reaches a test R² of 0.9 and beats the noisier one."""
    r2_a, r2_b = _number(a.kept("test", "r2")), _number(b.kept("test", "r2"))
    held = r2_a >= 0.9 and r2_b < r2_a
    return Outcome(held, _("Test R²: noise 0.1 {r2}, noise 0.5 {other_r2}.").format(r2=num(r2_a), other_r2=num(r2_b)))


def digits_autoencoder(a: Run, b: Run) -> Outcome:
    """Held when the code of 8 reconstructs with at most 80% of the error of the code of 2."""
    err_a, err_b = _number(a.kept("test", "recon_error")), _number(b.kept("test", "recon_error"))
    held = err_a <= 0.8 * err_b
    return Outcome(
        held,
        _("Reconstruction error on test digits: code of 8 {error}, code of 2 {other_error}.").format(
            error=num(err_a), other_error=num(err_b)
        ),
    )


def digits_vae(a: Run, b: Run) -> Outcome:
    """Held when the VAE's KL term stays above 0.5 and its reconstruction error falls by a third from epoch 1."""
    first = _number(a.epochs[0].get("val_recon_error")) if a.epochs else math.nan
    last = _number(a.kept("val", "recon_error"))
    kl = _number(a.kept("val", "kl"))
    held = kl > 0.5 and last <= first * (2 / 3)
    return Outcome(
        held,
        _(
            "VAE: reconstruction error from {first} after epoch 1 to {last}, KL {kl} per digit; the plain autoencoder "
            "reconstructs to {plain} but has no KL term, so its codes are not a distribution to sample from."
        ).format(first=num(first), last=num(last), kl=num(kl), plain=num(_number(b.kept("val", "recon_error")))),
    )


def transfer_pretrain(a: Run, b: Run) -> Outcome:
    """Held when the lesson's run reaches 85% test accuracy and the variation's at least 5 points less."""
    held = a.acc() >= 0.85 and b.acc() <= a.acc() - 0.05
    return Outcome(
        held,
        _("Test accuracy: {n} training points {acc}, {other_n} training points {other_acc}.").format(
            n=a.plan("n_train"), acc=pct(a.acc()), other_n=b.plan("n_train"), other_acc=pct(b.acc())
        ),
    )


def transfer_learning(a: Run, b: Run) -> Outcome:
    """Held when transferred features beat training from scratch by at least 3 points of test accuracy."""
    held = a.acc() >= b.acc() + 0.03
    return Outcome(
        held,
        _(
            "Test accuracy on the new spiral from {n} labelled points: transferred features {acc}, from scratch "
            "{other_acc}."
        ).format(n=a.plan("n_train"), acc=pct(a.acc()), other_acc=pct(b.acc())),
    )


CHECKS: dict[str, Callable[[Run, Run], Outcome]] = {
    "train-test-split": train_test_split,
    "train-val-test": train_val_test,
    "k-fold": k_fold,
    "batch-math": batch_math,
    "batch-size": batch_size,
    "drop-last": drop_last,
    "xor-perceptron": _cannot_then_can(0.65, 0.85, N_("perceptron"), "MLP"),
    "circles-hidden-layer": _cannot_then_can(0.70, 0.9, N_("perceptron"), N_("one hidden layer")),
    "linear-activation": _cannot_then_can(0.70, 0.9, N_("linear activation"), "ReLU"),
    "spiral-depth": spiral_depth,
    "vanishing-sigmoid": vanishing_sigmoid,
    "batch-norm": batch_norm,
    "sgd-momentum": sgd_momentum,
    "adam": _lower_loss(0.3, "Adam", N_("plain SGD")),
    "lr-too-high": lr_too_high,
    "lr-too-low": lr_too_low,
    "lr-schedule": lr_schedule,
    "normalization": normalization,
    "minmax-scaling": minmax_scaling,
    "overfit-small-data": overfit_small_data,
    "dropout-rescue": _cure(0.5, N_("With dropout"), N_("without dropout")),
    "l2-rescue": _cure(0.5, N_("With the L2 penalty"), N_("without the L2 penalty")),
    "l1-sparsity": l1_sparsity,
    "weight-decay": _cure(0.5, N_("With weight decay"), N_("without weight decay")),
    "early-stopping": early_stopping,
    "fewer-epochs": fewer_epochs,
    "more-data": _cure(1 / 3, N_("With 1,200 training points"), N_("with 60")),
    "augmentation": _cure(1.0, N_("With augmentation"), N_("without augmentation")),
    "sine-regression": sine_regression,
    "digits-cnn": digits_cnn,
    "lstm-vs-rnn": _memory("LSTM"),
    "gru-memory": _memory("GRU"),
    "sine-forecast": sine_forecast,
    "digits-autoencoder": digits_autoencoder,
    "digits-vae": digits_vae,
    "transfer-pretrain": transfer_pretrain,
    "transfer-learning": transfer_learning,
}


def judge(lesson: str, first: Run, variation: Run) -> Outcome:
    """Whether the lesson's claim held on these two runs, and the comparison in words."""
    check = CHECKS.get(lesson)
    if check is None:
        return Outcome(False, _("{lesson} has no check: it is not a lesson of the course").format(lesson=lesson))
    return check(first, variation)
