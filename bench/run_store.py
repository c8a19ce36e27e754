"""How long listing a large run store takes: `nnplay runs` over 10,000 runs, and the app's runs screen
reading the same rows.

    .venv/bin/python bench/run_store.py [--runs 10000] [--keep DIR]

The store is built in a temporary directory from the recorded runs in tests/tui/data/run-store (each
copied under many names), with one run in ten left as a crashed one (no summary.json, status
"running" of a process that is gone), whose row is rebuilt from its events and config.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "tests" / "tui" / "data" / "run-store"
CRASHED_EVERY = 10
DEAD_PID = 2**22 + 1  # above Linux's pid_max default: no such process
ROUNDS = 3


def build_store(root: Path, n_runs: int) -> None:
    """n_runs run directories under root, copied from the recorded ones: nine in ten finished (with a
    summary), one in ten crashed (events only, status "running" of a process that is gone)."""
    templates = sorted(p for p in TEMPLATES.iterdir() if (p / "config.toml").is_file())
    files = {t.name: {f.name: f.read_bytes() for f in t.iterdir() if f.is_file()} for t in templates}
    finished = [t.name for t in templates if "summary.json" in files[t.name]]
    crashed_status = (
        f'{{"status": "running", "pid": {DEAD_PID}, "host": "{socket.gethostname()}", "updated": 1735722060.0}}'
    ).encode()
    for i in range(n_runs):
        crashed = i % CRASHED_EVERY == 0
        template = templates[i // CRASHED_EVERY % len(templates)].name if crashed else finished[i % len(finished)]
        run = root / f"2025{i // 86400:04d}-{i % 86400:06d}-{template.split('-', 2)[2]}"
        run.mkdir()
        for name, data in files[template].items():
            if not (crashed and name in ("summary.json", "status.json")):
                (run / name).write_bytes(data)
        if crashed:
            (run / "status.json").write_bytes(crashed_status)


def time_cli(root: Path, terminal: bool) -> float:
    """Seconds for one `nnplay runs` (a fresh process, imports included), into a pipe or a terminal."""
    env = {**os.environ, "NNPLAY_RUNS": str(root), "COLUMNS": "200"}
    if terminal:
        env["FORCE_COLOR"] = "1"  # Rich then renders the table as on a terminal
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "import sys, nnplay.tui.cli; sys.exit(nnplay.tui.cli.main())", "runs"],
        cwd=REPO,
        env=env,
        capture_output=True,
        check=False,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"nnplay runs failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return took


def time_screen_rows(root: Path) -> float:
    """Seconds for the runs screen's rows (read in this process, imports already paid)."""
    sys.path.insert(0, str(REPO))
    from nnplay.engine.core.runs import list_runs
    from nnplay.tui.screens.runs import run_row

    started = time.perf_counter()
    rows = [run_row(path) for path in list_runs(root)]
    took = time.perf_counter() - started
    assert rows
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000, help="how many runs the store holds")
    parser.add_argument("--keep", type=Path, default=None, help="build (or reuse) the store here and keep it")
    args = parser.parse_args()
    tmp = None
    if args.keep is not None:
        root = args.keep
        if not root.is_dir() or sum(1 for _ in root.iterdir()) != args.runs:
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            build_store(root, args.runs)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="nnplay-run-store-")
        root = Path(tmp.name)
        started = time.perf_counter()
        build_store(root, args.runs)
        print(f"built {args.runs:,} runs in {time.perf_counter() - started:.1f} s")
    try:
        pipe = min(time_cli(root, terminal=False) for _ in range(ROUNDS))
        table = min(time_cli(root, terminal=True) for _ in range(ROUNDS))
        screen = min(time_screen_rows(root) for _ in range(ROUNDS))
        print(f"nnplay runs, {args.runs:,} runs, into a pipe:     {pipe:6.2f} s (best of {ROUNDS})")
        print(f"nnplay runs, {args.runs:,} runs, on a terminal:   {table:6.2f} s")
        print(f"runs screen rows, {args.runs:,} runs (no imports): {screen:6.2f} s")
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
