"""Shared fixtures: tiny valid configs, a runs directory, and the engine as a subprocess.

No test reads or writes the user's own presets: NNPLAY_PRESETS points at a temporary directory from
the start of the session (collection lists presets too), and at an empty one of its own in each test.

Engine processes are started the way the app and the CLI start them (`python -m nnplay.engine`,
cwd = repo root), with NNPLAY_RUNS pointing into the test's tmp directory. Every wait on a
subprocess is bounded by a deadline, so a hang fails the test instead of blocking the suite.
"""

from __future__ import annotations

import copy
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from nnplay.engine.core.config import ExperimentConfig, validate

REPO_ROOT = Path(__file__).resolve().parents[1]

# Small enough to train in milliseconds, big enough for every split to be non-empty:
# 200 samples → 120 train / 40 val / 40 test, batch 32 → 4 iterations per epoch.
TINY = {
    "name": "tiny",
    "data": {"dataset": "moons", "n_samples": 200},
    "model": {"hidden": [8, 8]},
    "training": {"epochs": 3, "batch_size": 32, "snapshot_every": 1, "device": "cpu"},
}

SESSION_USER_PRESETS: str | None = None  # NNPLAY_PRESETS outside any test (collection, module fixtures)

# Startup includes importing torch (several seconds on a busy 2-core machine).
ENGINE_TIMEOUT_S = 90.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than 15 s (still runs by default)")
    # Before collection, which lists presets, and before module fixtures, which may run the CLI.
    global SESSION_USER_PRESETS
    SESSION_USER_PRESETS = tempfile.mkdtemp(prefix="nnplay-user-presets-")
    os.environ["NNPLAY_PRESETS"] = SESSION_USER_PRESETS
    # Tests read English unless they choose Korean, whatever the machine's locale (LANG=ko_KR...);
    # every process they start inherits it.
    os.environ["NNPLAY_LANG"] = "en"


def pytest_unconfigure(config: pytest.Config) -> None:
    if SESSION_USER_PRESETS is not None:
        shutil.rmtree(SESSION_USER_PRESETS, ignore_errors=True)


@pytest.fixture(autouse=True)
def user_presets(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own, empty directory of user presets (NNPLAY_PRESETS), never the real one."""
    directory = tmp_path_factory.mktemp("user-presets")
    monkeypatch.setenv("NNPLAY_PRESETS", str(directory))
    return directory


def strict_json(line: str) -> dict:
    """Parse one protocol line as strict JSON (NaN and Infinity are not JSON)."""

    def no_constants(name: str):
        raise ValueError(f"non-JSON constant {name} in {line[:80]!r}")

    return json.loads(line, parse_constant=no_constants)


def tiny_dict(**sections) -> dict:
    """TINY with sections merged in: a dict value updates that section, anything else replaces the key."""
    data = copy.deepcopy(TINY)
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return data


@pytest.fixture(scope="session")
def tiny_data() -> Callable[..., dict]:
    """Factory for the plain-data form of a tiny config (for TOML files, stdin JSON and serve)."""
    return tiny_dict


@pytest.fixture(scope="session")
def tiny_config() -> Callable[..., ExperimentConfig]:
    """Factory for a small valid ExperimentConfig: tiny_config(training={"epochs": 2}, task=...)."""

    def make(**sections) -> ExperimentConfig:
        return validate(tiny_dict(**sections))

    return make


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """Where this test's runs go (not created: the engine makes it)."""
    return tmp_path / "runs"


def engine_env(runs_dir: Path) -> dict[str, str]:
    return {**os.environ, "NNPLAY_RUNS": str(runs_dir), "PYTHONUNBUFFERED": "1"}


@dataclass
class EngineResult:
    returncode: int
    events: list[dict]
    lines: list[str]
    stderr: str


@pytest.fixture
def run_engine(runs_dir: Path) -> Callable[..., EngineResult]:
    """Run `python -m nnplay.engine ARGS...` to the end; returns exit code, decoded events and stderr."""

    def run(*args: str, stdin: str | None = None, timeout: float = ENGINE_TIMEOUT_S) -> EngineResult:
        proc = subprocess.run(
            [sys.executable, "-m", "nnplay.engine", *args],
            cwd=REPO_ROOT,
            env=engine_env(runs_dir),
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        lines = proc.stdout.splitlines()
        return EngineResult(proc.returncode, [strict_json(line) for line in lines], lines, proc.stderr)

    return run


class EngineProcess:
    """A running engine whose stdout is read by a thread, so every wait can have a deadline."""

    def __init__(self, args: list[str], runs_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nnplay.engine", *args],
            cwd=REPO_ROOT,
            env=engine_env(runs_dir),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.events: list[dict] = []  # every event taken from the queue so far, in order
        self.stderr: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.eof = False
        threading.Thread(target=self._pump, args=(self.proc.stdout, self._lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr.append), daemon=True).start()

    @staticmethod
    def _pump(stream, put) -> None:
        for line in stream:
            put(line)
        put(None)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, line: str | dict) -> None:
        text = json.dumps(line) if isinstance(line, dict) else line
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def next_event(self, timeout: float) -> dict | None:
        """The next event within `timeout` seconds; None at end of output; raises TimeoutError otherwise."""
        if self.eof:
            return None
        try:
            line = self._lines.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            raise TimeoutError from None
        if line is None:
            self.eof = True
            return None
        event = strict_json(line)
        self.events.append(event)
        return event

    def wait_for(self, predicate: Callable[[dict], bool] | str, timeout: float = ENGINE_TIMEOUT_S) -> dict:
        """Read events until one matches (a type name or a predicate); fail on timeout or end of output."""
        match = (lambda e: e["type"] == predicate) if isinstance(predicate, str) else predicate
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.next_event(deadline - time.monotonic())
            except TimeoutError:
                raise AssertionError(f"no matching event within {timeout} s; got {self._tail()}") from None
            if event is None:
                raise AssertionError(
                    f"engine output ended first; got {self._tail()}; stderr: {''.join(self.stderr)[-2000:]}"
                )
            if match(event):
                return event

    def events_during(self, seconds: float) -> list[dict]:
        """Every event that arrives within the next `seconds` (bounded polling of the output)."""
        deadline = time.monotonic() + seconds
        got = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.next_event(left)
            except TimeoutError:
                break
            if event is None:
                break
            got.append(event)
        return got

    def drain(self, timeout: float = ENGINE_TIMEOUT_S) -> list[dict]:
        """Read to the end of the output and return the events read in this call."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            try:
                event = self.next_event(deadline - time.monotonic())
            except TimeoutError:
                raise AssertionError(f"engine output did not end within {timeout} s; got {self._tail()}") from None
            if event is None:
                return got
            got.append(event)

    def wait(self, timeout: float = ENGINE_TIMEOUT_S) -> int:
        return self.proc.wait(timeout=timeout)

    def of_type(self, type_: str) -> list[dict]:
        return [e for e in self.events if e["type"] == type_]

    def _tail(self) -> str:
        return str([e["type"] for e in self.events[-12:]])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except (BrokenPipeError, OSError):
                pass


def _closing(make: Callable[..., EngineProcess]):
    """A starter for engine processes that remembers them, and a function that kills them all."""
    started: list[EngineProcess] = []

    def start(*args: str, **kwargs) -> EngineProcess:
        process = make(*args, **kwargs)
        started.append(process)
        return process

    def close_all() -> None:
        for process in started:
            process.close()

    return start, close_all


@pytest.fixture
def start_engine(runs_dir: Path):
    """Start `python -m nnplay.engine ARGS...` in the background; every process is killed at teardown."""
    start, close_all = _closing(lambda *args: EngineProcess(list(args), runs_dir))
    yield start
    close_all()


@pytest.fixture(scope="module")
def start_module_engine():
    """Like start_engine, for engines shared by a module's tests: start(*args, runs_dir=...)."""
    start, close_all = _closing(lambda *args, runs_dir: EngineProcess(list(args), runs_dir))
    yield start
    close_all()
