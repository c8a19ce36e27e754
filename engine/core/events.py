"""The engine's JSON-lines protocol: event names, encoding, and the sinks events go to.

Pure Python (no torch): the app and the CLI import it to read what the engine writes.
Everything that crosses is plain JSON; non-finite floats become null (JSON has no NaN).
See engine/PROTOCOL.md.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from typing import IO, Any, TypeGuard

from nnplay.engine.core.i18n import _

PROTOCOL_VERSION = 1
ENGINE_VERSION = "0.1.0"

EVENT_TYPES = (
    "hello",
    "plan",
    "epoch",
    "member",
    "member_done",
    "step",
    "snapshot",
    "diagnosis",
    "fold",
    "warning",
    "done",
    "error",
    "language",
)
CONTROL_COMMANDS = ("pause", "resume", "stop")
# Interrupts (Ctrl+C): the first stops cleanly; another within this many seconds aborts what is left.
ABORT_WINDOW_S = 2.0
RUN_STATUSES = ("running", "completed", "stopped", "early_stopped", "diverged", "failed", "crashed")

# Step events are batched and flushed at most this often, so streaming never slows training.
STEP_FLUSH_INTERVAL_S = 0.05


QUOTE_LIMIT = 80  # characters of a user's value that an error message quotes, "…" included


def shortened(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Text cut to `limit` characters, ending in "…" when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(value: Any) -> str:
    """A user's value as an error message quotes it: its repr, cut to QUOTE_LIMIT characters; a long text
    also says how long it was, so that a 10 MB line is never echoed back and is still recognizable."""
    try:
        shown = shortened(repr(value))
    except RecursionError:
        return _("a deeply nested value")
    except ValueError:  # an integer of more digits than Python turns into text (sys.get_int_max_str_digits)
        if isinstance(value, int):
            return _("a number of {digits} digits").format(digits=math.floor(math.log10(abs(value))) + 1)
        return _("a value holding a number too long to write out")
    if isinstance(value, str) and shown.endswith("…"):
        shown = _("{shown} ({length:,} characters)").format(shown=shown, length=len(value))
    return shown


class RunFailed(Exception):
    """The run broke after its directory was made; the error event and the run record say why."""


def is_number(value: object) -> TypeGuard[int | float]:
    """True for a finite int or float (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def finite(value: Any) -> Any:
    """Replace non-finite floats by None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def encode(event: dict) -> str:
    """One event as one JSON line (without the newline)."""
    try:
        return json.dumps(event, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(finite(event), allow_nan=False, separators=(",", ":"))


def decode(line: str) -> dict:
    """Parse one line; raises ValueError for anything that is not a JSON object with a type."""
    obj = json.loads(line)
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise ValueError(f"not an event: {line[:80]!r}")
    return obj


def _write_failure(sink: IO[str], exc: BaseException) -> str:
    name = sink.name if hasattr(sink, "name") else _("the run's events file")
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return _("{name} could not be written ({reason})").format(name=name, reason=reason)


class Emitter:
    """Sends events to every sink: stdout, the run's events.jsonl, an in-process callback."""

    def __init__(self, stream: IO[str] | None = None, callback: Callable[[dict], None] | None = None) -> None:
        self.stream = stream
        self.callback = callback
        self.files: list[IO[str]] = []
        self._lock = threading.Lock()  # the serve mode answers plan requests from another thread
        # A run file that could not be written (a full disk): why, in one sentence; and whom to tell.
        self.record_failure: str | None = None
        self.on_record_failure: Callable[[str], None] | None = None

    def attach(self, file: IO[str]) -> None:
        """Also write every event to `file` (a run's events.jsonl) from now on."""
        self.files.append(file)

    def detach(self, file: IO[str]) -> None:
        """Stop writing events to `file`."""
        if file in self.files:
            self.files.remove(file)

    def emit(self, type_: str, **fields: Any) -> dict:
        """Send one event of `type_` with `fields` (and the time) everywhere it goes; returns it."""
        event = {"type": type_, "time": round(time.time(), 3), **fields}
        line = encode(event) + "\n"
        failed: str | None = None
        with self._lock:
            for sink in (*self.files, self.stream):
                if sink is None:
                    continue
                try:
                    sink.write(line)
                    sink.flush()  # one line at a time: a killed engine loses nothing finished
                except (BrokenPipeError, ValueError, OSError) as exc:
                    if sink is self.stream:  # the reader went away; keep recording the run
                        self.stream = None
                    else:  # the run's own record: training on unrecorded would lose it silently
                        self.files.remove(sink)
                        failed = self.record_failure = _write_failure(sink, exc)
        if self.callback is not None:
            self.callback(event)
        if failed is not None and self.on_record_failure is not None:
            self.on_record_failure(failed)
        return event
