"""The long-lived engine: torch loaded once, plans answered in milliseconds, runs one after another.

Requests, one JSON object per stdin line:
  {"cmd": "plan", "id": ..., "config": {...}}   -> a "plan" event with the same id (or an "error")
  {"cmd": "run", "id": ..., "config": {...}}    -> the run's events, as `python -m engine` writes them
  {"cmd": "pause" | "resume" | "stop"}           -> applied to the run in progress
  {"cmd": "quit"}                                -> stop any run and exit
End of input behaves as quit: an app that went away stops its run cleanly.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import traceback
from collections import OrderedDict

from engine import experiment, planning
from engine.config import ConfigError, ExperimentConfig, validate
from engine.control import apply_control, install_signal_handlers, parse_command
from engine.data.load import Dataset, load_dataset
from engine.events import Emitter
from engine.runtime import select_device
from engine.training.loop import Control

CACHED_DATASETS = 4


class DatasetCache:
    """Recently loaded datasets by their data settings, so plans for a changed batch size are instant."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, Dataset] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, config: ExperimentConfig) -> Dataset:
        key = json.dumps([config.task, config.data.model_dump()], sort_keys=True)
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
    def __init__(self, runs_dir: str | None, emitter: Emitter) -> None:
        self.runs_dir = runs_dir
        self.emitter = emitter
        self.jobs: queue.Queue[dict | None] = queue.Queue()
        self.control = Control()
        self.cache = DatasetCache()
        self.quitting = False

    def _error(self, exc: BaseException, request_id) -> None:
        if isinstance(exc, ConfigError):
            self.emitter.emit("error", id=request_id, kind="config", message=str(exc), traceback=None)
        else:
            self.emitter.emit(
                "error",
                id=request_id,
                kind="internal",
                message=str(exc) or type(exc).__name__,
                traceback=traceback.format_exc(),
            )

    def answer_plan(self, request: dict) -> None:
        try:
            config = validate(request.get("config") or {})
            the_plan = planning.plan(config, self.cache.get(config), self.runs_dir)
            self.emitter.emit("plan", id=request.get("id"), **the_plan)
        except Exception as exc:
            self._error(exc, request.get("id"))

    def on_command(self, command: dict) -> None:
        cmd = command.get("cmd")
        if apply_control(self.control, command):
            return
        if cmd == "plan":
            self.answer_plan(command)
        elif cmd == "run":
            self.jobs.put(command)
        elif cmd == "quit":
            self.quitting = True  # runs still queued are dropped, not started
            self.control.stop()
            self.jobs.put(None)
        else:
            self.emitter.emit(
                "error",
                id=command.get("id"),
                kind="protocol",
                traceback=None,
                message=f"unknown command {cmd!r}; allowed: plan, run, pause, resume, stop, quit",
            )

    def read_requests(self, stream) -> None:
        for line in stream:
            command = parse_command(line)
            if command:
                self.on_command(command)
        self.quitting = True  # end of input: the app is gone
        self.control.stop()
        self.jobs.put(None)

    def run_jobs(self) -> None:
        while (request := self.jobs.get()) is not None and not self.quitting:
            self.control.reset()
            if self.quitting:  # quit arrived between the check and the reset: its stop was erased
                break
            try:
                config = validate(request.get("config") or {})
                experiment.run(config, self.emitter, self.control, self.runs_dir)
            except experiment.RunFailed:  # reported by the run itself
                pass
            except Exception as exc:
                self._error(exc, request.get("id"))


def _warm_up() -> None:
    """Build a throwaway optimizer: the first one imports torch._dynamo (about a second here),
    better paid while the user is still choosing than after pressing start."""
    import torch

    torch.optim.AdamW([torch.zeros(1, requires_grad=True)], fused=True)


def serve(runs_dir: str | None = None) -> int:
    emitter = Emitter(sys.stdout)
    emitter.emit("hello", mode="serve", **planning.hello(select_device("auto")))
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
    server = Server(runs_dir, emitter)
    install_signal_handlers(server.control)
    threading.Thread(target=server.read_requests, args=(sys.stdin,), name="requests", daemon=True).start()
    server.run_jobs()
    return 0
