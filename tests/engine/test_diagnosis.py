"""The diagnosis on synthetic histories: every verdict, and every sentence agrees with its numbers.

Histories are lists of epoch records as the engine writes them. Each case below was observed in a
real run before the diagnosis learned it (the docstrings say which).
"""

from __future__ import annotations

import math
import re

import pytest

from nnplay.engine.core.diagnosis import (
    OVERFIT_RISE,
    VERDICTS,
    BestTracker,
    best_epoch,
    diagnose,
    diagnose_folds,
    early_stopping_epoch,
    percent,
)
from nnplay.engine.training.hooks import BestWeights

LN2 = math.log(2)


def history(train: list[float], val: list[float] | None = None, lr: float = 0.01, **extra) -> list[dict]:
    """Epoch records 1..n; train is the evaluation-mode training loss (also used as the running one)."""
    records = []
    for i, t in enumerate(train):
        rec = {"epoch": i + 1, "train_loss": t, "train_loss_running": t, "lr": lr}
        if val is not None:
            rec["val_loss"] = val[i]
        for key, values in extra.items():
            rec[key] = values[i]
        records.append(rec)
    return records


def falling(start: float, end: float, n: int) -> list[float]:
    """A geometric fall from start to end over n epochs."""
    return [start * (end / start) ** (i / (n - 1)) for i in range(n)]


def numbers_in(text: str) -> list[str]:
    return re.findall(r"\d[\d,.e+-]*%?", text)


# The verdicts, one by one.


def test_a_learning_rate_far_too_high_is_not_called_underfitting():
    """Moons, SGD, lr = 10: training loss 1.45, twice the 0.693 of a model that learned nothing, was
    called underfitting with the advice to use a bigger model."""
    d = diagnose(history([9.3, 2.1, 1.6, 1.5, 1.45, 1.5, 1.4, 1.45], [1.0] * 8, lr=10), 10, 0.0, LN2)
    assert d["verdict"] == "learning rate too high"
    assert "above the 0.693" in d["explanation"] and "bigger model" not in d["advice"]
    assert "optimizer.lr from 10 to 1" in d["advice"]  # names the setting and a value to try


def test_a_regression_with_an_exploding_validation_loss_is_a_learning_rate_problem():
    """Diabetes, Adam lr = 5: validation loss 10,650, still 'underfitting ... close to the baseline'."""
    train = [2.1e4, 40.0, 5.0, 2.0, 1.8, 1.7, 1.75, 1.9]
    d = diagnose(history(train, [1.07e4] * 8, lr=5), 10, 0.0, 1.0)
    assert d["verdict"] == "learning rate too high"
    assert "close to" not in d["explanation"]


def test_a_loss_that_climbs_far_above_its_start_without_nan_is_a_learning_rate_problem():
    d = diagnose(history([0.5, 0.3, 2.0, 8.0, 40.0], None, lr=1.0), 10, 0.0, None)
    assert d["verdict"] == "learning rate too high"
    assert "climbed from 0.5" in d["explanation"] and "80 times higher" in d["explanation"]


def test_a_diverged_run_names_the_last_finite_epoch_and_its_kept_weights():
    records = history([0.6, 0.5, 3.0], [0.6, 0.5, 3.0], lr=2.0)
    records.append({"epoch": 4, "train_loss_running": None, "lr": 2.0})
    d = diagnose(records, 10, 0.0, LN2, status="diverged", kept_epoch=3)
    assert d["verdict"] == "diverged"
    assert "at epoch 4" in d["explanation"] and "those of epoch 3" in d["explanation"]
    assert d["advice"].startswith("Lower optimizer.lr from 2 to 0.2")


def test_a_run_that_diverged_in_its_first_epoch_says_no_weights_were_kept():
    d = diagnose([{"epoch": 1, "train_loss_running": None, "lr": 10.0}], 10, 0.0, LN2, status="diverged")
    assert d["verdict"] == "diverged" and "No weights were kept" in d["explanation"]


def test_both_losses_still_falling_at_the_end_is_a_run_that_has_not_finished():
    train = falling(0.69, 0.45, 30)
    d = diagnose(history(train, [t * 1.05 for t in train], lr=0.001), 10, 0.0, LN2, epochs=30)
    assert d["verdict"] == "still improving"
    assert "training.epochs = 60" in d["advice"] and "raise optimizer.lr (now 0.001)" in d["advice"]


def test_a_fitted_model_whose_losses_still_fall_steadily_is_still_improving():
    train = falling(0.6, 0.05, 20)
    d = diagnose(history(train, [t + 0.02 for t in train]), 10, 0.0, LN2, epochs=20)
    assert d["verdict"] == "still improving"


def test_a_plateau_near_the_baseline_is_underfitting_with_the_share_stated():
    """An RNN on the memory task: loss 0.686 next to the baseline 0.693."""
    train = [0.70, 0.694, 0.69, 0.688, 0.687, 0.686, 0.687, 0.686, 0.686, 0.686]
    d = diagnose(history(train, [0.695] * 10), 10, 0.0, LN2)
    assert d["verdict"] == "underfitting"
    assert "99% of the 0.693" in d["explanation"]


def overfit_history(n: int = 60, turn: int = 20) -> list[dict]:
    train = falling(0.6, 0.01, n)
    val = [0.6 - 0.3 * min(i, turn) / turn + (0.02 * (i - turn) if i > turn else 0) for i in range(n)]
    return history(train, val, lr=0.003)


def test_overfitting_names_the_best_epoch_the_onset_and_the_rise():
    d = diagnose(overfit_history(), 10, 0.0, LN2)
    assert d["verdict"] == "overfitting"
    assert d["best_epoch"] == 21 and d["overfitting_epoch"] == 22
    assert "at epoch 21" in d["explanation"] and "from epoch 22 on" in d["explanation"]
    assert d["early_stopping"] == {"stop_epoch": 31, "best_epoch": 21, "best_val_loss": pytest.approx(0.3)}
    assert "would have stopped at epoch 31 and kept epoch 21" in d["explanation"]
    rise = (d["generalization_gap"][-1][1] + overfit_history()[-1]["train_loss"] - 0.3) / 0.3
    assert percent(rise) in d["explanation"]


def test_an_early_stopped_run_that_caught_overfitting_is_not_told_to_use_early_stopping():
    """early-stopping --set training.seed=1: stopped, restored epoch 35, verdict 'overfitting' and the
    advice 'use early stopping'."""
    records = overfit_history(n=31, turn=20)  # stopped 10 epochs after the best epoch, 21
    d = diagnose(records, 10, 0.0, LN2, status="early_stopped", kept_epoch=21)
    assert d["verdict"] == "overfitting caught"
    assert "stopped at epoch 31" in d["explanation"] and "kept the weights of epoch 21" in d["explanation"]
    assert "early stopping" not in d["advice"].lower()


def test_an_early_stop_on_a_plateau_is_a_good_fit_that_says_what_was_kept():
    train = falling(0.6, 0.2, 30)
    val = [max(0.3, 0.6 - 0.03 * i) + 0.001 * (i % 2) for i in range(30)]
    d = diagnose(history(train, val), 10, 0.0, LN2, status="early_stopped", kept_epoch=11)
    assert d["verdict"] == "good fit"
    assert "kept the weights of epoch 11" in d["explanation"] and "use early stopping" not in d["advice"]


def test_a_bouncing_validation_loss_is_not_described_as_flat():
    """xor-perceptron --set model.architecture=mlp: 'within 47% of its best ... did not turn upward'."""
    val = [0.153, 0.315, 0.183, 0.125, 0.103, 0.105, 0.078, 0.145, 0.108, 0.132, 0.082, 0.141, 0.101, 0.127]
    val += [0.12, 0.121, 0.088, 0.121, 0.134, 0.098, 0.086, 0.096, 0.137, 0.074, 0.092, 0.16, 0.16, 0.107]
    val += [0.12, 0.084, 0.122, 0.136, 0.117, 0.098, 0.076, 0.186, 0.081, 0.121, 0.08, 0.084, 0.216, 0.174]
    val += [0.105, 0.171, 0.182, 0.201, 0.103, 0.168, 0.123, 0.095, 0.118, 0.105, 0.093, 0.195, 0.076, 0.104]
    val += [0.149, 0.06, 0.16, 0.088]
    train = [v * 0.6 for v in val]
    d = diagnose(history(train, val, lr=0.05), 10, 0.0, LN2)
    assert d["verdict"] == "good fit"
    assert "did not turn upward" not in d["explanation"] and "within" not in d["explanation"]
    assert "46.7% above its lowest (0.06 at epoch 58)" in d["explanation"]
    assert "bounced between 0.06 and 0.216" in d["explanation"]
    assert "optimizer.lr from 0.05" in d["advice"]


def test_one_lucky_dip_in_a_bouncing_plateau_is_not_overfitting():
    """augmentation, data seed 1, training seed 1: losses bounced between 0.30 and 0.40 for 100 epochs;
    a dip to 0.291 at epoch 124 followed by the usual bounce was called 'overfitting', with training loss
    'kept falling' from 0.35 to 0.344."""
    val = [0.35 + 0.05 * math.sin(1.7 * i) for i in range(150)]
    train = [0.34 + 0.02 * math.sin(1.3 * i) for i in range(150)]
    val[123] = 0.291
    val[-1] = 0.394
    d = diagnose(history(train, val), 10, 0.0, LN2)
    assert d["verdict"] != "overfitting" and d["overfitting_epoch"] is None
    assert "training loss fell by less than 5% meanwhile (0.346 then, 0.34 now)" in d["explanation"]


def test_a_small_rise_is_reported_exactly_not_rounded_under_a_threshold():
    """batch-math: 'within 10%' for a 10.5% rise."""
    val = [0.192, 0.136, 0.101, 0.084, 0.0628, 0.064, 0.066, 0.079, 0.075, 0.0694]
    train = [0.238, 0.131, 0.080, 0.070, 0.105, 0.145, 0.068, 0.057, 0.072, 0.080]
    d = diagnose(history(train, val), 10, 0.0, LN2)
    assert d["verdict"] == "good fit"
    assert "10.5% above its lowest" in d["explanation"]
    assert f"less than the {percent(OVERFIT_RISE)} rise counted as overfitting" in d["explanation"]


def test_a_large_relative_rise_of_a_tiny_loss_is_not_overfitting():
    """A fold of iris: validation loss from 0.001 to 0.005 at 100% accuracy."""
    train = falling(0.5, 0.001, 40)
    val = falling(0.5, 0.001, 20) + [0.001 + 0.0002 * i for i in range(20)]
    d = diagnose(history(train, val), 10, 0.0, math.log(3))
    assert d["verdict"] == "good fit" and d["overfitting_epoch"] is None
    assert "too small to count as overfitting" in d["explanation"]


def test_no_validation_split_is_unknown():
    d = diagnose(history([0.5, 0.4, 0.3]), 10, 0.0, LN2)
    assert d["verdict"] == "unknown" and "data.val" in d["advice"]


def test_vanishing_gradients_join_any_verdict_as_a_note():
    train = [0.693] * 10
    d = diagnose(history(train, train, grad_norm_first=[2e-8] * 10, grad_norm_last=[4e-2] * 10), 10, 0.0, LN2)
    assert d["verdict"] == "underfitting"
    (note,) = d["notes"]
    assert "2e-08" in note and "2,000,000 times smaller" in note and "ReLU" in note
    healthy = diagnose(history(train, train, grad_norm_first=[0.01] * 10, grad_norm_last=[0.04] * 10), 10, 0.0, LN2)
    assert healthy["notes"] == []


def test_a_first_layer_gradient_of_exactly_zero_is_a_note_not_a_crash():
    """A lesson's run crashed with ZeroDivisionError when a first layer's gradient was exactly 0."""
    train = [0.693] * 10
    d = diagnose(history(train, train, grad_norm_first=[0.0] * 10, grad_norm_last=[0.3] * 10), 10, 0.0, LN2)
    (note,) = d["notes"]
    assert "first layer's gradient is zero" in note


def test_an_improvement_smaller_than_min_delta_is_named_as_such():
    d = diagnose(history([1, 0.8, 0.7, 0.6, 0.5, 0.4], [1, 0.8, 0.81, 0.79, 0.795, 0.78]), 10, 0.05, LN2)
    assert "below its lowest (0.8 at epoch 2) by less than regularization.min_delta (0.05)" in d["explanation"]


def test_a_rise_just_under_the_threshold_is_not_printed_as_the_threshold():
    d = diagnose(history([0.5, 0.3, 0.2, 0.1], [0.5, 0.3, 0.35, 0.3 * 1.19996]), 10, 0.0, LN2)
    assert "20% above" not in d["explanation"] and "19.99" in d["explanation"]


def test_an_early_stop_after_both_losses_rose_does_not_say_validation_stayed_flat():
    val = [1, 0.7, 0.5, 0.8, 0.9, 0.85, 0.9, 0.95]
    train = [1, 0.6, 0.4, 0.42, 0.44, 0.45, 0.46, 0.47]
    d = diagnose(history(train, val), 5, 0.0, math.log(3), status="early_stopped", kept_epoch=3)
    assert "without turning" not in d["explanation"]
    assert "rose from 0.5 at epoch 3 to 0.95, but training loss did not keep falling" in d["explanation"]


def test_underfitting_does_not_say_levelled_off_while_training_loss_falls():
    train = [0.99 - 0.029 * i for i in range(11)]
    d = diagnose(history(train, [0.9] * 11), 10, 0.0, 1.0)
    assert d["verdict"] == "underfitting" and "levelled off" not in d["explanation"]
    assert "still falling" in d["explanation"]


def test_a_first_loss_of_zero_and_a_stop_before_any_measurement_do_not_break_the_diagnosis():
    assert diagnose([{"epoch": 1, "train_loss_running": 0.0}, {"epoch": 2, "train_loss_running": 1e-6}])
    stopped = diagnose([{"epoch": 1, "train_loss_running": 0.5}], status="stopped")
    assert "stopped before its first validation measurement" in stopped["explanation"]
    assert "data.val" not in stopped["advice"]


def test_still_improving_prints_numbers_that_differ():
    train = [1.1 - 0.0006 * i for i in range(20)]  # 0.24% over the last four epochs: 1.09 and 1.09 at 3 digits
    d = diagnose(history(train, [t + 0.1 for t in train]), 10, 0.0, 1.0, epochs=20)
    assert d["verdict"] == "still improving"
    assert "training loss from 1.091 to 1.089" in d["explanation"]


def test_every_verdict_is_one_of_the_documented_ones():
    cases = [
        diagnose(history([9.3, 2.1, 1.6], [1.0] * 3, lr=10), 10, 0.0, LN2),
        diagnose(overfit_history(), 10, 0.0, LN2),
        diagnose(history([0.5, 0.4, 0.3]), 10, 0.0, LN2),
        diagnose([{"epoch": 1, "train_loss_running": None}], status="diverged"),
    ]
    assert all(d["verdict"] in VERDICTS for d in cases)


# One rule for the best epoch.


def test_the_best_epoch_is_the_same_for_the_training_hook_and_the_diagnosis():
    records = history(falling(1, 0.1, 30), [0.5, 0.4, 0.41, 0.39999, 0.3, 0.31] + [0.35] * 24)
    hook = BestWeights(patience=5, min_delta=0.001, early_stopping=False)

    class FakeTrainer:
        class model:  # noqa: N801 - stands in for the model whose state is copied
            @staticmethod
            def state_dict():
                return {}

    for record in records:
        hook.on_epoch_end(FakeTrainer, record)
    assert (hook.best_epoch, hook.best_loss) == best_epoch(records, 0.001) == (5, 0.3)
    tracker = BestTracker(5, 0.001)
    for r in records:
        tracker.update(r["epoch"], r["val_loss"])
    assert tracker.stop_epoch == early_stopping_epoch(records, 5, 0.001)["stop_epoch"] == 10


def test_when_early_stopping_would_keep_another_epoch_than_the_best_one_line_says_why():
    """'best epoch 36' beside 'early stopping would have stopped at epoch 12 and kept epoch 2'."""
    val = [0.5, 0.4] + [0.45] * 12 + [0.3] + [0.35] * 10
    d = diagnose(history(falling(0.6, 0.1, len(val)), val), 10, 0.0, LN2)
    stop = d["early_stopping"]
    assert (stop["stop_epoch"], stop["best_epoch"], d["best_epoch"]) == (12, 2, 15)
    assert "patience 10 gives up after 10 epochs without improvement" in stop["note"]


# k-fold.


def test_a_verdict_over_folds_counts_them_and_gives_the_mean_and_spread():
    folds = [diagnose(overfit_history(), 10, 0.0, LN2) for _ in range(3)]
    folds += [diagnose(history([0.5, 0.4, 0.3], [0.5, 0.4, 0.3]), 10, 0.0, LN2) for _ in range(2)]
    cv = {"val": {"loss": 0.3, "loss_std": 0.1, "accuracy": 0.933, "accuracy_std": 0.057}}
    d = diagnose_folds(folds, cv, 5)
    assert d["verdict"] == "overfitting" and d["fold_verdicts"].count("overfitting") == 3
    assert d["explanation"].startswith("Overfitting in 3 of 5 folds")
    assert "93.3% ± 5.7%" in d["explanation"]
