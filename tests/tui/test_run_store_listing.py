"""Listing a run store with damaged runs in it: `nnplay runs` and the app's runs screen list every run,
a damaged one as unreadable with the reason (which file, what is wrong), and the others as usual;
`nnplay show` of a damaged run is one sentence and exit code 2."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
from pathlib import Path
from unittest import mock

import pytest
from rich.console import Console
from textual.widgets import DataTable
from waiting import until

from nnplay.tui.app import NNPlayApp
from nnplay.tui.cli import cmd_runs, main
from nnplay.tui.screens.runs import RunsScreen

DATA = Path(__file__).with_name("data")
FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")
GOOD = ["20250101-094500-xor-perceptron", "20250101-093000-sine-regression"]
# Copies of the fixture's finished batch-math run, each with one file damaged, and why each cannot be read.
DAMAGED = {
    "20250102-090000-cut-short": ("summary.json", '{"status": "completed", "na', "summary.json is not JSON ("),
    "20250102-090100-binary": ("summary.json", b"\x89PNG\r\n\x1a\n\x00\xff", "summary.json is not UTF-8 text"),
    "20250102-090200-array": ("summary.json", "[1, 2, 3]", "summary.json holds an array, not a JSON object"),
    "20250102-090300-bad-status": ("status.json", '"completed"', "status.json holds a string, not a JSON object"),
    "20250102-090400-binary-status": ("status.json", b"\xff\xfe\x00", "status.json is not UTF-8 text"),
    # A crashed run (no summary) is rebuilt from its config and events: its config must be read.
    "20250102-090500-latin1-config": ("config.toml", b'name = "caf\xe9"\n', "config.toml is not UTF-8 text"),
}
XOR = "20250101-094500-xor-perceptron"


@pytest.fixture
def store(tmp_path) -> Path:
    """The fixture store, plus damaged copies of its runs, plus the crashed run with garbage in its events."""
    runs = tmp_path / "runs"
    shutil.copytree(DATA / "run-store", runs)
    for name, (file_name, content, _) in DAMAGED.items():
        source = XOR if file_name == "config.toml" else "20250101-090000-batch-math"
        shutil.copytree(runs / source, runs / name)
        path = runs / name / file_name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    garbage = runs / "20250101-094600-xor-garbage-events"
    shutil.copytree(runs / XOR, garbage)
    lines = (garbage / "events.jsonl").read_bytes().splitlines()
    noise = [b"\x00\xff garbage", b"[1, 2]", b"[" * 50_000, b'{"type": "epoch", "epo']
    (garbage / "events.jsonl").write_bytes(b"\n".join([noise[0], *lines[:5], *noise[1:], *lines[5:]]) + b"\n")
    return runs


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, {"COLUMNS": "200"}),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_runs_into_a_pipe_lists_damaged_runs_as_unreadable_and_the_others_as_usual(store):
    code, out, err = cli("runs", "--runs", str(store))
    assert code == 0, err
    rows = {line.split("\t")[0]: line.split("\t") for line in out.splitlines()[1:]}
    assert len(rows) == 4 + len(DAMAGED) + 1  # every run, none dropped
    for name, (_, _, reason) in DAMAGED.items():
        assert rows[name][4] == "unreadable", name
        assert rows[name][-1].startswith(reason), rows[name]
    assert rows["20250101-093000-sine-regression"][4:] == ["completed", "120", "0.362", "R² 0.845", "overfitting"]
    # Garbage lines in a crashed run's events are skipped: it reads as the run without them.
    assert rows["20250101-094600-xor-garbage-events"][1:] == rows[XOR][1:]
    assert " ".join(err.split()) == (
        f"{len(DAMAGED)} runs cannot be read: listed as unreadable, with the reason under verdict."
    )


def test_runs_on_a_terminal_lists_damaged_runs_with_the_reason(store):
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200, highlight=False)
    with contextlib.redirect_stderr(io.StringIO()):
        assert cmd_runs(argparse.Namespace(runs=str(store)), console) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 + 4 + len(DAMAGED) + 1
    row = next(line for line in lines if "20250102-090200-array" in line)
    assert "unreadable" in row and row.endswith("summary.json holds an array, not a JSON object")
    good = next(line for line in lines if line.startswith("20250101-093000-sine-regression"))
    assert "overfitting" in good and "R² 0.845" in good


def test_show_of_a_damaged_run_is_one_sentence(store):
    code, out, err = cli("show", "20250102-090100-binary", "--runs", str(store))
    assert code == 2 and out == ""
    assert " ".join(err.split()) == (
        f"error: run {store / '20250102-090100-binary'} cannot be read: summary.json is not UTF-8 text"
    )


async def test_the_runs_screen_lists_damaged_runs_and_says_why_on_enter(store) -> None:
    app = NNPlayApp(store, engine_command=[sys.executable, str(FAKE_ENGINE), "normal"])
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen), "the runs screen")
        table = app.screen.query_one("#runs", DataTable)
        total = 4 + len(DAMAGED) + 1
        await until(pilot, lambda: table.row_count == total, "every run")
        statuses = [str(table.get_row_at(i)[5]) for i in range(total)]  # mark, run, date, task, model, status
        assert statuses.count("unreadable") == len(DAMAGED)
        notes = [str(n.message) for n in app._notifications]
        assert f"{len(DAMAGED)} runs cannot be read: listed as unreadable, the reason as its verdict." in notes

        await pilot.press("ctrl+end", "enter")  # without a date, damaged runs sort last: the oldest of them
        oldest = min(DAMAGED)
        reason = DAMAGED[oldest][2]
        await until(
            pilot, lambda: any(f"{oldest} cannot be read: {reason}" in str(n.message) for n in app._notifications)
        )
        assert isinstance(app.screen, RunsScreen)  # not opened, and no crash
