"""Weight and gradient norms per layer, gradients as bars on a log scale: a gradient of 1e-6
next to one of 1e-1 shows up as a stub next to a long bar, which is what vanishing gradients
look like."""

from __future__ import annotations

import math

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from nnplay.engine.core.i18n import _
from nnplay.tui.state import RunState, is_number

# The bar spans at least these decades, so healthy gradients do not fill it and tiny ones still show.
MIN_DECADE, MAX_DECADE = -8, 1
VANISHING, EXPLODING = 1e-5, 10.0
EIGHTHS = " ▏▎▍▌▋▊▉"


def scientific(value) -> str:
    """Plain digits for ordinary sizes, scientific notation for tiny or huge ones."""
    if not is_number(value):
        return "—"
    if value == 0:
        return "0"
    return f"{value:.2e}" if abs(value) < 1e-3 or abs(value) >= 1e4 else f"{value:.4g}"


def log_fractions(values: list) -> tuple[list[float], tuple[int, int]]:
    """Each value's position on a shared log10 axis, in [0, 1]; zero or missing -> 0."""
    logs = [math.log10(v) for v in values if is_number(v) and v > 0]
    lo = min([MIN_DECADE, *(math.floor(x) for x in logs)])
    hi = max([MAX_DECADE, *(math.ceil(x) for x in logs)])
    fractions = [(math.log10(v) - lo) / (hi - lo) if is_number(v) and v > 0 else 0.0 for v in values]
    return fractions, (lo, hi)


class LogBar:
    """A bar filling `fraction` of whatever width the table gives it, to an eighth of a cell."""

    def __init__(self, fraction: float, style: str) -> None:
        self.fraction, self.style = min(1.0, max(0.0, fraction)), style

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(4, options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        eighths = round(self.fraction * options.max_width * 8)
        full, part = divmod(eighths, 8)
        yield Text("█" * full + (EIGHTHS[part] if part else ""), style=self.style, no_wrap=True, overflow="crop")


class LayerNorms(Static):
    """A `layers` snapshot as a table; `bar_fractions` holds each gradient bar's share of the width."""

    DEFAULT_CSS = """
    LayerNorms {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(_("waiting for the first snapshot"), name=name, id=id, classes=classes)
        self.snapshot: dict | None = None
        self.bar_fractions: list[float] = []

    def update_from(self, state: RunState) -> None:
        """Show the state's latest layers snapshot, if it is new."""
        self.set_snapshot(state.snapshots.get("layers"))

    def set_snapshot(self, snapshot: dict | None) -> None:
        """Show one snapshot event; the same object again costs nothing."""
        if snapshot is self.snapshot:
            return
        self.snapshot = snapshot
        names = (snapshot or {}).get("layers") or []
        if not names:
            self.bar_fractions = []
            self.update(_("waiting for the first snapshot"))
            return
        weights = (snapshot or {}).get("weight_norm") or []
        grads = (snapshot or {}).get("grad_norm") or []
        grads = [grads[i] if i < len(grads) else None for i in range(len(names))]
        self.bar_fractions, (lo, hi) = log_fractions(grads)
        table = Table(box=None, padding=(0, 1), pad_edge=False, expand=True, caption_justify="left")
        table.add_column(_("layer"), no_wrap=True, overflow="ellipsis", max_width=24)
        table.add_column("‖w‖", justify="right", no_wrap=True)
        table.add_column("‖∇w‖", justify="right", no_wrap=True)
        sparsity = (snapshot or {}).get("sparsity")
        if sparsity:  # the share of weights near zero: what an L1 penalty drives up
            table.add_column("≈0", justify="right", no_wrap=True)
        table.add_column(
            _("log scale {low}…{high}").format(low=f"1e{lo}", high=f"1e{hi}"),
            ratio=1,
            no_wrap=True,
            overflow="ellipsis",
        )
        for i, name in enumerate(names):
            grad = grads[i]
            weight = weights[i] if i < len(weights) else None
            if is_number(grad) and grad < VANISHING:
                style = "red"  # this layer barely learns: gradients vanished before reaching it
            elif is_number(grad) and grad > EXPLODING:
                style = "yellow"
            else:
                style = "green"
            near_zero = []
            if sparsity:
                share = sparsity[i] if i < len(sparsity) else None
                near_zero = [f"{share:.0%}" if is_number(share) else "—"]
            table.add_row(
                str(name),
                scientific(weight),
                Text(scientific(grad), style=style),
                *near_zero,
                LogBar(self.bar_fractions[i], style),
            )
        epoch = (snapshot or {}).get("epoch")
        parts = [_("after epoch {epoch}").format(epoch=epoch)] if is_number(epoch) else []
        parts.append(_("bars: gradient norm on a log scale"))
        parts.append(_("red: vanishing (< {threshold})").format(threshold=f"{VANISHING:g}"))
        below = (snapshot or {}).get("sparse_below")
        if sparsity and is_number(below):
            parts.append(_("≈0: share of weights with |w| < {threshold}").format(threshold=f"{below:g}"))
        table.caption = " · ".join(parts)
        self.update(table)
