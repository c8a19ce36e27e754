"""A sweep's members in the run store: each is a run of its own under `<sweep>/members/`, found as SWEEP/K
like any run, listed by its sweep in member order; the listing of the runs stays one row per sweep.

The sweeps here are written by hand (config.toml, status.json, summary.json, events.jsonl): no engine runs."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from nnplay.engine.core.runs import (
    LISTING_KEYS,
    RunWriter,
    find_run,
    list_runs,
    listed_sweep_size,
    members_of,
    read_listing,
    sweep_members,
    sweep_of,
)
from nnplay.tui.report import listed_summary

GONE = 2**22 + 1  # above Linux's pid_max default: no such process
SWEEP = "20250101-100000-grid"
LABELS = ["lr=0.001", "lr=0.01", "lr=0.1"]
# When each member began: processes start them in any order, so their names do not sort by index.
STAMPS = ["20250101-100007", "20250101-100002", "20250101-100004"]


def write_run(path: Path, name: str, status: str = "completed", summary: dict | None = None, pid: int = 1) -> Path:
    """A run directory as the engine leaves it (its config reduced to its name)."""
    path.mkdir(parents=True, exist_ok=True)  # a sweep's members/ may be there first
    (path / "config.toml").write_text(f'name = "{name}"\ndescription = ""\n', encoding="utf-8")
    host = socket.gethostname() if status == "running" else "elsewhere"
    (path / "status.json").write_text(json.dumps({"status": status, "pid": pid, "host": host, "updated": 0}))
    if summary is not None:
        (path / "summary.json").write_text(json.dumps({"name": name, "status": status, **summary}))
    return path


def member_dir(runs: Path, k: int) -> Path:
    return runs / SWEEP / "members" / f"{STAMPS[k]}-grid-{k}"


def make_sweep(runs: Path, finished: bool = True, run_dirs: list[str | None] | None = None) -> Path:
    """A grid of three members over optimizer.lr; finished: with its summary's rows (each member's run_dir as
    `run_dirs` gives it, by default where it is), else still running (its plan alone names the members)."""
    for k in range(3):
        write_run(member_dir(runs, k), f"grid-{k}", summary={"best_val_loss": 0.5 - k / 10, "epochs_run": 2})
    plan = {"type": "plan", "sweep": {"members": 3, "executor": "processes", "labels": LABELS}}
    sweep = write_run(runs / SWEEP, "grid", "completed" if finished else "running", pid=GONE if not finished else 1)
    (sweep / "events.jsonl").write_text(json.dumps(plan) + "\n", encoding="utf-8")
    if finished:
        dirs = [str(member_dir(runs, k)) for k in range(3)] if run_dirs is None else run_dirs
        rows = [
            {"member": k, "label": LABELS[k], "status": "completed", "run_dir": run_dir}
            for k, run_dir in enumerate(dirs)
        ]
        (sweep / "summary.json").write_text(json.dumps({"name": "grid", "members": rows, "best_member": 2}))
    return sweep


def test_a_member_is_found_as_sweep_slash_index_whatever_names_the_sweep(tmp_path) -> None:
    runs = tmp_path / "runs"
    sweep = make_sweep(runs)
    write_run(runs / "20240101-000000-single", "single")
    for ref in (f"{SWEEP}/1", "grid/1", "20250101-10/1", "last/1", f"{sweep}/1", str(member_dir(runs, 1))):
        assert find_run(runs, ref) == member_dir(runs, 1), ref
    assert find_run(runs, "grid/0") == member_dir(runs, 0) and find_run(runs, "grid/2") == member_dir(runs, 2)
    assert find_run(runs, "grid") == sweep and list_runs(runs) == [sweep, runs / "20240101-000000-single"]


def test_a_recorded_run_dir_is_taken_from_under_the_sweep_wherever_the_engine_ran(tmp_path) -> None:
    runs = tmp_path / "runs"
    elsewhere = [
        f"/gone/machine/runs/{SWEEP}/members/{STAMPS[0]}-grid-0",  # an absolute path on another machine
        f"runs/{SWEEP}/members/{STAMPS[1]}-grid-1",  # relative to where the engine ran
        None,  # not recorded: found by its config's name
    ]
    make_sweep(runs, run_dirs=elsewhere)
    assert [find_run(runs, f"grid/{k}") for k in range(3)] == [member_dir(runs, k) for k in range(3)]


def test_a_running_sweeps_members_are_found_by_their_names_in_member_order(tmp_path) -> None:
    runs = tmp_path / "runs"
    sweep = make_sweep(runs, finished=False)
    assert members_of(sweep) == [member_dir(runs, k) for k in range(3)]  # not in the order of their names
    assert sorted(members_of(sweep)) != members_of(sweep)
    assert [m.label for m in sweep_members(sweep)] == LABELS  # from its plan
    assert find_run(runs, "grid/2") == member_dir(runs, 2)


def test_an_index_out_of_range_names_the_sweep_and_the_allowed_range(tmp_path) -> None:
    runs = tmp_path / "runs"
    make_sweep(runs)
    with pytest.raises(FileNotFoundError) as caught:
        find_run(runs, "grid/3")
    assert str(caught.value) == f"sweep {SWEEP} has no member 3; allowed: 0 to 2 (3 members)"


def test_a_single_run_has_no_members_and_is_no_ones_member(tmp_path) -> None:
    runs = tmp_path / "runs"
    single = write_run(runs / "20240101-000000-single", "single")
    with pytest.raises(FileNotFoundError) as caught:
        find_run(runs, "single/0")
    assert str(caught.value) == (
        "20240101-000000-single is not a sweep, so it has no member 0; `nnplay runs` lists the runs"
    )
    assert members_of(single) == [] and sweep_of(single) is None
    with pytest.raises(FileNotFoundError, match=r"^no run 'nothing/1' under "):
        find_run(runs, "nothing/1")  # neither a sweep nor a run: said of the whole reference


def test_a_member_that_never_started_has_no_run_directory_to_open(tmp_path) -> None:
    runs = tmp_path / "runs"
    sweep = make_sweep(runs, run_dirs=[str(member_dir(tmp_path / "runs", 0)), None, None])
    for k in (1, 2):
        for path in sorted(member_dir(runs, k).iterdir()):
            path.unlink()
        member_dir(runs, k).rmdir()
    assert [m.path for m in sweep_members(sweep)] == [member_dir(runs, 0), None, None]
    with pytest.raises(FileNotFoundError) as caught:
        find_run(runs, "grid/1")
    assert str(caught.value).startswith(f"member 1 of sweep {SWEEP} has no run directory: it never started")


def test_a_members_sweep_is_the_directory_above_members(tmp_path) -> None:
    runs = tmp_path / "runs"
    sweep = make_sweep(runs)
    assert sweep_of(member_dir(runs, 1)) == sweep and sweep_of(sweep) is None
    assert [(m.index, m.label, m.best) for m in sweep_members(sweep)] == [
        (0, LABELS[0], False),
        (1, LABELS[1], False),
        (2, LABELS[2], True),
    ]


def test_a_sweeps_listing_counts_its_members_and_a_members_says_none(tmp_path) -> None:
    runs = tmp_path / "runs"
    sweep = RunWriter.create(runs, "grid", 'name = "grid"\n')
    sweep.finish("completed", {"name": "grid", "status": "completed", "epochs_run": 2, "members": [{}, {}, {}]})
    single = RunWriter.create(runs, "single", 'name = "single"\n')
    single.finish("completed", {"name": "single", "status": "completed", "epochs_run": 2})
    assert read_listing(sweep.path)[1]["members"] == 3
    assert read_listing(single.path)[1]["members"] is None
    assert listed_sweep_size(sweep.path, listed_summary(sweep.path)) == 3
    assert listed_sweep_size(single.path, listed_summary(single.path)) is None


def test_a_sweep_listed_before_listings_counted_members_is_counted_from_its_directory(tmp_path) -> None:
    runs = tmp_path / "runs"
    sweep = make_sweep(runs)
    summary = json.loads((sweep / "summary.json").read_text()) | {"epochs_run": 2}
    (sweep / "summary.json").write_text(json.dumps(summary))
    listing = {key: summary.get(key) for key in LISTING_KEYS}  # as listings were written before they counted
    listing["sources"] = {"summary.json": (sweep / "summary.json").stat().st_size}
    status = json.loads((sweep / "status.json").read_text()) | {"listing": listing}
    (sweep / "status.json").write_text(json.dumps(status))
    listed = listed_summary(sweep)
    assert "members" not in listed  # that listing is used, and says nothing of members
    assert listed_sweep_size(sweep, listed) == 3


def test_a_member_whose_process_is_gone_reads_as_crashed_like_any_run(tmp_path) -> None:
    runs = tmp_path / "runs"
    make_sweep(runs, finished=False)
    member = member_dir(runs, 1)
    (member / "summary.json").unlink()
    (member / "status.json").write_text(
        json.dumps({"status": "running", "pid": GONE, "host": socket.gethostname(), "updated": 0})
    )
    (member / "events.jsonl").write_text(json.dumps({"type": "epoch", "epoch": 1, "val_loss": 0.4}) + "\n")
    assert find_run(runs, "grid/1") == member
    assert listed_summary(member)["status"] == "crashed"
    assert json.loads((member / "status.json").read_text())["status"] == "crashed"  # recorded, as for any run
    assert listed_summary(runs / SWEEP)["status"] == "crashed"  # and its sweep, whose engine is gone too
