"""A run's listing: what `nnplay runs` and the runs screen show of it, kept in its status.json when it ends
so that a listing reads one small file a run. The rows made from it are the rows made from the run's
summary and events; a run without one (written before listings, crashed) lists as before, and one that
no longer matches its run's files (a summary replaced or damaged, a hand-edited listing) is not used."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest
import tomli_w
from textual.widgets import DataTable
from waiting import until

from nnplay.engine.core.runs import RunWriter, list_runs, listing_of, load_run, read_listing
from nnplay.tui.app import NNPlayApp
from nnplay.tui.cli import _runs_row
from nnplay.tui.report import listed_summary, summary_of
from nnplay.tui.screens.runs import FIRST_ROWS, RunsScreen, run_row

DATA = Path(__file__).with_name("data") / "run-store"
FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")
FINISHED = ["20250101-090000-batch-math", "20250101-091500-overfit-small-data", "20250101-093000-sine-regression"]
CRASHED = "20250101-094500-xor-perceptron"  # cut after epoch 12: no summary
GONE = 2**22 + 1  # above Linux's pid_max default: no such process


def status_of(run: Path) -> dict:
    return json.loads((run / "status.json").read_text(encoding="utf-8"))


def without_listing(run: Path) -> None:
    """The run as written before listings: its status.json without one."""
    status = status_of(run)
    status.pop("listing", None)
    (run / "status.json").write_text(json.dumps(status), encoding="utf-8")


def rows(run: Path) -> tuple:
    """The run's row on the runs screen (cells and sort values) and in `nnplay runs`."""
    row = run_row(run)
    return row.cells, row.order, _runs_row(run)


def ended(tmp_path: Path, recorded: str) -> Path:
    """A recorded run ended again by the run writer, as the engine ends one: its summary, then its status."""
    source = DATA / recorded
    writer = RunWriter(tmp_path / recorded, (source / "config.toml").read_text(encoding="utf-8"))
    writer.events.write((source / "events.jsonl").read_text(encoding="utf-8"))
    summary = json.loads((source / "summary.json").read_text(encoding="utf-8"))
    writer.finish(summary["status"], summary)
    return writer.path


def crashed(tmp_path: Path, host: str | None = None, pid: int = GONE) -> Path:
    """The recorded crashed run, its status.json as a run leaves it when its process dies: running."""
    run = tmp_path / CRASHED
    shutil.copytree(DATA / CRASHED, run)
    status = {"status": "running", "pid": pid, "host": host or socket.gethostname(), "updated": 1735722060.0}
    (run / "status.json").write_text(json.dumps(status), encoding="utf-8")
    return run


@pytest.mark.parametrize("recorded", FINISHED)
def test_an_ended_run_has_its_listing_and_it_makes_the_rows_its_summary_makes(tmp_path, recorded) -> None:
    run = ended(tmp_path, recorded)
    status, listing = read_listing(run)
    assert status == "completed" and listing is not None
    assert listing["sources"] == {"summary.json": (run / "summary.json").stat().st_size}
    assert listing["name"] == load_run(run).summary["name"]
    from_listing = rows(run)

    without_listing(run)
    assert read_listing(run)[1] is None
    assert rows(run) == from_listing  # the rows made from its summary, as before listings


def test_a_real_run_ends_with_its_listing(run_engine, tiny_data, tmp_path, runs_dir) -> None:
    toml = tmp_path / "tiny.toml"
    toml.write_text(tomli_w.dumps(tiny_data(training={"epochs": 3, "snapshot_every": 1})), encoding="utf-8")
    result = run_engine(str(toml))
    assert result.returncode == 0, result.stderr
    (run,) = list_runs(runs_dir)
    status, listing = read_listing(run)
    summary = summary_of(load_run(run))
    assert status == "completed" and listing is not None
    assert {key: listing[key] for key in ("name", "epochs_run", "best_val_loss", "verdict", "test")} == {
        key: summary[key] for key in ("name", "epochs_run", "best_val_loss", "verdict", "test")
    }
    from_listing = rows(run)
    without_listing(run)
    assert rows(run) == from_listing


def test_a_crashed_run_is_recorded_as_crashed_by_the_first_listing(tmp_path) -> None:
    run = crashed(tmp_path)
    assert read_listing(run) == ("crashed", None)
    rebuilt = rows(run)  # from its events and config, as before listings
    status = status_of(run)
    assert status["status"] == "crashed" and status["pid"] == GONE  # what the engine wrote is kept
    assert status["listing"]["sources"] == {
        "summary.json": None,
        "config.toml": (run / "config.toml").stat().st_size,
        "events.jsonl": (run / "events.jsonl").stat().st_size,
    }
    assert read_listing(run)[1] is not None
    assert rows(run) == rebuilt
    assert rebuilt[2][4:] == ("crashed", "12", "0.7093", "—", "good fit")


def test_a_crashed_run_with_events_added_since_is_read_from_them_again(tmp_path) -> None:
    run = crashed(tmp_path)
    rows(run)
    last = load_run(run).epochs[-1]
    with open(run / "events.jsonl", "a", encoding="utf-8") as f:  # one more epoch, as a copy might hold
        f.write(json.dumps(last | {"epoch": 13}) + "\n")
    assert read_listing(run) == ("crashed", None)
    assert listed_summary(run)["epochs_run"] == 13


@pytest.mark.parametrize("elsewhere", [False, True])
def test_a_run_still_running_or_on_another_machine_is_left_as_it_is(tmp_path, elsewhere) -> None:
    run = crashed(tmp_path, host="another-machine" if elsewhere else None, pid=os.getpid())
    before = (run / "status.json").read_bytes()
    assert rows(run)[2][4] == "running"
    assert (run / "status.json").read_bytes() == before


def test_a_recorded_run_without_a_listing_still_lists_from_its_files(tmp_path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(DATA, runs)  # written before listings
    for name in FINISHED:
        assert "listing" not in status_of(runs / name)
    cells = {run.name: _runs_row(run) for run in list_runs(runs)}
    assert cells["20250101-093000-sine-regression"][4:] == ("completed", "120", "0.362", "R² 0.845", "overfitting")
    assert cells[CRASHED][4:] == ("crashed", "12", "0.7093", "—", "good fit")
    assert not (runs / CRASHED / "status.json").exists()  # nothing to record a crash in: left as it is


def test_a_listing_whose_summary_was_replaced_is_not_used(tmp_path) -> None:
    run = ended(tmp_path, FINISHED[0])
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "good fit"
    (run / "summary.json").write_text(json.dumps(summary | {"verdict": "underfitting"}), encoding="utf-8")
    assert read_listing(run)[1] is None
    assert _runs_row(run)[-1] == "underfitting"


def test_a_listing_whose_summary_is_damaged_lists_the_run_as_unreadable(tmp_path) -> None:
    run = ended(tmp_path, FINISHED[0])
    (run / "summary.json").write_text('{"status": "completed", "na', encoding="utf-8")
    row = _runs_row(run)
    assert row[4] == "unreadable" and row[-1].startswith("summary.json is not JSON (")


@pytest.mark.parametrize(
    "damage",
    [
        lambda listing: "a listing",
        lambda listing: listing | {"epochs_run": "many"},
        lambda listing: listing | {"epochs_run": True},
        lambda listing: listing | {"test": {"accuracy": "high"}},
        lambda listing: listing | {"name": None},
        lambda listing: {k: v for k, v in listing.items() if k != "sources"},
        lambda listing: listing | {"sources": {}},
        lambda listing: listing | {"sources": {"../elsewhere.json": 12}},
        lambda listing: listing | {"sources": {"summary.json": "big"}},
    ],
    ids=["not-an-object", "text-epochs", "true-epochs", "text-metric", "no-name", "no-sources", "empty-sources",
         "unknown-source", "text-size"],
)  # fmt: skip
def test_a_damaged_listing_is_not_used_and_the_run_lists_from_its_files(tmp_path, damage) -> None:
    run = ended(tmp_path, FINISHED[1])
    status = status_of(run)
    expected = rows(run)
    (run / "status.json").write_text(json.dumps(status | {"listing": damage(status["listing"])}), encoding="utf-8")
    assert read_listing(run) == ("completed", None)
    assert rows(run) == expected


async def test_the_runs_screen_fills_a_long_table_and_keeps_the_cursor_on_its_run(tmp_path) -> None:
    runs = tmp_path / "runs"
    source = ended(tmp_path, FINISHED[0])
    summary = json.loads((source / "summary.json").read_text(encoding="utf-8"))
    names = [f"2025{i:04d}-090000-batch-math" for i in range(FIRST_ROWS + 50)]  # newest last
    for i, name in enumerate(names):  # each started a minute after the one before, with its listing
        shutil.copytree(source, runs / name)
        data = json.dumps(summary | {"started": summary["started"] + 60 * i})
        (runs / name / "summary.json").write_text(data, encoding="utf-8")
        listing = listing_of(json.loads(data), {"summary.json": len(data)})
        (runs / name / "status.json").write_text(json.dumps(status_of(source) | {"listing": listing}))
    app = NNPlayApp(runs, engine_command=[sys.executable, str(FAKE_ENGINE), "normal"])
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen), "the runs screen")
        table = app.screen.query_one("#runs", DataTable)
        await until(pilot, lambda: table.row_count == len(names), "every run")
        keys = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
        assert keys == names[::-1]  # newest first
        assert table.cursor_row == 0

        await pilot.press("O")  # oldest first: the newest run, under the cursor, goes last
        await until(pilot, lambda: table.cursor_row == len(names) - 1, "the cursor on its run")
        keys = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
        assert keys == names and table.row_count == len(names)
