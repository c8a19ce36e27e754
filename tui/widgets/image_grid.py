"""Images from the model's world: validation samples with predictions, reconstructions under
their originals, or generated samples. Each image is drawn in grey with half blocks "▀"
(foreground = upper pixel, background = lower pixel), so an H×W image takes W columns and
⌈H/2⌉ rows; images sit side by side and wrap to the widget's width."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from nnplay.engine.core.i18n import _
from nnplay.tui.state import RunState, is_number

GAP = 2
MIN_TILE = 10  # wide enough for a caption like "7→7 ✓ 98%" under an 8×8 digit
GREY_STEP = 8  # quantized grey levels keep the style cache small
_CAPTIONS = Console(width=200, color_system="truecolor")  # only resolves caption styles to segments


@lru_cache(maxsize=2048)
def grey_style(upper: int, lower: int | None) -> Style:
    """A half-block cell's style: the upper pixel's grey as foreground, the lower pixel's (if any) as background."""
    return Style(
        color=Color.from_rgb(upper, upper, upper),
        bgcolor=None if lower is None else Color.from_rgb(lower, lower, lower),
    )


def grey(value) -> int:
    """A pixel in [0, 1] as a grey level 0-255 (missing or odd values read as black)."""
    v = min(1.0, max(0.0, value)) if is_number(value) else 0.0
    return min(255, round(v * 255 / GREY_STEP) * GREY_STEP)


def as_2d(image) -> list[list]:
    """H×W pixels; a channels-first C×H×W image becomes its channel mean."""
    if image and image[0] and isinstance(image[0][0], list):
        channels = image
        return [
            [
                sum(ch[r][c] if is_number(ch[r][c]) else 0.0 for ch in channels) / len(channels)
                for c in range(len(channels[0][r]))
            ]
            for r in range(len(channels[0]))
        ]
    return image or []


class Tile:
    """One image and its caption, pre-rendered as lines of exactly `width` cells."""

    def __init__(self, image, caption: Text | None, width: int) -> None:
        pixels = as_2d(image)
        self.image_width = max((len(row) for row in pixels), default=0)
        pad = max(0, width - self.image_width)
        left, right = Segment(" " * (pad // 2)), Segment(" " * (pad - pad // 2))
        self.lines: list[list[Segment]] = []
        for r in range(0, len(pixels), 2):
            upper, lower = pixels[r], pixels[r + 1] if r + 1 < len(pixels) else None
            cells = [
                Segment(
                    "▀",
                    grey_style(
                        grey(upper[c] if c < len(upper) else 0),
                        None if lower is None else grey(lower[c] if c < len(lower) else 0),
                    ),
                )
                for c in range(self.image_width)
            ]
            self.lines.append([left, *cells, right])
        if caption is not None:
            caption = caption.copy()
            caption.truncate(width, overflow="ellipsis", pad=False)
            caption.align("center", width)
            self.lines.append(list(caption.render(_CAPTIONS)))


class ImageMosaic:
    """Columns of stacked tiles side by side, wrapping to the available width (a Rich renderable)."""

    def __init__(self, title: str, columns: list[list[Tile]], tile_width: int) -> None:
        self.title, self.columns, self.tile_width = title, columns, tile_width

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(self.tile_width, options.max_width), options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(self.title, style="bold", overflow="ellipsis", no_wrap=True)
        per_band = max(1, (options.max_width + GAP) // (self.tile_width + GAP))
        blank = Segment(" " * self.tile_width)
        for start in range(0, len(self.columns), per_band):
            band = self.columns[start : start + per_band]
            for level in range(max(len(column) for column in band)):
                height = max(len(column[level].lines) for column in band if level < len(column))
                for line in range(height):
                    for i, column in enumerate(band):
                        if i:
                            yield Segment(" " * GAP)
                        tile_lines = column[level].lines if level < len(column) else []
                        yield from tile_lines[line] if line < len(tile_lines) else [blank]
                    yield Segment.line()


class ImageGrid(Static):
    """Shows the first of `views` present in the run's snapshots (samples, reconstructions, generated)."""

    DEFAULT_CSS = """
    ImageGrid {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(
        self,
        views: tuple[str, ...] = ("samples", "reconstructions", "generated"),
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(_("waiting for the first snapshot"), name=name, id=id, classes=classes)
        self.views = views
        self.snapshot: dict | None = None
        self.mosaic: ImageMosaic | None = None

    def update_from(self, state: RunState) -> None:
        """Show the state's latest snapshot of one of `views`, if it is new."""
        self.set_snapshot(next((state.snapshots[v] for v in self.views if v in state.snapshots), None))

    def set_snapshot(self, snapshot: dict | None) -> None:
        """Show one snapshot event; the same object again costs nothing."""
        if snapshot is self.snapshot:
            return
        self.snapshot = snapshot
        shown = snapshot or {}
        builders: dict[object, Callable[[dict], ImageMosaic]] = {
            "samples": self._samples,
            "reconstructions": self._reconstructions,
            "generated": self._generated,
        }
        builder = builders.get(shown.get("view"))
        self.mosaic = builder(shown) if builder and shown.get("images") else None
        self.update(self.mosaic or _("waiting for the first snapshot"))

    @staticmethod
    def _tile_width(images: list) -> int:
        return max([MIN_TILE, *(len(as_2d(image)[0]) for image in images if as_2d(image))])

    def _samples(self, snapshot: dict) -> ImageMosaic:
        images, names = snapshot["images"], snapshot.get("class_names") or []
        labels, preds, confidences = (snapshot.get(k) or [] for k in ("label", "pred", "confidence"))
        width = self._tile_width(images)

        def name_of(k) -> str:
            return str(names[int(k)]) if is_number(k) and 0 <= k < len(names) else str(k)

        columns = []
        for i, image in enumerate(images):
            label, pred = labels[i] if i < len(labels) else None, preds[i] if i < len(preds) else None
            conf = confidences[i] if i < len(confidences) else None
            right = label == pred and label is not None
            caption = Text(f"{name_of(label)}→{name_of(pred)} ")
            caption.append("✓" if right else "✗", style="bold green" if right else "bold red")
            if is_number(conf) and caption.cell_len + 4 <= width:
                caption.append(f" {conf:.0%}")
            columns.append([Tile(image, caption, width)])
        return ImageMosaic(_("validation samples: true→predicted") + self._epoch(snapshot), columns, width)

    def _reconstructions(self, snapshot: dict) -> ImageMosaic:
        originals, recons = snapshot["images"], snapshot.get("reconstructions") or []
        width = self._tile_width(originals)
        columns = []
        for i, original in enumerate(originals):
            # A caption row between the two, so that a pair does not read as one tall image.
            column = [Tile(original, Text(_("↓ rebuilt"), style="dim") if i < len(recons) else None, width)]
            if i < len(recons):
                error = _("err {error:.3f}").format(error=self._error(original, recons[i]))
                column.append(Tile(recons[i], Text(error, style="dim"), width))
            columns.append(column)
        return ImageMosaic(_("originals, their reconstructions under them") + self._epoch(snapshot), columns, width)

    def _generated(self, snapshot: dict) -> ImageMosaic:
        images = snapshot["images"]
        width = self._tile_width(images)
        columns = [[Tile(image, Text(f"z{i + 1}", style="dim"), width)] for i, image in enumerate(images)]
        return ImageMosaic(_("decoded from fixed random codes z") + self._epoch(snapshot), columns, width)

    @staticmethod
    def _error(original, reconstruction) -> float:
        """Mean squared pixel error of one reconstruction."""
        a, b = as_2d(original), as_2d(reconstruction)
        pairs = [
            (x, y)
            for ra, rb in zip(a, b, strict=False)
            for x, y in zip(ra, rb, strict=False)
            if is_number(x) and is_number(y)
        ]
        return sum((x - y) ** 2 for x, y in pairs) / len(pairs) if pairs else float("nan")

    @staticmethod
    def _epoch(snapshot: dict) -> str:
        epoch = snapshot.get("epoch")
        return " · " + _("epoch {epoch}").format(epoch=epoch) if is_number(epoch) else ""
