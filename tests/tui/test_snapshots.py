"""SVG snapshots of the explorer's main screens at fixed terminal sizes (pytest-textual-snapshot).

Every snapshot is deterministic: the set-up screen shows the fake engine's plan (computed from
the config alone); dashboards are recorded runs built from fixed events; the runs table reads a
fixture directory whose dates and paths are fixed, with the clock's time zone pinned to UTC.

Fixtures in tests/tui/data were made once with the real engine and then fixed up:
  python -m engine presets/overfit-small-data.toml --runs /tmp/x   (likewise batch-math,
  xor-perceptron, and sine-regression with --set training.epochs=120)
with every `time` set to 2025-01-01 plus a hundredth of a second per event and `run_dir` set to
runs/<fixed id>. overfit-small-data.events.jsonl keeps only the newest snapshot of each view (a
replayed state keeps no other); the run directories in run-store/ (not runs/, which git ignores)
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
from collections.abc import Callable
from pathlib import Path

import pytest
from events import boundary_snapshot, confusion_snapshot, diagnosis, epoch, hello, layers_snapshot, plan, run_state
from textual.pilot import Pilot
from textual.widgets import DataTable

from tui.app import NNPlayApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.runs import RunsScreen
from tui.state import RunState
from tui.widgets import LossChart, OverfitPanel, PlanPanel

DATA = Path(__file__).with_name("data")
FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")
SIZE = (120, 36)
WAIT_S = 10.0
POLL_S = 0.02


def make_app(runs_dir: str | Path) -> NNPlayApp:
    return NNPlayApp(runs_dir, engine_command=[sys.executable, str(FAKE_ENGINE), "normal"])


async def until(pilot: Pilot, predicate: Callable[[], bool], what: str) -> None:
    """Let the app run until predicate() holds; fail after WAIT_S seconds."""
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {WAIT_S} s waiting for {what}")
        await pilot.pause(POLL_S)


async def show_recorded(pilot: Pilot, state: RunState) -> DashboardScreen:
    """Push a recorded dashboard and wait until its loss chart has drawn the state."""
    screen = DashboardScreen(state=state)
    await pilot.app.push_screen(screen)
    chart = screen.query_one(LossChart)
    await until(pilot, lambda: "val" in chart.drawn, "the loss chart")
    return screen


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


def test_dashboard_mid_run(snap_compare, tmp_path) -> None:
    """Epoch 10 of 20: falling curves, snapshots of epoch 10, the diagnosis so far; no done."""
    state = run_state(
        hello(),
        plan(epochs=20),
        *(epoch(n, epochs=20) for n in range(1, 11)),
        boundary_snapshot(10),
        confusion_snapshot(10),
        layers_snapshot(10),
        diagnosis(
            final=False,
            verdict="good fit",
            generalization_gap=[[n, 0.2 / n] for n in range(1, 11)],
            final_gap=0.02,
            overfitting_epoch=None,
            early_stopping=None,
            best_epoch=10,
            best_val_loss=0.12,
            explanation="training and validation loss are falling together",
            advice="let it run",
        ),
    )
    assert state.status == "running" and state.done is None
    drawn: dict = {}  # what the screen showed, kept before the app closes it

    async def run_before(pilot: Pilot) -> None:
        screen = await show_recorded(pilot, state)
        drawn.update(screen.query_one(LossChart).drawn)

    assert snap_compare(make_app(tmp_path / "runs"), terminal_size=SIZE, run_before=run_before)
    assert drawn["val"][0] == list(range(1, 11))


def test_dashboard_after_overfit_small_data(snap_compare, tmp_path) -> None:
    """The real engine's overfit-small-data run, replayed: validation loss turns and rises."""
    state = RunState()
    for line in (DATA / "overfit-small-data.events.jsonl").read_text(encoding="utf-8").splitlines():
        state.ingest(json.loads(line))
    assert state.status == "completed"
    shown: dict = {}  # what the screen showed, kept before the app closes it

    async def run_before(pilot: Pilot) -> None:
        screen = await show_recorded(pilot, state)
        shown["val"] = screen.query_one(LossChart).drawn["val"][1]
        shown["verdict"] = screen.query_one(OverfitPanel).verdict

    assert snap_compare(make_app(tmp_path / "runs"), terminal_size=SIZE, run_before=run_before)
    assert shown["val"][-1] > 3 * min(shown["val"]), "validation loss should rise well above its minimum"
    assert shown["verdict"] == "overfitting"


def test_runs_screen(snap_compare, tmp_path, monkeypatch, utc) -> None:
    shutil.copytree(DATA / "run-store", tmp_path / "runs")
    monkeypatch.chdir(tmp_path)  # the title names the runs directory as given: runs/
    statuses: list[str] = []

    async def run_before(pilot: Pilot) -> None:
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen), "the runs screen")
        table = pilot.app.screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 4, "four runs")
        statuses.extend(str(table.get_row_at(i)[5]) for i in range(table.row_count))

    assert snap_compare(make_app("runs"), terminal_size=SIZE, run_before=run_before)
    assert statuses == ["crashed", "completed", "completed", "completed"]
