"""The confusion matrix on the validation split: which classes the model mistakes for which."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from nnplay.engine.core.i18n import _
from nnplay.tui.state import RunState, is_number

MAX_NAME = 10


def short(name: str, limit: int = MAX_NAME) -> str:
    """A name cut to `limit` terminal cells (a Korean character takes two), with an ellipsis when it was
    cut (at least one character is kept)."""
    if cell_len(name) <= limit:
        return name
    kept = 1
    while kept < len(name) and cell_len(name[: kept + 1]) <= limit - 1:
        kept += 1
    return name[:kept] + "…"


def mistake_style(count: int, worst: int) -> str:
    """Mistakes shaded red by how common they are, so the worst confusion stands out."""
    if not count or not worst:
        return "dim"
    strength = count / worst
    fade = round(30 * (1 - strength))
    return f"white on rgb({round(60 + 140 * strength)},{fade},{fade})"


def confusion_table(matrix: list[list], class_names: list[str], width: int = 80) -> Table:
    """Rows are true classes, columns predicted, recall at each row's end; fitted to `width` cells.

    Class names head the columns when they fit; otherwise columns are numbered and each row
    names its class as "3 Dress", so ten classes still fit in 40 columns.
    """
    k = len(matrix)
    names = [str(class_names[i]) if i < len(class_names) else str(i) for i in range(k)]
    counts = [[int(v) if is_number(v) else 0 for v in row[:k]] for row in matrix]
    worst = max([counts[i][j] for i in range(k) for j in range(len(counts[i])) if i != j] or [0])
    digits = max([len(str(v)) for row in counts for v in row] or [1])
    cell = max(digits, min(MAX_NAME if k <= 6 else 5, max(cell_len(n) for n in names)))
    label = min(MAX_NAME, max(cell_len(n) for n in names))
    recall = _("recall")
    numbered = label + k * (cell + 1) + 1 + cell_len(recall) > width  # names do not fit: number the columns
    recall_header = _("rec") if numbered else recall
    if numbered:
        cell = max(digits, len(str(k - 1)))
        label = max(1, min(MAX_NAME + 3, width - k * (cell + 1) - len(" 100%")))
        # Too narrow for "0 T…" to say anything: the number alone.
        row_labels = [short(f"{i} {n}", label) if label >= 5 else str(i) for i, n in enumerate(names)]
        headers = [str(i) for i in range(k)]
    else:
        row_labels = [short(n, label) for n in names]
        headers = [short(n, cell) for n in names]
    table = Table(box=None, padding=(0, 0, 0, 1), pad_edge=False)
    table.add_column("", style="bold", no_wrap=True, overflow="ellipsis")
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True, min_width=cell)
    table.add_column(recall_header, justify="right", no_wrap=True, style="italic", min_width=4)
    for i, row in enumerate(counts):
        cells = [Text(str(n), style="bold green" if i == j else mistake_style(n, worst)) for j, n in enumerate(row)]
        total = sum(row)
        recall = f"{row[i] / total:.0%}" if total and i < len(row) else "—"
        table.add_row(row_labels[i], *cells, recall)
    return table


class ConfusionMatrix:
    """A Rich renderable that lays the table out for the width it is given."""

    def __init__(self, matrix: list[list], class_names: list[str]) -> None:
        self.matrix, self.class_names = matrix, class_names

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # A table title would wrap to the table's own (narrow) width, so the title is a line above it.
        yield Text(_("confusion on the validation split: rows are true classes, columns predicted"), style="bold")
        yield confusion_table(self.matrix, self.class_names, options.max_width)


class ConfusionView(Static):
    """A `confusion` snapshot as a table that fits the widget's width."""

    DEFAULT_CSS = """
    ConfusionView {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(_("waiting for the first snapshot"), name=name, id=id, classes=classes)
        self.snapshot: dict | None = None

    def update_from(self, state: RunState) -> None:
        """Show the state's latest confusion snapshot, if it is new."""
        self.set_snapshot(state.snapshots.get("confusion"))

    def set_snapshot(self, snapshot: dict | None) -> None:
        """Show one snapshot event; the same object again costs nothing."""
        if snapshot is self.snapshot:
            return
        self.snapshot = snapshot
        matrix = (snapshot or {}).get("matrix") or []
        if not matrix:
            self.update(_("waiting for the first snapshot"))
            return
        self.update(ConfusionMatrix(matrix, (snapshot or {}).get("class_names") or []))
