"""How the app feels: first frame, import time, start to first epoch, memory over a long run.

Every measurement runs in a fresh process of its own (so imports, caches and RSS are its own).
`python bench/app_probes.py start-to-epoch RUNS_DIR` and `... memory RUNS_DIR` are the child
entry points; they print one JSON object on their last line.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TERMINAL_SIZE = (120, 36)  # columns, rows
FIRST_FRAME_MARK = b"Lessons"  # the set-up screen's first tab
CHILD_TIMEOUT_S = 240.0
MEMORY_EPOCHS = 5000
MEMORY_FIRST_SAMPLE_EPOCH = 500

# The long run of the memory probe: many tiny full-batch epochs.
MEMORY_CONFIG = {
    "name": "bench-memory",
    "data": {"dataset": "moons", "n_samples": 200},
    "training": {"epochs": MEMORY_EPOCHS, "batch_size": "full", "snapshot_every": 50, "device": "cpu"},
}


def app_command() -> list[str]:
    """The installed console script next to this interpreter, else the app's main through python -c."""
    script = Path(sys.executable).parent / "nnplay"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from nnplay.tui.app import main; main()"]


def _read_until(fd: int, mark: bytes, deadline: float) -> float | None:
    """Seconds at which `mark` first appears in what the pty has received (None if it never does)."""
    received = b""
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.02)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            return None
        if not chunk:
            return None
        received += chunk
        if mark in received:
            return time.perf_counter()
    return None


def _reap(pid: int, fd: int, grace_s: float) -> bool:
    """Drain the pty until the child exits; kill it after grace_s. True when it quit by itself."""
    deadline = time.perf_counter() + grace_s
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                os.read(fd, 65536)
            except OSError:
                pass
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return True
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return False


def first_frame_once(runs_dir: Path) -> dict:
    """Launch the app on a pseudo-terminal; seconds until the set-up screen's text reaches it."""
    command = app_command()
    env = {**os.environ, "TERM": "xterm-256color", "NNPLAY_RUNS": str(runs_dir)}
    env.pop("TEXTUAL", None)
    env["COLUMNS"], env["LINES"] = str(TERMINAL_SIZE[0]), str(TERMINAL_SIZE[1])
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app, with the pty as its terminal
        try:
            os.chdir(REPO)
            os.execve(command[0], command, env)
        finally:
            os._exit(127)
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", TERMINAL_SIZE[1], TERMINAL_SIZE[0], 0, 0))
        seen = _read_until(fd, FIRST_FRAME_MARK, started + 60)
        os.write(fd, b"\x11")  # ctrl+q
        quit_cleanly = _reap(pid, fd, 15)
    finally:
        os.close(fd)
    return {"s": None if seen is None else seen - started, "quit_cleanly": quit_cleanly}


def import_time_once() -> float:
    code = "import time; t = time.perf_counter(); import nnplay.tui.app; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return float(out.stdout.strip().splitlines()[-1])


def child(probe: str, runs_dir: Path) -> dict:
    """Run one probe in a fresh interpreter; its last stdout line is the JSON result."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), probe, str(runs_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    if out.returncode:
        raise RuntimeError(f"{probe} probe failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident set size now (VmRSS), or its peak so far (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


async def _until(pilot, condition, timeout: float, what: str, poll_s: float = 0.005) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        await pilot.pause()
        await asyncio.sleep(poll_s)


async def start_to_first_epoch(runs_dir: Path) -> dict:
    """Headless app, real engine: from the start action until the first epoch is in the live series."""
    from nnplay.tui.app import NNPlayApp

    launched = time.perf_counter()
    app = NNPlayApp(runs_dir=runs_dir)
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _until(pilot, lambda: app.hello is not None, 120, "the engine's hello")
        hello_s = time.perf_counter() - launched
        await _until(pilot, lambda: app.setup_screen.config is not None, 30, "a valid form")
        preset = app.setup_screen.preset_name
        started = time.perf_counter()
        app.setup_screen.action_start()
        await _until(pilot, lambda: len(app.live.series["train_loss"]) > 0, 120, "the first epoch")
        first_epoch_s = time.perf_counter() - started
        app.stop_run()
        await _until(pilot, lambda: app.live.finished, 60, "the run to stop", poll_s=0.05)
    return {"s": first_epoch_s, "hello_s": hello_s, "preset": preset}


async def memory_over_long_run(runs_dir: Path) -> dict:
    """Headless app, real engine, MEMORY_EPOCHS tiny epochs: the app's RSS sampled every
    MEMORY_FIRST_SAMPLE_EPOCH epochs and at the end; growth is the peak sample minus the first."""
    from nnplay.tui.app import NNPlayApp

    app = NNPlayApp(runs_dir=runs_dir)
    trace: list[tuple[int, float]] = []
    async with app.run_test(size=TERMINAL_SIZE) as pilot:
        await _until(pilot, lambda: app.hello is not None, 120, "the engine's hello")
        before_run_mb = rss_mb()
        started, cpu_started = time.perf_counter(), time.process_time()
        app.start_run(MEMORY_CONFIG)
        next_sample = MEMORY_FIRST_SAMPLE_EPOCH
        deadline = time.perf_counter() + CHILD_TIMEOUT_S - 30
        while not app.live.finished:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the {MEMORY_EPOCHS}-epoch run did not finish; at epoch {app.live.epochs_done}")
            if app.live.epochs_done >= next_sample:
                trace.append((app.live.epochs_done, rss_mb()))
                next_sample += MEMORY_FIRST_SAMPLE_EPOCH
            await pilot.pause()
            await asyncio.sleep(0.02)
        await pilot.pause()
        end_mb = rss_mb()
        run_s = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_started  # the app's own work while the run streamed (engine aside)
        status, epochs = app.live.status, app.live.epochs_done
    if not trace:
        raise RuntimeError("no RSS sample was taken during the run")
    first_epoch, first_mb = trace[0]
    peak_mb = max([mb for _, mb in trace] + [end_mb])
    return {
        "before_run_mb": before_run_mb,
        "first_sample_epoch": first_epoch,
        "first_sample_mb": first_mb,
        "peak_mb": peak_mb,  # the largest sample, from the first one on
        "end_mb": end_mb,
        "high_water_mb": rss_mb("VmHWM"),  # the process's peak over its whole life, start-up included
        "growth_mb": peak_mb - first_mb,
        "trace": trace,
        "status": status,
        "epochs": epochs,
        "run_s": run_s,
        "app_cpu_share": cpu_s / run_s,
    }


def main(argv: list[str]) -> int:
    probe, runs_dir = argv[0], Path(argv[1])
    probes = {"start-to-epoch": start_to_first_epoch, "memory": memory_over_long_run}
    result = asyncio.run(probes[probe](runs_dir))
    print(json.dumps(result))
    return 0


def measure_all(log=print) -> dict:
    """Every app probe, repeated where cheap; medians are taken by the caller."""
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="nnplay-bench-app-") as tmp:
        root = Path(tmp)
        log("app: import time of nnplay.tui.app ...")
        results["import_s"] = [import_time_once() for _ in range(5)]
        log("app: first frame on a pty ...")
        results["first_frame"] = [first_frame_once(root / f"first-frame-{i}") for i in range(5)]
        log("app: start to first epoch (headless, real engine) ...")
        results["start_to_epoch"] = [child("start-to-epoch", root / f"start-{i}") for i in range(3)]
        log(f"app: memory over a {MEMORY_EPOCHS}-epoch run ...")
        results["memory"] = child("memory", root / "memory")
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
