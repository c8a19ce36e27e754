"""Loss curves of several recorded runs on one chart, each run in its own colour."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from tui.state import RunState

PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75))


class CompareChart(PlotextPlot):
    """Validation loss (solid) and training loss (dotted) of each run, labelled by run name."""

    DEFAULT_CSS = """
    CompareChart { min-height: 8; }
    """

    def __init__(self, runs: list[tuple[str, RunState]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.runs = runs
        self.drawn: dict[str, tuple[list[float], list[float]]] = {}

    def on_mount(self) -> None:
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_figure()
        self.drawn = {}
        for index, (label, state) in enumerate(self.runs):
            color = PALETTE[index % len(PALETTE)]
            for key, suffix, marker in (("val_loss", "val", "hd"), ("train_loss", "train", "dot")):
                xs, ys = state.series[key].points()
                if xs:
                    plt.plot(xs, ys, label=f"{label} {suffix}", color=color, marker=marker)
                    self.drawn[f"{label} {suffix}"] = (xs, ys)
        plt.title(
            "loss: validation (solid) and training (dotted)" if self.drawn else "no epochs recorded in these runs"
        )
        plt.xlabel("epoch")
        self.refresh()
