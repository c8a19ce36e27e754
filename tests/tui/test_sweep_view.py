"""A sweep's results as tui/sweep_view.py lays them out: the table and its order, the heatmap of a grid over
two settings, the metric against one setting's values; the best member named the same way everywhere."""

from __future__ import annotations

import pytest

from nnplay.engine.core.diagnosis import format_value
from nnplay.engine.core.sweep_members import label_of, short_names
from nnplay.engine.core.sweep_results import best_member
from nnplay.tui.sweep_view import (
    BEST_MARK,
    SHADES,
    best_member_line,
    figures,
    heatmap,
    heatmap_cells,
    heatmap_lines,
    log_axis,
    results_table,
    sort_rows,
    value_chart,
    value_curve,
    verdict_title,
)

GRID = ["optimizer.lr", "training.batch_size"]


def row(member: int, settings: dict, accuracy: float | None, status: str = "completed", **extra) -> dict:
    """A member's row as the engine records it."""
    val = {"loss": round(1 - accuracy, 4), "accuracy": accuracy} if accuracy is not None else {}
    return {
        "member": member,
        "label": label_of(settings, short_names([name for name in settings if name != "training.seed"])),
        "settings": settings,
        "status": status,
        "best_epoch": 3 if val else None,
        "best_val_loss": val.get("loss"),
        "val": val,
        "test": {"loss": 0.3, "accuracy": round(accuracy - 0.01, 4)} if accuracy is not None else None,
        "verdict": "good fit" if val else None,
        "duration_s": 2.0 + member,
        "run_dir": None,
        "error": None,
        **extra,
    }


def grid_rows() -> list[dict]:
    """A 2 x 2 grid over lr and batch size, two seeds each. Member 6 (lr=0.1, batch 16, seed 0) scores best on
    its own (99%), but its seed 1 scores 80%: the combination lr=0.1, batch 64 has the best mean (96%)."""
    scores = {(0.001, 16): (0.90, 0.92), (0.001, 128): (0.70, 0.74), (0.1, 16): (0.99, 0.80), (0.1, 128): (0.97, 0.95)}
    rows = []
    for (lr, batch), seeds in scores.items():
        for seed, accuracy in enumerate(seeds):
            settings = {"optimizer.lr": lr, "training.batch_size": batch, "training.seed": seed}
            rows.append(row(len(rows), settings, accuracy))
    return rows


def test_the_heatmap_holds_each_combinations_mean_over_its_seeds_and_marks_the_best_members():
    rows = grid_rows()
    best = best_member(rows)
    assert rows[best]["settings"] == {"optimizer.lr": 0.1, "training.batch_size": 128, "training.seed": 0}
    grid = heatmap(rows, GRID, best=best)
    assert grid is not None
    assert (grid.row_setting, grid.column_setting) == ("optimizer.lr", "training.batch_size")
    assert grid.row_values == [0.001, 0.1] and grid.column_values == [16, 128]  # 16 before 128: by size
    means = [cell.mean for line in grid.cells for cell in line]
    assert means == pytest.approx([0.91, 0.72, 0.895, 0.96])
    assert all(cell.count == 2 for line in grid.cells for cell in line)
    assert grid.best == (1, 1)
    cells = heatmap_cells(grid)
    assert cells[1][1] == f"{SHADES[-1] * 2} 96.0% n=2 {BEST_MARK}"  # the best: darkest, the number, marked
    assert cells[0][1].startswith(SHADES[0] * 2 + " 72.0%")  # the worst: lightest
    assert sum(text.count(BEST_MARK) for line in cells for text in line) == 1


def test_the_heatmaps_lines_name_both_settings_and_say_which_way_is_better():
    rows = grid_rows()
    lines = heatmap_lines(heatmap(rows, GRID))
    text = "\n".join(lines)
    assert lines[0].startswith("val accuracy by optimizer.lr and training.batch_size")
    assert "training.batch_size" in lines[1] and lines[2].startswith("optimizer.lr")
    assert lines[3].startswith("0.001") and lines[4].startswith("0.1 ")
    assert "higher is better" in lines[-1]
    assert text.index("16") < text.index("128")
    losses = heatmap(rows, GRID, metric="loss")
    assert "lower is better" in heatmap_lines(losses)[-1]
    best_loss = heatmap_cells(losses)[1][1]  # the lowest mean loss is the best: the darkest shade
    assert best_loss.startswith(SHADES[-1] * 2 + " " + format_value("loss", 0.04))


def test_best_first_puts_the_best_combination_first_not_a_lucky_seed():
    rows = grid_rows()
    ordered = [r["member"] for r in sort_rows(rows)]
    assert ordered[:2] == [6, 7]  # lr=0.1, batch 128: the best mean, its better seed first
    assert [r["member"] for r in sort_rows(rows, "val")][0] == 4  # by each member's own score: the lucky seed
    table = results_table(rows)
    assert table.best == 6 and table.best_row == 0 and table.rows[0][0] == BEST_MARK
    assert [c.key for c in table.columns] == [
        "best",
        "lr",
        "batch_size",
        "seed",
        "val",
        "test",
        "status",
        "verdict",
        "time",
    ]
    assert [c.title for c in table.columns][4:6] == ["val acc", "test acc"]
    assert table.rows[0][1:6] == ["0.1", "128", "0", "97.0%", "96.0%"]


def test_sorting_by_a_setting_is_by_value_and_rows_without_a_value_come_last_either_way():
    rows = [
        row(0, {"training.batch_size": 128}, 0.9),
        row(1, {"training.batch_size": 16}, None, status="failed", error="out of memory"),
        row(2, {"training.batch_size": 32}, 0.8),
    ]
    assert [r["member"] for r in sort_rows(rows, "batch_size")] == [1, 2, 0]  # 16 < 32 < 128, not as text
    assert [r["member"] for r in sort_rows(rows, "val")] == [0, 2, 1]  # the failed member has no score: last
    assert [r["member"] for r in sort_rows(rows, "val", reverse=True)] == [2, 0, 1]
    assert [r["member"] for r in sort_rows(rows, "time", reverse=True)] == [2, 1, 0]
    table = results_table(rows, sort="batch_size")
    assert table.title == "results, sorted by batch_size"
    assert table.rows[0][2] == "—" and table.rows[0][4] == "failed"
    with pytest.raises(ValueError):
        results_table(rows, sort="nonsense")


def test_a_seed_sweep_has_no_best_member_and_no_figure():
    rows = [row(k, {"training.seed": k}, 0.9 + k / 100) for k in range(3)]
    table = results_table(rows, search=False)
    assert table.best is None and table.best_row is None
    assert [c.key for c in table.columns][0] == "seed" and not any(BEST_MARK in cell for r in table.rows for cell in r)
    assert table.title == "results, best first (val accuracy at each member's best epoch)"
    assert figures(rows, []) == []


def test_a_numeric_axis_is_logarithmic_when_its_values_span_a_hundred_times():
    assert log_axis([0.001, 0.01, 0.1])
    assert not log_axis([16, 64, 256])  # 16x
    assert not log_axis([0.0, 0.01, 1.0])  # zero has no logarithm
    assert not log_axis(["adam", "sgd"])
    rows = [row(k, {"optimizer.lr": lr}, acc) for k, (lr, acc) in enumerate([(0.0001, 0.6), (0.01, 0.93), (1.0, 0.5)])]
    curve = value_curve(rows, "optimizer.lr")
    assert curve is not None and curve.log and curve.best == 0.01
    chart = value_chart(curve, width=60, height=12, color=False)
    assert "optimizer.lr (log scale)" in chart
    assert all(label in chart for label in ("0.0001", "0.01", "1", "93.0%", BEST_MARK))


def test_one_setting_with_seeds_draws_the_mean_and_min_max_against_the_value():
    rows = [
        row(k, {"regularization.l2": l2, "training.seed": seed}, acc)
        for k, (l2, seed, acc) in enumerate([(0.0, 0, 0.96), (0.0, 1, 0.92), (0.01, 0, 0.90), (0.01, 1, 0.88)])
    ]
    curve = value_curve(rows, "regularization.l2")
    assert [(p.value, p.count) for p in curve.points] == [(0.0, 2), (0.01, 2)]
    assert curve.points[0].mean == pytest.approx(0.94)
    assert (curve.points[0].low, curve.points[0].high) == (0.92, 0.96)
    assert not curve.log
    (block,) = figures(rows, ["regularization.l2"])
    assert block.startswith("val accuracy by regularization.l2: the mean of the members with each value")
    assert "the best member's regularization.l2 (0)" in block


def test_a_random_search_over_two_settings_gets_a_chart_per_setting_not_a_heatmap():
    draws = [(0.003, 17, 0.8), (0.02, 40, 0.9), (0.0005, 90, 0.7)]
    rows = [row(k, {"optimizer.lr": lr, "training.batch_size": b}, acc) for k, (lr, b, acc) in enumerate(draws)]
    assert heatmap(rows, GRID) is None
    blocks = figures(rows, GRID)
    assert [b.splitlines()[0] for b in blocks] == [
        "val accuracy by optimizer.lr",
        "val accuracy by training.batch_size",
    ]


def test_the_table_the_heatmap_and_the_best_member_line_name_the_same_member():
    rows = grid_rows()
    best = best_member(rows)
    table = results_table(rows, best=best)
    (block,) = figures(rows, GRID, best=best)
    line = best_member_line(rows, best)
    assert table.rows[table.best_row][1:3] == ["0.1", "128"]
    best_line = next(text for text in block.splitlines() if BEST_MARK in text)
    assert best_line.startswith("0.1 ") and "96.0% n=2 ★" in best_line
    assert line == (
        "best member: lr=0.1, batch_size=128, seed 0 (chosen on validation: val acc 96.0%, the mean of its 2 "
        "seeds; its own 97.0%); its test acc 96.0%"
    )
    assert table.rows[table.best_row][4] == "97.0%"  # its own score in the table, as the line says


def test_a_searchs_verdict_is_titled_with_its_best_member():
    assert verdict_title({"verdict": "good fit"}) == "verdict: good fit"
    titled = verdict_title({"verdict": "good fit", "member": 2, "label": "lr=0.1, batch_size=64"})
    assert titled == "verdict of the best member (lr=0.1, batch_size=64): good fit"


def test_a_combination_whose_members_all_failed_is_a_dash_not_a_number():
    rows = [
        row(0, {"optimizer.lr": 0.1, "training.batch_size": 16}, 0.9),
        row(1, {"optimizer.lr": 0.1, "training.batch_size": 64}, 0.8),
        row(2, {"optimizer.lr": 10.0, "training.batch_size": 16}, None, status="diverged"),
        row(3, {"optimizer.lr": 10.0, "training.batch_size": 64}, None, status="failed", error="out of memory"),
    ]
    cells = heatmap_cells(heatmap(rows, GRID))
    assert cells[1] == ["   —", "   —"] and cells[0][0].endswith(BEST_MARK)
    assert heatmap([r for r in rows if r["member"] >= 2], GRID) is None  # nothing to shade at all
