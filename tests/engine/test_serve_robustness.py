"""The long-lived engine (`python -m nnplay.engine serve`) under bad input, signals and races: every line is
answered, a stop is never lost, and the process ends when told to, by a signal or by the end of its input.

In-process tests feed a Server lines from a generator that holds the input open until the test ends it,
so what the reader has read before the jobs start is fixed. Subprocess tests check the process itself.
"""

from __future__ import annotations

import io
import json
import queue
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nnplay.engine.core.control import Control, ControlReader, apply_control
from nnplay.engine.core.events import Emitter
from nnplay.engine.core.runs import load_run
from nnplay.engine.serve import Server

# A run that would take minutes: it only ends when told to (or killed).
ENDLESS = {"training": {"epochs": 100_000, "snapshot_every": 1000}}
# A run that completes in seconds if nothing stops it (750 updates).
LONG = {"training": {"epochs": 50, "batch_size": 8, "snapshot_every": 1000}}
TIMEOUT_S = 60.0
LONGEST_MESSAGE = 300  # characters: a bad line is quoted, never echoed whole

BAD_LINES = {
    "cmd is a list": json.dumps({"cmd": ["plan"], "id": 1}),
    "cmd is an object": json.dumps({"cmd": {"a": 1}}),
    "cmd is missing": json.dumps({"id": 2}),
    "deeply nested list": "[" * 100_000,
    "deeply nested object": '{"a":' * 5000 + "1" + "}" * 5000,
    "integer too long for json": '{"cmd": "plan", "id": ' + "1" * 5000 + "}",
    "broken json": '{"cmd": "plan", ',
    "json but not an object": "[1, 2, 3]",
    "unknown word": "frobnicate",
    "10 MB of garbage": "x" * 10_000_000,
}


def serve_lines(runs_dir: Path, lines: list[str | dict], runs: int = 0) -> list[dict]:
    """Feed `lines` to a Server, then run its jobs until `runs` runs ended, then end the input.

    The input stays open until then, as the app's would: every line is read before the first job is
    taken. Returns every event the server sent."""
    got: queue.Queue[dict] = queue.Queue()
    server = Server(str(runs_dir), Emitter(callback=got.put))
    all_read, end_input = threading.Event(), threading.Event()
    reader_failed: list[BaseException] = []

    def requests() -> Iterator[str]:
        for line in lines:
            yield json.dumps(line) if isinstance(line, dict) else line
        all_read.set()
        end_input.wait(TIMEOUT_S)

    def read() -> None:
        try:
            server.read_requests(requests())
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            reader_failed.append(exc)
        finally:
            all_read.set()

    threading.Thread(target=read, name="test-requests", daemon=True).start()
    assert all_read.wait(TIMEOUT_S), "the reader did not take every line"
    assert not reader_failed, f"the reader died: {reader_failed[0]!r}"
    runner = threading.Thread(target=server.run_jobs, name="test-jobs", daemon=True)
    runner.start()
    events: list[dict] = []
    deadline = time.monotonic() + TIMEOUT_S
    while sum(e["type"] == "done" for e in events) < runs:
        try:
            events.append(got.get(timeout=max(deadline - time.monotonic(), 0.0)))
        except queue.Empty:
            raise AssertionError(f"{runs} run(s) did not end within {TIMEOUT_S} s; got {events}") from None
    end_input.set()
    runner.join(TIMEOUT_S)
    assert not runner.is_alive(), "the server did not stop at the end of its input"
    while not got.empty():
        events.append(got.get())
    return events


def of_type(events: list[dict], type_: str) -> list[dict]:
    return [e for e in events if e["type"] == type_]


# Every line gets an answer, and the reader goes on.


@pytest.mark.parametrize("line", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_a_bad_line_gets_one_short_protocol_error_and_the_next_request_is_answered(line, runs_dir, tiny_data):
    events = serve_lines(runs_dir, [line, {"cmd": "plan", "id": 99, "config": tiny_data()}])
    errors = of_type(events, "error")
    assert len(errors) == 1, events
    assert errors[0]["kind"] == "protocol" and errors[0]["traceback"] is None
    assert len(errors[0]["message"]) <= LONGEST_MESSAGE, errors[0]["message"][:500]
    assert [e["id"] for e in of_type(events, "plan")] == [99]


def test_a_long_line_is_quoted_with_its_length(runs_dir):
    (error,) = serve_lines(runs_dir, ["x" * 10_000_000])
    assert "…" in error["message"] and "10,000,000 characters" in error["message"]


def test_a_protocol_error_names_the_request_it_answers(runs_dir):
    (error,) = serve_lines(runs_dir, [{"cmd": ["plan"], "id": 7}])
    assert error["id"] == 7 and "plan" in error["message"]


def test_a_stop_with_no_run_is_ignored(runs_dir, tiny_data):
    events = serve_lines(runs_dir, ["stop", {"cmd": "pause"}, {"cmd": "plan", "id": 1, "config": tiny_data()}])
    assert [e["type"] for e in events] == ["plan"]


NOT_TABLES = {
    "text": ("moons", "'moons'"),
    "list": (["moons"], "['moons']"),
    "number": (3, "3"),
    "long text": ("m" * 10_000, "10,000 characters"),
}


@pytest.mark.parametrize(("config", "named"), NOT_TABLES.values(), ids=NOT_TABLES.keys())
@pytest.mark.parametrize("cmd", ["plan", "run"])
def test_a_config_that_is_not_a_table_is_a_config_error(cmd, config, named, runs_dir):
    events = serve_lines(runs_dir, [{"cmd": cmd, "id": 1, "config": config}])
    assert [e["type"] for e in events] == ["error"], events
    error = events[0]
    assert (error["kind"], error["id"], error["traceback"]) == ("config", 1, None)
    assert "table of settings" in error["message"] and named in error["message"]
    assert len(error["message"]) <= LONGEST_MESSAGE


# A stop is never lost.


def test_a_stop_right_after_a_run_request_stops_that_run(runs_dir, tiny_data):
    # The stop is read before the jobs loop takes the run: it must still apply to it.
    events = serve_lines(runs_dir, [{"cmd": "run", "id": 1, "config": tiny_data(**LONG)}, "stop"], runs=1)
    (done,) = of_type(events, "done")
    assert done["status"] == "stopped"
    assert len(of_type(events, "epoch")) < LONG["training"]["epochs"]
    assert load_run(Path(done["run_dir"])).status == "stopped"


def test_a_stop_applies_to_every_run_requested_before_it(runs_dir, tiny_data):
    events = serve_lines(
        runs_dir,
        [
            {"cmd": "run", "id": 1, "config": tiny_data(**LONG)},
            {"cmd": "run", "id": 2, "config": tiny_data(**LONG)},
            {"cmd": "stop"},
            {"cmd": "run", "id": 3, "config": tiny_data(training={"epochs": 2})},
        ],
        runs=3,
    )
    assert [e["status"] for e in of_type(events, "done")] == ["stopped", "stopped", "completed"]


def test_control_lines_that_are_not_commands_leave_a_single_run_reader_reading():
    assert apply_control(Control(), {"cmd": ["stop"]}) is False
    assert apply_control(Control(), {"cmd": {"a": 1}}) is False
    lines = [json.dumps({"cmd": ["stop"]}), "[" * 100_000, '{"a":' * 5000 + "}" * 5000, "stop"]
    reader = ControlReader(io.StringIO("\n".join(lines) + "\n"))
    reader.run()  # in this thread: it returns at the end of the input
    assert reader.control.stop_requested


# The process ends: by a signal, or at the end of its input, stopping its run cleanly first.


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_ends_an_idle_server(signum, start_engine):
    engine = start_engine("serve")
    engine.wait_for("hello")
    engine.proc.send_signal(signum)
    assert engine.wait(timeout=TIMEOUT_S) == 0
    engine.drain()
    assert "Traceback" not in "".join(filter(None, engine.stderr))


def test_sigterm_stops_the_run_cleanly_then_ends_the_server(start_engine, tiny_data):
    engine = start_engine("serve")
    engine.wait_for("hello")
    engine.send({"cmd": "run", "id": 1, "config": tiny_data(**ENDLESS)})
    plan = engine.wait_for(lambda e: e["type"] == "plan" and "run_dir" in e)
    engine.wait_for("epoch")
    engine.proc.send_signal(signal.SIGTERM)
    assert engine.wait_for("done")["status"] == "stopped"
    assert engine.wait(timeout=TIMEOUT_S) == 0
    assert load_run(Path(plan["run_dir"])).status == "stopped"


def test_end_of_input_stops_the_run_cleanly_then_ends_the_server(start_engine, tiny_data):
    engine = start_engine("serve")
    engine.wait_for("hello")
    engine.send({"cmd": "run", "id": 1, "config": tiny_data(**ENDLESS)})
    plan = engine.wait_for(lambda e: e["type"] == "plan" and "run_dir" in e)
    engine.wait_for("epoch")
    engine.proc.stdin.close()
    assert engine.wait(timeout=TIMEOUT_S) == 0
    engine.drain()
    assert [e["status"] for e in engine.of_type("done")] == ["stopped"]
    assert load_run(Path(plan["run_dir"])).status == "stopped"


def test_a_server_fed_bad_lines_answers_each_and_ends_at_end_of_input(start_engine, tiny_data):
    engine = start_engine("serve")
    engine.wait_for("hello")
    lines = [*BAD_LINES.values(), json.dumps({"cmd": "plan", "id": 99, "config": tiny_data()})]

    def write() -> None:  # in a thread: a reader that died would leave this blocked on a full pipe
        try:
            for line in lines[:-1]:
                engine.send(line)
            engine.proc.stdin.buffer.write(b"\xff\xfe not UTF-8\n")
            engine.proc.stdin.buffer.flush()
            engine.send(lines[-1])
        except (BrokenPipeError, OSError):
            pass

    threading.Thread(target=write, daemon=True).start()
    engine.wait_for(lambda e: e.get("id") == 99, timeout=TIMEOUT_S)
    errors = engine.of_type("error")
    assert [e["kind"] for e in errors] == ["protocol"] * len(BAD_LINES) + ["protocol"]
    assert all(len(e["message"]) <= LONGEST_MESSAGE for e in errors)
    engine.proc.stdin.close()
    assert engine.wait(timeout=TIMEOUT_S) == 0
    assert "Traceback" not in "".join(filter(None, engine.stderr))
