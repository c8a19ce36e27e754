"""A sweep's members through the `nnplay` command: one row per sweep in `nnplay runs`, its members listed by
`nnplay runs SWEEP`, and `show` and `export` of SWEEP/K exactly as of the member's own run directory.

One real sweep, tiny and batched (a grid of two L2 strengths on 200 points, 2 epochs), shared by the tests."""

from __future__ import annotations

import argparse
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomli_w
from rich.console import Console
from test_cli import cli, normalized

from nnplay.engine.core.runs import list_runs, members_of
from nnplay.tui.cli import cmd_runs


@dataclass
class Sweep:
    runs: Path
    path: Path
    members: list[Path]
    summary: dict


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, tiny_data) -> Sweep:
    tmp = tmp_path_factory.mktemp("sweep-members")
    toml = tmp / "l2-grid.toml"
    config = tiny_data(training={"epochs": 2}, sweep={"grid": {"regularization.l2": [0.0, 0.01]}})
    toml.write_text(tomli_w.dumps(config), encoding="utf-8")
    runs = tmp / "runs"
    code, _out, err = cli("run", str(toml), "--runs", str(runs))
    assert code == 0, err
    [path] = list_runs(runs)
    summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    return Sweep(runs, path, members_of(path), summary)


def test_runs_lists_a_sweep_as_one_row_that_counts_its_members(sweep):
    code, out, err = cli("runs", "--runs", str(sweep.runs))
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header.split("\t")[0] == "run" and len(rows) == 1  # its members are no rows of their own
    assert rows[0].split("\t")[0] == sweep.path.name  # into a pipe, the run column stays a reference
    console_out = io.StringIO()
    console = Console(file=console_out, force_terminal=True, color_system=None, width=200, highlight=False)
    assert cmd_runs(argparse.Namespace(runs=str(sweep.runs)), console) == 0  # as other callers build it
    lines = console_out.getvalue().splitlines()
    assert lines[1].startswith(f"{sweep.path.name} · sweep of 2 members")  # on a terminal it says so
    assert lines[-1] == "`nnplay runs SWEEP` lists the members of a sweep."


def test_runs_of_a_sweep_lists_its_members_with_the_reference_that_opens_each(sweep):
    code, out, err = cli("runs", "last", "--runs", str(sweep.runs))
    assert code == 0, err
    header, *rows = [line.split("\t") for line in out.splitlines()]
    assert header == ["member", "settings", "status", "epochs", "best val", "test", "verdict"]
    best = sweep.summary["best_member"]
    assert best in (0, 1)
    labels = [f"l2=0{' (best)' if best == 0 else ''}", f"l2=0.01{' (best)' if best == 1 else ''}"]
    assert [row[:4] for row in rows] == [[f"{sweep.path.name}/{k}", labels[k], "completed", "2"] for k in range(2)]
    # Each member's numbers are its own run's: members/ listed as a runs directory gives the same.
    _code, own, _err = cli("runs", "--runs", str(sweep.path / "members"))
    for member, row in zip(sweep.members, rows, strict=True):
        its_row = next(line for line in own.splitlines() if line.startswith(member.name)).split("\t")
        assert row[4:] == its_row[6:]  # best val, test, verdict


def test_runs_of_a_sweep_on_a_terminal_says_how_to_open_a_member(sweep):
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, highlight=False)
    assert cmd_runs(argparse.Namespace(runs=str(sweep.runs), sweep="last"), console) == 0
    lines = out.getvalue().splitlines()
    name = sweep.path.name
    assert lines[0] == f"{name}: a sweep of 2 members; `nnplay show {name}/K` opens member K."
    assert lines[2].startswith(f"{name}/0  l2=0")


def test_runs_of_a_run_that_is_no_sweep_is_a_usage_error(sweep):
    member = sweep.members[0]
    code, _out, err = cli("runs", str(member), "--runs", str(sweep.runs))
    assert code == 2
    assert (
        normalized(err)
        == f"error: {member.name} is not a sweep: it has no members to list; `nnplay runs` lists the runs"
    )


def test_show_of_a_member_is_the_show_of_its_run(sweep):
    code, out, err = cli("show", "last/1", "--runs", str(sweep.runs))
    assert code == 0, err
    assert normalized(out).startswith(f"tiny-1 · {sweep.members[1].name} · completed · 2 epochs")
    assert (out, err) == cli("show", str(sweep.members[1]), "--runs", str(sweep.runs))[1:]


@pytest.mark.parametrize("fmt", ["md", "json", "csv", "py"])
def test_export_of_a_member_is_the_export_of_its_run(sweep, fmt):
    code, out, err = cli("export", f"{sweep.path.name}/0", "--format", fmt, "-o", "-", "--runs", str(sweep.runs))
    assert code == 0, err
    assert out == cli("export", str(sweep.members[0]), "--format", fmt, "-o", "-")[1]
    if fmt == "json":
        config = json.loads(out)["config"]  # the member's own: a single run's
        assert config["regularization"]["l2"] == 0.0 and not config.get("sweep", {}).get("grid")


def test_a_member_out_of_range_is_one_sentence(sweep):
    code, out, err = cli("show", "last/2", "--runs", str(sweep.runs))
    assert code == 2 and out == ""
    assert normalized(err) == f"error: sweep {sweep.path.name} has no member 2; allowed: 0 to 1 (2 members)"
