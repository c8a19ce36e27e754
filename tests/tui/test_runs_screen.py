"""The runs screen on a fixed run store: sorting by key and by header, columns that fit the
terminal, and what exporting says it wrote. No engine runs: the app reads recorded runs."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from waiting import until

from nnplay.tui.app import NNPlayApp
from nnplay.tui.report import exported_message
from nnplay.tui.screens.dashboard import DashboardScreen
from nnplay.tui.screens.runs import RunsScreen, fit_columns

DATA = Path(__file__).with_name("data")
FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")
NEWEST_FIRST = ["xor-perceptron", "sine-regression", "overfit-small-data", "batch-math"]
LONG_VERDICTS = {  # the longest verdicts the diagnosis gives, put on the fixture's finished runs
    "20250101-090000-batch-math": "learning rate too high",
    "20250101-091500-overfit-small-data": "overfitting caught",
    "20250101-093000-sine-regression": "still improving",
}


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    """The fixture run store as ./runs (the app names it as given)."""
    shutil.copytree(DATA / "run-store", tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    return Path("runs")


def set_verdicts(runs: Path, verdicts: dict[str, str]) -> None:
    for run_id, verdict in verdicts.items():
        path = runs / run_id / "summary.json"
        summary = json.loads(path.read_text(encoding="utf-8"))
        summary["verdict"] = verdict
        path.write_text(json.dumps(summary), encoding="utf-8")


def make_app(runs: Path) -> NNPlayApp:
    return NNPlayApp(runs, engine_command=[sys.executable, str(FAKE_ENGINE), "normal"])


async def open_runs(pilot: Pilot) -> tuple[RunsScreen, DataTable]:
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen), "the runs screen")
    screen = pilot.app.screen
    table = screen.query_one("#runs", DataTable)
    await until(pilot, lambda: table.row_count == 4, "four runs")
    return screen, table


def shown_columns(table: DataTable) -> list[str]:
    return [str(c.key.value) for c in table.ordered_columns]


def column(table: DataTable, name: str) -> list[str]:
    index = shown_columns(table).index(name)
    return [str(table.get_row_at(i)[index]) for i in range(table.row_count)]


def title(screen: RunsScreen) -> str:
    return str(screen.query_one("#runs-title", Static).render())


def shown_lines(table: DataTable) -> list[str]:
    """The table as drawn on the screen, one string per line."""
    return [strip.text for strip in table.render_lines(Region(0, 0, *table.size))]


async def test_o_sorts_by_the_next_column_and_shift_o_reverses(store) -> None:
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        screen, table = await open_runs(pilot)
        assert column(table, "run") == NEWEST_FIRST
        assert "sorted by date ↓" in title(screen)

        await pilot.press("o")  # the column after date: task, ascending; ties stay newest first
        assert "sorted by task ↑" in title(screen)
        assert column(table, "run") == ["xor-perceptron", "overfit-small-data", "batch-math", "sine-regression"]
        await pilot.press("O")
        assert "sorted by task ↓" in title(screen)
        assert column(table, "run") == ["sine-regression", "xor-perceptron", "overfit-small-data", "batch-math"]

        await pilot.press("o", "o")  # model, then status: a new column starts ascending
        assert "sorted by status ↑" in title(screen)
        assert column(table, "status") == ["completed", "completed", "completed", "crashed"]
        await pilot.press("O")
        assert column(table, "status") == ["crashed", "completed", "completed", "completed"]

        await pilot.press("o")  # best val: numbers sort as numbers
        assert "sorted by best val ↑" in title(screen)
        assert column(table, "run") == ["batch-math", "overfit-small-data", "sine-regression", "xor-perceptron"]


async def test_clicking_a_header_sorts_ascending_then_reverses(store) -> None:
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        screen, table = await open_runs(pilot)

        async def click_header(name: str) -> None:
            columns = table.ordered_columns
            index = shown_columns(table).index(name)
            x = sum(c.get_render_width(table) for c in columns[:index]) + 1
            await pilot.click(table, offset=(x, 0))
            await pilot.pause()

        await click_header("status")
        assert "sorted by status ↑" in title(screen)
        assert column(table, "status") == ["completed", "completed", "completed", "crashed"]
        await click_header("status")
        assert "sorted by status ↓" in title(screen)
        assert column(table, "status") == ["crashed", "completed", "completed", "completed"]
        await click_header("run")  # another column starts ascending
        assert column(table, "run") == sorted(NEWEST_FIRST)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_every_verdict_shows_whole_with_the_run_and_its_status(store, size) -> None:
    set_verdicts(store, LONG_VERDICTS)
    async with make_app(store).run_test(size=size) as pilot:
        _, table = await open_runs(pilot)
        assert {"run", "status", "verdict"} <= set(shown_columns(table))
        assert table.virtual_size.width <= table.scrollable_content_region.width, "the table scrolls sideways"
        lines = shown_lines(table)
        for name, verdict in zip(NEWEST_FIRST, ["good fit", *reversed(list(LONG_VERDICTS.values()))], strict=True):
            row = next(line for line in lines if name in line)
            assert verdict in row and ("crashed" in row or "completed" in row)
        if size == (120, 36):
            assert {"date", "model", "best val", "test"} <= set(shown_columns(table))


def test_narrow_tables_drop_the_less_important_columns_first() -> None:
    widths = {"run": 20, "date": 11, "task": 14, "model": 16, "status": 9, "best val": 8, "test": 9, "verdict": 22}
    assert fit_columns(widths, 200) == widths
    assert fit_columns(widths, 118) == {k: w for k, w in widths.items() if k != "task"}
    narrow = fit_columns(widths, 78)
    assert list(narrow) == ["run", "status", "test", "verdict"] and narrow["verdict"] == 22
    assert fit_columns(widths, 56) == {"run": 16, "status": 9, "verdict": 22}  # the name is cut, never the verdict


async def test_exporting_two_marked_runs_says_every_file_and_both_directories_once(store) -> None:
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        screen, table = await open_runs(pilot)
        app = pilot.app
        before = len(list(app._notifications))
        await pilot.press("space", "down", "space", "e")
        dirs = [store / "20250101-094500-xor-perceptron", store / "20250101-093000-sine-regression"]
        names = ["report.json", "report.csv", "report.md", "train.py"]
        assert all((d / n).is_file() for d in dirs for n in names)
        messages = [n.message for n in list(app._notifications)[before:]]
        assert messages == [f"exported {', '.join(names)} for 2 runs: {dirs[0]}, {dirs[1]}"]


async def test_exporting_a_dashboard_names_the_screenshot_too(store) -> None:
    async with make_app(store).run_test(size=(120, 36)) as pilot:
        await open_runs(pilot)
        app = pilot.app
        await pilot.press("down", "enter")  # sine-regression, as recorded
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the recorded dashboard")
        before = len(list(app._notifications))
        await pilot.press("e")
        run_dir = store / "20250101-093000-sine-regression"
        await until(pilot, lambda: (run_dir / "dashboard.svg").is_file(), "the screenshot")
        messages = [n.message for n in list(app._notifications)[before:]]
        assert messages == [f"exported report.json, report.csv, report.md, train.py, dashboard.svg to {run_dir}"]


def test_exported_message_groups_files_by_run() -> None:
    one = [Path("runs/a/report.json"), Path("runs/a/report.md")]
    assert exported_message(one) == "exported report.json, report.md to runs/a"
    two = one + [Path("runs/b/report.json"), Path("runs/b/report.md")]
    assert exported_message(two) == "exported report.json, report.md for 2 runs: runs/a, runs/b"
