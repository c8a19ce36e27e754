"""Control commands from stdin and signals: pause, resume, stop."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable
from typing import IO

from engine.training.loop import Control


def parse_command(line: str) -> dict | None:
    """A control line as a dict with "cmd": bare words ("stop") or JSON ({"cmd": "stop"})."""
    line = line.strip()
    if not line:
        return None
    if line.startswith("{"):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            return {"cmd": "invalid", "line": line}
        if isinstance(obj, dict):
            obj.setdefault("cmd", obj.get("type"))
            return obj
        return {"cmd": "invalid", "line": line}
    return {"cmd": line.lower()}


def apply_control(control: Control, command: dict) -> bool:
    """Apply pause/resume/stop to a run; False when the command is not one of them."""
    action = {"pause": control.pause, "resume": control.resume, "stop": control.stop}.get(command.get("cmd"))
    if action is None:
        return False
    action()
    return True


class ControlReader(threading.Thread):
    """Reads control lines from stdin for a single run; end of input changes nothing."""

    def __init__(self, stream: IO[str], on_other: Callable[[dict], None] | None = None) -> None:
        super().__init__(name="control-reader", daemon=True)
        self.stream = stream
        self.control = Control()
        self.on_other = on_other

    def run(self) -> None:
        for line in self.stream:
            command = parse_command(line)
            if command and not apply_control(self.control, command) and self.on_other:
                self.on_other(command)


def install_signal_handlers(control: Control) -> None:
    """SIGTERM, SIGHUP (closed terminal) and a first Ctrl+C finish the run cleanly as 'stopped'."""

    def graceful(signum, frame):
        if signum == signal.SIGINT and control.stop_requested:
            raise KeyboardInterrupt  # a second Ctrl+C: stop now
        control.stop()

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        try:
            signal.signal(sig, graceful)
        except (ValueError, OSError):  # not the main thread, or no such signal here
            pass
