"""A sweep's members as Ray tasks (sweep.executor = "ray"): on a Ray started on this machine, or on a cluster.

Each member is a task that trains the member's config as a plain run (experiment.run) on a worker, into a
temporary directory there, and streams its events back through a small actor (the hub) as they happen. This
engine (the driver) writes the member's run directory under the sweep's `members/` itself, from those events
as they arrive and from the files the task returns at its end, so a cluster needs no shared disk and a worker
that dies leaves every epoch it finished. The events reach the sweep as a processes sweep's do (`MemberEvents`,
`member_done`). Pause, resume and stop go to the tasks through the same hub: each task copies its state into
a local Control every POLL_S seconds, as it sends its events.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import tempfile
import threading
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray
import ray.exceptions

from nnplay.engine.core.config import ConfigError, validate
from nnplay.engine.core.control import Control
from nnplay.engine.core.events import Emitter, RunFailed, encode, quoted
from nnplay.engine.core.i18n import _, current_language, set_language
from nnplay.engine.core.runs import RunWriter

if TYPE_CHECKING:
    from nnplay.engine.core.sweep_members import Member
    from nnplay.engine.sweep import Bands, Results

POLL_S = 0.2  # how often a task sends its events and reads pause / resume / stop
DRIVER_WAIT_S = 0.1  # the longest the driver waits for events before it looks at the control again
SEND_SOON = ("epoch", "done", "error", "warning")  # events a task sends at once, not at its next poll
RETURNED_FILES = ("config.toml", "status.json", "summary.json", "model.pt")  # events.jsonl comes as a stream
WORKER = "ray_worker"  # a task's first message: the worker's pid and host, never written to a run
CONNECT_TIMEOUT_S = 5.0  # Ray itself retries an address that does not answer for minutes
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@ray.remote(num_cpus=0)
class Hub:
    """Where the tasks' events wait for the driver, and the sweep's pause / stop state waits for the tasks."""

    def __init__(self) -> None:
        self.events: list[tuple[int, dict]] = []
        self.state = {"stop": False, "paused": False}
        self.arrived = asyncio.Event()

    async def report(self, member: int, events: list[dict]) -> dict:
        """A task's events since its last report; answers the sweep's state."""
        if events:
            self.events.extend((member, event) for event in events)
            self.arrived.set()
        return self.state

    async def drain(self, wait_s: float) -> list[tuple[int, dict]]:
        """Every event reported since the last drain, waiting up to wait_s for the first."""
        if not self.events and wait_s > 0:
            try:
                await asyncio.wait_for(self.arrived.wait(), wait_s)
            except TimeoutError:
                pass
        self.arrived.clear()
        events, self.events = self.events, []
        return events

    async def control(self, stop: bool, paused: bool) -> None:
        """The sweep's state, for the tasks to read at their next report."""
        self.state = {"stop": stop, "paused": paused}


class Stream:
    """A task's side of the hub: buffers the member's events, sends them every POLL_S seconds (epochs at once),
    and applies the sweep's pause / resume / stop to the member's own Control.

    Every call to the hub waits in a thread of its own: Ray lends a task's CPU to another task while the task's
    main thread waits in ray.get, which would train more members at once than there are CPUs."""

    def __init__(self, member: int, hub: Any) -> None:
        self.member, self.hub = member, hub
        self.control = Control()
        self._buffer: list[dict] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._ready = threading.Event()
        self._closing = False
        self._skipped = False
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ray-member-stream", daemon=True)

    def start(self) -> bool:
        """Tell the driver that this worker began the member (its pid and host), unless the sweep was stopped while
        the task waited for a worker (then False); from now on, send the member's events."""
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise self._failure
        return not self._skipped

    def add(self, event: dict) -> None:
        """An event of the member (an Emitter callback)."""
        with self._lock:
            self._buffer.append(event)
        if event["type"] in SEND_SOON:
            self._wake.set()

    def close(self) -> None:
        """Send what is left; the driver has every event once this returns."""
        self._closing = True
        self._wake.set()
        self._thread.join()

    def _send(self, events: list[dict]) -> dict:
        state = ray.get(self.hub.report.remote(self.member, events))
        if state["stop"]:
            self.control.stop()
        elif state["paused"]:
            self.control.pause()
        else:
            self.control.resume()
        return state

    def _run(self) -> None:
        try:
            self._skipped = self._send([])["stop"]
            if not self._skipped:
                self._send([{"type": WORKER, "pid": os.getpid(), "host": socket.gethostname()}])
        except ray.exceptions.RayError as exc:
            self._failure = exc
        self._ready.set()
        if self._skipped or self._failure is not None:
            return
        while True:
            self._wake.wait(POLL_S)
            self._wake.clear()
            closing = self._closing  # read before the flush: the last one sends every event of the run
            with self._lock:
                events, self._buffer = self._buffer, []
            try:
                self._send(events)
            except ray.exceptions.RayError:  # the driver and its hub are gone: nobody is left to train for
                self.control.stop()
                return
            if closing:
                return


@ray.remote(num_cpus=1, max_retries=0)
def train_member(member: int, config: dict, hub: Any, language: str) -> dict:
    """Train one member as a plain run in a temporary directory of this worker, streaming its events to the hub;
    returns the run's files (RETURNED_FILES, as bytes) and the error that ended it, if any."""
    set_language(language)  # the worker speaks the driver's language
    stream = Stream(member, hub)
    if not stream.start():  # stopped while this task waited for a worker
        return {"skipped": True}
    from nnplay.engine import experiment  # torch: only once the member trains

    error = None
    with tempfile.TemporaryDirectory(prefix="nnplay-member-") as tmp:
        try:
            experiment.run(validate(config), Emitter(callback=stream.add), stream.control, tmp)
        except (RunFailed, ConfigError) as exc:  # recorded and sent as an error event, or before a run existed
            error = str(exc)
        finally:
            stream.close()
        runs = [path for path in Path(tmp).iterdir() if path.is_dir()]
        files = {}
        if runs:
            files = {name: (runs[0] / name).read_bytes() for name in RETURNED_FILES if (runs[0] / name).is_file()}
    return {"files": files, "error": error}


def failure_reason(exc: BaseException) -> str:
    """Why Ray could not finish a member, in words."""
    if isinstance(exc, ray.exceptions.OutOfMemoryError):
        return _("Ray stopped its task because the machine running it ran out of memory")
    if isinstance(exc, ray.exceptions.WorkerCrashedError):
        return _("the Ray worker process training it ended unexpectedly (it was killed, or ran out of memory)")
    if isinstance(exc, ray.exceptions.NodeDiedError | ray.exceptions.LocalRayletDiedError):
        return _("the Ray node training it went away")
    if isinstance(exc, ray.exceptions.RayTaskError):
        cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else exc
        return _("its Ray task raised {error}").format(error=f"{type(cause).__name__}: {cause}")
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return _("Ray could not run it ({error})").format(error=first_line)


def _answers(address: str) -> str | None:
    """Why nothing answers at a Ray address, or None when something does: Ray itself would retry an address that
    does not answer for minutes. "auto" is looked up as Ray looks it up (RAY_ADDRESS, then the Ray started last
    on this machine)."""
    if address == "auto":
        try:
            from ray._private.services import canonicalize_bootstrap_address_or_die

            address = canonicalize_bootstrap_address_or_die(address)
        except ImportError:  # a Ray without this helper: ray.init finds out
            return None
        except ConnectionError:
            return _("no Ray runs on this machine and RAY_ADDRESS names none")
        except ValueError as exc:  # RAY_ADDRESS is not an address
            return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    host, colon, port = address.rpartition(":")
    if not (host and colon and port.isdigit()):
        return _("{address} is not a host:port").format(address=quoted(address))
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except (OSError, OverflowError) as exc:
        return _("nothing answers at {address} ({reason})").format(
            address=address, reason=getattr(exc, "strerror", None) or exc
        )
    return None


def _asks_for_token(exc: BaseException | None) -> bool:
    """Whether Ray failed to join a cluster because the cluster wants a token this process does not send."""
    while exc is not None:
        if isinstance(exc, ray.exceptions.AuthenticationError) or "InvalidAuthToken" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def connect(address: str) -> bool:
    """Start a local Ray ("") or join a cluster; True when this call started or joined one that the sweep must
    leave at its end. Ray writes nothing to stdout, which carries the protocol. ConfigError naming
    sweep.ray_address when Ray cannot start or be reached."""
    if ray.is_initialized():  # this process already uses a Ray (a caller's own): use it and leave it be
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    main = threading.current_thread() is threading.main_thread()
    handlers = {sig: signal.getsignal(sig) for sig in SIGNALS} if main else {}
    try:
        if address:
            problem = _answers(address)
            if problem is not None:
                raise ConfigError(
                    _(
                        'sweep.ray_address = {value} cannot be reached: {reason}; allowed: "" to start Ray on '
                        'this machine, "auto" for the Ray started here with `ray start --head`, or a head node\'s '
                        "host:port"
                    ).format(value=quoted(address), reason=problem),
                    setting="sweep.ray_address",
                )
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
        else:
            ray.init(
                address="local",  # a new Ray here, whatever RAY_ADDRESS says
                num_cpus=os.cpu_count() or 1,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
    except ConfigError:
        raise
    except Exception as exc:
        if ray.is_initialized():
            ray.shutdown()
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if _asks_for_token(exc):
            reason = _("the cluster asks for a token: set RAY_AUTH_MODE=token and the cluster's token before starting")
        message = (
            _(
                'sweep.ray_address = {value} could not join Ray there ({reason}); allowed: "" to start Ray on '
                'this machine, "auto" for the Ray started here with `ray start --head`, or a head node\'s '
                "host:port"
            )
            if address
            else _(
                'sweep.ray_address = "" could not start Ray on this machine ({reason}); allowed: "auto" or a '
                "head node's host:port, to use a Ray started with `ray start --head`"
            )
        )
        raise ConfigError(
            message.format(value=quoted(address), reason=reason),
            setting="sweep.ray_address",
        ) from None
    finally:
        for sig, handler in handlers.items():  # Ray's own SIGTERM handler would exit mid-sweep
            signal.signal(sig, handler)
    return True


class RaySweep:
    """The driver: starts a task per member, writes each member's run directory from its stream and its files,
    relays its events to the sweep, and passes pause / resume / stop on."""

    def __init__(
        self, members: list[Member], emitter: Emitter, control: Control, root: Path, bands: Bands, results: Results
    ) -> None:
        from nnplay.engine.sweep import MemberEvents

        self.members, self.emitter, self.control, self.root = members, emitter, control, root
        self.bands, self.results = bands, results
        self.relays = [MemberEvents(m.index, m.label, emitter, bands) for m in members]
        self.writers: dict[int, RunWriter] = {}
        self.errors: dict[int, str] = {}  # members whose run reported an error event: its message
        self.last_epochs: dict[int, int] = defaultdict(int)
        self.workers: dict[int, tuple[int, str]] = {}  # member -> the pid and host of the worker training it

    def worker_started(self, member: int, pid: int, host: str) -> None:
        """A task began on a worker: the member's run directory is made (written by this process, not the
        worker)."""
        self.workers[member] = (pid, host)
        config = self.members[member].config
        self.writers[member] = RunWriter.create(self.root, config.name, config.to_toml())

    def run(self) -> None:
        """Train every member; each member's row goes to the results as it ends."""
        hub = Hub.remote()  # type: ignore[attr-defined]
        language = current_language()
        pending = {
            train_member.options(name=f"nnplay member {m.index}").remote(
                m.index, m.config.model_dump(exclude_none=True), hub, language
            ): m.index
            for m in self.members
        }
        paused = stop_sent = False
        try:
            while pending:
                if self.control.stop_requested and not stop_sent:
                    ray.get(hub.control.remote(True, False))
                    self.take(ray.get(hub.drain.remote(0)))
                    for ref, k in pending.items():
                        if k not in self.writers:  # still waiting for a worker: it never starts
                            ray.cancel(ref)
                    stop_sent = True
                elif self.control.paused != paused and not stop_sent:
                    paused = self.control.paused
                    ray.get(hub.control.remote(False, paused))
                    if paused:
                        self.bands.hold()
                self.take(ray.get(hub.drain.remote(DRIVER_WAIT_S)))
                ready, _waiting = ray.wait(list(pending), num_returns=len(pending), timeout=0)
                if ready:
                    self.take(ray.get(hub.drain.remote(0)))  # what a finished task sent before it returned
                for ref in ready:
                    self.end(pending.pop(ref), ref)
        except ray.exceptions.RayError as exc:  # the hub, or Ray itself, went away (a task's own end is end's)
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RuntimeError(_("the sweep lost touch with its Ray tasks ({error})").format(error=reason)) from exc
        finally:
            try:
                ray.kill(hub)  # a Ray this sweep did not start keeps running
            except ray.exceptions.RayError:
                pass
            for writer in self.writers.values():  # a second interrupt: what the members did stays, stopped
                if not writer.events.closed:
                    from nnplay.engine.experiment import _close_quietly

                    _close_quietly(writer, "stopped")

    def take(self, events: list[tuple[int, dict]]) -> None:
        """Members' events as they arrived: written to their run directories, relayed as the sweep's."""
        for k, event in events:
            kind = event.get("type")
            if kind == WORKER:
                self.worker_started(k, event["pid"], event["host"])
                continue
            writer = self.writers[k]
            if "run_dir" in event:  # the worker's temporary directory means nothing here
                event = {**event, "run_dir": str(writer.path)}
            writer.events.write(encode(event) + "\n")
            writer.events.flush()  # a line at a time, as a run's own events: a crash loses nothing finished
            fields = {key: value for key, value in event.items() if key not in ("type", "time")}
            if kind == "epoch":
                self.last_epochs[k] = fields["epoch"]
            if kind in ("epoch", "snapshot", "warning"):
                self.relays[k].emit(kind, **fields)
            elif kind == "error":
                self.errors[k] = fields.get("message") or ""
                self.warn_failed(k, self.errors[k])

    def warn_failed(self, k: int, reason: str) -> None:
        """The warning a failed member sends, as in processes mode."""
        from nnplay.engine.sweep import warn_failed

        warn_failed(self.emitter, self.members[k], reason)

    def end(self, k: int, ref: Any) -> None:
        """Member k's task ended: its files put in place, its row of the results sent."""
        writer = self.writers.get(k)
        error: str | None = None
        try:
            result = ray.get(ref)
        except ray.exceptions.TaskCancelledError:
            result = {"skipped": True}
        except ray.exceptions.RayError as exc:
            error = failure_reason(exc)
            self.warn_failed(k, error)
            result = {}
        self.bands.finish(k, self.last_epochs[k])
        if writer is None:  # it never started: no run directory, nothing to compare
            self.results.finished(k, None, error or _("stopped before it started"), "failed" if error else "stopped")
            return
        if result.get("skipped"):
            writer.set_status("stopped")
        elif error is None:
            error = self.errors.get(k) or result.get("error")
            if error and k not in self.errors:  # it failed before its run could send an error event
                self.warn_failed(k, error)
            self.place(writer, result.get("files") or {}, error)
        else:
            writer.set_status("failed", error)
        writer.close()
        self.results.finished(k, writer.path, error)

    def place(self, writer: RunWriter, files: dict[str, bytes], error: str | None) -> None:
        """The files the member's run left on its worker, in its run directory here, its summary last."""
        for name in ("config.toml", "model.pt"):  # the config as the run settled it (its own data decide)
            if name in files:
                tmp = writer.path / f".{name}.tmp"
                tmp.write_bytes(files[name])
                os.replace(tmp, writer.path / name)
        if "summary.json" in files:
            summary = json.loads(files["summary.json"])
            summary.update(id=writer.path.name, run_dir=str(writer.path))
            writer.record(summary["status"], summary)
            return
        status = json.loads(files["status.json"]) if "status.json" in files else {"status": "failed"}
        writer.set_status(status.get("status", "failed"), status.get("reason") or error)


def run_ray(
    members: list[Member],
    emitter: Emitter,
    control: Control,
    root: Path,
    bands: Bands,
    results: Results,
    address: str = "",
) -> None:
    """Each member as a Ray task (on a Ray started here for the sweep when address is "", else on the cluster at
    address); each member's row goes to `results` as it ends. A Ray started here is shut down at the end, a
    cluster only left."""
    owned = connect(address)
    try:
        RaySweep(members, emitter, control, Path(root), bands, results).run()
    finally:
        if owned:
            main = threading.current_thread() is threading.main_thread()
            handlers = {sig: signal.getsignal(sig) for sig in SIGNALS} if main else {}
            ray.shutdown()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
