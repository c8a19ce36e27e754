"""Batch arithmetic, shared by the engine (which trains by it) and the app (which explains it):
how many iterations an epoch takes, what happens to the last batch, and the sentence that shows
the division, e.g. '⌈1,000 / 64⌉ = 16 iterations per epoch × 10 epochs = 160 updates'."""

from __future__ import annotations

import math

from nnplay.engine.core.events import is_number
from nnplay.engine.core.i18n import _, ngettext


def iterations_per_epoch(n_train: int, batch_size: int, drop_last: bool) -> int:
    """Updates in one epoch: ⌈n / batch⌉, or ⌊n / batch⌋ when a partial last batch is dropped."""
    return n_train // batch_size if drop_last else math.ceil(n_train / batch_size)


def last_batch(n_train: int, batch_size: int, drop_last: bool) -> str:
    """What becomes of the samples that do not fill a whole batch, as a phrase."""
    remainder = n_train % batch_size
    if not remainder:
        return _("every batch holds {batch_size} samples").format(batch_size=batch_size)
    if drop_last:
        return _("the last {remainder} samples of each shuffled epoch are dropped").format(remainder=remainder)
    return _("the last batch of each epoch holds the remaining {remainder} samples").format(remainder=remainder)


def count(value: object) -> str:
    """A whole count with thousands separators; '?' when unknown."""
    return f"{value:,}" if is_number(value) else "?"


def counted(value: object, word: str) -> str:
    """'1 iteration', '50 iterations', '1,000 updates': the count and its noun, in the right number (and
    in the current language for the nouns below)."""
    shown, n = count(value), 1 if value == 1 else 2
    if word == "iteration":
        return ngettext("{count} iteration", "{count} iterations", n).format(count=shown)
    if word == "epoch":
        return ngettext("{count} epoch", "{count} epochs", n).format(count=shown)
    if word == "update":
        return ngettext("{count} update", "{count} updates", n).format(count=shown)
    if word == "parameter":
        return ngettext("{count} parameter", "{count} parameters", n).format(count=shown)
    return f"{shown} {word}{'' if value == 1 else 's'}"


BATCH_SETTINGS = ("training.batch_size", "training.epochs", "training.drop_last")


def varied_batches(plan: dict) -> list[str]:
    """The settings a sweep's members differ in that change their batches, iterations or updates (so the plan's
    own arithmetic, the experiment's before the sweep, is no member's); empty for a single run."""
    sweep = plan.get("sweep")
    settings = sweep.get("settings") if isinstance(sweep, dict) else None
    return [s for s in settings or [] if isinstance(s, str) and (s in BATCH_SETTINGS or s.startswith("data."))]


def batch_arithmetic(plan: dict) -> str:
    """'⌈1000 / 20⌉ = 50 iterations per epoch × 10 epochs = 500 updates', with the plan's numbers; for a sweep
    whose members differ in their batches, that they do."""
    varied = varied_batches(plan)
    if varied:
        return _("iterations and updates differ from member to member ({settings})").format(settings=", ".join(varied))
    n_train, batch = plan.get("n_train"), plan.get("batch_size")
    iterations, epochs, updates = plan.get("iterations_per_epoch"), plan.get("epochs"), plan.get("total_updates")
    division = ""
    if isinstance(n_train, int) and isinstance(batch, int) and batch > 0:
        # The engine decides whether a partial last batch counts; show the rounding that matches it.
        if iterations == math.ceil(n_train / batch):
            division = f"⌈{n_train:,} / {batch:,}⌉ = "
        elif iterations == n_train // batch:
            division = f"⌊{n_train:,} / {batch:,}⌋ = "
        else:
            division = f"{n_train:,} / {batch:,} → "
    k_folds = plan.get("k_folds")
    shown = {
        "division": division,
        "iterations": counted(iterations, "iteration"),
        "epochs": counted(epochs, "epoch"),
        "updates": counted(updates, "update"),
    }
    if isinstance(k_folds, int) and k_folds > 1:
        return _("{division}{iterations} per epoch × {epochs} × {folds} folds = {updates}").format(
            folds=k_folds, **shown
        )
    return _("{division}{iterations} per epoch × {epochs} = {updates}").format(**shown)
