"""One engine subprocess: started, written to, read line by line, and ended, politely or not.

EngineClient (tui/engine_client.py) decides what to send and what the lines mean; this module
only knows pipes and processes. Nothing here blocks the event loop: writes go to the pipe
transport's buffer, reads are awaited, and both pipes are read all the time so that the engine
never stalls on a full pipe.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import AsyncIterator

from nnplay.engine.core.events import encode

# A snapshot line is several hundred KB; asyncio's default line limit (64 KiB) would kill the reader.
LINE_LIMIT = 16 * 1024 * 1024
STDERR_TAIL_LINES = 20
KILL_GRACE_S = 1.0  # after SIGTERM (which the engine treats as stop) before SIGKILL


class LineTooLong:
    """Stands in for a line over LINE_LIMIT, which asyncio drops; reading goes on after it."""


class EngineProcess:
    """A started engine: `lines()` to read it, `write()` to command it, `end()` or `abandon()` to let it go."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        assert proc.stderr is not None
        self._stderr_task = asyncio.create_task(_read_stderr(proc.stderr, self.stderr_tail))

    @classmethod
    async def start(cls, command: list[str], env: dict[str, str] | None = None) -> EngineProcess:
        """Start `command` with piped stdio in the current directory (with `env` as its environment
        instead of this process's); raises OSError if it cannot start.

        The engine gets a session of its own. Linux shares the processor between sessions first
        (autogroups), so in one session the app's drawing would come out of the engine's share: with
        both cores busy the engine then trained at 0.62-0.91 of its speed, in its own session at
        0.87-1.08 (bench/README.md). Nothing is lost by it: the app reads Ctrl+C as a key and ends the
        engine itself, and the engine ends at the end of its input when the app is gone."""
        proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=os.getcwd(),
            env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"},
            limit=LINE_LIMIT,
            start_new_session=True,
        )
        return cls(proc)

    @property
    def returncode(self) -> int | None:
        """The engine's exit code; None while it runs."""
        return self.proc.returncode

    async def lines(self) -> AsyncIterator[bytes | type[LineTooLong]]:
        """stdout line by line until it ends; LineTooLong where a line was over LINE_LIMIT."""
        stdout = self.proc.stdout
        assert stdout is not None
        while True:
            try:
                raw = await stdout.readline()
            except ValueError:  # over LINE_LIMIT: asyncio dropped what it held; any rest reads as malformed
                yield LineTooLong
                continue
            if not raw:
                return
            yield raw
            # Buffered lines are read without suspending: yield so a burst cannot freeze the UI.
            await asyncio.sleep(0)

    async def wait(self) -> int:
        """After stdout has ended: the rest of stderr, then the exit code."""
        await self._stderr_task
        return await self.proc.wait()

    def write(self, command: dict) -> bool:
        """Send one command line without blocking; False when the engine cannot take it any more."""
        stdin = self.proc.stdin
        if stdin is None or self.proc.returncode is not None or stdin.is_closing():
            return False
        try:
            # The pipe transport writes what it can now and buffers the rest: never blocks. Commands are
            # small and the engine always reads stdin, so the buffer stays tiny and drain() is not needed.
            stdin.write((encode(command) + "\n").encode())
        except (BrokenPipeError, ConnectionResetError, RuntimeError):
            # A dead engine: the reader sees its end of output and reports it, once.
            return False
        return True

    def close_input(self) -> None:
        """End of input, which the engine reads as quit (a run in progress ends cleanly first)."""
        if self.proc.returncode is None and self.proc.stdin is not None:
            self.proc.stdin.close()

    def terminate(self) -> None:
        """SIGTERM, unless the engine already exited."""
        if self.proc.returncode is None:
            self.proc.terminate()

    async def end(self, timeout: float) -> int | None:
        """Wait up to `timeout` s for the engine to exit, then SIGTERM, KILL_GRACE_S, then SIGKILL."""
        if not await self._exited_within(timeout):
            self.proc.terminate()
            if not await self._exited_within(KILL_GRACE_S):
                self.proc.kill()
                await self._exited_within(KILL_GRACE_S)
        return self.proc.returncode

    async def _exited_within(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def abandon(self) -> list[asyncio.Task]:
        """Nobody reads this engine any more (a restart, or the app closing): let it quit on its own
        (end of input) and keep its pipes drained so it never blocks. Returns the draining tasks."""
        self.close_input()
        tasks = [self._stderr_task]
        if self.proc.stdout is not None:
            tasks.append(asyncio.create_task(_discard(self.proc.stdout)))
        return tasks


async def _read_stderr(stderr: asyncio.StreamReader, tail: deque[str]) -> None:
    # Read all the time, so a chatty engine never blocks on a full stderr pipe.
    while True:
        try:
            raw = await stderr.readline()
        except ValueError:
            continue
        if not raw:
            return
        tail.append(raw.decode("utf-8", errors="replace").rstrip("\n"))


async def _discard(stdout: asyncio.StreamReader) -> None:
    while True:
        try:
            if not await stdout.read(1 << 16):
                return
        except (ValueError, ConnectionError):
            return
