"""A sweep's results: one row per member (the settings it changed, how it ended, its best validation
score, its test score, its verdict, its time), and which member is best.

The best member is chosen on validation, never on test: the headline validation metric at the member's
best epoch (accuracy and R² higher, losses and errors lower), ties broken by the best validation loss.
Pure Python: the engine records the rows, the CLI and the app show them.
"""

from __future__ import annotations

import math
from typing import Any

from nnplay.engine.core.diagnosis import HEADLINE_METRICS
from nnplay.engine.core.events import is_number

HEADLINE_ORDER = tuple(key for key, _label in HEADLINE_METRICS)
HIGHER_IS_BETTER = ("accuracy", "r2")
FINISHED = ("completed", "early_stopped", "stopped")  # a member whose numbers can be compared


def at_best_epoch(epochs: list[dict], best_epoch: int | None) -> dict[str, float]:
    """The validation metrics of the best epoch ({"loss": ..., "accuracy": ...}); empty without one."""
    record = next((e for e in epochs if e.get("epoch") == best_epoch), None) if best_epoch else None
    if record is None:
        return {}
    return {key[4:]: value for key, value in record.items() if key.startswith("val_") and is_number(value)}


def member_row(
    member: int, label: str, settings: dict[str, Any], summary: dict | None, epochs: list[dict], error: str | None
) -> dict:
    """A member's row of the results from its run's summary and epochs (a member with no summary failed)."""
    summary = summary or {}
    return {
        "member": member,
        "label": label,
        "settings": settings,
        "status": summary.get("status") or "failed",
        "best_epoch": summary.get("best_epoch"),
        "best_val_loss": summary.get("best_val_loss"),
        "val": at_best_epoch(epochs, summary.get("best_epoch")),
        "test": summary.get("test"),
        "verdict": summary.get("verdict"),
        "duration_s": summary.get("duration_s"),
        "run_dir": summary.get("run_dir"),
        "error": error or summary.get("error"),
    }


def headline_key(rows: list[dict], part: str = "val") -> str | None:
    """The metric the rows are compared on: the first of accuracy, R², reconstruction error, loss that any
    row measured in `part` ("val" or "test")."""
    for key in HEADLINE_ORDER:
        if any(is_number((row.get(part) or {}).get(key)) for row in rows):
            return key
    return None


def score(row: dict, key: str, part: str = "val") -> float | None:
    """The row's `key` in `part`, when it is a finite number."""
    value = (row.get(part) or {}).get(key)
    return float(value) if is_number(value) else None


def combination(row: dict) -> tuple:
    """The settings a row's member changes other than its seed: members with the same combination differ only
    in seed."""
    return tuple(sorted((name, repr(value)) for name, value in row["settings"].items() if name != "training.seed"))


def better_first(key: str) -> float:
    """The sign that orders `key` best first when sorted ascending: -1 for accuracy and R², 1 for losses."""
    return -1.0 if key in HIGHER_IS_BETTER else 1.0


def group_means(rows: list[dict], key: str, part: str = "val") -> dict[tuple, float]:
    """Each combination of settings' mean `key` over its finished members (its seeds)."""
    scores: dict[tuple, list[float]] = {}
    for row in rows:
        value = score(row, key, part)
        if value is not None and row.get("status") in FINISHED:
            scores.setdefault(combination(row), []).append(value)
    return {group: sum(values) / len(values) for group, values in scores.items()}


def best_first(row: dict, key: str, means: dict[tuple, float]) -> tuple[float, float, float] | None:
    """Where a row stands, best first, on validation: its combination's mean over its seeds (a lucky seed does
    not win), then its own score, then its best validation loss; None for a row with no score to compare."""
    own = score(row, key)
    if own is None or row.get("status") not in FINISHED:
        return None
    loss = row.get("best_val_loss")
    sign = better_first(key)
    return (sign * means[combination(row)], sign * own, float(loss) if is_number(loss) else math.inf)


def best_member(rows: list[dict]) -> int | None:
    """The index of the best member, chosen on validation (best_first; the lower index on a tie); None when no
    member has a validation score."""
    key = headline_key(rows)
    if key is None:
        return None
    means = group_means(rows, key)
    ranked = [(place, int(row["member"])) for row in rows if (place := best_first(row, key, means)) is not None]
    return min(ranked)[1] if ranked else None
