"""Sweeps in the app: the runs screen shows a sweep as one row whose members m shows under it (marked,
compared, opened and exported like runs), and the set-up form's sweep tab takes a grid on one line.

The sweep on the runs screen is written by hand from the fixture's recorded runs: no engine trains."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_app import focus_field, make_app, text_of
from test_runs_screen import DATA, column
from test_runs_screen import make_app as runs_app
from textual.widgets import DataTable, Input
from waiting import notifications, until

from nnplay.tui.form_schema import FIELDS, parse, show
from nnplay.tui.screens.compare import CompareScreen
from nnplay.tui.screens.dashboard import DashboardScreen
from nnplay.tui.screens.runs import RunsScreen

SWEEP = "20250102-100000-grid"
MEMBERS = ["20250102-100001-grid-0", "20250102-100002-grid-1"]
LABELS = ["lr=0.001", "lr=0.1", "lr=1"]


def sweep_store(tmp_path: Path) -> Path:
    """A runs directory holding one single run and a grid of three members: two recorded runs (copies of
    the fixture's) and one that failed before it started."""
    runs = tmp_path / "runs"
    shutil.copytree(DATA / "run-store" / "20250101-093000-sine-regression", runs / "20250101-093000-sine-regression")
    sweep = runs / SWEEP
    shutil.copytree(DATA / "run-store" / "20250101-091500-overfit-small-data", sweep)
    for name, source in zip(MEMBERS, ("20250101-090000-batch-math", "20250101-091500-overfit-small-data"), strict=True):
        shutil.copytree(DATA / "run-store" / source, sweep / "members" / name)
    rows = [
        {"member": k, "label": LABELS[k], "status": "completed", "run_dir": f"/elsewhere/{SWEEP}/members/{name}"}
        for k, name in enumerate(MEMBERS)
    ]
    rows.append({"member": 2, "label": LABELS[2], "status": "failed", "run_dir": None, "error": "it ran out of memory"})
    summary = json.loads((sweep / "summary.json").read_text(encoding="utf-8"))
    summary |= {"name": "grid", "members": rows, "best_member": 0, "started": 1735812000.0}  # the newest run
    (sweep / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return runs


async def open_runs(pilot) -> tuple[RunsScreen, DataTable]:
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(pilot.app.screen, RunsScreen), "the runs screen")
    screen = pilot.app.screen
    table = screen.query_one("#runs", DataTable)
    await until(pilot, lambda: table.row_count == 2, "a sweep and a run")
    return screen, table


async def test_m_shows_a_sweeps_members_under_it_and_hides_them_again(tmp_path) -> None:
    runs = sweep_store(tmp_path)
    async with runs_app(runs).run_test(size=(120, 36)) as pilot:
        screen, table = await open_runs(pilot)
        assert column(table, "run") == ["▸ grid · 3 members", "sine-regression"]
        assert "m shows or hides a sweep's members" in text_of(screen.query_one("#runs-title"))
        await pilot.press("m")
        await until(pilot, lambda: table.row_count == 5, "its three members")
        assert column(table, "run") == [
            "▾ grid · 3 members",
            " ├ lr=0.001 (best)",
            " ├ lr=0.1",
            " └ lr=1",
            "sine-regression",
        ]
        # Each member's cells are its own run's (the copies of batch-math and overfit-small-data).
        assert column(table, "verdict")[1:4] == ["good fit", "overfitting", "it ran out of memory"]
        assert column(table, "status")[1:4] == ["completed", "completed", "failed"]
        await pilot.press("O")  # oldest first: the members move with their sweep, in member order
        await until(pilot, lambda: column(table, "run")[0] == "sine-regression", "the reverse order")
        assert column(table, "run")[1:] == ["▾ grid · 3 members", " ├ lr=0.001 (best)", " ├ lr=0.1", " └ lr=1"]
        table.move_cursor(row=column(table, "run").index(" └ lr=1"))
        await pilot.press("m")  # from a member: its sweep folds, the cursor on it
        await until(pilot, lambda: table.row_count == 2, "the members hidden")
        assert column(table, "run")[table.cursor_row] == "▸ grid · 3 members"
        table.move_cursor(row=column(table, "run").index("sine-regression"))
        await pilot.press("m")
        await until(pilot, lambda: any("is not a sweep" in n for n in notifications(pilot.app)), "the refusal")
        assert "sine-regression is not a sweep: it has no members to show." in notifications(pilot.app)


async def test_members_are_compared_and_exported_like_runs(tmp_path) -> None:
    runs = sweep_store(tmp_path)
    app = runs_app(runs)
    async with app.run_test(size=(120, 36)) as pilot:
        screen, table = await open_runs(pilot)
        await pilot.press("m")
        await until(pilot, lambda: table.row_count == 5, "the members")
        await pilot.press("down", "space", "down", "space")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen), "the comparison")
        assert app.screen.paths == [runs / SWEEP / "members" / name for name in MEMBERS]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "the runs screen again")
        await pilot.press("e")
        for name in MEMBERS:
            assert (runs / SWEEP / "members" / name / "report.md").is_file()


async def test_a_member_opens_on_a_dashboard_unless_it_never_started(tmp_path) -> None:
    runs = sweep_store(tmp_path)
    app = runs_app(runs)
    async with app.run_test(size=(120, 36)) as pilot:
        _screen, table = await open_runs(pilot)
        await pilot.press("m")
        await until(pilot, lambda: table.row_count == 5, "the members")
        await pilot.press("down", "down", "down", "enter")  # the member that never started: nothing to open
        await until(pilot, lambda: any("has no run directory" in n for n in notifications(app)), "the refusal")
        assert f"{SWEEP}/2 cannot be read: member 2 has no run directory" in notifications(app)
        await pilot.press("up", "enter")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the member's dashboard")
        assert app.screen.state.name == "overfit-small-data"  # the copy's own name: its run, as recorded


GRID = "optimizer.lr = 0.001, 0.1; model.hidden = [16], [32, 32]; model.activation = relu, tanh"


async def paste_into(pilot, widget_id: str, text: str) -> None:
    """Put text into a form field at once, as a paste does (typing a long line key by key is slow)."""
    field = await focus_field(pilot, widget_id, Input)
    field.value = text


async def test_the_sweep_tab_takes_a_grid_on_one_line_and_shows_it_back(tmp_path, fake_run) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        setup = app.setup_screen
        await paste_into(pilot, "f-sweep-grid", GRID)
        row = setup.query_one("#row-f-sweep-grid")
        await until(pilot, lambda: setup.config is not None and setup.config.sweep.grid != {}, what="the grid")
        assert setup.config.sweep.grid == {
            "optimizer.lr": [0.001, 0.1],
            "model.hidden": [[16], [32, 32]],
            "model.activation": ["relu", "tanh"],
        }
        assert setup.query_one("#row-f-sweep-executor").display and setup.query_one("#row-f-sweep-max_members").display
        assert not setup.query_one("#row-f-sweep-parameter").display  # a grid or a strength, not both

        # A preset's grid as a file writes it (nested tables) is shown in the same form.
        setup.load_experiment({"name": "g", "sweep": {"grid": {"optimizer": {"lr": [0.01, 1.0]}}, "mode": "batched"}})
        await until(pilot, lambda: setup.query_one("#f-sweep-grid").value == "optimizer.lr = 0.01, 1.0", "the grid")
        assert setup.query_one("#f-sweep-executor").value == "batched"  # the executor's earlier name, read

        await paste_into(pilot, "f-sweep-grid", "optimizer.lr 0.1")
        await until(pilot, lambda: row.has_class("-invalid"), what="the grid refused")
        assert text_of(row.query_one(".field-error")) == (
            "sweep.grid = 'optimizer.lr 0.1' is not valid; allowed: settings with their values, e.g. "
            "optimizer.lr = 0.001, 0.01; training.batch_size = 16, 64"
        )


async def test_a_config_error_in_the_grid_marks_the_grid_field(tmp_path, fake_run) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        setup = app.setup_screen
        await paste_into(pilot, "f-sweep-grid", "optimizer.lrr = 0.1, 1")
        row = setup.query_one("#row-f-sweep-grid")
        await until(pilot, lambda: row.has_class("-invalid"), what="the grid refused by the config")
        assert setup.config is None
        assert text_of(row.query_one(".field-error")) == (
            "sweep.grid names 'optimizer.lrr', which is not a setting a sweep can vary; did you mean optimizer.lr?"
        )


def test_settings_on_one_line_read_as_toml_values_and_show_back_the_same() -> None:
    grid = FIELDS["sweep.grid"]
    typed = 'model.hidden = [16], [64, 64]; model.activation = relu, "leaky_relu"; name = "a; b", \'x y\''
    value = parse(grid, typed)
    assert value == {
        "model.hidden": [[16], [64, 64]],
        "model.activation": ["relu", "leaky_relu"],
        "name": ["a; b", "x y"],
    }
    assert show(value) == 'model.hidden = [16], [64, 64]; model.activation = relu, leaky_relu; name = "a; b", "x y"'
    assert parse(grid, show(value)) == value
    ranges = parse(FIELDS["sweep.random"], "optimizer.lr = 1e-4, 0.1, log; training.batch_size = 16, 256")
    assert ranges == {"optimizer.lr": [0.0001, 0.1, "log"], "training.batch_size": [16, 256]}
    whole = {"training.epochs": [1.0, 10.0]}  # floats stay floats: a random range of whole numbers draws them
    assert show(whole) == "training.epochs = 1.0, 10.0" and parse(grid, show(whole)) == whole
    assert parse(grid, "") == {} and show({}) == ""
    for bad in ("optimizer.lr 0.1", "optimizer.lr = [0.1", "optimizer.lr = 1; optimizer.lr = 2", "= 1"):
        with pytest.raises(ValueError) as caught:
            parse(grid, bad)
        assert str(caught.value).startswith(f"sweep.grid = {bad!r} is not valid; allowed: settings with their values")
