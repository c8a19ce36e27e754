"""ASCII charts of a run's curves (plotext), for the terminal and for Markdown exports."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import plotext as plt
from rich.cells import cell_len

from nnplay.engine.core.i18n import _

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# plotext gives every character of a title, label or legend one cell, but Korean characters take two on a
# terminal: each is followed by this filler while plotext lays the chart out, which is removed afterwards.
WIDE_FILLER = "\ue000"  # a private-use character: never in a label


def widened(text: str) -> str:
    """`text` with a filler after each double-width character, so that plotext counts its cells."""
    if text.isascii():
        return text
    return "".join(c + WIDE_FILLER * (cell_len(c) - 1) for c in text)


def finite_pairs(xs: list, ys: list) -> tuple[list, list]:
    """Drop points whose value is missing or not finite (plotext cannot draw inf or NaN)."""
    keep = [
        (x, y)
        for x, y in zip(xs, ys, strict=False)
        if isinstance(y, int | float) and math.isfinite(y) and x is not None
    ]
    return [x for x, _y in keep], [y for _x, y in keep]


def line_chart(
    series: dict[str, tuple[list, list]],
    title: str,
    width: int = 72,
    height: int = 16,
    color: bool = True,
    log_y: bool = False,
    xlabel: str | None = None,
    marks: Mapping[str, float] | None = None,
) -> str:
    """Several named (x, y) series on one chart, as text, along `xlabel` (default: epoch). Without color,
    series differ by marker."""
    xlabel = _("epoch") if xlabel is None else xlabel
    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear" if not color else "pro")
    markers = iter(["braille", "x", "o", "+", "*"]) if not color else None
    drew = False
    all_xs: list[float] = []
    for label, (xs, ys) in series.items():
        xs, ys = finite_pairs(xs, ys)
        if log_y:
            xs, ys = [x for x, y in zip(xs, ys, strict=True) if y > 0], [y for y in ys if y > 0]
        if not xs:
            continue
        kwargs = {"label": widened(label)}
        if markers is not None:
            kwargs["marker"] = next(markers, "dot")
        plt.plot(xs, ys, **kwargs)
        all_xs += xs
        drew = True
    if not drew:
        return _("{title}: no finite values to draw yet").format(title=title) + "\n"
    for label, x in (marks or {}).items():
        plt.vline(x)
        title = _("{title}  (| {mark} at {x:g})").format(title=title, mark=label, x=x)
    if log_y:
        plt.yscale("log")
    lo, hi = min(all_xs), max(all_xs)
    if hi - lo >= 4:  # whole epochs on the axis, not 38.8
        plt.xticks(sorted({round(lo + (hi - lo) * i / 4) for i in range(5)}))
    plt.title(widened(title))
    plt.xlabel(widened(xlabel))
    text = plt.build().replace(WIDE_FILLER, "")
    return text if color else ANSI.sub("", text)


def loss_chart(
    epochs: list[dict],
    width: int = 72,
    height: int = 16,
    color: bool = True,
    best_epoch: int | None = None,
    train: str | None = None,
) -> str:
    """Training vs validation loss per epoch (training loss measured in evaluation mode; `train` is its
    legend, which says so when it is measured on a subset). The folds of a cross-validation are drawn
    one after another, not on top of each other."""
    folds = any(e.get("fold") is not None for e in epochs)
    xs = [(e.get("fold") or 0) * (e.get("epochs") or 0) + e.get("epoch", 0) for e in epochs] if folds else None
    xs = xs or [e.get("epoch") for e in epochs]
    series = {
        _("train") if train is None else train: (
            xs,
            [e.get("train_loss", e.get("train_loss_running")) for e in epochs],
        ),
        _("validation"): (xs, [e.get("val_loss") for e in epochs]),
    }
    marks = {_("best"): best_epoch} if best_epoch and not folds else None
    if folds:
        title = _("loss, the folds one after another ({epochs} epochs each)").format(epochs=epochs[0].get("epochs"))
    else:
        title = _("loss")
    return line_chart(series, title, width, height, color, marks=marks)
