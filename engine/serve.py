"""The long-lived engine: torch loaded once, plans answered in milliseconds, runs one after another.

Requests, one JSON object per stdin line:
  {"cmd": "plan", "id": ..., "config": {...}}   -> a "plan" event with the same id (or an "error")
  {"cmd": "run", "id": ..., "config": {...}}    -> the run's events, as `python -m nnplay.engine` writes them
  {"cmd": "pause" | "resume" | "stop"}           -> applied to every run requested before it and not ended
  {"cmd": "language", "lang": "ko"}              -> speak that language from now on; a "language" event
  {"cmd": "quit"}                                -> stop any run and exit
Any other line is answered with an "error" of kind "protocol", and reading goes on. End of input,
SIGTERM, SIGHUP and Ctrl+C behave as quit: an app that went away stops its run cleanly.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
import traceback
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from nnplay.engine import experiment, planning
from nnplay.engine.core.config import ConfigError, ExperimentConfig, quoted, validate
from nnplay.engine.core.control import BadCommand, Control, apply_control, parse_command
from nnplay.engine.core.events import CONTROL_COMMANDS, Emitter
from nnplay.engine.core.i18n import LANGUAGES, _, set_language
from nnplay.engine.data import files
from nnplay.engine.data.load import Dataset, load_dataset
from nnplay.engine.runtime import select_device

CACHED_DATASETS = 4
ALLOWED_COMMANDS = "plan, run, pause, resume, stop, language, quit"


class DatasetCache:
    """Recently loaded datasets by their data settings, so plans for a changed batch size are instant. Your own
    files are also keyed by their size and modification time: an edited file is read again."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, Dataset] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, config: ExperimentConfig) -> Dataset:
        """The dataset for these data settings: cached, or loaded and cached."""
        key = json.dumps([config.task, config.data.model_dump(), files.fingerprint(config)], sort_keys=True)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        dataset = load_dataset(config)
        with self._lock:
            self._items[key] = dataset
            while len(self._items) > CACHED_DATASETS:
                self._items.popitem(last=False)
        return dataset


class Server:
    """Answers requests read by one thread; runs them one after another in the thread that calls run_jobs."""

    def __init__(self, runs_dir: str | None, emitter: Emitter) -> None:
        self.runs_dir = runs_dir
        self.emitter = emitter
        # Each run request with its own Control, made when the request is read; None ends run_jobs.
        # A SimpleQueue, because quit() puts into it from a signal handler: its put is reentrant.
        self.jobs: queue.SimpleQueue[tuple[dict, ExperimentConfig, Control] | None] = queue.SimpleQueue()
        # The controls of runs requested and not yet ended: pause, resume and stop apply to each, so a
        # stop read before its run started still stops it.
        self.unfinished: list[Control] = []
        self.cache = DatasetCache()
        self.quitting = False
        self.running = False  # a run is training in run_jobs' thread

    def _error(self, exc: BaseException, request_id) -> None:
        if isinstance(exc, ConfigError):
            self.emitter.emit("error", id=request_id, kind="config", **exc.as_event_fields(), traceback=None)
        else:
            self.emitter.emit(
                "error",
                id=request_id,
                kind="internal",
                message=str(exc) or type(exc).__name__,
                traceback=traceback.format_exc(),
            )

    def _protocol_error(self, message: str, request_id=None) -> None:
        self.emitter.emit("error", id=request_id, kind="protocol", message=message, traceback=None)

    def answer_plan(self, request: dict) -> None:
        """Answer a plan request with the plan, or with an error event."""
        try:
            config = request_config(request)
            needed = planning.check_memory(config, select_device(config.training.device))  # before any allocation
            the_plan = planning.plan(config, self.cache.get(config), self.runs_dir, needed)
            self.emitter.emit("plan", id=id_of(request), **the_plan)
        except Exception as exc:
            self._error(exc, id_of(request))

    def queue_run(self, request: dict) -> None:
        """Check the config now (a bad one is answered at once), then queue the run with its own Control."""
        try:
            config = request_config(request)
        except ConfigError as exc:
            self._error(exc, id_of(request))
            return
        control = Control()
        self.unfinished.append(control)
        self.jobs.put((request, config, control))

    def switch_language(self, request: dict) -> None:
        """Speak the language the request names from now on (every later message, the run in progress's
        too) and say so with a language event; a language nnplay does not speak is a protocol error."""
        lang = request.get("lang")
        allowed = ", ".join(LANGUAGES)
        if lang is None:
            self._protocol_error(
                _('the language command needs "lang"; allowed: {allowed}').format(allowed=allowed), id_of(request)
            )
        elif not isinstance(lang, str) or lang not in LANGUAGES:
            self._protocol_error(
                _("lang {lang} is not a language nnplay speaks; allowed: {allowed}").format(
                    lang=quoted(lang), allowed=allowed
                ),
                id_of(request),
            )
        else:
            set_language(lang)
            self.emitter.emit("language", id=id_of(request), lang=lang)

    def quit(self) -> None:
        """Stop every run requested, drop those not started and end run_jobs. Called from a signal
        handler too, so it takes no lock (a Control's stop takes one only while a run is paused)."""
        self.quitting = True
        for control in list(self.unfinished):
            control.stop()
        self.jobs.put(None)

    def on_command(self, command: dict) -> None:
        """Route one request: control commands to every unfinished run, plan, run and quit to their handlers."""
        cmd = command.get("cmd")
        if cmd in CONTROL_COMMANDS:
            for control in list(self.unfinished):  # none: ignored, a stop may cross a run's done
                apply_control(control, command)
        elif cmd == "plan":
            self.answer_plan(command)
        elif cmd == "run":
            self.queue_run(command)
        elif cmd == "language":
            self.switch_language(command)
        elif cmd == "quit":
            self.quit()
        elif cmd is None:
            self._protocol_error(
                _('a request needs "cmd"; allowed: {allowed}').format(allowed=ALLOWED_COMMANDS), id_of(command)
            )
        else:
            self._protocol_error(
                _("unknown command {cmd}; allowed: {allowed}").format(cmd=quoted(cmd), allowed=ALLOWED_COMMANDS),
                id_of(command),
            )

    def on_line(self, line: str) -> None:
        """Answer one line; whatever it holds, the reader goes on to the next."""
        command = None
        try:
            command = parse_command(line)
            if command is not None:
                self.on_command(command)
        except BadCommand as exc:
            self._protocol_error(str(exc))
        except Exception as exc:  # a bug in answering one request must not end the reader
            self._error(exc, id_of(command) if command is not None else None)

    def read_requests(self, lines: Iterable[str]) -> None:
        """Answer lines until the input ends, which acts as quit: an app that went away stops its run."""
        try:
            for line in lines:
                self.on_line(line)
        finally:
            self.quit()

    def run_jobs(self) -> None:
        """Run the queued requests one after another until quit."""
        while (job := self.jobs.get()) is not None and not self.quitting:
            request, config, control = job
            self.running = True
            try:
                experiment.run(config, self.emitter, control, self.runs_dir)
            except experiment.RunFailed:  # reported by the run itself
                pass
            except Exception as exc:
                self._error(exc, id_of(request))
            finally:
                self.running = False
                self.unfinished.remove(control)

    def on_signal(self, signum: int, frame) -> None:
        """SIGTERM, SIGHUP and Ctrl+C end the server: its run stops cleanly first. A second Ctrl+C while
        that run still trains interrupts it at once (still status "stopped")."""
        if signum == signal.SIGINT and self.quitting and self.running:
            raise KeyboardInterrupt
        self.quit()


def id_of(request: dict):
    """The id a request's answers carry: what it sent when that is a number or text, else null."""
    value = request.get("id")
    if isinstance(value, bool):  # JSON's true and false are no numbers, though Python's bool is an int
        return None
    return value if isinstance(value, str | int | float) or value is None else None


def request_config(request: dict) -> ExperimentConfig:
    """The request's config, validated; a missing one means the defaults."""
    data = request.get("config")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            _(
                'the config must be a table of settings (a JSON object such as {{"data": {{"dataset": "moons"}}}}), '
                "not {value}"
            ).format(value=quoted(data))
        )
    return validate(data)


def stdin_lines() -> Iterator[str]:
    """Lines of standard input, read with os.read: a thread blocked in sys.stdin would hold its buffer's
    lock, which the interpreter needs when it exits. Bytes that are not UTF-8 are replaced, not fatal."""
    fd = sys.stdin.fileno()
    parts: list[bytes] = []
    while chunk := os.read(fd, 1 << 16):
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            parts.append(chunk[start:end])
            yield b"".join(parts).decode("utf-8", errors="replace")
            parts, start = [], end + 1
        parts.append(chunk[start:])
    if any(parts):
        yield b"".join(parts).decode("utf-8", errors="replace")


def _warm_up() -> None:
    """Build a throwaway optimizer: the first one imports torch._dynamo (about a second here),
    better paid while the user is still choosing than after pressing start."""
    import torch

    torch.optim.AdamW([torch.zeros(1, requires_grad=True)], fused=True)


def serve(runs_dir: str | None = None) -> int:
    """Keep torch loaded and answer requests from stdin until quit or end of input; returns the exit code."""
    emitter = Emitter(sys.stdout)
    server = Server(runs_dir, emitter)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):  # before hello: an app may signal at once
        signal.signal(signum, server.on_signal)
    emitter.emit("hello", mode="serve", **planning.hello(select_device("auto")))
    warm_up = threading.Thread(target=_warm_up, name="warm-up", daemon=True)
    warm_up.start()
    threading.Thread(target=server.read_requests, args=(stdin_lines(),), name="requests", daemon=True).start()
    try:
        server.run_jobs()
    except KeyboardInterrupt:  # a second Ctrl+C outside the training loop: nothing left to finish
        return 130
    finally:
        # The interpreter must not shut down under a thread still importing torch (it aborts, exit -6,
        # when a signal comes right after hello); the warm-up takes about a second.
        warm_up.join(timeout=30)
    return 0
