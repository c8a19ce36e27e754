"""`nnplay web`: the server as a subprocess, driven by a real headless browser (Debian's chromium through
playwright; never a browser playwright downloads).

The screen is read from what the app sends to the page (the websocket's terminal output, escape
sequences removed): xterm.js draws on a canvas, and its own text buffer is not reachable from the page.
What a run did is read from its run directory. Every process the server starts inherits a marker in
its environment from the test, so that what survives the server can be found in /proc.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nnplay.engine.core.config import validate
from nnplay.engine.core.config_files import read_experiment
from nnplay.engine.core.share import encode
from nnplay.tui.web import StartError, app_command, tab_start

REPO_ROOT = Path(__file__).resolve().parents[1]
# Guards against a hang, not time budgets: the engine imports torch (seconds on a busy 2-core machine).
WAIT_S = 90.0
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEST_MARKER = "NNPLAY_WEB_TEST"
ESCAPES = re.compile(r"\x1b(\[[0-9;?$]*[ -/]*[@-~]|\][^\x07]*\x07|[@-Z\\-_])")
# The experiment a link hands out: tiny data, and more epochs than the test ever waits for.
LINKED = {
    "name": "from-a-link",
    "data": {"dataset": "moons", "n_samples": 200},
    "model": {"hidden": [8, 8]},
    "training": {"epochs": 5000, "batch_size": 32, "device": "cpu"},
}


def chromium() -> str:
    if not Path("/proc/self/environ").is_file():
        pytest.skip("these tests find the server's processes in /proc (Linux)")
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("chromium is not installed: `apt-get install -y chromium` (as root) lets tests/test_web.py run")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def marked(marker: str) -> list[int]:
    """Processes whose environment carries TEST_MARKER=marker (a zombie's environment reads empty)."""
    entry = f"{TEST_MARKER}={marker}".encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if entry in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return found


def wait_until(predicate: Callable[[], object], what: str, timeout: float = WAIT_S) -> None:
    """Poll predicate() until it holds; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@dataclass
class WebServer:
    url: str
    process: subprocess.Popen
    marker: str
    runs: Path
    log: Path

    def descendants(self) -> list[int]:
        """Every process the server started that is still alive (apps, engines)."""
        return [pid for pid in marked(self.marker) if pid != self.process.pid]

    def interrupt(self) -> int:
        """Ctrl+C, as a terminal sends it; returns the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server did not exit after Ctrl+C; its output: {self.log.read_text()}")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., WebServer]]:
    """Start `nnplay web` on a free local port and wait until it serves its page."""
    servers: list[WebServer] = []

    def start(*options: str) -> WebServer:
        port, marker = free_port(), uuid.uuid4().hex
        log = tmp_path / f"server-{port}.log"
        env = {**os.environ, "NNPLAY_RUNS": str(tmp_path / "runs"), TEST_MARKER: marker, "PYTHONUNBUFFERED": "1"}
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "nnplay.tui.cli", "web", "--port", str(port), *options],
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the test's cleanup can end the whole group
            )
        server = WebServer(f"http://127.0.0.1:{port}/", process, marker, tmp_path / "runs", log)
        servers.append(server)

        def serving() -> bool:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}: {log.read_text()}")
            try:
                return fetch(server.url)[0] == 200
            except OSError:
                return False

        wait_until(serving, "the server to answer")
        return server

    yield start
    for server in servers:  # whatever a failed test left running
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
        for pid in marked(server.marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


class Screen:
    """What the app has drawn on one page, as text: everything sent to the page's terminal so far."""

    def __init__(self, page) -> None:
        self.page = page
        self.output = ""
        self.websocket = None
        self._decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
        page.on("websocket", self._opened)  # before the page loads: no frame is missed

    def _opened(self, websocket) -> None:
        self.websocket = websocket
        websocket.on("framereceived", self._received)

    def _received(self, payload: bytes | str) -> None:
        if isinstance(payload, bytes):  # the terminal's output; text frames are the server's own messages
            self.output += self._decode(payload)

    @property
    def text(self) -> str:
        return ESCAPES.sub("", self.output)

    def wait_for(self, words: str) -> None:
        """Until the app has drawn `words` (frames are handled only while playwright waits on them)."""
        if words not in self.text:
            self.websocket.wait_for_event(
                "framereceived", predicate=lambda _: words in self.text, timeout=WAIT_S * 1000
            )

    def press(self, key: str) -> None:
        self.page.locator(".xterm-helper-textarea").focus()  # the terminal's keyboard input
        self.page.keyboard.press(key)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    executable = chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra: `make test`")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_tab(browser, url: str) -> Screen:
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    screen = Screen(page)
    with page.expect_websocket(timeout=WAIT_S * 1000):
        page.goto(url)
    assert screen.websocket is not None
    return screen


def run_dirs(runs: Path, name: str = "") -> list[Path]:
    """The runs of an experiment by name (every run without one)."""
    return sorted(path for path in runs.glob(f"*{name}") if path.is_dir()) if runs.is_dir() else []


def epochs_in(run_dir: Path) -> int:
    path = run_dir / "events.jsonl"
    if not path.is_file():
        return 0
    return sum(json.loads(line).get("type") == "epoch" for line in path.read_text().splitlines() if line.strip())


def final_status(run_dir: Path) -> str | None:
    """The run's status once it ended (running while it trains)."""
    try:
        status = json.loads((run_dir / "status.json").read_text())["status"]
    except (OSError, ValueError, KeyError):
        return None
    return None if status == "running" else status


# --- a tab in a browser ------------------------------------------------------------------------------


def test_a_tab_opens_the_app_and_a_key_starts_a_run(browser, start_server) -> None:
    server = start_server()
    screen = open_tab(browser, server.url)
    screen.wait_for("Start run")  # the set-up screen, a lesson loaded
    screen.press("Control+r")
    wait_until(lambda: run_dirs(server.runs), "a run directory")
    [run_dir] = run_dirs(server.runs)
    wait_until(lambda: epochs_in(run_dir) >= 1, "the run's first epoch")
    screen.wait_for("epoch")  # the dashboard counts them too
    screen.press("s")
    wait_until(lambda: final_status(run_dir), "the run to end")
    assert final_status(run_dir) in ("completed", "stopped")
    assert server.descendants(), "the tab's app and engine should be running"

    screen.page.close()  # closing the tab ends its app and engine; the server goes on
    wait_until(lambda: not server.descendants(), "the closed tab's app and engine to exit")
    assert server.process.poll() is None
    assert server.interrupt() == 0


def test_a_link_opens_its_experiment_and_ctrl_c_leaves_nothing_behind(browser, start_server) -> None:
    string = encode(LINKED)
    server = start_server()
    screen = open_tab(browser, f"{server.url}?experiment={string}")
    screen.wait_for("from-a-link")
    screen.press("Control+r")
    wait_until(lambda: run_dirs(server.runs), "the linked experiment's run")
    [run_dir] = run_dirs(server.runs, "-from-a-link")
    wait_until(lambda: epochs_in(run_dir) >= 1, "the run's first epoch")
    assert validate(read_experiment(run_dir / "config.toml")) == validate(LINKED)
    before = server.descendants()
    assert len(before) >= 2, "an app and its engine"

    assert server.interrupt() == 0  # Ctrl+C while the run trains
    assert marked(server.marker) == [], "every app and engine the server started has exited"
    assert final_status(run_dir) == "stopped"  # stopped cleanly: kept, with its finished epochs
    assert "Traceback" not in server.log.read_text()


# --- the page and its links, without a browser ---------------------------------------------------------


def test_a_bad_link_gets_one_sentence_and_starts_nothing(start_server) -> None:
    server = start_server()
    status, page = fetch(f"{server.url}?preset=no-such-lesson")
    assert status == 400
    assert "&#x27;no-such-lesson&#x27; is not a preset of this nnplay" in page
    status, page = fetch(f"{server.url}?experiment=nnp1.AAAA")
    assert status == 400 and "damaged" in page
    status, page = fetch(f"{server.url}?experiment=%3Cb%3E;rm%20-rf")
    assert status == 400 and "&lt;b&gt;" in page and "<b>" not in page  # shown as text
    # The websocket checks again: anyone can open one without the page.
    status, text = fetch(f"{server.url}ws/preset/..%2Fetc")
    assert status in (400, 404)
    status, text = fetch(f"{server.url}ws/shell/ls")
    assert status == 404
    assert server.descendants() == []


def test_the_page_is_sized_for_a_projector_and_carries_the_link(start_server) -> None:
    server = start_server("--font-size", "24")
    status, page = fetch(f"{server.url}?preset=xor-perceptron")
    assert status == 200
    assert 'data-font-size="24"' in page
    assert 'data-session-websocket-url="ws://127.0.0.1:' in page and '/ws/preset/xor-perceptron"' in page
    assert "fonts.googleapis.com" not in page  # a classroom may be offline
    _, page = fetch(f"{server.url}?fontsize=30")
    assert 'data-font-size="30"' in page
    assert server.interrupt() == 0


def test_tab_start_hands_the_app_checked_values_as_single_arguments() -> None:
    string = encode(LINKED)
    assert tab_start({"experiment": string}) == ("experiment", string)
    assert tab_start({}, "xor-perceptron") == ("preset", "xor-perceptron")
    assert tab_start({}) is None
    command = app_command(("experiment", string), "/tmp/runs")
    assert command[-2:] == ["--runs=/tmp/runs", f"--experiment={string}"]
    for query, words in [
        ({"preset": "../presets/xor-perceptron.toml"}, "is not a preset"),
        ({"preset": "-h"}, "is not a preset"),
        ({"experiment": "nnp1.x; rm -rf ~"}, "only letters, digits"),
        ({"experiment": "nnp9.AAAA"}, "newer nnplay"),
        ({"experiment": string, "preset": "adam"}, "not both"),
    ]:
        with pytest.raises(StartError, match=words):
            tab_start(query)


# --- the command line ----------------------------------------------------------------------------------


def nnplay_web(*options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nnplay.tui.cli", "web", *options],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )


def test_a_busy_port_is_one_sentence_and_exit_2_after_the_non_local_warning() -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = nnplay_web("--host", "0.0.0.0", "--port", str(port))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert "anyone who can reach this port can run training on this machine" in lines[0]
    assert lines[1] == f"error: port {port} on 0.0.0.0 is in use (another nnplay web?); choose another with --port"
    assert "Traceback" not in result.stderr + result.stdout


def test_an_unknown_preset_is_refused_before_serving() -> None:
    result = nnplay_web("--preset", "no-such-lesson", "--port", str(free_port()))
    assert result.returncode == 2
    assert "'no-such-lesson' is not a preset of this nnplay" in result.stderr
