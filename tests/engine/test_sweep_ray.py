"""Sweeps with executor = "ray": members as Ray tasks that stream their events back as they train.

One Ray cluster (`ray start --head`, 2 CPUs) serves the module, as sweep.ray_address; one test starts and stops a
Ray of its own (ray_address = ""). Each sweep runs in this process (experiment.run), the way the engine runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from nnplay.engine import experiment  # noqa: E402
from nnplay.engine.core.config import validate  # noqa: E402
from nnplay.engine.core.control import Control  # noqa: E402
from nnplay.engine.core.events import Emitter, RunFailed, encode  # noqa: E402
from nnplay.engine.core.protocol import find_problems  # noqa: E402
from nnplay.engine.core.runs import load_run  # noqa: E402
from nnplay.engine.sweep_ray import RaySweep  # noqa: E402

BASE = {
    "name": "ray",
    "data": {"dataset": "moons", "n_samples": 200},
    "model": {"hidden": [16, 16]},
    "training": {"epochs": 3, "batch_size": 32, "device": "cpu", "snapshot_every": 1},
}
STARTED_S = 120.0  # a guard against a hang while `ray start` runs on a busy machine, not a budget


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", autouse=True)
def no_tokens() -> Iterator[None]:
    """The test clusters listen on this machine only for the module's tests: no token to keep in ~/.ray."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_AUTH_MODE", "disabled")
        mp.setenv("RAY_USAGE_STATS_ENABLED", "0")
        yield


@pytest.fixture(scope="module")
def cluster(no_tokens) -> Iterator[str]:
    """A Ray head node of 2 CPUs, its processes in a session of their own (killed whole at the end, leaving any
    other Ray on the machine alone); its address."""
    port = free_port()
    temp = tempfile.mkdtemp(prefix="nnplay-ray-")  # short: Ray's socket paths must fit in 107 characters
    head = subprocess.Popen(
        [str(Path(sys.executable).with_name("ray")), "start", "--head", f"--port={port}", "--num-cpus=2"]
        + ["--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _out, err = head.communicate(timeout=STARTED_S)
        assert head.returncode == 0, err
        yield f"127.0.0.1:{port}"
    finally:
        try:
            os.killpg(head.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shutil.rmtree(temp, ignore_errors=True)


def grid(address: str, **sections) -> dict:
    config = json.loads(json.dumps(BASE))
    config["sweep"] = {"grid": {"optimizer.lr": [0.01, 0.1]}, "executor": "ray", "ray_address": address}
    for key, value in sections.items():
        config[key] = {**config.get(key, {}), **value}
    return config


def run(config: dict, root: Path, control: Control | None = None, on_event=None) -> tuple[dict, list[dict]]:
    """The sweep's summary and events (as stdout carries them), each stamped with when it reached the emitter."""
    events: list[dict] = []

    def collect(event: dict) -> None:
        events.append({**json.loads(encode(event)), "arrived": time.time()})
        if on_event is not None:
            on_event(events[-1])

    summary = experiment.run(validate(config), Emitter(callback=collect), control, root=root)
    return summary, events


def assert_conform(events: list[dict]) -> None:
    """No event departs from PROTOCOL.md (the protocol contract's check)."""
    problems = [p.message for e in events for p in find_problems({k: v for k, v in e.items() if k != "arrived"})]
    assert problems == []


def ray_processes() -> set[int]:
    """Pids of Ray's processes (servers and workers) in this process's session: those a Ray started from here
    runs, not the module's cluster's (a session of its own)."""
    listing = subprocess.run(["ps", "-eo", "pid=,sid=,stat=,args="], capture_output=True, text=True, check=True)
    found = set()
    for line in listing.stdout.splitlines():
        pid, sid, stat, args = line.split(None, 3)
        ray_process = "site-packages/ray/" in args or args.startswith("ray::")
        if int(sid) == os.getsid(0) and not stat.startswith("Z") and ray_process:
            found.add(int(pid))
    return found


def test_a_grid_trains_its_members_as_ray_tasks_that_stream_while_they_train(cluster, tmp_path):
    summary, events = run(grid(cluster), tmp_path)
    assert summary["status"] == "completed"
    assert next(e for e in events if e["type"] == "plan")["sweep"]["executor"] == "ray"
    assert_conform(events)
    done = [e for e in events if e["type"] == "member_done"]
    assert sorted(e["member"] for e in done) == [0, 1] and {e["status"] for e in done} == {"completed"}
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [1, 2, 3]
    members_dir = Path(summary["run_dir"]) / "members"
    for row in summary["members"]:
        run_dir = Path(row["run_dir"])
        assert run_dir.parent == members_dir and (run_dir / "model.pt").is_file()
        record = load_run(run_dir)
        assert record.status == "completed" and record.summary["run_dir"] == str(run_dir)
        assert [e["epoch"] for e in record.epochs] == [1, 2, 3]
        assert record.last("plan")["run_dir"] == str(run_dir)  # not the worker's temporary directory
        assert_conform(record.events)
    # That the epochs stream while the members train (not all at the end) is the stop test's: a stop sent at the
    # first epoch that arrives ends members that would otherwise train 100,000 epochs.


def test_a_killed_worker_fails_its_member_alone(cluster, tmp_path, monkeypatch):
    workers: dict[int, int] = {}
    started = RaySweep.worker_started

    def note_worker(self, member, pid, host):
        workers[member] = pid
        started(self, member, pid, host)

    monkeypatch.setattr(RaySweep, "worker_started", note_worker)

    def kill_member_0(event: dict) -> None:
        if event["type"] == "member" and event["member"] == 0 and event["epoch"] == 1:
            os.kill(workers[0], signal.SIGKILL)

    # Member 0 takes small batches: many steps an epoch, still training when its first epoch is seen.
    config = grid(cluster, training={"epochs": 3})
    config["sweep"]["grid"] = {"training.batch_size": [2, 64]}
    summary, events = run(config, tmp_path, on_event=kill_member_0)
    killed, other = summary["members"]
    assert killed["status"] == "failed" and "worker" in killed["error"]
    assert other["status"] == "completed" and summary["status"] == "completed"
    warning = next(e for e in events if e["type"] == "warning")
    assert warning["message"].startswith("member 0 (batch_size=2) failed: ") and "worker" in warning["message"]
    record = load_run(Path(killed["run_dir"]))
    assert record.status == "failed" and len(record.epochs) >= 1  # every epoch it finished is kept
    status = json.loads((record.path / "status.json").read_text(encoding="utf-8"))
    assert status["reason"] == killed["error"]
    assert_conform(events)


@pytest.mark.parametrize("address", ["127.0.0.1:{port}", "nonsense"])
def test_an_unreachable_ray_address_fails_the_sweep_in_one_sentence(address, tmp_path):
    address = address.format(port=free_port())
    events: list[dict] = []
    with pytest.raises(RunFailed):
        experiment.run(validate(grid(address)), Emitter(callback=events.append), root=tmp_path)
    error = events[-1]
    assert error["type"] == "error" and error["kind"] == "config"
    assert error["message"].startswith(f"sweep.ray_address = '{address}' ") and "\n" not in error["message"]
    assert "allowed: " in error["message"] and not ray.is_initialized()


def test_a_ray_started_for_the_sweep_stops_with_it_and_leaves_nothing_behind(tmp_path):
    before = ray_processes()
    control = Control()

    def stop_at_first_epoch(event: dict) -> None:
        if event["type"] == "member":
            control.stop()

    # 3 members on this machine's cores (2 here): one waits for a core and never starts.
    config = grid("", training={"epochs": 100_000})
    config["sweep"]["grid"] = {"optimizer.lr": [0.01, 0.03, 0.1]}
    summary, events = run(config, tmp_path, control, stop_at_first_epoch)
    assert summary["status"] == "stopped"
    rows = summary["members"]
    assert {row["status"] for row in rows} == {"stopped"}
    never = [row for row in rows if row["run_dir"] is None]
    assert never and all(row["error"] == "stopped before it started" for row in never)
    for row in rows:
        if row["run_dir"] is not None:
            assert load_run(Path(row["run_dir"])).status == "stopped"
    trained = [load_run(Path(row["run_dir"])) for row in rows if row["run_dir"] and row["best_epoch"]]
    assert trained and all(r.summary["epochs_run"] < 100_000 for r in trained)
    assert sorted(e["member"] for e in events if e["type"] == "member_done") == [0, 1, 2]
    assert_conform(events)
    assert not ray.is_initialized()
    deadline = time.monotonic() + 30.0  # a guard: Ray's processes exit as its shutdown kills them
    while ray_processes() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ray_processes() - before == set()
