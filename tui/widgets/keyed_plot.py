"""A plotext chart whose title and key (legend) sit on their own lines above the plot area, never
over a curve, with lines drawn in braille (2x4 dots per character cell) so that ten epochs read as a
slope, not a staircase, and two hundred epochs in sixty columns still show where a curve turns."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

Color = tuple[int, int, int]
MARKER = "braille"
SOLID, DOTTED, BLOCK = "━━", "┅┅", "██"
MIN_HEIGHT = 5  # below this many rows a chart draws nothing
BAND_POINTS_MAX = 40_000  # a band is drawn as dots; this bounds the work on a very large chart


def rich_color(color: Color) -> Style:
    """A Rich style in a curve's colour."""
    return Style(color=f"rgb({color[0]},{color[1]},{color[2]})")


def segments(xs: Sequence[float], ys: Sequence[float], lo: float, hi: float) -> list[tuple[list, list]]:
    """The stretches of a curve that stay inside [lo, hi]: a curve leaving the y range stops at its
    edge instead of being drawn squashed against it (plotext does not clip)."""
    parts: list[tuple[list, list]] = [([], [])]
    for x, y in zip(xs, ys, strict=True):
        if lo <= y <= hi:
            parts[-1][0].append(x)
            parts[-1][1].append(y)
        elif parts[-1][0]:
            parts.append(([], []))
    return [part for part in parts if part[0]]


def interpolate(xs: Sequence[float], ys: Sequence[float], x: float) -> float:
    """Linear interpolation of a curve with increasing xs at x (clamped at its ends)."""
    if x <= xs[0]:
        return ys[0]
    for (x0, y0), (x1, y1) in zip(zip(xs, ys, strict=True), zip(xs[1:], ys[1:], strict=True), strict=False):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / ((x1 - x0) or 1)
    return ys[-1]


class KeyedPlot(PlotextPlot):
    """Plot with `begin()`, `line()`, `band()` and `key_entry()`, then `refresh()`. The heading (the
    title, then one entry per curve: a coloured swatch and its label) is wrapped onto as many lines
    above the plot as the width needs; the plot gets the rest of the height."""

    DEFAULT_CSS = """
    KeyedPlot {
        min-height: 6;
        background: $surface;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.heading = Text()
        self.key: list[Text] = []  # one entry per curve: its swatch and label, in drawing order

    def begin(self, title: str | Text = "") -> None:
        """Clear the figure and the key; the new title goes first in the heading."""
        self.plt.clear_figure()
        self.key = []
        self.set_title(title)

    def set_title(self, title: str | Text) -> None:
        """The chart's title line: a plain string in bold, or Text as given."""
        self.heading = title if isinstance(title, Text) else Text(title, style="bold")

    def key_entry(self, label: str, color: Color, swatch: str = SOLID) -> None:
        """A key entry: the swatch in the curve's colour, then the label (once per label)."""
        if label:
            self.key_text(Text.assemble((swatch + " ", rich_color(color)), label))

    def key_text(self, entry: Text) -> None:
        """Add an entry to the key, unless one with the same text is there."""
        if entry.plain not in (e.plain for e in self.key):
            self.key.append(entry)

    def line(self, xs: Sequence, ys: Sequence, *, label: str = "", color: Color, swatch: str = SOLID) -> None:
        """One curve in braille, and its entry in the key (none for an empty label)."""
        if xs:
            self.plt.plot(list(xs), list(ys), marker=MARKER, color=color)
            self.key_entry(label, color, swatch)

    def band(self, xs: Sequence, lows: Sequence, highs: Sequence, *, label: str = "", color: Color) -> None:
        """The area between two curves over the same xs, filled with dots at the plot's resolution."""
        if len(xs) < 1:
            return
        width, height = max(self.size.width, 20), max(self.size.height, 6)
        y_span = (max(highs) - min(lows)) or 1.0
        dy = y_span / (4 * height)
        columns = max(2, 2 * width)
        x0, x1 = xs[0], xs[-1]
        px: list[float] = []
        py: list[float] = []
        for i in range(columns + 1):
            x = x0 + (x1 - x0) * i / columns
            lo, hi = interpolate(xs, lows, x), interpolate(xs, highs, x)
            steps = max(1, math.ceil((hi - lo) / dy))
            px += [x] * (steps + 1)
            py += [lo + (hi - lo) * k / steps for k in range(steps + 1)]
            if len(px) > BAND_POINTS_MAX:
                break
        self.plt.scatter(px, py, marker=MARKER, color=color)
        self.key_entry(label, color, BLOCK)

    def heading_lines(self, width: int, most: int = 1_000) -> list[Text]:
        """The title and the key, wrapped at entry boundaries to the width, in at most `most` lines (the
        last one then carries the rest of the key, cut with an ellipsis, rather than losing it)."""
        entries = ([self.heading] if self.heading.plain else []) + self.key
        lines: list[Text] = []
        for entry in entries:
            if lines and (lines[-1].cell_len + 2 + entry.cell_len <= width or len(lines) == most):
                lines[-1].append("  ")
                lines[-1].append_text(entry)
            else:
                lines.append(entry.copy())
        for line in lines:
            line.truncate(max(width, 1), overflow="ellipsis")
        return lines

    def on_resize(self) -> None:
        """Draw again for the new size."""
        self.replot()  # bands and ticks depend on the size

    def replot(self) -> None:
        """Subclasses: begin(), draw, refresh()."""
        self.refresh()

    def render(self) -> RenderResult:
        """The title and key lines, then the plot in the rows left (nothing when too low to read)."""
        width, height = self.size.width, self.size.height
        if height < MIN_HEIGHT:  # no room for a readable plot (a panel full of words): nothing, not a smear
            return Text("")
        lines = self.heading_lines(width, most=max(1, height - 4))  # at least four rows of plot
        plot_height = max(1, height - len(lines))
        self.plt.plotsize(width, plot_height)
        self.plt._set_size(width, plot_height)
        self.plt.theme(self._get_plotext_theme_name(self.app.theme))
        started = time.perf_counter()
        plot = Text.from_ansi(self.plt.build())
        pacer = getattr(self.screen, "pacer", None)  # the dashboard's: building plots is most of a frame
        if pacer is not None:
            pacer.add(time.perf_counter() - started)
        return Text("\n").join([*lines, plot])
