"""The engine+stream style's reader: an engine subprocess read the way the app reads it, while the
reader also does the app's steady drawing work.

In the app the engine's lines are read by the Textual process, on the one asyncio loop that also
redraws the dashboard; on a 2-core machine the engine has one core and the app the other. This
reader does that work on one asyncio loop in the bench process:

- the app's own pipe code (`nnplay.tui.engine_process.EngineProcess`: an asyncio subprocess with
  the app's 16 MiB line limit, a yield to the loop after every line);
- every line decoded (`nnplay.engine.core.events.decode`) and folded into the app's `RunState`;
- a tick every `frame_s` seconds, on a fixed schedule like Textual's `set_interval`, and at each tick
  where the app's own pacing rule (`nnplay.tui.pacing.DrawPacer`: no more than `DRAW_SHARE` of a core
  spent drawing) allows a frame, the dashboard's three charts (loss, the task's metric, the
  generalization gap) redrawn from that state with plotext (`nnplay.tui.charts.line_chart`, at the
  size of a dashboard panel on a 120x36 terminal) and rendered by Rich into a terminal-sized buffer,
  as textual-plotext and Textual's compositor do.

It reports where it saw each epoch line (the style's timing window) and how much of a core the
reader used in that window, to compare with the app's own share (bench/app_probes.py). To show
where the engine loses time when it does, it also reports the same window by the engine's own
clock (each event's `time`) and, from Linux's /proc/PID/task/*/schedstat, how the engine's
threads spent it: running, runnable but waiting for a core, or asleep (blocked on a full pipe,
say).
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text

from nnplay.engine.core.events import decode
from nnplay.tui.charts import line_chart
from nnplay.tui.engine_process import LINE_LIMIT, EngineProcess, LineTooLong
from nnplay.tui.pacing import DrawPacer
from nnplay.tui.state import RunState

TIMEOUT_S = 300.0  # an engine subprocess that takes longer is killed and the bench fails loudly
TERMINAL = (120, 36)  # columns, rows: the size the app's probes use
CHART = (57, 12)  # one dashboard panel on that terminal (two columns of the grid, borders off)


def engine_threads(pid: int) -> dict | None:
    """Per thread of process `pid`: seconds on a CPU and seconds runnable but waiting for one; None
    where /proc has no schedstat (not Linux)."""
    threads = {}
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            on_cpu, waiting, _ = Path(task, "schedstat").read_text().split()
            threads[task.name] = (int(on_cpu) / 1e9, int(waiting) / 1e9)
    except (OSError, ValueError):
        return None
    return threads


def schedule_shares(pid: int, first: dict | None, last: dict | None, window: float) -> dict | None:
    """How the engine's main thread spent the window (shares of it), and the other threads' CPU."""
    if not first or not last or str(pid) not in first or str(pid) not in last:
        return None
    on_cpu = last[str(pid)][0] - first[str(pid)][0]
    waiting = last[str(pid)][1] - first[str(pid)][1]
    others = sum(last[t][0] - first[t][0] for t in last if t != str(pid) and t in first)
    return {
        "threads": len(last),
        "main_cpu_s": on_cpu,
        "main_running": on_cpu / window,
        "main_waiting_for_a_core": waiting / window,
        "main_asleep": max(0.0, 1 - (on_cpu + waiting) / window),
        "other_threads_cpu": others / window,
    }


def draw(state: RunState, console: Console) -> None:
    """One frame: the dashboard's loss, metric (train and validation) and gap charts."""
    metric, series = state.metric, state.series
    charts = (
        ("loss", {"train": series["train_loss"].points(), "validation": series["val_loss"].points()}),
        (metric, {"train": series[f"train_{metric}"].points(), "validation": series[f"val_{metric}"].points()}),
        ("generalization gap", {"validation − train loss": series["gap"].points()}),
    )
    console.file.seek(0)
    console.file.truncate()
    for title, curves in charts:
        console.print(Text.from_ansi(line_chart(curves, title, *CHART)))


async def _redraw(state: RunState, frame_s: float, frames: list[float]) -> None:
    console = Console(
        file=io.StringIO(),
        width=TERMINAL[0],
        height=TERMINAL[1],
        force_terminal=True,
        color_system="truecolor",
    )
    pacer = DrawPacer(frame_s)  # the dashboard's rule: frames no costlier than DRAW_SHARE of a core
    due = time.perf_counter()
    while True:
        due += frame_s
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if state.last_epoch is not None and pacer.due():
            with pacer.timing():
                draw(state, console)
            frames.append(time.perf_counter())


async def _read(config: dict, env: dict, frame_s: float | None, epochs_total: int) -> dict:
    started = time.perf_counter()
    # Started as the app starts its engine (EngineProcess.start: its own session, the same pipes).
    engine = await EngineProcess.start([sys.executable, "-m", "nnplay.engine"], env=env)
    proc = engine.proc
    engine.write(config)  # the config as the first line, then end of input (nothing else in a single run)
    engine.close_input()
    state = RunState()
    frames: list[float] = []
    redraw = asyncio.create_task(_redraw(state, frame_s, frames)) if frame_s else None
    marks: list[tuple[float, float, float]] = []  # (wall, this process's CPU, the engine's clock) per epoch line
    threads: list[dict | None] = []  # the engine's threads at the first and the last epoch line
    lines = n_bytes = 0
    try:
        async for raw in engine.lines():
            if raw is LineTooLong:
                raise RuntimeError(f"a line over {LINE_LIMIT} bytes")
            event = decode(raw.decode("utf-8", errors="replace").strip())
            state.ingest(event)
            lines += 1
            n_bytes += len(raw)
            if event.get("type") == "epoch":
                marks.append((time.perf_counter(), time.process_time(), event["time"]))
                if len(marks) in (1, epochs_total):
                    threads.append(engine_threads(proc.pid))
        returncode = await engine.wait()
    finally:
        if redraw is not None:
            redraw.cancel()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    ended = time.perf_counter()
    return {
        "returncode": returncode,
        "status": state.status,
        "marks": marks,
        "pid": proc.pid,
        "threads": threads,
        "frames": [t for t in frames if marks and marks[0][0] <= t <= marks[-1][0]],
        "lines": lines,
        "bytes": n_bytes,
        "started": started,
        "ended": ended,
        "stderr": "\n".join(engine.stderr_tail),
    }


def run(config: dict, epochs: int, runs_root: Path, frame_s: float | None, name: str) -> dict:
    """Train `config` (epochs + 1 epochs) in `python -m nnplay.engine`; seconds per timed epoch as
    the reader saw them, the reader's CPU share and frame rate in that window, and the stream's size."""
    env = {**os.environ, "NNPLAY_RUNS": str(runs_root), "PYTHONUNBUFFERED": "1"}
    env.pop("OMP_NUM_THREADS", None)  # the engine subprocess keeps its own default thread count
    try:
        out = asyncio.run(asyncio.wait_for(_read(config, env, frame_s, epochs + 1), TIMEOUT_S))
    except TimeoutError:
        raise RuntimeError(f"engine subprocess for {name}: no end after {TIMEOUT_S:.0f} s") from None
    marks = out["marks"]
    if out["returncode"] != 0 or out["status"] != "completed" or len(marks) != epochs + 1:
        raise RuntimeError(
            f"engine subprocess for {name}: exit {out['returncode']}, status {out['status']}, "
            f"{len(marks)} epochs\n{out['stderr']}"
        )
    window = marks[-1][0] - marks[0][0]
    engine_window = marks[-1][2] - marks[0][2]  # the engine's wall clock, to the millisecond
    first, last = (out["threads"] + [None, None])[:2]
    return {
        "s_per_epoch": window / epochs,
        "engine_clock_s_per_epoch": engine_window / epochs,
        "engine_schedule": (schedule := schedule_shares(out["pid"], first, last, window)),
        "engine_cpu_s_per_epoch": schedule["main_cpu_s"] / epochs if schedule else None,
        "start_s": marks[0][0] - out["started"],
        "whole_run_s_per_epoch": (out["ended"] - out["started"]) / (epochs + 1),
        "lines": out["lines"],
        "mb_streamed": out["bytes"] / 1e6,
        "reader_cpu_share": (marks[-1][1] - marks[0][1]) / window,
        "frames_per_s": len(out["frames"]) / window,
    }
