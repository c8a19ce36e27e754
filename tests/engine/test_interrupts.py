"""Ctrl+C: one press stops cleanly whatever else told the run to stop (the CLI writes `stop` to the
engine's stdin as the terminal's SIGINT reaches it); only a second press in a row aborts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from nnplay.engine.core.control import Control, install_signal_handlers
from nnplay.engine.core.events import ABORT_WINDOW_S


@pytest.fixture
def restore_signals():
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_a_stop_from_stdin_and_one_ctrl_c_count_as_one_press(restore_signals) -> None:
    control = Control()
    install_signal_handlers(control)
    control.stop()  # the CLI's `stop` line, read first
    os.kill(os.getpid(), signal.SIGINT)  # the terminal's Ctrl+C: still the first press
    time.sleep(0.01)  # let the handler run
    assert control.stop_requested
    with pytest.raises(KeyboardInterrupt):  # a second press in a row aborts
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)


def test_a_second_press_long_after_the_first_stops_again_instead_of_aborting(restore_signals, monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("nnplay.engine.core.control.time.monotonic", lambda: clock[0])
    control = Control()
    install_signal_handlers(control)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.01)
    clock[0] += ABORT_WINDOW_S + 1
    os.kill(os.getpid(), signal.SIGINT)  # no KeyboardInterrupt: the run is still stopping cleanly
    time.sleep(0.01)
    assert control.stop_requested


def test_a_bad_config_is_reported_without_loading_torch(tmp_path) -> None:
    """The engine's entry point reads and checks the config before torch: a missing file is answered fast."""
    code = (
        "import sys, engine.__main__ as m\n"
        "rc = m.main([str(sys.argv[1])])\n"
        "print('torch loaded' if 'torch' in sys.modules else 'no torch', rc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "missing.toml")], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "no torch 2", result.stdout + result.stderr
