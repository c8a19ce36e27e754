"""How long listing a large run store takes: `nnplay runs` over 10,000 runs, and the app's runs screen
showing the same rows.

    .venv/bin/python bench/run_store.py [--runs 10000] [--keep DIR] [--without-listings]

The store is built in a temporary directory from the recorded runs in tests/tui/data/run-store (each
copied under many names). Nine runs in ten finished: their status.json holds the listing the engine
writes at the end of a run. One in ten crashed (no summary.json, status "running" of a process that is
gone): the first listing rebuilds its row from its events and config and records it as crashed, with
its listing; later listings read it as the others. --without-listings builds the store as runs were
written before listings (a finished run's row read from its summary.json at every listing).

Times, each the best of three, as wall clock and as processor time (which other work on a shared
machine adds little to): `nnplay runs` as a fresh process (imports included) into a pipe and on a
terminal, the first one after the crashes apart; the same listing in this process (imports paid: the
listing only); and the runs screen from its opening to its first rows drawn, and to every run in it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "tests" / "tui" / "data" / "run-store"
FAKE_ENGINE = REPO / "tests" / "tui" / "fake_engine.py"
CRASHED_EVERY = 10
DEAD_PID = 2**22 + 1  # above Linux's pid_max default: no such process
ROUNDS = 3


def crashed_status() -> bytes:
    """status.json as a run leaves it when its process dies: running, of a process that is gone."""
    return json.dumps(
        {"status": "running", "pid": DEAD_PID, "host": socket.gethostname(), "updated": 1735722060.0}
    ).encode()


def build_store(root: Path, n_runs: int, listings: bool) -> None:
    """n_runs run directories under root, copied from the recorded ones: nine in ten finished (with a
    summary, and with listings the listing the engine now writes into status.json), one in ten crashed
    (events only, status "running" of a process that is gone)."""
    from nnplay.engine.core.runs import listing_of

    templates = sorted(p for p in TEMPLATES.iterdir() if (p / "config.toml").is_file())
    files = {t.name: {f.name: f.read_bytes() for f in t.iterdir() if f.is_file()} for t in templates}
    finished = [t.name for t in templates if "summary.json" in files[t.name]]
    if listings:
        for name in finished:
            summary = files[name]["summary.json"]
            listing = listing_of(json.loads(summary), {"summary.json": len(summary)})
            status = json.loads(files[name]["status.json"]) | {"listing": listing}
            files[name]["status.json"] = json.dumps(status, indent=2).encode()
    for i in range(n_runs):
        crashed = i % CRASHED_EVERY == 0
        template = templates[i // CRASHED_EVERY % len(templates)].name if crashed else finished[i % len(finished)]
        run = root / f"2025{i // 86400:04d}-{i % 86400:06d}-{template.split('-', 2)[2]}"
        run.mkdir()
        for name, data in files[template].items():
            if not (crashed and name in ("summary.json", "status.json")):
                (run / name).write_bytes(data)
        if crashed:
            (run / "status.json").write_bytes(crashed_status())


def crash_again(root: Path) -> None:
    """The crashed runs back as they were before a listing recorded them (status "running", no listing)."""
    for run in root.iterdir():
        if not (run / "summary.json").exists():
            (run / "status.json").write_bytes(crashed_status())


def time_cli(root: Path, terminal: bool) -> tuple[float, float]:
    """Seconds for one `nnplay runs` (a fresh process, imports included), into a pipe or a terminal: wall
    clock, and the processor time the process used (which other work on a shared machine does not add to)."""
    env = {**os.environ, "NNPLAY_RUNS": str(root), "COLUMNS": "200"}
    if terminal:
        env["FORCE_COLOR"] = "1"  # Rich then renders the table as on a terminal
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "import sys, nnplay.tui.cli; sys.exit(nnplay.tui.cli.main())", "runs"],
        cwd=REPO,
        env=env,
        capture_output=True,
        check=False,
    )
    took = time.perf_counter() - started
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"nnplay runs failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return took, now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime


def time_listing(root: Path) -> tuple[float, float]:
    """Seconds for `nnplay runs` on a terminal in this process: the listing only, imports already paid."""
    from rich.console import Console

    from nnplay.tui.cli import cmd_runs

    console = Console(file=io.StringIO(), force_terminal=True, width=200)
    started, cpu = time.perf_counter(), time.process_time()
    cmd_runs(argparse.Namespace(runs=str(root)), console)
    return time.perf_counter() - started, time.process_time() - cpu


def time_screen(root: Path, n_runs: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Seconds from opening the app's runs screen (f2's action; the app already started) to its first rows
    drawn, and to every run in the table and drawn; wall clock and processor time of each."""
    from textual.widgets import DataTable

    from nnplay.tui.app import NNPlayApp
    from nnplay.tui.screens.runs import RunsScreen, RunsTable

    first: list[tuple[float, float]] = []
    render_line = RunsTable.render_line

    def noting_the_first_rows_drawn(table: RunsTable, y: int):
        if not first and table.row_count:
            first.append((time.perf_counter(), time.process_time()))
        return render_line(table, y)

    async def run() -> tuple[tuple[float, float], tuple[float, float]]:
        app = NNPlayApp(root, engine_command=[sys.executable, str(FAKE_ENGINE), "normal"])
        async with app.run_test(size=(160, 40)) as pilot:
            await pilot.pause(0.5)  # the app started, its engine said hello
            first.clear()
            started, cpu = time.perf_counter(), time.process_time()
            app.action_runs()
            while (
                not isinstance(app.screen, RunsScreen) or sum(t.row_count for t in app.screen.query(DataTable)) < n_runs
            ):
                await asyncio.sleep(0)
            drawn = asyncio.Event()
            app.screen.call_after_refresh(drawn.set)
            await drawn.wait()
            every = (time.perf_counter() - started, time.process_time() - cpu)
            return (first[0][0] - started, first[0][1] - cpu), every

    RunsTable.render_line = noting_the_first_rows_drawn
    try:
        return asyncio.run(run())
    finally:
        RunsTable.render_line = render_line


def best(times: list[tuple[float, float]]) -> str:
    """The fastest of (wall clock, processor time) pairs, as the report prints it."""
    wall, cpu = min(times)
    return f"{wall:5.2f} s (processor {cpu:4.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000, help="how many runs the store holds")
    parser.add_argument("--keep", type=Path, default=None, help="build (or reuse) the store here and keep it")
    parser.add_argument(
        "--without-listings", action="store_true", help="runs as written before listings (status without one)"
    )
    args = parser.parse_args()
    listings = not args.without_listings
    tmp = None
    if args.keep is not None:
        root = args.keep
        if not root.is_dir() or sum(1 for _ in root.iterdir()) != args.runs:
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            build_store(root, args.runs, listings)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="nnplay-run-store-")
        root = Path(tmp.name)
        started = time.perf_counter()
        build_store(root, args.runs, listings)
        print(f"built {args.runs:,} runs in {time.perf_counter() - started:.1f} s")
    try:
        first = []
        for _ in range(ROUNDS):
            crash_again(root)
            first.append(time_cli(root, terminal=False))
        pipe = [time_cli(root, terminal=False) for _ in range(ROUNDS)]
        table = [time_cli(root, terminal=True) for _ in range(ROUNDS)]
        listing = [time_listing(root) for _ in range(ROUNDS)]
        screens = [time_screen(root, args.runs) for _ in range(ROUNDS)]
        print(f"{args.runs:,} runs {'with' if listings else 'without'} listings; each time the best of {ROUNDS}")
        print(f"nnplay runs into a pipe, the first after the crashes:  {best(first)}")
        print(f"nnplay runs into a pipe:                               {best(pipe)}")
        print(f"nnplay runs on a terminal:                             {best(table)}")
        print(f"nnplay runs, the listing only (no start, no imports):  {best(listing)}")
        print(f"runs screen, from f2 to its first rows drawn:          {best([s[0] for s in screens])}")
        print(f"runs screen, from f2 to every run in the table:        {best([s[1] for s in screens])}")
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
