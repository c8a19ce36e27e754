"""Records the dashboards' fixtures with the real engine, made deterministic for SVG snapshots.

    .venv/bin/python tests/tui/data/record.py      (a few minutes on two CPU cores)

Each fixture is one run's events.jsonl with every `time` set to 2025-01-01 09:15 plus a hundredth
of a second per event, `run_dir` set to runs/<fixed id>, `elapsed_s` and `eta_s` rounded to tenths
of the recorded pace, and only the newest snapshot of each view (a replayed state keeps no other),
plus the newest up to each epoch a test cuts the run at (the paused and crashed dashboards).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
START = 1735722900.0
CUTS = (40, 60)  # test_dashboard_snapshots replays overfit-small-data up to these epochs
FIXTURES = {
    "overfit-small-data": ["presets/overfit-small-data.toml"],
    "overfit-small-data-sweep": ["presets/overfit-small-data.toml", "--set", "sweep.seeds=4"],
    "digits-autoencoder": ["presets/digits-autoencoder.toml"],
    "digits-vae": ["presets/digits-vae.toml"],
}


def normalized(events: list[dict], name: str) -> list[dict]:
    newest: dict[tuple, int] = {}
    for index, event in enumerate(events):
        if event.get("type") == "snapshot":
            newest[(event.get("view"), None)] = index
            for cut in CUTS:
                if event.get("epoch", 0) <= cut:
                    newest[(event.get("view"), cut)] = index
    keep = set(newest.values())
    kept = [e for i, e in enumerate(events) if e.get("type") != "snapshot" or i in keep]
    for index, event in enumerate(kept):
        event["time"] = round(START + index / 100, 2)
        if "run_dir" in event:
            event["run_dir"] = f"runs/20250101-091500-{name}"
        if "samples_per_s" in event:
            event["samples_per_s"] = 20000.0
        for key in ("elapsed_s", "eta_s"):
            if key in event:
                event[key] = round(event[key], 1)
    return kept


def record(name: str, args: list[str]) -> None:
    with tempfile.TemporaryDirectory() as runs:
        command = [sys.executable, "-m", "nnplay.engine", *args, "--runs", runs]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        (run_dir,) = Path(runs).iterdir()
        lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    events = normalized([json.loads(line) for line in lines], name)
    text = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
    (HERE / f"{name}.events.jsonl").write_text(text, encoding="utf-8")
    print(f"{name}: {len(events)} events")


if __name__ == "__main__":
    for fixture, arguments in FIXTURES.items():
        if len(sys.argv) < 2 or fixture in sys.argv[1:]:
            record(fixture, arguments)
