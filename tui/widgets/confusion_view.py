"""The confusion matrix on the validation split: which classes the model mistakes for which."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.state import RunState, is_number

MAX_NAME = 8  # columns stay narrow enough for ten classes at 80 columns


def short(name: str, limit: int = MAX_NAME) -> str:
    """A class name cut to `limit` characters, with an ellipsis when it was cut."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def confusion_table(matrix: list[list], class_names: list[str]) -> Table:
    """Rows are true classes, columns predicted; diagonal green, mistakes shaded red by count."""
    k = len(matrix)
    names = [
        short(str(class_names[i]) if i < len(class_names) else str(i), MAX_NAME if k <= 6 else 5) for i in range(k)
    ]
    counts = [[int(v) if is_number(v) else 0 for v in row] for row in matrix]
    worst = max([counts[i][j] for i in range(k) for j in range(len(counts[i])) if i != j] or [0])
    table = Table(title="confusion (validation)", title_justify="left", box=None, padding=(0, 1), pad_edge=False)
    table.add_column("true \\ pred", style="bold", no_wrap=True)
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("recall", justify="right", no_wrap=True, style="italic")
    for i, row in enumerate(counts):
        cells: list[Text] = []
        for j, count in enumerate(row):
            if i == j:
                style = "bold green"
            elif count and worst:
                # Shade mistakes by how common they are, so the worst confusion stands out.
                strength = count / worst
                style = f"white on rgb({round(60 + 140 * strength)},{round(30 * (1 - strength))},{round(30 * (1 - strength))})"
            else:
                style = "dim"
            cells.append(Text(str(count), style=style))
        total = sum(row)
        recall = f"{row[i] / total:.0%}" if total and i < len(row) else "—"
        table.add_row(names[i], *cells, recall)
    return table


class ConfusionView(Static):
    """A `confusion` snapshot as a table; `counts` holds the matrix last shown."""

    DEFAULT_CSS = """
    ConfusionView {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("waiting for the first snapshot", name=name, id=id, classes=classes)
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
            self.update("waiting for the first snapshot")
            return
        self.update(confusion_table(matrix, (snapshot or {}).get("class_names") or []))
