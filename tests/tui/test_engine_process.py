"""EngineProcess on small stand-in processes: overlong lines, the stderr tail, writes to a dead
process, and the SIGTERM → SIGKILL escalation for an engine that will not quit."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import pytest

import nnplay.tui.engine_process as engine_process
from nnplay.tui.engine_process import STDERR_TAIL_LINES, EngineProcess, LineTooLong

WAIT_S = 20.0


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


async def read_all(engine: EngineProcess) -> list:
    return [line async for line in engine.lines()]


async def test_a_line_over_the_limit_is_reported_and_reading_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_process, "LINE_LIMIT", 1024)
    engine = await EngineProcess.start(python("print('x' * 5000); print('after')"))
    lines = await asyncio.wait_for(read_all(engine), WAIT_S)
    assert LineTooLong in lines
    assert lines[-1] == b"after\n"
    assert await engine.wait() == 0


async def test_stderr_keeps_its_last_lines_and_a_dead_process_takes_no_commands() -> None:
    engine = await EngineProcess.start(
        python("import sys\nfor i in range(50): print(f'line {i}', file=sys.stderr)\nsys.exit(3)")
    )
    assert await asyncio.wait_for(read_all(engine), WAIT_S) == []
    assert await engine.wait() == 3
    assert list(engine.stderr_tail) == [f"line {i}" for i in range(50 - STDERR_TAIL_LINES, 50)]
    assert engine.write({"cmd": "quit"}) is False


async def test_commands_arrive_as_json_lines_and_end_of_input_ends_a_polite_process() -> None:
    engine = await EngineProcess.start(python("import sys\nfor line in sys.stdin: print(line.strip(), flush=True)"))
    assert engine.write({"cmd": "plan", "id": 1})
    engine.close_input()
    lines = await asyncio.wait_for(read_all(engine), WAIT_S)
    assert lines == [b'{"cmd":"plan","id":1}\n']
    assert await asyncio.wait_for(engine.end(timeout=WAIT_S), WAIT_S) == 0


async def test_a_process_that_ignores_quit_and_sigterm_is_killed() -> None:
    stubborn = python(
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)"
    )
    engine = await EngineProcess.start(stubborn)
    assert await asyncio.wait_for(engine.proc.stdout.readline(), WAIT_S) == b"ready\n"
    engine.close_input()
    loop = asyncio.get_running_loop()
    began = loop.time()
    returncode = await asyncio.wait_for(engine.end(timeout=0.2), WAIT_S)
    assert returncode == -signal.SIGKILL
    assert loop.time() - began < 0.2 + 3 * engine_process.KILL_GRACE_S


async def test_the_engine_runs_in_a_session_of_its_own_with_the_given_environment() -> None:
    engine = await EngineProcess.start(
        python("import os, json; print(json.dumps([os.getsid(0), os.environ.get('PROBE'), 'HOME' in os.environ]))"),
        env={"PROBE": "yes", "PATH": os.environ.get("PATH", "")},
    )
    (line,) = await asyncio.wait_for(read_all(engine), WAIT_S)
    session, probe, has_home = json.loads(line)
    assert session == engine.proc.pid != os.getsid(0)  # the app's drawing is not taken from the engine's share
    assert probe == "yes" and not has_home  # `env` is its whole environment
    assert await engine.wait() == 0
