"""Control commands from stdin and signals: pause, resume, stop."""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from collections.abc import Callable
from typing import IO

from nnplay.engine.core.events import ABORT_WINDOW_S, quoted
from nnplay.engine.core.i18n import _


class BadCommand(ValueError):
    """A line that is not a command; the message is one sentence naming what was sent."""


class Control:
    """Pause / resume / stop requests from stdin, Ctrl+C or the API, checked between updates."""

    def __init__(self) -> None:
        self.stop_requested = False
        self._running = threading.Event()
        self._running.set()

    def reset(self) -> None:
        """Ready for the next run."""
        self.stop_requested = False
        self._running.set()

    def stop(self) -> None:
        """Ask the run to stop at its next check; a paused run wakes to stop."""
        self.stop_requested = True
        self._running.set()

    def pause(self) -> None:
        """Hold the run at its next check until resume or stop."""
        self._running.clear()

    def resume(self) -> None:
        """Let a paused run go on."""
        self._running.set()

    @property
    def paused(self) -> bool:
        """True while the run is held by a pause."""
        return not self._running.is_set()

    def wait_if_paused(self) -> None:
        """Block while paused; return at once otherwise."""
        self._running.wait()


def parse_command(line: str) -> dict | None:
    """A control line as a dict with "cmd": bare words ("stop") or JSON ({"cmd": "stop"}); None when blank.

    Raises BadCommand for a line that is JSON-like but not one object ("cmd" itself is not checked)."""
    line = line.strip()
    if not line:
        return None
    if not line.startswith(("{", "[")):
        return {"cmd": line.lower()}
    try:
        obj = json.loads(line)
    except RecursionError:  # json recurses once per level of nesting
        raise BadCommand(_("the line {line} is nested too deeply to be a command").format(line=quoted(line))) from None
    except ValueError as exc:  # not JSON, or an integer of more digits than Python reads
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else _("a number too long to read")
        reason = reason[0].lower() + reason[1:]
        raise BadCommand(_("the line {line} is not JSON: {reason}").format(line=quoted(line), reason=reason)) from None
    if not isinstance(obj, dict):
        raise BadCommand(_("the line {line} is not a JSON object; send one object per line").format(line=quoted(line)))
    obj.setdefault("cmd", obj.get("type"))
    return obj


def apply_control(control: Control, command: dict) -> bool:
    """Apply pause/resume/stop to a run; False when the command is not one of them."""
    cmd = command.get("cmd")
    if cmd not in ("pause", "resume", "stop"):  # also a list or object: never used as a key
        return False
    {"pause": control.pause, "resume": control.resume, "stop": control.stop}[cmd]()
    return True


class ControlReader(threading.Thread):
    """Reads control lines from stdin for a single run; end of input changes nothing."""

    def __init__(self, stream: IO[str], on_other: Callable[[dict], None] | None = None) -> None:
        super().__init__(name="control-reader", daemon=True)
        self.stream = stream
        self.control = Control()
        self.on_other = on_other

    def run(self) -> None:
        """Apply each control line until the stream ends; others go to `on_other`."""
        for line in self.stream:
            try:
                command = parse_command(line)
            except BadCommand:  # a single run has nobody to answer: the line changes nothing
                continue
            if command and not apply_control(self.control, command) and self.on_other:
                self.on_other(command)


def install_signal_handlers(control: Control) -> None:
    """SIGTERM, SIGHUP (closed terminal) and Ctrl+C finish the run cleanly as 'stopped' (the test metrics
    still run). Only a second Ctrl+C within ABORT_WINDOW_S of the first aborts what is left; a stop that
    came another way (the CLI writes one to stdin as the terminal's Ctrl+C arrives) does not count."""
    last_interrupt = [-math.inf]

    def graceful(signum, frame):
        if signum == signal.SIGINT:
            now = time.monotonic()
            again = now - last_interrupt[0] < ABORT_WINDOW_S
            last_interrupt[0] = now
            if again:
                raise KeyboardInterrupt  # a second Ctrl+C in a row: stop now
        control.stop()

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        try:
            signal.signal(sig, graceful)
        except (ValueError, OSError):  # not the main thread, or no such signal here
            pass
