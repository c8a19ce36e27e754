"""The display widgets, each driven in a tiny app with a RunState built from synthetic events."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from events import (
    boundary_snapshot,
    confusion_snapshot,
    curve_snapshot,
    diagnosis,
    done,
    epoch,
    error,
    forecast_snapshot,
    generated_snapshot,
    hello,
    layers_snapshot,
    plan,
    reconstructions_snapshot,
    run_state,
    samples_snapshot,
    surface_snapshot,
    training_run,
    warning,
)
from rich.console import Console
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import TabbedContent

from nnplay.tui.state import RunState
from nnplay.tui.widgets import (
    BoundaryView,
    ConfusionView,
    CurveView,
    ImageGrid,
    LayerNorms,
    LogPanel,
    LossChart,
    MetricChart,
    ModelView,
    OverfitPanel,
    PlanPanel,
    RunHeader,
)
from nnplay.tui.widgets.boundary_view import DOT, HALF
from nnplay.tui.widgets.confusion_view import confusion_table
from nnplay.tui.widgets.loss_chart import drawable, ema

SIZES = [(120, 36), (80, 24)]


class Harness(App):
    """Shows the given widgets one under another."""

    def __init__(self, *widgets: Widget) -> None:
        super().__init__()
        self.widgets = widgets

    def compose(self) -> ComposeResult:
        yield from self.widgets


def text_of(widget: Widget) -> str:
    """What the widget and its displayed descendants show, as plain text lines."""
    shown = [w for w in (widget, *widget.query("*")) if w.display]
    return "\n".join(strip.text for w in shown for strip in w.render_lines(Region(0, 0, *w.outer_size)))


def segments_of(widget: Widget) -> list[list[Segment]]:
    width, height = widget.outer_size
    return [list(strip) for strip in widget.render_lines(Region(0, 0, width, height))]


def rgb(color) -> tuple[int, int, int]:
    triplet = color.get_truecolor()
    return triplet.red, triplet.green, triplet.blue


# Loss chart


def test_drawable_drops_missing_and_non_finite_values() -> None:
    xs, ys = drawable([1, 2, 3, 4, 5, 6], [0.5, None, math.nan, math.inf, -math.inf, 0.25])
    assert (xs, ys) == ([1, 6], [0.5, 0.25])
    assert drawable([1, 2, 3], [0.0, -1.0, 2.0], log_scale=True) == ([3], [2.0])
    assert ema([1.0, 0.0, 0.0]) == pytest.approx([1.0, 0.7, 0.49])


@pytest.mark.parametrize("size", SIZES)
async def test_loss_chart_draws_only_finite_values(size) -> None:
    losses = [1.0, math.nan, 0.5, math.inf, None, 0.25]
    state = run_state(plan(), *(epoch(n + 1, train_loss=v, val_loss=v) for n, v in enumerate(losses)))
    chart = LossChart()
    async with Harness(chart).run_test(size=size) as pilot:
        chart.update_from(state)
        await pilot.pause()
        assert set(chart.drawn) == {"train", "val"}
        for xs, ys in chart.drawn.values():
            assert all(math.isfinite(y) for y in ys) and len(xs) == len(ys) == 3
        assert "loss" in chart.render().plain


async def test_loss_chart_draws_a_sweeps_band_under_the_mean_with_one_legend_entry_per_band() -> None:
    def sweep_epoch(n: int) -> dict:
        train, val = 1.0 / n, 1.2 / n
        bounds = dict(
            train_loss_min=0.8 * train, train_loss_max=1.3 * train, val_loss_min=0.9 * val, val_loss_max=1.5 * val
        )
        return epoch(n, members=4, **bounds)

    state = run_state(plan(), *(sweep_epoch(n) for n in range(1, 9)))
    chart = LossChart()
    async with Harness(chart).run_test(size=(120, 36)) as pilot:
        chart.update_from(state)
        await pilot.pause()
        assert set(chart.drawn) == {"train", "val", "train min", "train max", "val min", "val max"}
        for name in ("train", "val"):
            low, high, middle = chart.drawn[f"{name} min"][1], chart.drawn[f"{name} max"][1], chart.drawn[name][1]
            assert all(lo < m < hi for lo, m, hi in zip(low, middle, high, strict=True))
        heading, *plot = chart.render().plain.splitlines()
        for entry in ("mean of 4 runs", "lowest to highest run", "train", "validation"):
            assert heading.count(entry) == 1, heading  # one key entry for both bands, one per mean, above the plot
        assert not any(word in row for row in plot for word in ("train", "validation", "lowest")), "key over curves"


async def test_loss_chart_log_scale_drops_non_positive_values() -> None:
    state = run_state(plan(), *(epoch(n, val_loss=v) for n, v in enumerate([0.0, -0.5, 0.4, 0.2], start=1)))
    chart = LossChart()
    async with Harness(chart).run_test() as pilot:
        chart.update_from(state)
        chart.log_scale = True
        await pilot.pause()
        assert chart.drawn["val"] == ([3, 4], [0.4, 0.2])
        assert all(y > 0 for _, ys in chart.drawn.values() for y in ys)
        # Every refresh builds the plot again (plotext's own log axis fails on the second build).
        assert "loss (log)" in chart.render().plain and "loss (log)" in chart.render().plain


async def test_loss_chart_smoothing_changes_the_drawing_not_the_state() -> None:
    state = run_state(plan(), *(epoch(n, train_loss=v) for n, v in enumerate([1.0, 0.1, 1.0, 0.1], start=1)))
    stored = list(state.series["train_loss"].ys)
    chart = LossChart()
    async with Harness(chart).run_test() as pilot:
        chart.update_from(state)
        raw = chart.drawn["train"][1]
        chart.smoothing = True
        await pilot.pause()
        assert raw == stored
        assert chart.drawn["train"][1] == pytest.approx(ema(stored)) != stored
        assert state.series["train_loss"].ys == stored
        assert "loss (smoothed)" in chart.render().plain


async def test_loss_chart_falls_back_to_running_loss_and_marks_the_best_epoch() -> None:
    # eval_every skipped the evaluation-mode losses: only the running average exists.
    state = run_state(plan(), *(epoch(n, omit=("train_loss", "val_loss"), best_epoch=2) for n in (1, 2, 3)))
    chart = LossChart()
    async with Harness(chart).run_test() as pilot:
        chart.update_from(state)
        await pilot.pause()
        assert chart.drawn["train"] == ([1, 2, 3], [1.0, 0.5, 1 / 3])
        assert "val" not in chart.drawn
        assert chart.best_marker == 2


@pytest.mark.parametrize("n_epochs", [0, 1, 1000])
async def test_loss_chart_survives_any_length_and_longer_ghosts(n_epochs: int) -> None:
    state = run_state(plan(epochs=max(1, n_epochs)), *(epoch(n, epochs=n_epochs) for n in range(1, n_epochs + 1)))
    ghost = run_state(plan(epochs=1500), *(epoch(n, epochs=1500, val_loss=0.5 + 1 / n) for n in range(1, 1501)))
    # JSON null (a diverged loss) and, from a careless writer, NaN and inf.
    all_none = run_state(
        plan(), *(epoch(n, train_loss=v, val_loss=v) for n, v in enumerate([None, math.nan, math.inf], 1))
    )
    chart = LossChart()
    async with Harness(chart).run_test() as pilot:
        for log_scale in (False, True):
            chart.log_scale = log_scale
            chart.update_from(state, [ghost])
            assert {"train (prev)", "val (prev)"} <= set(chart.drawn)
            assert len(chart.drawn.get("train", ([], []))[0]) == min(n_epochs, 1000)
            chart.render()
            chart.update_from(all_none)
            assert chart.drawn == {}
            assert "waiting" in chart.render().plain
        await pilot.pause()


async def test_loss_chart_labels_several_ghosts_and_skips_redraws() -> None:
    state, ghosts = training_run(5), [training_run(8), training_run(3)]
    chart = LossChart()
    async with Harness(chart).run_test():
        chart.update_from(state, ghosts)
        assert {"train (prev 1)", "val (prev 2)", "train", "val"} <= set(chart.drawn)
        chart.drawn = {}
        chart.update_from(state, ghosts)  # nothing changed: no redraw
        assert chart.drawn == {}


# Metric chart


async def test_metric_chart_shows_accuracy_in_percent_with_same_task_ghosts() -> None:
    state = training_run(4)
    same, other = training_run(6), run_state(plan(task="regression"), epoch(1, val_r2=0.5))
    chart = MetricChart()
    async with Harness(chart).run_test() as pilot:
        chart.update_from(state, [same, other])
        await pilot.pause()
        assert chart.drawn["val"][1] == pytest.approx([100 * v for v in state.series["val_accuracy"].ys])
        assert set(chart.drawn) == {"train (prev 1)", "val (prev 1)", "train", "val"}
        assert "accuracy (%)" in chart.render().plain


async def test_metric_chart_clips_very_negative_r2() -> None:
    state = run_state(
        plan(task="regression"), epoch(1, train_r2=-40.0, val_r2=-55.0), epoch(2, train_r2=0.5, val_r2=0.4)
    )
    chart = MetricChart()
    async with Harness(chart).run_test():
        chart.update_from(state)
        assert chart.drawn["val"][1] == [-1.0, 0.4]
        assert "R²" in chart.render().plain and chart.clipped


# Overfit panel


async def test_overfit_panel_explains_the_diagnosis_so_far() -> None:
    state = training_run(10)
    panel = OverfitPanel()
    async with Harness(panel).run_test() as pilot:
        panel.update_from(state)
        await pilot.pause()
        text = text_of(panel)
        assert "best epoch 4" in text and "overfitting began at epoch 5" in text
        assert "would have stopped at epoch 9" in text and "epoch 4" in text
        assert "verdict (so far, epoch 10): overfitting" in text
        assert panel.query_one("#verdict").has_class("-overfitting")
        assert panel.gap[0] == list(range(1, 11))
        state.ingest(
            diagnosis(final=True, verdict="good fit", overfitting_epoch=None, early_stopping=None, explanation="fine")
        )
        panel.update_from(state)
        await pilot.pause()
        text = text_of(panel)
        assert "no sign of overfitting" in text and "(so far)" not in text
        assert "would not have stopped" in text
        verdict = panel.query_one("#verdict")
        assert verdict.has_class("-good-fit") and not verdict.has_class("-overfitting")


async def test_loss_chart_and_overfit_panel_show_the_engines_best_epoch_not_a_lagging_diagnosis() -> None:
    """The loss title said 'best epoch 80' while the gap panel said 'best epoch 75': the live diagnosis
    arrives a few epochs late. Both now show the engine's latest number."""
    state = run_state(
        plan(epochs=20),
        *(epoch(n, epochs=20, val_loss=1.2 / min(n, 12), best_epoch=min(n, 12)) for n in range(1, 16)),
        diagnosis(epoch=10, best_epoch=10, best_val_loss=0.12),
    )
    chart, panel = LossChart(), OverfitPanel()
    async with Harness(chart, panel).run_test() as pilot:
        chart.update_from(state)
        panel.update_from(state)
        await pilot.pause()
        assert chart.best_marker == 12 and "best epoch 12" in text_of(panel)
        assert state.best == (12, pytest.approx(0.1))


async def test_overfit_panel_says_why_early_stopping_would_keep_another_epoch_and_shows_notes() -> None:
    note = "It would have kept epoch 2, not the best epoch 15: patience 10 gives up after 10 epochs."
    state = run_state(
        plan(),
        epoch(15, best_epoch=15),
        diagnosis(
            final=True,
            best_epoch=15,
            early_stopping={"stop_epoch": 12, "best_epoch": 2, "best_val_loss": 0.4, "note": note},
            notes=["Gradients vanish: the first layer's gradient norm (1e-07) is 10,000 times smaller."],
        ),
    )
    panel = OverfitPanel()
    async with Harness(panel).run_test(size=(140, 40)) as pilot:
        panel.update_from(state)
        await pilot.pause()
        text = " ".join(text_of(panel).split())
        assert "patience 10 gives up after 10 epochs" in text and "note: Gradients vanish" in text


async def test_overfit_panel_lists_the_folds_of_a_cross_validation() -> None:
    def fold_event(i: int, accuracy: float, verdict: str) -> dict:
        return {
            "type": "fold",
            "fold": i,
            "k": 3,
            "status": "completed",
            "weights_epoch": 10,
            "val": {"loss": 0.2, "accuracy": accuracy},
            "test": {"loss": 0.1, "accuracy": 0.9},
            "verdict": verdict,
        }

    state = run_state(plan(k_folds=3), fold_event(0, 0.9, "good fit"), fold_event(1, 0.8, "overfitting"))
    panel = OverfitPanel()
    async with Harness(panel).run_test(size=(120, 40)) as pilot:
        panel.update_from(state)
        await pilot.pause()
        text = text_of(panel)
        assert "fold 3: " in text  # the fold training now
        assert "1/3" in text and "90.0%" in text and "2/3" in text and "80.0%" in text and "overfitting" in text


async def test_charts_say_when_train_metrics_come_from_a_subset() -> None:
    state = run_state(plan(n_train=1000, n_train_eval=250), *(epoch(n) for n in (1, 2, 3)))
    loss, metric = LossChart(), MetricChart()
    async with Harness(loss, metric).run_test(size=(120, 40)) as pilot:
        loss.update_from(state)
        metric.update_from(state)
        await pilot.pause()
        assert "train (250 of 1000)" in text_of(loss) and "train (250 of 1000)" in text_of(metric)


async def test_overfit_panel_before_any_diagnosis() -> None:
    panel = OverfitPanel()
    async with Harness(panel).run_test() as pilot:
        panel.update_from(RunState())
        await pilot.pause()
        assert "no validation loss yet" in text_of(panel)
        assert panel.gap == ([], [])


# Boundary view


async def test_boundary_view_draws_regions_by_class_with_points_on_top() -> None:
    state = run_state(boundary_snapshot())
    view = BoundaryView()
    async with Harness(view).run_test(size=(120, 36)) as pilot:
        view.update_from(state)
        await pilot.pause()
        rows = view.render_rows(120, 36)
        assert len(rows) == 36 and all(row.cell_length == 120 for row in rows)
        glyphs = "".join(row.text for row in rows[:-1])
        assert set(glyphs) == {HALF, DOT} and glyphs.count(DOT) == 4
        # Class 1 lies above y = x: top left is class 1, bottom right class 0 (screen top = highest y).
        top_left, bottom_right = list(rows[0])[0].style, list(rows[-2])[-1].style
        assert rgb(top_left.bgcolor)[2] > rgb(top_left.bgcolor)[0]  # blue
        assert rgb(bottom_right.bgcolor)[0] > rgb(bottom_right.bgcolor)[2]  # orange
        dots = [seg.style for row in rows for seg in row if seg.text == DOT]
        assert len({rgb(style.color) for style in dots}) == 2  # one strong colour per class
        assert "orange" in rows[-1].text and "blue" in rows[-1].text
        assert "▀" in text_of(view) and "●" in text_of(view)


def test_boundary_view_thins_points_so_regions_stay_visible() -> None:
    snapshot = boundary_snapshot()
    snapshot["points"] = {"x": [i / 100 - 1.5 for i in range(300)], "y": [0.0] * 300, "label": [0, 1] * 150}
    view = BoundaryView()
    view.set_snapshot(snapshot)
    rows = view.render_rows(40, 10)
    assert 0 < "".join(row.text for row in rows[:-1]).count(DOT) <= 40 * 9 // 5


async def test_boundary_view_renders_surfaces_and_tiny_sizes() -> None:
    view = BoundaryView()
    async with Harness(view).run_test() as pilot:
        view.set_snapshot(surface_snapshot())
        await pilot.pause()
        rows = view.render_rows(60, 20)
        assert "low -2" in rows[-1].text and "high 2" in rows[-1].text
        assert "".join(row.text for row in rows[:-1]).count(DOT) == 2
        for width, height in ((1, 1), (2, 2), (3, 1)):
            assert len(view.render_rows(width, height)) >= 1
        view.set_snapshot({"view": "boundary", "pred": [], "x": [], "y": []})
        assert "no grid" in view.render_rows(40, 5)[0].text


# Curve view


async def test_curve_view_plots_fit_and_forecast() -> None:
    view = CurveView()
    async with Harness(view).run_test() as pilot:
        view.update_from(RunState())
        assert "waiting" in view.render().plain
        view.update_from(run_state(curve_snapshot()))
        assert set(view.drawn) == {"training data", "model"} and len(view.drawn["model"][0]) == 200
        snapshot = forecast_snapshot()
        snapshot["prediction"][3] = math.nan
        view.set_snapshot(snapshot)
        await pilot.pause()
        assert len(view.drawn["actual"][0]) == 80 and len(view.drawn["predicted"][0]) == 79
        assert "actual vs predicted" in view.render().plain


# Confusion view


async def test_confusion_view_table_with_recall_and_green_diagonal() -> None:
    long_names = ["T-shirt/top", "Trouser", "Pullover"]
    view = ConfusionView()
    async with Harness(view).run_test() as pilot:
        view.update_from(
            run_state(confusion_snapshot(matrix=[[8, 2, 0], [0, 10, 0], [1, 0, 9]], class_names=long_names))
        )
        await pilot.pause()
        text = text_of(view)
        assert "T-shirt/t…" in text and "recall" in text and "80%" in text and "100%" in text
        diagonal = [s.style for row in segments_of(view) for s in row if s.text.strip() == "10"]
        assert diagonal and rgb(diagonal[0].color)[1] > rgb(diagonal[0].color)[0]  # green


def test_confusion_table_numbers_columns_when_names_do_not_fit() -> None:
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    matrix = [[80 if i == j else 3 for j in range(10)] for i in range(10)]
    console = Console(width=38, color_system=None)
    with console.capture() as capture:
        console.print(confusion_table(matrix, names, 38))
    rows = [line for line in capture.get().splitlines() if line.strip().endswith("%")]
    assert len(rows) == 10 and all(len(row) <= 38 and row.endswith("75%") for row in rows)
    assert " 0  1  2" in capture.get()


# Image grid


async def test_image_grid_draws_half_block_images_with_captions() -> None:
    grid = ImageGrid()
    async with Harness(grid).run_test(size=(120, 36)) as pilot:
        grid.update_from(run_state(samples_snapshot(size=8)))
        await pilot.pause()
        lines = [line.rstrip() for line in text_of(grid).splitlines()]
        image_rows = [line for line in lines if "▀" in line]
        assert len(image_rows) == 4  # 8 pixel rows, two per text row; all 8 images fit in one band
        assert all(line.strip().split("  ")[0] == "▀" * 8 for line in image_rows)
        assert all(chunk.strip() == "▀" * 8 for chunk in image_rows[0].split("  ") if chunk.strip())
        captions = next(line for line in lines if "✓" in line)
        assert "7→7 ✓ 98%" in captions and "3→8 ✗" in captions
        # Pixels are grey: a bright ring row over a dark interior row.
        cell = next(s for s in segments_of(grid)[2] if s.text == "▀")
        assert len(set(rgb(cell.style.color))) == 1


def test_image_grid_wraps_and_shows_reconstructions_under_originals() -> None:
    console = Console(width=40, color_system="truecolor")
    grid = ImageGrid()
    grid.set_snapshot(samples_snapshot(size=28))
    lines = console.render_lines(grid.mosaic, console.options.update_width(40), pad=False)
    rows = ["".join(s.text for s in line) for line in lines]
    assert sum(1 for row in rows if "▀" in row) == 8 * 14  # 28×28 at 40 columns: one image per band
    grid.set_snapshot(reconstructions_snapshot(size=8))
    lines = console.render_lines(grid.mosaic, console.options.update_width(40), pad=False)
    rows = ["".join(s.text for s in line).rstrip() for line in lines]
    # Three images per band: originals (4 rows), a row that says the reconstructions follow (so each
    # pair does not read as one tall image), reconstructions (4 rows), then their errors.
    shape = [("▀" in row, "rebuilt" in row, "err" in row) for row in rows[1:11]]
    assert shape == [(True, False, False)] * 4 + [(False, True, False)] + [(True, False, False)] * 4 + [
        (False, False, True)
    ]
    grid.set_snapshot(generated_snapshot(size=8))
    assert grid.mosaic is not None and len(grid.mosaic.columns) == 8


# Layer norms


async def test_layer_norms_bars_follow_log_magnitude() -> None:
    view = LayerNorms()
    async with Harness(view).run_test() as pilot:
        view.update_from(run_state(layers_snapshot(grad_norm=[1e-6, 1e-1, 1e-4, 0.0])))
        await pilot.pause()
        f = view.bar_fractions
        assert f[3] == 0 < f[0] < f[2] < f[1]
        assert f[1] - f[0] == pytest.approx(f[1] - f[2] + (f[2] - f[0]))  # equal decades, equal steps
        text = text_of(view)
        assert "1.00e-06" in text and "0.1" in text
        bars = [line.count("█") for line in text.splitlines() if "layers." in line]
        assert bars[3] == 0 < bars[0] < bars[2] < bars[1]


async def test_layer_norms_show_the_share_of_weights_near_zero() -> None:
    view = LayerNorms()
    snapshot = layers_snapshot(grad_norm=[1e-2, 1e-1])
    snapshot.update(sparsity=[0.51, None], sparse_below=0.001)
    async with Harness(view).run_test(size=(100, 20)) as pilot:
        view.update_from(run_state(snapshot))
        await pilot.pause()
        text = text_of(view)
        assert "≈0" in text and "51%" in text and "|w| < 0.001" in text


# Model view


async def test_model_view_waits_then_shows_tabs_for_the_task() -> None:
    view = ModelView()
    async with Harness(view).run_test(size=(80, 24)) as pilot:
        view.update_from(RunState())
        await pilot.pause()
        assert "waiting for the first snapshot" in text_of(view) and not view.has_class("-ready")
        state = run_state(plan(), boundary_snapshot(), confusion_snapshot(), layers_snapshot())
        view.update_from(state)
        await pilot.pause()
        tabs = view.query_one(TabbedContent)
        assert view.has_class("-ready") and view.available == ["prediction", "confusion", "layers"]
        assert tabs.active == "prediction" and view.query_one(BoundaryView).snapshot is state.snapshots["boundary"]
        view.action_next_view()
        await pilot.pause()
        assert tabs.active == "confusion"
        regression = run_state(plan(task="regression"), curve_snapshot(), layers_snapshot())
        view.update_from(regression)
        await pilot.pause()
        assert view.available == ["fit", "layers"] and tabs.active in view.available
        assert str(tabs.get_tab("fit").label) == "fit"


# Run header


async def test_run_header_status_classes_progress_and_eta() -> None:
    header = RunHeader()
    state = run_state(hello(device="cuda", device_name="NVIDIA H100"), plan(device="cuda"), epoch(3))
    async with Harness(header).run_test() as pilot:
        header.update_from(state)
        await pilot.pause()
        text = text_of(header)
        assert "moons-mlp" in text and "NVIDIA H100" in text and "running" in text
        assert "epoch 3/10" in text and "5.0k samples/s" in text and "ETA 1.4 s" in text
        assert header.has_class("-running")
        header.update_from(state, paused=True)
        assert header.has_class("-paused") and not header.has_class("-running")
        assert "paused" in text_of(header) and "samples/s" not in text_of(header) and "ETA" not in text_of(header)
        for status in ("completed", "diverged", "stopped"):
            state.ingest(done(status=status))
            header.update_from(state)
            assert header.has_class(f"-{status}") and [c for c in header.classes if c.startswith("-")] == [f"-{status}"]
        state.status = "crashed"  # what the app concludes when the engine process vanished
        state.version += 1
        header.update_from(state)
        assert header.has_class("-crashed") and "crashed" in text_of(header) and "done" not in text_of(header)
        state.ingest(error("the engine crashed"))
        header.update_from(state)
        assert header.has_class("-failed")


# Plan panel


async def test_plan_panel_shows_batch_arithmetic_errors_and_pending() -> None:
    panel = PlanPanel()
    async with Harness(panel).run_test(size=(120, 36)) as pilot:
        panel.show_plan(plan())
        await pilot.pause()
        text = " ".join(text_of(panel).split())
        assert "⌈1,000 / 20⌉ = 50 iterations per epoch × 10 epochs = 500 updates" in text
        assert "Every batch holds 20 samples." in text and "177 parameters" in text
        assert "Linear" in text and "cross-entropy" in text
        panel.show_error("batch_size must be at least 1, got 0.")
        await pilot.pause()
        assert panel.has_class("-error") and "batch_size must be at least 1" in text_of(panel)
        panel.show_pending()
        await pilot.pause()
        assert "computing plan…" in text_of(panel) and not panel.has_class("-error")
        panel.show_plan(plan(n_train=1010, iterations_per_epoch=50, total_updates=500))
        await pilot.pause()
        assert "⌊1,010 / 20⌋ = 50 iterations" in " ".join(text_of(panel).split())


async def test_plan_panel_names_a_sweeps_copies_and_how_they_train() -> None:
    panel = PlanPanel()
    seeds = {"members": 8, "mode": "batched", "parameter": "none", "labels": [f"seed {k}" for k in range(8)]}
    strengths = {"members": 3, "mode": "processes", "parameter": "l2", "labels": ["l2=0", "l2=0.001", "l2=0.01"]}
    async with Harness(panel).run_test(size=(120, 36)) as pilot:
        panel.show_plan(plan())
        await pilot.pause()
        assert "sweep:" not in text_of(panel)  # a single run says nothing about sweeps
        panel.show_plan(plan(sweep=seeds))
        await pilot.pause()
        text = " ".join(text_of(panel).split())
        assert "sweep: 8 copies (seed 0, seed 1, …, seed 7), trained together as one batched model" in text, text
        panel.show_plan(plan(sweep=strengths))
        await pilot.pause()
        text = " ".join(text_of(panel).split())
        assert "sweep: 3 copies (l2=0, l2=0.001, l2=0.01), trained as separate engine processes" in text, text


async def test_plan_panel_drops_the_layers_table_when_short_of_room() -> None:
    panel = PlanPanel()
    panel.styles.height = 6
    async with Harness(panel).run_test(size=(120, 36)) as pilot:
        panel.show_plan(plan())
        await pilot.pause()
        assert "Linear" not in text_of(panel) and "500 updates" in text_of(panel)


# Log panel


async def test_log_panel_shows_each_line_exactly_once() -> None:
    state = run_state(plan(), warning("learning rate is high"))
    log = LogPanel()
    async with Harness(log).run_test() as pilot:
        log.update_from(state)
        log.update_from(state)
        await pilot.pause()
        state.ingest(error("the engine crashed"))
        log.update_from(state)
        log.update_from(state)
        await pilot.pause()
        lines = [strip.text.rstrip() for strip in log.lines]
        starts = [line.split(":")[0] for line in lines if ":" in line]
        assert starts == ["plan", "warning", "error"] and log.shown == 3
        styles = {strip.text.split(":")[0]: [s.style for s in strip if s.text.strip()][0] for strip in log.lines[-2:]}
        assert styles["warning"].color.name == "yellow" and styles["error"].color.name == "red"
        # Far more new lines than the deque keeps: the newest are shown, none twice.
        for i in range(500):
            state.note(f"line {i}")
        log.update_from(state)
        state.note("last")
        log.update_from(state)
        await pilot.pause()
        shown = [strip.text.rstrip() for strip in log.lines]
        assert shown[-1] == "last" and shown[-2] == "line 499" and len(shown) == len(set(shown))
        assert log.shown == 3 + 300 + 1


# Every widget: empty state, both sizes, resize down to 40×12


def every_widget() -> list[Widget]:
    return [
        RunHeader(),
        LossChart(),
        MetricChart(),
        OverfitPanel(),
        ModelView(),
        PlanPanel(),
        LogPanel(),
        BoundaryView(),
        CurveView(),
        ConfusionView(),
        ImageGrid(),
        LayerNorms(),
    ]


@pytest.mark.parametrize("size", SIZES)
async def test_every_widget_survives_empty_state_and_resizing(size) -> None:
    widgets = every_widget()
    full = training_run(12)
    for snapshot in (samples_snapshot(), curve_snapshot()):
        full.ingest(snapshot)
    async with Harness(*widgets).run_test(size=size) as pilot:
        for state in (RunState(), full):
            for widget in widgets:
                widget.update_from(state)
            await pilot.pause()
            for terminal in ((40, 12), size):
                await pilot.resize_terminal(*terminal)
                await pilot.pause()
                for widget in widgets:
                    text_of(widget)


# SVG snapshot


class ChartAndBoundaryApp(App):
    """The loss chart beside the decision boundary, with fixed data."""

    CSS = "Horizontal { height: 1fr; } LossChart, BoundaryView { width: 1fr; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield LossChart()
            yield BoundaryView()

    def on_mount(self) -> None:
        # Validation loss bottoms out at epoch 10, then rises: the best-epoch marker sits mid-chart.
        epochs = (epoch(n, val_loss=0.2 + 1 / n + 0.01 * n, best_epoch=min(n, 10)) for n in range(1, 21))
        state = run_state(plan(), *epochs, boundary_snapshot(20))
        self.query_one(LossChart).update_from(state)
        self.query_one(BoundaryView).update_from(state)


def test_loss_chart_and_boundary_snapshot(snap_compare) -> None:
    assert snap_compare(ChartAndBoundaryApp(), terminal_size=(100, 30))


def test_counts_of_one_read_in_the_singular_in_the_plan_panel_the_log_and_report_md() -> None:
    from nnplay.engine.core.batches import batch_arithmetic
    from nnplay.tui.report import export

    plan = {"n_train": 60, "batch_size": 60, "iterations_per_epoch": 1, "epochs": 1, "total_updates": 1}
    assert batch_arithmetic(plan) == "⌈60 / 60⌉ = 1 iteration per epoch × 1 epoch = 1 update"
    from nnplay.engine.core.runs import load_run

    record = load_run(Path(__file__).with_name("data") / "run-store" / "20250101-091500-overfit-small-data")
    report = export(record, "md")
    assert "1 iteration per epoch" in report and "1 iterations" not in report


async def test_a_small_chart_keeps_its_key_on_the_lines_it_has_and_at_least_four_rows_of_plot() -> None:
    state = run_state(plan(), *(epoch(n) for n in range(1, 11)))
    chart = LossChart()
    async with Harness(chart).run_test(size=(34, 6)) as pilot:
        chart.update_from(state)
        await pilot.pause()
        lines = chart.render().plain.splitlines()
        assert len(lines) == 6 and sum("┤" in line for line in lines) >= 1  # two lines of heading, four of plot
        (one_line,) = chart.heading_lines(34, most=1)
        assert one_line.plain.startswith("loss by epoch  ━━ train") and one_line.plain.endswith("…")  # cut, not dropped


async def test_a_ghost_on_another_scale_is_cut_at_the_live_runs_range_not_squashing_it() -> None:
    """digits-vae after digits-autoencoder: a loss near 25 must not flatten a ghost's loss near 0.05 (or the
    reverse): the y axis follows the live run, with a small margin, and the ghost stops at its edge."""
    live = run_state(plan(), *(epoch(n, train_loss=0.5 / n, val_loss=0.6 / n) for n in range(1, 11)))
    ghost = run_state(plan(), *(epoch(n, train_loss=30 / n, val_loss=31 / n) for n in range(1, 11)))
    ghost.change = "architecture autoencoder → vae"
    chart = LossChart()
    async with Harness(chart).run_test(size=(80, 24)) as pilot:
        chart.update_from(live, [ghost])
        await pilot.pause()
        rows = chart.render().plain.splitlines()
        ticks = [float(row.split("┤")[0]) for row in rows if "┤" in row and row.split("┤")[0].strip()]
        live_ys = chart.drawn["train"][1] + chart.drawn["val"][1]
        span = max(live_ys) - min(live_ys)
        assert max(ticks) <= max(live_ys) + 0.2 * span and min(ticks) >= min(live_ys) - 0.2 * span
        assert "prev: architecture autoencoder → vae" in " ".join(rows[:2])
        assert chart.drawn["val (prev)"][1][0] == 31  # the ghost is kept whole; only its drawing is cut
