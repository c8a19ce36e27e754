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

from nnplay.engine.core.diagnosis import format_value

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


def _both(a: Run, b: Run, what: str, show: Callable[[float], str], get: Callable[[Run], float]) -> str:
    return f"{what}: {show(get(a))} in this lesson, {show(get(b))} with the variation"


# The checks, in course order. Each gets the lesson's run `a` and its variation's run `b`.


def train_test_split(a: Run, b: Run) -> Outcome:
    """Held when the run without a validation split gets no verdict (at 85% test accuracy or more) and the run with one
    does."""
    held = a.verdict == "unknown" and b.verdict != "unknown" and a.acc() >= 0.85
    return Outcome(
        held,
        f"Without a validation split the verdict is {a.verdict} (test accuracy {pct(a.acc())}); "
        f"with one it is {b.verdict} (test accuracy {pct(b.acc())}).",
    )


def train_val_test(a: Run, b: Run) -> Outcome:
    """Held when validation and test accuracy lie within 5 points of each other."""
    held = abs(a.acc("val") - a.acc("test")) <= 0.05
    return Outcome(
        held,
        f"Validation accuracy {pct(a.acc('val'))} and test accuracy {pct(a.acc('test'))} on "
        f"{a.plan('n_val')} and {a.plan('n_test')} samples; with a validation split of {b.plan('n_val')}: "
        f"{pct(b.acc('val'))} against {pct(b.acc('test'))}.",
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
        f"Five folds scored {', '.join(pct(s) for s in scores)} on their own held-out parts: "
        f"{pct(a.acc('val'))} ± {pct(std)}, {pct(spread)} between the best and the worst fold. "
        f"Ten folds: {pct(b.acc('val'))}.",
    )


def _iterations(run: Run) -> int:
    return int(run.plan("iterations_per_epoch") or 0)


def batch_math(a: Run, b: Run) -> Outcome:
    """Held when batches of 20 give 50 iterations per epoch and 500 updates in all, and the variation 16 per epoch."""
    done = int(a.last("iterations")) if not math.isnan(a.last("iterations")) else 0
    held = _iterations(a) == 50 and a.plan("total_updates") == 500 and done == 500 and _iterations(b) == 16
    return Outcome(
        held,
        f"Batches of 20: {_iterations(a)} iterations per epoch, {done} updates in {len(a.epochs)} epochs; "
        f"batches of 64: {_iterations(b)} iterations per epoch ({b.plan('last_batch')}).",
    )


def batch_size(a: Run, b: Run) -> Outcome:
    """Held when small batches reach 90% test accuracy and at most 70% of the full batch's validation loss."""
    held = a.loss() <= 0.7 * b.loss() and a.acc() >= 0.9
    return Outcome(
        held,
        f"After {len(a.epochs)} epochs, batch {a.plan('batch_size')} ({a.plan('total_updates')} updates) ends with "
        f"validation loss {num(a.loss())} and test accuracy {pct(a.acc())}; full batch ({b.plan('total_updates')} "
        f"updates) with {num(b.loss())} and {pct(b.acc())}.",
    )


def drop_last(a: Run, b: Run) -> Outcome:
    """Held when drop_last gives 15 iterations per epoch and keeping the last partial batch 16."""
    held = _iterations(a) == 15 and _iterations(b) == 16
    return Outcome(
        held,
        f"With drop_last: {_iterations(a)} iterations per epoch ({a.plan('last_batch')}); without: "
        f"{_iterations(b)} ({b.plan('last_batch')}).",
    )


def _cannot_then_can(threshold_low: float, threshold_high: float, what: str, other: str):
    def check(a: Run, b: Run) -> Outcome:
        held = a.acc() <= threshold_low and b.acc() >= threshold_high
        return Outcome(held, f"Test accuracy: {what} {pct(a.acc())}, {other} {pct(b.acc())}.")

    return check


def spiral_depth(a: Run, b: Run) -> Outcome:
    """Held when the deeper network reaches 90% test accuracy and at least 10 points more than one layer of 4."""
    held = b.acc() >= a.acc() + 0.10 and b.acc() >= 0.9
    return Outcome(held, f"Test accuracy: one layer of 4 units {pct(a.acc())}, three layers of 32 {pct(b.acc())}.")


def vanishing_sigmoid(a: Run, b: Run) -> Outcome:
    """Held when sigmoid gets the vanishing-gradient note and at most 65% test accuracy, and ReLU 85% without it."""
    held = bool(a.notes) and a.acc() <= 0.65 and b.acc() >= 0.85 and not b.notes
    last_layer = a.last("grad_norm_last")
    ratio = a.last("grad_norm_first") / last_layer if last_layer else math.nan
    return Outcome(
        held,
        f"Sigmoid: test accuracy {pct(a.acc())}, first-layer gradient {ratio:.1g} of the last layer's"
        f"{' (vanishing)' if a.notes else ''}; ReLU: {pct(b.acc())}.",
    )


def batch_norm(a: Run, b: Run) -> Outcome:
    """Held when batch norm reaches 85% test accuracy and the run without it at most 65%."""
    held = a.acc() >= 0.85 and b.acc() <= 0.65
    return Outcome(held, f"Test accuracy: with batch norm {pct(a.acc())}, without {pct(b.acc())}.")


def _lower_loss(share: float, what: str, other: str):
    def check(a: Run, b: Run) -> Outcome:
        held = a.loss() <= (1 - share) * b.loss()
        return Outcome(
            held, f"Validation loss after {len(a.epochs)} epochs: {what} {num(a.loss())}, {other} {num(b.loss())}."
        )

    return check


def sgd_momentum(a: Run, b: Run) -> Outcome:
    """Held when momentum ends at most at 70% of plain SGD's validation loss."""
    held = b.loss() <= 0.7 * a.loss()
    return Outcome(
        held, f"Validation loss after {len(a.epochs)} epochs: plain SGD {num(a.loss())}, momentum 0.9 {num(b.loss())}."
    )


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
        f"Learning rate {a.lr:g}: verdict {a.verdict}, test accuracy {pct(a.acc())}; learning rate {b.lr:g}: "
        f"verdict {b.verdict}, {pct(b.acc())}.",
    )


def lr_too_low(a: Run, b: Run) -> Outcome:
    """Held when the low rate is judged still improving and the higher one ends at most at half its validation loss."""
    held = a.verdict == "still improving" and b.loss() <= 0.5 * a.loss()
    return Outcome(
        held,
        f"Learning rate {a.lr:g}: verdict {a.verdict}, validation loss {num(a.loss())}; learning rate {b.lr:g}: "
        f"{num(b.loss())}.",
    )


def _tail_band(run: Run, n: int = 10) -> float:
    values = [e["val_loss"] for e in run.epochs[-n:] if isinstance(e.get("val_loss"), int | float)]
    return max(values) - min(values) if values else math.nan


def lr_schedule(a: Run, b: Run) -> Outcome:
    """Held when validation loss moves within a narrower band over the last 10 epochs with the cosine schedule."""
    held = _tail_band(a) < _tail_band(b)
    return Outcome(
        held,
        f"Over the last 10 epochs validation loss moved within {num(_tail_band(a))} with the cosine schedule "
        f"and within {num(_tail_band(b))} at a constant learning rate.",
    )


def normalization(a: Run, b: Run) -> Outcome:
    """Held when z-scored features reach 93% test accuracy and at least 5 points more than raw ones."""
    held = b.acc() >= 0.93 and b.acc() >= a.acc() + 0.05
    return Outcome(held, f"Test accuracy: raw features {pct(a.acc())}, z-scored {pct(b.acc())}.")


def minmax_scaling(a: Run, b: Run) -> Outcome:
    """Held when min-max scaled inputs reach 90% test accuracy and at least 10 points more than raw values."""
    held = a.acc() >= 0.9 and a.acc() >= b.acc() + 0.10
    return Outcome(held, f"Test accuracy: min-max scaled {pct(a.acc())}, raw values {pct(b.acc())}.")


def _gaps(a: Run, b: Run, cure: str, without: str) -> str:
    return (
        f"{cure}: verdict {a.verdict}, generalization gap {num(a.gap)}; {without}: verdict {b.verdict}, "
        f"gap {num(b.gap)}."
    )


def overfit_small_data(a: Run, b: Run) -> Outcome:
    """Held when the wide network overfits and the small one does not."""
    held = a.verdict == OVERFIT and b.verdict != OVERFIT
    return Outcome(held, _gaps(a, b, "Wide network", "4 hidden units"))


def _cure(share: float, cure: str, without: str | None = None):
    def check(a: Run, b: Run) -> Outcome:
        held = a.verdict != OVERFIT and b.verdict == OVERFIT and a.gap <= share * b.gap
        return Outcome(held, _gaps(a, b, f"With {cure}", without or f"without {cure}"))

    return check


def l1_sparsity(a: Run, b: Run) -> Outcome:
    """Held when the L1 penalty leaves at least half the weights near zero without overfitting, and no penalty at most a
    tenth."""
    held = a.last("weight_sparsity") >= 0.5 and b.last("weight_sparsity") <= 0.1 and a.verdict != OVERFIT
    return Outcome(
        held,
        f"Weights within 0.001 of zero: {pct(a.last('weight_sparsity'))} with the L1 penalty (verdict {a.verdict}), "
        f"{pct(b.last('weight_sparsity'))} without (verdict {b.verdict}).",
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
        f"Early stopping stopped at epoch {len(a.epochs)} and kept epoch {kept}: test loss {num(a.loss('test'))}, "
        f"accuracy {pct(a.acc())}; all {len(b.epochs)} epochs: test loss {num(b.loss('test'))}, {pct(b.acc())} "
        f"(verdict {b.verdict}).",
    )


def fewer_epochs(a: Run, b: Run) -> Outcome:
    """Held when the shorter run does not overfit and the longer one does."""
    held = a.verdict != OVERFIT and b.verdict == OVERFIT
    return Outcome(held, _gaps(a, b, f"{len(a.epochs)} epochs", f"{len(b.epochs)} epochs"))


def sine_regression(a: Run, b: Run) -> Outcome:
    """Held when the lesson's run overfits and the variation's does not."""
    held = a.verdict == OVERFIT and b.verdict != OVERFIT
    return Outcome(held, _gaps(a, b, f"{len(a.epochs)} epochs", f"{len(b.epochs)} epochs"))


def digits_cnn(a: Run, b: Run) -> Outcome:
    """Held when the CNN reaches 95% test accuracy, at most 1 point below the MLP, with fewer parameters."""
    params_a, params_b = a.plan("params") or 0, b.plan("params") or 0
    held = a.acc() >= 0.95 and a.acc() >= b.acc() - 0.01 and params_a < params_b
    return Outcome(
        held, f"Test accuracy: CNN {pct(a.acc())} with {params_a:,} parameters, MLP {pct(b.acc())} with {params_b:,}."
    )


def _memory(cell: str):
    def check(a: Run, b: Run) -> Outcome:
        held = a.acc() >= 0.95 and b.acc() <= 0.70
        return Outcome(held, f"Test accuracy after 40 noisy steps: {cell} {pct(a.acc())}, plain RNN {pct(b.acc())}.")

    return check


def sine_forecast(a: Run, b: Run) -> Outcome:
    """Held when the less noisy forecast reaches a test R² of 0.9 and beats the noisier one."""
    r2_a, r2_b = _number(a.kept("test", "r2")), _number(b.kept("test", "r2"))
    held = r2_a >= 0.9 and r2_b < r2_a
    return Outcome(held, f"Test R²: noise 0.1 {num(r2_a)}, noise 0.5 {num(r2_b)}.")


def digits_autoencoder(a: Run, b: Run) -> Outcome:
    """Held when the code of 8 reconstructs with at most 80% of the error of the code of 2."""
    err_a, err_b = _number(a.kept("test", "recon_error")), _number(b.kept("test", "recon_error"))
    held = err_a <= 0.8 * err_b
    return Outcome(held, f"Reconstruction error on test digits: code of 8 {num(err_a)}, code of 2 {num(err_b)}.")


def digits_vae(a: Run, b: Run) -> Outcome:
    """Held when the VAE's KL term stays above 0.5 and its reconstruction error falls by a third from epoch 1."""
    first = _number(a.epochs[0].get("val_recon_error")) if a.epochs else math.nan
    last = _number(a.kept("val", "recon_error"))
    kl = _number(a.kept("val", "kl"))
    held = kl > 0.5 and last <= first * (2 / 3)
    return Outcome(
        held,
        f"VAE: reconstruction error from {num(first)} after epoch 1 to {num(last)}, KL {num(kl)} per digit; "
        f"the plain autoencoder reconstructs to {num(_number(b.kept('val', 'recon_error')))} but has no KL term, "
        "so its codes are not a distribution to sample from.",
    )


def transfer_pretrain(a: Run, b: Run) -> Outcome:
    """Held when the lesson's run reaches 85% test accuracy and the variation's at least 5 points less."""
    held = a.acc() >= 0.85 and b.acc() <= a.acc() - 0.05
    return Outcome(
        held,
        f"Test accuracy: {a.plan('n_train')} training points {pct(a.acc())}, {b.plan('n_train')} training points {pct(b.acc())}.",
    )


def transfer_learning(a: Run, b: Run) -> Outcome:
    """Held when transferred features beat training from scratch by at least 3 points of test accuracy."""
    held = a.acc() >= b.acc() + 0.03
    return Outcome(
        held,
        f"Test accuracy on the new spiral from {a.plan('n_train')} labelled points: transferred features "
        f"{pct(a.acc())}, from scratch {pct(b.acc())}.",
    )


CHECKS: dict[str, Callable[[Run, Run], Outcome]] = {
    "train-test-split": train_test_split,
    "train-val-test": train_val_test,
    "k-fold": k_fold,
    "batch-math": batch_math,
    "batch-size": batch_size,
    "drop-last": drop_last,
    "xor-perceptron": _cannot_then_can(0.65, 0.85, "perceptron", "MLP"),
    "circles-hidden-layer": _cannot_then_can(0.70, 0.9, "perceptron", "one hidden layer"),
    "linear-activation": _cannot_then_can(0.70, 0.9, "linear activation", "ReLU"),
    "spiral-depth": spiral_depth,
    "vanishing-sigmoid": vanishing_sigmoid,
    "batch-norm": batch_norm,
    "sgd-momentum": sgd_momentum,
    "adam": _lower_loss(0.3, "Adam", "plain SGD"),
    "lr-too-high": lr_too_high,
    "lr-too-low": lr_too_low,
    "lr-schedule": lr_schedule,
    "normalization": normalization,
    "minmax-scaling": minmax_scaling,
    "overfit-small-data": overfit_small_data,
    "dropout-rescue": _cure(0.5, "dropout"),
    "l2-rescue": _cure(0.5, "the L2 penalty"),
    "l1-sparsity": l1_sparsity,
    "weight-decay": _cure(0.5, "weight decay"),
    "early-stopping": early_stopping,
    "fewer-epochs": fewer_epochs,
    "more-data": _cure(1 / 3, "1,200 training points", "with 60"),
    "augmentation": _cure(1.0, "augmentation"),
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
        return Outcome(False, f"{lesson} has no check: it is not a lesson of the course")
    return check(first, variation)
