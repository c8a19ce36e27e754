"""The engine as the app sees it: a process speaking JSON lines, controlled through stdin, leaving
a run directory that is readable whatever happened (finished, stopped, diverged, killed)."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from nnplay.engine.core.events import EVENT_TYPES, PROTOCOL_VERSION
from nnplay.engine.core.runs import RunWriter, find_run, list_runs, load_run, read_events, write_json_atomic
from nnplay.tui.report import summary_of

# A run that would take minutes: it only ends when told to (or killed).
ENDLESS = {"training": {"epochs": 100_000, "snapshot_every": 1000}}


def write_toml(path: Path, data: dict) -> Path:
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def file_events(run_dir: Path) -> list[dict]:
    return read_events(Path(run_dir) / "events.jsonl")


def summary_json(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / "summary.json").read_text(encoding="utf-8"))


# One run, start to finish.


def test_protocol_sequence_of_a_completed_run(run_engine, tiny_data, tmp_path, runs_dir):
    toml = write_toml(tmp_path / "tiny.toml", tiny_data(training={"epochs": 3, "snapshot_every": 1}))
    result = run_engine(str(toml))
    assert result.returncode == 0, result.stderr
    events = result.events
    assert all(e["type"] in EVENT_TYPES for e in events)

    hello, plan, done = events[0], events[1], events[-1]
    assert hello["type"] == "hello"
    assert hello["protocol"] == PROTOCOL_VERSION
    assert hello["torch_version"] and hello["device"] == "cpu"
    assert plan["type"] == "plan" and plan["name"] == "tiny"
    assert plan["iterations_per_epoch"] == 4 and plan["epochs"] == 3

    epochs = [e for e in events if e["type"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    for e in epochs:
        assert e["epochs"] == 3
        assert {"train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr"} <= e.keys()

    snapshots = [e for e in events if e["type"] == "snapshot"]
    # Every snapshot_every epochs, at most 4 a second, and always at the end: each time, every view.
    shown = sorted({s["epoch"] for s in snapshots})
    assert shown[0] == 1 and shown[-1] == 3
    assert {(s["epoch"], s["view"]) for s in snapshots} == {
        (epoch, view) for epoch in shown for view in ("boundary", "confusion", "layers")
    }
    for s in snapshots:  # each snapshot follows the epoch it shows
        assert events.index(s) > events.index(epochs[s["epoch"] - 1])

    types = [e["type"] for e in events]
    live = [e for e in events if e["type"] == "diagnosis" and not e["final"]]
    final = [e for e in events if e["type"] == "diagnosis" and e["final"]]
    assert [d["epoch"] for d in live][:1] == [1]  # every snapshot_every epochs (at most 4 a second)
    for d in live:
        assert events.index(d) > events.index(epochs[d["epoch"] - 1])
    assert len(final) == 1 and events.index(final[0]) > events.index(epochs[-1])
    assert final[0]["verdict"] in ("underfitting", "good fit", "overfitting")
    assert types.count("done") == 1
    assert done["type"] == "done" and done["status"] == "completed"
    assert done["run_dir"] == plan["run_dir"]
    assert "error" not in types and "Traceback" not in result.stderr

    run_dir = Path(done["run_dir"])
    assert run_dir.parent == runs_dir
    assert summary_json(run_dir)["status"] == "completed"
    assert load_run(run_dir).status == "completed"
    assert (run_dir / "model.pt").is_file()
    # The run keeps every event it streamed after hello, line for line.
    assert (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines() == result.lines[1:]


@pytest.mark.parametrize("via", ["toml", "stdin"])
def test_config_error_is_one_event_and_exit_code_2(run_engine, tiny_data, tmp_path, runs_dir, via):
    data = tiny_data(training={"epochs": 3, "bogus_key": 1})
    if via == "toml":
        result = run_engine(str(write_toml(tmp_path / "broken.toml", data)))
    else:
        result = run_engine(stdin=json.dumps(data) + "\n")
    assert result.returncode == 2
    assert len(result.events) == 1
    (error,) = result.events
    assert error["type"] == "error" and error["kind"] == "config"
    assert error["traceback"] is None
    assert "training.bogus_key" in error["message"] and "\n" not in error["message"]
    assert [p["setting"] for p in error["problems"]] == ["training"]  # an unknown key: its section is named
    if via == "toml":
        assert error["message"].startswith("broken.toml: ")
    assert result.stderr == ""
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_config_line_that_is_not_json_is_a_config_error(run_engine, runs_dir):
    result = run_engine(stdin="{not json\n")
    assert result.returncode == 2
    assert [(e["type"], e["kind"]) for e in result.events] == [("error", "config")]
    assert "not JSON" in result.events[0]["message"]
    assert not runs_dir.exists()


def test_diverging_run_ends_as_diverged_with_a_hint(run_engine, tiny_data, tmp_path):
    # Plain SGD with momentum at lr 10 on standardized sine targets overflows in the first epoch.
    data = tiny_data(
        task="regression",
        data={"dataset": "sine", "n_samples": 200},
        optimizer={"kind": "sgd", "lr": 10.0, "momentum": 0.9},
        training={"epochs": 20},
    )
    result = run_engine(str(write_toml(tmp_path / "explode.toml", data)))
    types = [e["type"] for e in result.events]
    epochs = [e for e in result.events if e["type"] == "epoch"]
    assert epochs and epochs[-1]["train_loss_running"] is None  # NaN/inf cross the protocol as null
    assert len(epochs) < 20  # stopped at the divergence
    assert "Traceback" not in result.stderr
    assert "error" not in types, [e.get("message") for e in result.events if e["type"] == "error"]
    done = result.events[-1]
    assert done["type"] == "done" and done["status"] == "diverged"
    assert "optimizer.lr from 10 to 1" in done["hint"]  # names the setting and a value to try
    assert result.returncode == 3
    summary = summary_json(done["run_dir"])
    assert summary["status"] == "diverged" and summary["verdict"] == "diverged"
    assert load_run(Path(done["run_dir"])).status == "diverged"
    # It overflowed in the first epoch: no finite weights to keep, and the run says so instead of saving NaN.
    assert done["weights_epoch"] is None and not (Path(done["run_dir"]) / "model.pt").exists()
    assert "No weights were kept" in summary["diagnosis"]["explanation"]


# Control: stop, pause and resume, and a hard kill.


def test_stop_command_ends_the_run_as_stopped_and_keeps_it(start_engine, tiny_data):
    engine = start_engine()
    engine.send(tiny_data(**ENDLESS))  # config on stdin: stdin stays open for control lines
    assert engine.wait_for("hello")["protocol"] == PROTOCOL_VERSION
    plan = engine.wait_for("plan")
    engine.wait_for("epoch")
    engine.send("stop")
    done = engine.wait_for("done")
    assert done["status"] == "stopped"
    engine.drain()
    assert engine.wait() == 0

    streamed_epochs = engine.of_type("epoch")
    assert len(streamed_epochs) < 100_000
    assert [e["epoch"] for e in streamed_epochs] == list(range(1, len(streamed_epochs) + 1))
    run_dir = Path(plan["run_dir"])
    assert summary_json(run_dir)["status"] == "stopped"
    assert load_run(run_dir).status == "stopped"
    recorded = file_events(run_dir)
    assert [e for e in recorded if e["type"] == "epoch"] == streamed_epochs
    assert recorded == engine.events[1:]  # everything after hello, in order
    # A stop mid-epoch leaves half-updated weights: the run keeps the last finished epoch's, which
    # reproduce that epoch's validation loss, and its final table says whose they are.
    kept = done["kept"]
    assert kept["epoch"] == streamed_epochs[-1]["epoch"] and kept["weights"] == "last"
    assert kept["val"]["loss"] == pytest.approx(streamed_epochs[-1]["val_loss"], rel=1e-5)
    # Every view names that same finished epoch, never the one the stop cut short.
    snapshots = engine.of_type("snapshot")
    assert snapshots and all(s["epoch"] <= kept["epoch"] for s in snapshots)
    assert snapshots[-1]["epoch"] == kept["epoch"]


def test_pause_freezes_training_and_resume_finishes_it(start_engine, tiny_data):
    # About 30 updates per epoch: epochs are short, but the run lasts long enough to pause it.
    epochs = 60
    engine = start_engine()
    engine.send(tiny_data(training={"epochs": epochs, "batch_size": 4, "snapshot_every": 1000}))
    engine.wait_for("epoch")
    engine.send("pause")
    # An epoch already past its last update may still report; after that, nothing moves.
    settled = engine.events_during(0.5)
    assert "done" not in [e["type"] for e in settled], "the run finished before the pause landed; make it longer"
    frozen = engine.events_during(1.0)
    assert [e for e in frozen if e["type"] == "epoch"] == []
    assert engine.proc.poll() is None
    paused_at = engine.of_type("epoch")[-1]["epoch"]
    assert paused_at < epochs
    # The verdict a paused run shows is that of the epochs finished so far, whatever the throttle said.
    assert engine.of_type("diagnosis")[-1]["epoch"] == paused_at

    engine.send("resume")
    done = engine.wait_for("done")
    assert done["status"] == "completed"
    assert [e["epoch"] for e in engine.of_type("epoch")] == list(range(1, epochs + 1))
    engine.drain()
    assert engine.wait() == 0


def test_killed_run_reads_as_crashed_with_its_epochs(start_engine, tiny_data):
    engine = start_engine()
    engine.send(tiny_data(**ENDLESS))
    plan = engine.wait_for("plan")
    engine.wait_for(lambda e: e["type"] == "epoch" and e["epoch"] >= 3)
    seen = [e["epoch"] for e in engine.of_type("epoch")]
    os.kill(engine.pid, signal.SIGKILL)
    assert engine.wait(timeout=30) == -signal.SIGKILL  # reaped, so its pid no longer reads as alive

    run_dir = Path(plan["run_dir"])
    record = load_run(run_dir)
    assert record.status == "crashed"
    assert record.summary is None
    assert [e["epoch"] for e in record.epochs][: len(seen)] == seen

    # A line cut short by the kill is skipped, not an error.
    with open(run_dir / "events.jsonl", "a", encoding="utf-8") as f:
        f.write('{"type": "epoch", "epoch": 99999, "train_lo')
    again = load_run(run_dir)
    assert again.status == "crashed"
    assert again.events == record.events

    summary = summary_of(again)
    assert summary["status"] == "crashed"
    assert summary["name"] == "tiny"
    assert summary["epochs_run"] == len(again.epochs) >= 3
    assert summary["final"]["epoch"] == again.epochs[-1]["epoch"]
    assert summary["plan"]["iterations_per_epoch"] == 4
    assert summary["diagnosis"]["best_epoch"] is not None


# The long-lived engine. One server answers these tests in turn (torch loads once); a test that
# finds it gone (the quit test ends it) starts another.


@dataclass
class Server:
    engine: Any  # conftest.EngineProcess
    hello: dict
    runs_dir: Path

    def run(self, request_id: int, config: dict) -> tuple[dict, dict]:
        """Send a run request; returns its plan and done events (matched by run directory)."""
        self.engine.send({"cmd": "run", "id": request_id, "config": config})
        plan = self.engine.wait_for(lambda e: e["type"] == "plan" and "run_dir" in e)
        done = self.engine.wait_for(lambda e: e["type"] == "done" and e["run_dir"] == plan["run_dir"])
        return plan, done


@pytest.fixture(scope="module")
def servers(start_module_engine, tmp_path_factory):
    current: list[Server] = []

    def get() -> Server:
        if not current or current[0].engine.eof or current[0].engine.proc.poll() is not None:
            runs_dir = tmp_path_factory.mktemp("serve") / "runs"
            engine = start_module_engine("serve", runs_dir=runs_dir)
            current[:] = [Server(engine, engine.wait_for("hello"), runs_dir)]
        return current[0]

    return get


@pytest.fixture
def server(servers) -> Server:
    return servers()


def test_serve_answers_plans_and_runs(server, tiny_data):
    engine = server.engine
    assert server.hello["mode"] == "serve" and server.hello["protocol"] == PROTOCOL_VERSION

    engine.send({"cmd": "plan", "id": 1, "config": tiny_data(training={"batch_size": 50})})
    plan = engine.wait_for(lambda e: e["type"] in ("plan", "error") and e.get("id") == 1)
    assert plan["type"] == "plan"
    assert (plan["n_train"], plan["batch_size"], plan["iterations_per_epoch"]) == (120, 50, 3)

    engine.send({"cmd": "plan", "id": 2, "config": tiny_data(model={"architecture": "cnn"})})
    error = engine.wait_for(lambda e: e["type"] in ("plan", "error") and e.get("id") == 2)
    assert error["type"] == "error" and error["kind"] == "config"
    assert "model.architecture" in error["message"] and error["traceback"] is None

    engine.send({"cmd": "frobnicate", "id": 3})
    error = engine.wait_for(lambda e: e.get("id") == 3)
    assert error["type"] == "error" and error["kind"] == "protocol"

    plan, done = server.run(4, tiny_data(training={"epochs": 2}))
    assert done["status"] == "completed"
    run_events = engine.events[engine.events.index(plan) : engine.events.index(done) + 1]
    assert [e["epoch"] for e in run_events if e["type"] == "epoch"] == [1, 2]
    assert "hello" not in [e["type"] for e in run_events]
    assert Path(done["run_dir"]).parent == server.runs_dir
    assert engine.proc.poll() is None  # still serving


def test_serve_run_record_is_final_when_done_arrives(server, tiny_data):
    # In serve mode the process outlives the run, so `done` is the only signal a reader has
    # that the run directory is complete: its summary must be there when `done` is read.
    _, done = server.run(5, tiny_data(training={"epochs": 2}))
    run_dir = Path(done["run_dir"])
    summary_present = (run_dir / "summary.json").is_file()
    status_then = load_run(run_dir).status
    assert summary_present, "done was emitted before summary.json was written"
    assert status_then == "completed"


def test_serve_quit_exits_0_and_stops_a_queued_run(server, tiny_data):
    engine = server.engine
    epochs = 60
    config = tiny_data(training={"epochs": epochs, "batch_size": 8, "snapshot_every": 1000})
    before = len(engine.events)
    # Both lines at once: "quit" arrives before the queued run's first update.
    engine.proc.stdin.write(
        json.dumps({"cmd": "run", "id": 6, "config": config}) + "\n" + json.dumps({"cmd": "quit"}) + "\n"
    )
    engine.proc.stdin.flush()
    engine.drain()
    assert engine.wait(timeout=30) == 0
    after = engine.events[before:]
    done = [e for e in after if e["type"] == "done"]
    # Quitting means no run goes on: either it never started or it stopped at once.
    assert done == [] or done[0]["status"] == "stopped"
    assert len([e for e in after if e["type"] == "epoch"]) < epochs
    for e in after:
        if e["type"] == "done":
            assert summary_json(e["run_dir"])["status"] == e["status"]


# The run store.


def make_run(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir(parents=True)
    (path / "config.toml").write_text(f'name = "{name}"\n', encoding="utf-8")
    return path


def test_list_runs_newest_first_and_only_run_directories(tmp_path):
    root = tmp_path / "runs"
    for name in ("20240102-090000-beta", "20240101-120000-alpha", "20240103-080000-alpha"):
        make_run(root, name)
    (root / "not-a-run").mkdir()
    (root / "notes.txt").write_text("x", encoding="utf-8")
    assert [p.name for p in list_runs(root)] == [
        "20240103-080000-alpha",
        "20240102-090000-beta",
        "20240101-120000-alpha",
    ]
    assert list_runs(tmp_path / "missing") == []


def test_find_run_by_last_prefix_suffix_id_and_path(tmp_path):
    root = tmp_path / "runs"
    first = make_run(root, "20240101-120000-alpha")
    second = make_run(root, "20240102-090000-beta")
    third = make_run(root, "20240103-080000-alpha")
    assert find_run(root, "last") == third
    assert find_run(root, "20240102") == second  # prefix
    assert find_run(root, "beta") == second  # suffix
    assert find_run(root, "20240101-120000-alpha") == first  # exact id
    assert find_run(root, str(first)) == first  # path
    with pytest.raises(FileNotFoundError, match="matches 2 runs"):
        find_run(root, "alpha")
    with pytest.raises(FileNotFoundError, match="no run 'gamma'"):
        find_run(root, "gamma")
    with pytest.raises(FileNotFoundError):
        find_run(tmp_path / "empty", "last")


def test_run_writer_makes_unique_directories(tmp_path):
    root = tmp_path / "runs"
    a = RunWriter.create(root, "same name!", "name = 'x'\n")
    b = RunWriter.create(root, "same name!", "name = 'x'\n")
    try:
        assert a.path != b.path
        assert a.path.name.endswith("-same-name") or b.path.name.endswith("-same-name")
        assert json.loads((a.path / "status.json").read_text())["status"] == "running"
        assert load_run(a.path).status == "running"  # this process is alive
    finally:
        a.finish("completed", {"status": "completed"})
        b.finish("stopped", {"status": "stopped"})
    assert load_run(a.path).status == "completed" and load_run(b.path).status == "stopped"
    assert load_run(b.path).summary == {"status": "stopped"}


def test_write_json_atomic_leaves_no_temp_files(tmp_path):
    target = tmp_path / "summary.json"
    write_json_atomic(target, {"status": "running", "n": 1})
    write_json_atomic(target, {"status": "completed", "n": 2})
    assert json.loads(target.read_text()) == {"status": "completed", "n": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_write_json_atomic_failure_keeps_the_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "summary.json"
    write_json_atomic(target, {"status": "completed"})
    with pytest.raises(TypeError):  # JSON keys must be strings
        write_json_atomic(target, {"status": "diverged", (1, 2): "not a JSON key"})
    assert json.loads(target.read_text()) == {"status": "completed"}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_write_json_atomic_writes_non_finite_numbers_as_null(tmp_path):
    target = tmp_path / "summary.json"
    write_json_atomic(target, {"loss": float("nan"), "history": [1.0, float("inf")]})
    assert json.loads(target.read_text()) == {"loss": None, "history": [1.0, None]}


def test_load_run_rejects_a_directory_that_is_not_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        load_run(tmp_path)


def test_status_of_a_run_whose_process_is_gone_reads_as_crashed(tmp_path):
    run = make_run(tmp_path, "20240101-000000-ghost")
    # A pid that is certainly not running: one above the kernel's maximum.
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text()) if Path("/proc/sys/kernel/pid_max").exists() else 2**22
    write_json_atomic(
        run / "status.json",
        {"status": "running", "pid": pid_max + 1, "host": socket.gethostname(), "updated": time.time()},
    )
    assert load_run(run).status == "crashed"
