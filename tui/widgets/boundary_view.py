"""What a 2-D model predicts everywhere, like TensorFlow Playground: class regions (or a value
surface) on a 40×40 grid, fading where the model is unsure, with the training points on top.

Each text row shows two grid rows with the upper half block "▀" (foreground = upper cell,
background = lower cell). Rendering is line-based and cached per size and snapshot.
"""

from __future__ import annotations

import math
from functools import lru_cache

from rich.cells import set_cell_size
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from nnplay.engine.core.i18n import _
from nnplay.tui.state import RunState, is_number

RGB = tuple[int, int, int]
# Class 0 orange and class 1 blue as in TensorFlow Playground, then eight more distinct hues.
PALETTE: tuple[RGB, ...] = (
    (245, 147, 34),
    (50, 150, 255),
    (70, 200, 90),
    (235, 70, 70),
    (170, 110, 230),
    (230, 210, 60),
    (40, 210, 210),
    (240, 120, 190),
    (170, 110, 60),
    (190, 190, 190),
)
UNSURE: RGB = (48, 48, 54)  # where regions fade to when the model cannot tell classes apart
LEVELS = 6  # confidence / value levels; few levels keep the style cache small and bands visible
LOW, MID, HIGH = (50, 110, 230), (215, 215, 215), (235, 80, 40)  # diverging colormap for surfaces
HALF, DOT = "▀", "●"
POINT_SHARE = 5  # at most one cell in this many shows a training point


def blend(a: RGB, b: RGB, t: float) -> RGB:
    """a at t=0, b at t=1."""
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def class_color(label: int) -> RGB:
    """The colour of a class: the palette's, cycled past its end."""
    return PALETTE[int(label) % len(PALETTE)]


@lru_cache(maxsize=1024)
def region_color(label: int, level: int) -> RGB:
    """The class colour, faded towards grey at low confidence and never as strong as a point."""
    return blend(UNSURE, class_color(label), 0.15 + 0.45 * level / (LEVELS - 1))


def diverging(t: float) -> RGB:
    """Blue (low) through light grey to red-orange (high), t in [0, 1]."""
    return blend(LOW, MID, 2 * t) if t < 0.5 else blend(MID, HIGH, 2 * t - 1)


@lru_cache(maxsize=4096)
def cell_style(fg: RGB, bg: RGB, bold: bool = False) -> Style:
    """A Rich style with these foreground and background colours."""
    return Style(color=Color.from_rgb(*fg), bgcolor=Color.from_rgb(*bg), bold=bold)


class BoundaryView(Widget):
    """A `boundary` or `surface` snapshot drawn to fill the widget, legend on the last line."""

    DEFAULT_CSS = """
    BoundaryView {
        width: 1fr;
        height: 1fr;
        min-height: 3;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.snapshot: dict | None = None
        self._cells: list[list[RGB]] = []  # grid colours, row 0 = lowest y
        self._points: list[tuple[float, float, RGB]] = []  # grid coordinates (0..cols-1, 0..rows-1)
        self._legend: list[tuple[str, RGB | None]] = []  # swatches and their names
        self._hint = ""
        self._strips: list[Strip] = []
        self._strips_key: tuple | None = None

    def update_from(self, state: RunState) -> None:
        """Show the state's latest boundary (or surface) snapshot, if it is new."""
        self.set_snapshot(state.snapshots.get("boundary") or state.snapshots.get("surface"))

    def set_snapshot(self, snapshot: dict | None) -> None:
        """Show one snapshot event; the same object again costs nothing."""
        if snapshot is self.snapshot:
            return
        self.snapshot = snapshot
        self._cells, self._points, self._legend = [], [], []
        if snapshot and snapshot.get("view") == "surface":
            self._prepare_surface(snapshot)
        elif snapshot:
            self._prepare_boundary(snapshot)
        if self._cells:  # a ragged grid would index past a short row while rendering
            cols = max(len(row) for row in self._cells)
            self._cells = [row + [UNSURE] * (cols - len(row)) for row in self._cells]
        self._strips_key = None
        self.refresh()

    def _axes(self, snapshot: dict) -> tuple[float, float, float, float] | None:
        xs, ys = snapshot.get("x") or [], snapshot.get("y") or []
        if len(xs) < 2 or len(ys) < 2 or not all(is_number(v) for v in (xs[0], xs[-1], ys[0], ys[-1])):
            return None
        return xs[0], xs[-1], ys[0], ys[-1]

    def _place_points(self, snapshot: dict, colors: list[RGB]) -> None:
        """Training points in grid coordinates, so the render only has to scale them."""
        axes, points = self._axes(snapshot), snapshot.get("points") or {}
        if axes is None or not self._cells:
            return
        x0, x1, y0, y1 = axes
        rows, cols = len(self._cells), len(self._cells[0])
        for px, py, color in zip(points.get("x") or [], points.get("y") or [], colors, strict=False):
            if is_number(px) and is_number(py) and x1 != x0 and y1 != y0:
                self._points.append(((px - x0) / (x1 - x0) * (cols - 1), (py - y0) / (y1 - y0) * (rows - 1), color))

    def _prepare_boundary(self, snapshot: dict) -> None:
        pred, confidence = snapshot.get("pred") or [], snapshot.get("confidence") or []
        names = snapshot.get("class_names") or []
        labels = (snapshot.get("points") or {}).get("label") or []
        seen = [int(c) for row in pred for c in row if is_number(c)]
        n_classes = max([len(names), 2, *(c + 1 for c in seen)])
        floor = 1 / n_classes  # the confidence of a model that knows nothing
        for r, row in enumerate(pred):
            cells = []
            for c, label in enumerate(row):
                known = r < len(confidence) and c < len(confidence[r]) and is_number(confidence[r][c])
                sure = (confidence[r][c] - floor) / (1 - floor) if known else 0.0
                level = min(LEVELS - 1, max(0, round(sure * (LEVELS - 1))))
                cells.append(region_color(int(label), level) if is_number(label) else UNSURE)
            self._cells.append(cells)
        self._place_points(snapshot, [class_color(int(v)) if is_number(v) else MID for v in labels])
        self._legend = [(f"{names[k] if k < len(names) else k}  ", class_color(k)) for k in range(n_classes)]
        self._hint = _("faded = unsure · ● training points")

    def _prepare_surface(self, snapshot: dict) -> None:
        grid = snapshot.get("value") or []
        point_values = (snapshot.get("points") or {}).get("value") or []
        finite = [v for row in grid for v in row if is_number(v)] + [v for v in point_values if is_number(v)]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)

        def scaled(v) -> float:
            return 0.5 if not is_number(v) or hi == lo else (v - lo) / (hi - lo)

        for row in grid:
            self._cells.append(
                [blend(UNSURE, diverging(round(scaled(v) * (LEVELS * 2)) / (LEVELS * 2)), 0.6) for v in row]
            )
        self._place_points(snapshot, [diverging(scaled(v)) for v in point_values])
        self._legend = [
            (_("low {value}").format(value=f"{lo:.3g}") + "  ", LOW),
            (_("middle") + "  ", MID),
            (_("high {value}").format(value=f"{hi:.3g}") + "  ", HIGH),
        ]
        self._hint = _("● training targets")

    def render_line(self, y: int) -> Strip:
        """Row y of the drawing; the rows are rendered again only when the size changed."""
        width, height = self.size
        if self._strips_key != (width, height):
            self._strips = self.render_rows(width, height)
            self._strips_key = (width, height)
        return self._strips[y] if y < len(self._strips) else Strip.blank(width, self.rich_style)

    def render_rows(self, width: int, height: int) -> list[Strip]:
        """Every text row: the scaled grid, then the legend."""
        base = self.rich_style
        if not self._cells or not self._cells[0] or width < 1 or height < 1:
            message = _("waiting for the first snapshot") if self.snapshot is None else _("this snapshot has no grid")
            return [Strip([Segment(set_cell_size(message, max(width, 0)), base)]).adjust_cell_length(width, base)]
        text_rows = max(1, height - 1)
        grid_rows, grid_cols, pixel_rows = len(self._cells), len(self._cells[0]), 2 * text_rows
        # Nearest-neighbour sampling at cell centres; screen top is the grid's highest y.
        col_of = [min(grid_cols - 1, int((c + 0.5) * grid_cols / width)) for c in range(width)]
        row_of = [
            grid_rows - 1 - min(grid_rows - 1, int((r + 0.5) * grid_rows / pixel_rows)) for r in range(pixel_rows)
        ]
        dots: dict[tuple[int, int], tuple[RGB, int]] = {}
        # Points may cover at most a fifth of the cells, so the regions underneath stay readable.
        stride = math.ceil(len(self._points) / max(1, width * text_rows // POINT_SHARE))
        for gx, gy, color in self._points[:: max(1, stride)]:
            col = min(width - 1, max(0, round((gx + 0.5) * width / grid_cols - 0.5)))
            pixel = pixel_rows - 1 - min(pixel_rows - 1, max(0, round((gy + 0.5) * pixel_rows / grid_rows - 0.5)))
            dots[(pixel // 2, col)] = (color, pixel)
        strips = []
        for t in range(text_rows):
            upper, lower = self._cells[row_of[2 * t]], self._cells[row_of[2 * t + 1]]
            segments: list[Segment] = []
            run_style, run_text = None, ""
            for c in range(width):
                dot = dots.get((t, c))
                if dot is None:
                    char, style = HALF, cell_style(upper[col_of[c]], lower[col_of[c]])
                else:  # the point's own half-cell gives the background
                    color, pixel = dot
                    char, style = DOT, cell_style(color, self._cells[row_of[pixel]][col_of[c]], True)
                if style is run_style:
                    run_text += char
                else:
                    if run_text:
                        segments.append(Segment(run_text, run_style))
                    run_style, run_text = style, char
            segments.append(Segment(run_text, run_style))
            strips.append(Strip(segments, width))
        if height > 1:
            strips.append(self._legend_strip(width, base))
        return strips

    def _legend_strip(self, width: int, base: Style) -> Strip:
        segments = []
        for text, color in self._legend:
            if color is not None:
                segments.append(Segment("■ ", base + Style(color=Color.from_rgb(*color))))
            segments.append(Segment(text, base))
        epoch = (self.snapshot or {}).get("epoch")
        if is_number(epoch):
            segments.append(Segment("· " + _("epoch {epoch}").format(epoch=epoch) + " ", base))
        segments.append(Segment(f"· {self._hint}", base))
        return Strip(segments).crop(0, width).adjust_cell_length(width, base)
