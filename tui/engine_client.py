"""The app's end of the engine: one `python -m nnplay.engine serve` subprocess, spoken to in JSON lines.

EngineClient is an invisible widget. Being a widget gives it what the job needs from Textual:
workers that belong to a node, timers, and messages that bubble from it through its screen to
the app, where `@on(EngineClient.Event)` (or `@on(EngineClient.Event, "#engine")`) handles them.
Yield it from `App.compose` so it lives on the app's first screen for the whole session; screens
pushed on top of that one do not stop it. The client decides what the engine's lines mean and
what to send; the process itself (pipes, reading, ending it) is `tui.engine_process.EngineProcess`.

Only engine.events (pure Python) is imported from the engine: torch loads in the subprocess,
never here, so the app starts at once while the engine warms up.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import Worker

from nnplay.engine.core.events import decode
from nnplay.engine.core.i18n import _, current_language
from nnplay.tui.engine_process import KILL_GRACE_S, LINE_LIMIT, EngineProcess

ENGINE_START_DELAY_S = 0.3  # the app's first frame comes first; torch's import then takes seconds
# Step events are merged and posted at most this often, however fast the engine sends them.
STEP_INTERVAL_S = 0.05
# Steps held between two posts; past it every other one is dropped (the charts downsample anyway).
STEP_CAP = 10_000
MALFORMED_SHOWN = 500  # characters of a bad line kept in the Malformed message


class EngineMessage(Message):
    """Base of the client's messages: `control` is the client, so `@on(..., "#engine")` selectors match."""

    _client: EngineClient | None = None

    @property
    def control(self) -> EngineClient | None:
        """The client that posted the message."""
        return self._client


def _thin(steps: list) -> list:
    """Every other step, always keeping the newest, once the list is over STEP_CAP."""
    return steps if len(steps) <= STEP_CAP else steps[(len(steps) - 1) % 2 :: 2]


def problems_of(event: dict, message: str) -> list[tuple[str | None, str]]:
    """The (setting, sentence) pairs of an error event's `problems`; the message alone when it has none
    (or they are not what the protocol says)."""
    found: list[tuple[str | None, str]] = []
    for problem in event.get("problems") or []:
        if isinstance(problem, dict) and isinstance(problem.get("message"), str):
            setting = problem.get("setting")
            found.append((setting if isinstance(setting, str) else None, problem["message"]))
    return found or [(None, message)]


class EngineClient(Widget):
    """Starts the engine on mount, turns its output into messages, and sends it commands."""

    DEFAULT_CSS = "EngineClient { display: none; }"

    @dataclass
    class Ready(EngineMessage):
        """The engine has loaded torch and said hello."""

        hello: dict[str, Any]

    @dataclass
    class PlanReady(EngineMessage):
        """The answer to the newest plan request (older answers are dropped)."""

        request_id: int
        plan: dict[str, Any]

    @dataclass
    class PlanFailed(EngineMessage):
        """The newest plan request was refused (a config error), or the engine is gone. `problems`
        holds (setting or None, sentence) for each problem the engine named."""

        request_id: int
        message: str
        problems: list[tuple[str | None, str]] = field(default_factory=list)

    @dataclass(repr=False)
    class Event(EngineMessage):
        """A run event: plan (of a run), epoch, step, snapshot, diagnosis, fold, warning, done, error.

        Floats may be nan or inf (Python's json reads NaN and Infinity from a buggy engine); RunState
        keeps them out of its series. Step events are merged, so `steps` may span many engine lines.
        """

        event: dict[str, Any]

        @property
        def type(self) -> str:
            """The event's type: plan, epoch, step, snapshot, done..."""
            return self.event["type"]

        def __repr__(self) -> str:  # Textual's debug log prints messages: not 500 KB snapshots
            return f"EngineClient.Event(type={self.type!r})"

        def can_replace(self, message: Message) -> bool:
            """True for a step event of the same fold as the newer `message`, whose steps then take this one's in."""
            # Textual calls this on the older of two queued messages and, on True, drops it. Fold its
            # steps into the newer one instead, so a slow consumer gets fewer messages and no steps lost.
            if (
                isinstance(message, EngineClient.Event)
                and self.type == "step" == message.type
                and self.event.get("fold") == message.event.get("fold")
            ):
                merged = _thin(self.event.get("steps", []) + message.event.get("steps", []))
                message.event = {**message.event, "steps": merged}  # a new dict: handlers may hold the old one
                return True
            return False

    @dataclass
    class Malformed(EngineMessage):
        """A line that is not a JSON event (cut to MALFORMED_SHOWN characters); reading goes on."""

        line: str

    @dataclass
    class Crashed(EngineMessage):
        """The engine exited without being asked to (returncode None: it could not be started)."""

        returncode: int | None
        stderr_tail: str

    def __init__(
        self,
        runs_dir: str | Path | None = None,
        command: list[str] | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`command` replaces `python -m nnplay.engine serve` (tests pass a fake engine); `--runs DIR` goes after either."""
        super().__init__(name=name, id=id, classes=classes)
        base = list(command) if command else [sys.executable, "-m", "nnplay.engine", "serve"]
        self.command = base + (["--runs", str(runs_dir)] if runs_dir is not None else [])
        self.hello: dict[str, Any] | None = None
        self.start_error: str | None = None  # why the engine refused to start, in its own sentence
        self.paused = False
        self._engine: EngineProcess | None = None
        self._exited = False  # the current engine is gone (or never started)
        self._quitting = False  # shutdown() asked it to go: its exit is no crash
        self._crash_posted = False
        self._outbox: list[dict] = []  # commands sent before the process exists
        self._next_id = 0
        self._latest_plan: tuple[int, dict] | None = None  # the newest unanswered plan request
        self._plan_in_flight: int | None = None
        self._runs: deque[int] = deque()  # run requests sent and not yet ended, oldest first
        self._steps: list = []
        self._steps_fold: int | None = None
        self._steps_time: float | None = None  # of the newest engine line merged in
        self._steps_posted_at = 0.0
        self._step_timer: Timer | None = None
        self._leftovers: set[asyncio.Task] = set()  # readers kept alive for an engine that is quitting

    # --- public interface -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """A run was started and has not ended (done, run error or crash)."""
        return bool(self._runs)

    @property
    def alive(self) -> bool:
        """The engine process is starting or running."""
        return not self._exited

    def on_mount(self) -> None:
        """Start the engine shortly after the app's first frame."""
        # As early as possible, torch takes seconds to import while the user picks an experiment;
        # but after the app's first frame, which the new process's start would otherwise delay.
        # Commands sent meanwhile wait in the outbox and go out once the process exists.
        self.set_timer(ENGINE_START_DELAY_S, self._start_reader)

    def _start_reader(self) -> None:
        if not self._quitting:
            self._run_pump()

    async def on_unmount(self) -> None:
        """Shut the engine down with the widget."""
        # Also reached when the app quits without calling shutdown(): the run still ends cleanly.
        await self.shutdown()

    def restart(self) -> None:
        """Start a fresh engine (after a crash). A live one is told to quit (end of input), not killed."""
        self._quitting = False
        self._crash_posted = False
        self._exited = False
        self._engine = None
        self._runs.clear()
        self.paused = False
        self.hello = None
        self._plan_in_flight = None
        self._outbox = [c for c in self._outbox if c["cmd"] != "plan"]  # queued while starting: resent below
        if self._latest_plan is not None:  # the newest request was never answered: ask the new engine
            self._send_plan(*self._latest_plan)
        # exclusive: a previous reader is cancelled, and its engine told to quit (see EngineProcess.abandon).
        self._run_pump()

    def request_plan(self, config: dict) -> int:
        """Ask for the plan of a config; returns the request id. Only the newest request is answered:
        one is in flight at a time and a newer one replaces any waiting, so a slider drag costs two plans."""
        request_id = self._new_id()
        self._latest_plan = (request_id, config)
        if self._exited:
            self._post(self.PlanFailed(request_id, _("the engine is not running; restart it")))
        elif self._plan_in_flight is None:
            self._send_plan(request_id, config)
        return request_id

    def start_run(self, config: dict) -> int:
        """Queue a run (the engine runs them one after another); returns the request id."""
        request_id = self._new_id()
        if self._write({"cmd": "run", "id": request_id, "config": config}):
            self._runs.append(request_id)
        return request_id

    def pause(self) -> None:
        """Pause the run in progress after its current update."""
        if self.running and self._write({"cmd": "pause"}):
            self.paused = True

    def resume(self) -> None:
        """Resume a paused run."""
        if self._write({"cmd": "resume"}):
            self.paused = False

    def stop(self) -> None:
        """End the run in progress cleanly: status "stopped", test metrics and summary still written."""
        self._write({"cmd": "stop"})

    def set_language(self, code: str) -> None:
        """Have the engine speak `code` ("en" or "ko") from now on, the run in progress included. An
        engine started later is started in the app's language anyway (NNPLAY_LANG)."""
        self._write({"cmd": "language", "lang": code})

    async def shutdown(self, timeout: float = 3.0) -> int | None:
        """Quit the engine: stop the run (it keeps its partial results), wait up to `timeout` s, then
        SIGTERM, wait KILL_GRACE_S, then SIGKILL. Returns the exit code (None if it never started)."""
        self._quitting = True
        engine = self._engine
        if engine is None:
            return None
        if self.hello is None:
            engine.terminate()  # still importing torch: nothing to stop cleanly, no run can be in progress
        if engine.returncode is None:
            if self.running:
                engine.write({"cmd": "stop"})
            engine.write({"cmd": "quit"})
            engine.close_input()  # end of input means quit too, should the quit line be lost
            await engine.end(timeout)
        if self._leftovers:
            await asyncio.wait(self._leftovers, timeout=KILL_GRACE_S)
        return engine.returncode

    # --- the reader worker ------------------------------------------------------------------

    def _run_pump(self) -> None:
        """Start the reader worker; exclusive: a previous reader is cancelled. Its work is the coroutine function,
        not a coroutine: a worker cancelled before it starts (the app closing at once) then leaves no coroutine
        that was never awaited."""
        work = cast("Callable[[], Coroutine[None, None, None]]", self._pump)
        _worker: Worker[None] = self.run_worker(
            work, name="engine", group="engine", exclusive=True, exit_on_error=False
        )

    async def _pump(self) -> None:
        """Start the engine, read its stdout to the end, then report how it ended."""
        try:
            # The engine speaks the app's language: its plans, verdicts and errors arrive in it.
            engine = await EngineProcess.start(self.command, env={**os.environ, "NNPLAY_LANG": current_language()})
        except OSError as exc:
            self._ended(
                None,
                _("cannot start the engine ({command}): {reason}").format(command=" ".join(self.command), reason=exc),
            )
            return
        self._engine = engine
        if self._quitting:  # shutdown() came while it was starting
            engine.close_input()
        outbox, self._outbox = self._outbox, []
        for command in outbox:
            engine.write(command)
        try:
            async for raw in engine.lines():
                if isinstance(raw, bytes):
                    self._handle_line(raw)
                else:  # LineTooLong
                    self._post(
                        self.Malformed(_("<a line longer than {limit} bytes was dropped>").format(limit=LINE_LIMIT))
                    )
            returncode = await engine.wait()
        except asyncio.CancelledError:
            for task in engine.abandon():  # restarted, or the app is closing: it quits on its own
                self._leftovers.add(task)
                task.add_done_callback(self._leftovers.discard)
            raise
        if self._engine is engine:
            self._ended(returncode, "\n".join(engine.stderr_tail))

    def _ended(self, returncode: int | None, stderr_tail: str) -> None:
        """The engine is gone: what was in progress ended with it."""
        self._flush_steps()
        self._exited = True
        self._runs.clear()
        self.paused = False
        self._plan_in_flight = None
        if not self._quitting and not self._crash_posted:
            self._crash_posted = True
            self._post(self.Crashed(returncode, stderr_tail))

    # --- routing events ---------------------------------------------------------------------

    def _handle_line(self, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").strip()
        if not text:
            return
        try:
            event = decode(text)  # Python's json accepts NaN and Infinity: they arrive as floats
        except (ValueError, RecursionError):
            self._post(self.Malformed(text[:MALFORMED_SHOWN]))
            return
        kind = event["type"]
        if kind == "language":  # the engine's answer to set_language: nothing to show
            return
        if kind == "step":
            self._buffer_steps(event)
            return
        self._flush_steps()  # steps first, so they never arrive after the epoch that ended them
        request_id = event.get("id")
        if kind == "hello":
            self.hello = event
            self._post(self.Ready(event))
        elif kind == "error" and self.hello is None:  # refused to start (a runs directory it cannot write)
            self.start_error = str(event.get("message") or "")
        elif kind in ("plan", "error") and request_id is not None and request_id not in self._runs:
            self._plan_answered(request_id, event)
        else:
            if kind == "done" or (kind == "error" and event.get("kind") != "protocol"):
                self._run_ended(request_id)
            self._post(self.Event(event))

    def _plan_answered(self, request_id: int, event: dict) -> None:
        if request_id != self._plan_in_flight:
            return  # an answer nobody waits for any more
        self._plan_in_flight = None
        latest = self._latest_plan
        if latest is not None and latest[0] != request_id:
            self._send_plan(*latest)  # a newer request waited: this answer is stale
            return
        self._latest_plan = None
        if event["type"] == "plan":
            self._post(self.PlanReady(request_id, event))
        else:
            message = str(event.get("message") or _("the plan request failed"))
            self._post(self.PlanFailed(request_id, message, problems_of(event, message)))

    def _run_ended(self, request_id: Any) -> None:
        if request_id in self._runs:
            self._runs.remove(request_id)
        elif self._runs:  # done and in-run errors carry no id: runs end in the order they started
            self._runs.popleft()
        if not self._runs:
            self.paused = False

    # --- step merging -----------------------------------------------------------------------

    def _buffer_steps(self, event: dict) -> None:
        fold = event.get("fold")
        if self._steps and fold != self._steps_fold:
            self._flush_steps()
        self._steps_fold = fold
        self._steps_time = event.get("time")
        self._steps = _thin(self._steps + list(event.get("steps") or []))
        wait = STEP_INTERVAL_S - (time.monotonic() - self._steps_posted_at)
        if wait <= 0:
            self._flush_steps()
        elif self._step_timer is None:  # post what is held even if no further line arrives
            self._step_timer = self.set_timer(wait, self._flush_steps, name="engine steps")

    def _flush_steps(self) -> None:
        if self._step_timer is not None:
            self._step_timer.stop()
            self._step_timer = None
        if not self._steps:
            return
        event = {"type": "step", "time": self._steps_time, "fold": self._steps_fold, "steps": self._steps}
        self._steps = []
        self._steps_posted_at = time.monotonic()
        self._post(self.Event(event))

    # --- writing ----------------------------------------------------------------------------

    def _new_id(self) -> int:
        # Ids never restart, not even with the engine, so an old answer can never pass for a new one.
        self._next_id += 1
        return self._next_id

    def _send_plan(self, request_id: int, config: dict) -> None:
        if self._write({"cmd": "plan", "id": request_id, "config": config}):
            self._plan_in_flight = request_id

    def _write(self, command: dict) -> bool:
        """Send one command line without blocking; False when the engine is gone."""
        if self._exited:
            return False
        if self._engine is None:  # still starting: sent as soon as the process exists
            self._outbox.append(command)
            return True
        return self._engine.write(command)

    def _post(self, message: EngineMessage) -> None:
        message._client = self
        # Messages made in a worker name the app as their sender, and Textual stops bubbling one
        # at its sender: say it comes from here.
        message.set_sender(self)
        self.post_message(message)
