"""SVG snapshots of the explorer's main screens at fixed terminal sizes (pytest-textual-snapshot).

Every snapshot is deterministic: the set-up screen shows the fake engine's plan (computed from
the config alone); the runs table reads a fixture directory whose dates and paths are fixed, with
the clock's time zone pinned to UTC. The dashboards are in test_dashboard_snapshots.py.

The run store in tests/tui/data was made once with the real engine and then fixed up:
  python -m nnplay.engine presets/batch-math.toml --runs /tmp/x   (likewise overfit-small-data,
  xor-perceptron, and sine-regression with --set training.epochs=120)
with every `time` set to 2025-01-01 plus a hundredth of a second per event and `run_dir` set to
runs/<fixed id>. The run directories in run-store/ (not runs/, which git ignores)
keep no snapshots at all (the table does not read them), and carry fixed start times in
summary.json and status.json. The xor-perceptron run is cut after epoch 12 with no summary and
no status, as a killed engine leaves it: it reads as crashed.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable
from waiting import until

from nnplay.tui.app import NNPlayApp
from nnplay.tui.screens.runs import RunsScreen
from nnplay.tui.widgets import PlanPanel

DATA = Path(__file__).with_name("data")
FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")
SIZE = (120, 36)


def make_app(runs_dir: str | Path) -> NNPlayApp:
    return NNPlayApp(runs_dir, engine_command=[sys.executable, str(FAKE_ENGINE), "normal"])


@pytest.fixture
def utc():
    """Dates in the runs table are local times: pin the zone so they read the same everywhere."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_setup_screen_with_the_plan(snap_compare, tmp_path) -> None:
    async def run_before(pilot: Pilot) -> None:
        panel = pilot.app.setup_screen.query_one("#plan", PlanPanel)
        await until(pilot, lambda: panel.plan is not None and not panel.has_class("-pending"), "the plan")

    assert snap_compare(make_app(tmp_path / "runs"), terminal_size=SIZE, run_before=run_before)


async def show_runs(pilot: Pilot, statuses: list[str]) -> None:
    """Open the runs screen, wait for the four fixture runs, note their statuses as shown."""
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen), "the runs screen")
    table = pilot.app.screen.query_one(DataTable)
    await until(pilot, lambda: table.row_count == 4, "four runs")
    status = [c.key.value for c in table.ordered_columns].index("status")
    statuses.extend(str(table.get_row_at(i)[status]) for i in range(table.row_count))


def test_runs_screen(snap_compare, tmp_path, monkeypatch, utc) -> None:
    shutil.copytree(DATA / "run-store", tmp_path / "runs")
    monkeypatch.chdir(tmp_path)  # the title names the runs directory as given: runs/
    statuses: list[str] = []

    async def run_before(pilot: Pilot) -> None:
        await show_runs(pilot, statuses)

    assert snap_compare(make_app("runs"), terminal_size=SIZE, run_before=run_before)
    assert statuses == ["crashed", "completed", "completed", "completed"]


def test_runs_screen_at_80x24(snap_compare, tmp_path, monkeypatch, utc) -> None:
    """A narrow terminal drops the task and date columns, never the verdict, even the longest."""
    shutil.copytree(DATA / "run-store", tmp_path / "runs")
    summary_path = tmp_path / "runs" / "20250101-090000-batch-math" / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    summary["verdict"] = "learning rate too high"
    summary_path.write_text(json.dumps(summary), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    statuses: list[str] = []

    async def run_before(pilot: Pilot) -> None:
        await show_runs(pilot, statuses)

    assert snap_compare(make_app("runs"), terminal_size=(80, 24), run_before=run_before)
    assert statuses == ["crashed", "completed", "completed", "completed"]
