"""Reading the loss curves like a teacher: best epoch, generalization gap, onset of overfitting,
what early stopping would have done, and a verdict with what to try.

Pure Python over the per-epoch history, so the same diagnosis can be recomputed from events.jsonl.
"""

from __future__ import annotations

import math

# How much worse than its best the final validation loss must be to call it overfitting
# (validation loss on a few dozen samples wobbles by several percent from epoch to epoch).
OVERFIT_RISE = 0.20
# A training loss above this share of the know-nothing baseline means the model did not fit.
UNDERFIT_SHARE = 0.6


def _finite(x) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)


def best_epoch(history: list[dict], min_delta: float = 0.0) -> tuple[int | None, float | None]:
    """The epoch with the lowest validation loss (improvements smaller than min_delta do not count)."""
    best, best_loss = None, math.inf
    for rec in history:
        v = rec.get("val_loss")
        if _finite(v) and v < best_loss - min_delta:
            best, best_loss = rec["epoch"], v
    return best, (best_loss if best is not None else None)


def early_stopping_epoch(history: list[dict], patience: int, min_delta: float = 0.0) -> dict | None:
    """Where early stopping with this patience would stop, and the epoch whose weights it would keep."""
    best, best_loss, waited = None, math.inf, 0
    for rec in history:
        v = rec.get("val_loss")
        if not _finite(v):
            continue
        if v < best_loss - min_delta:
            best, best_loss, waited = rec["epoch"], v, 0
        else:
            waited += 1
            if waited >= patience:
                return {"stop_epoch": rec["epoch"], "best_epoch": best, "best_val_loss": best_loss}
    return None


def overfitting_onset(history: list[dict], patience: int, min_delta: float = 0.0) -> int | None:
    """The epoch after the best validation epoch, when validation loss then stayed above its best for
    at least `patience` evaluations, ended higher, and training loss kept falling meanwhile."""
    evals = [r for r in history if _finite(r.get("val_loss")) and _finite(r.get("train_loss"))]
    best, best_loss = best_epoch(evals, min_delta)
    if best is None:
        return None
    at_best = next(i for i, r in enumerate(evals) if r["epoch"] == best)
    after = evals[at_best + 1 :]
    if len(after) < patience:
        return None
    train_fell = after[-1]["train_loss"] < evals[at_best]["train_loss"]
    val_rose = after[-1]["val_loss"] > best_loss * (1 + OVERFIT_RISE) + min_delta
    return after[0]["epoch"] if train_fell and val_rose else None


def diagnose(history: list[dict], patience: int, min_delta: float, baseline: float | None) -> dict:
    """The whole diagnosis as plain JSON."""
    evals = [r for r in history if _finite(r.get("val_loss")) and _finite(r.get("train_loss"))]
    gaps = [[r["epoch"], r["val_loss"] - r["train_loss"]] for r in evals]
    best, best_loss = best_epoch(history, min_delta)
    onset = overfitting_onset(history, patience, min_delta)
    would_stop = early_stopping_epoch(history, patience, min_delta)
    result = {
        "best_epoch": best,
        "best_val_loss": best_loss,
        "generalization_gap": gaps,
        "final_gap": gaps[-1][1] if gaps else None,
        "overfitting_epoch": onset,
        "early_stopping": would_stop,
        "patience": patience,
    }
    result.update(_verdict(evals, best_loss, onset, would_stop, baseline, patience))
    return result


def _verdict(evals, best_loss, onset, would_stop, baseline, patience) -> dict:
    if not evals:
        return {
            "verdict": "unknown",
            "explanation": "No validation measurements, so generalization cannot be judged.",
            "advice": "Give data.val a share above 0.",
        }
    last = evals[-1]
    train, val = last["train_loss"], last["val_loss"]
    if baseline and train > UNDERFIT_SHARE * baseline:
        still_falling = len(evals) > 3 and evals[-1]["train_loss"] < 0.95 * evals[-4]["train_loss"]
        advice = (
            "Training loss was still falling: train for more epochs or raise the learning rate."
            if still_falling
            else "Use a bigger model (more or wider layers, a non-linear activation), or lower the regularization."
        )
        return {
            "verdict": "underfitting",
            "explanation": f"Training loss ended at {train:.3g}, close to the {baseline:.3g} of a model that learned nothing: "
            "the model is not fitting even the data it trains on.",
            "advice": advice,
        }
    rise = (val - best_loss) / max(abs(best_loss), 1e-12) if best_loss is not None else 0.0
    if onset is not None and rise > OVERFIT_RISE:
        stop = (
            f" Early stopping with patience {patience} would have stopped at epoch "
            f"{would_stop['stop_epoch']} and kept epoch {would_stop['best_epoch']}."
            if would_stop
            else ""
        )
        return {
            "verdict": "overfitting",
            "explanation": f"Validation loss bottomed out at {best_loss:.3g} and rose to {val:.3g} from epoch {onset} on "
            f"while training loss kept falling to {train:.3g}: the model is memorizing the training set.{stop}",
            "advice": "Add dropout, an L2 penalty or weight decay, use early stopping, get more data, or shrink the model.",
        }
    return {
        "verdict": "good fit",
        "explanation": f"Validation loss ended at {val:.3g}, within {max(rise, 0):.0%} of its best ({best_loss:.3g}), "
        f"and did not turn upward while training loss reached {train:.3g} (gap {val - train:+.3g}): the model generalizes.",
        "advice": "Try a harder dataset, fewer samples, or more noise to see where it breaks.",
    }
