"""The run store: one directory per run, readable whatever happened to the process.

Layout of runs/<id>/:
  config.toml    the fully resolved config
  events.jsonl   every event, appended and flushed line by line
  status.json    {"status", "pid", "host", "started"}; "running" reads as "crashed" once the process is gone
  summary.json   written atomically (temp file, fsync, rename) at the end of the run
  model.pt       best (or last) weights, a plain state dict for torch.load(weights_only=True)

Pure Python: the CLI and the app read runs without importing torch.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from engine.events import finite

DEFAULT_ROOT = Path("runs")


def runs_root(root: str | Path | None = None) -> Path:
    """The runs directory: the argument, $NNPLAY_RUNS, or ./runs."""
    return Path(root or os.environ.get("NNPLAY_RUNS") or DEFAULT_ROOT)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(finite(data), f, indent=2, allow_nan=False, default=str)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunWriter:
    """The writing side of one run directory, owned by the engine process."""

    def __init__(self, path: Path, config_toml: str) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=False)
        (path / "config.toml").write_text(config_toml, encoding="utf-8")
        self.events: IO[str] = open(path / "events.jsonl", "a", encoding="utf-8")
        self.set_status("running")

    @classmethod
    def create(cls, root: Path, name: str, config_toml: str) -> RunWriter:
        """A new run directory named <date>-<time>-<name>, unique under root."""
        root.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for n in range(1000):
            candidate = root / (f"{stamp}-{slug}" + (f"-{n}" if n else ""))
            try:
                return cls(candidate, config_toml)
            except FileExistsError:
                continue
        raise FileExistsError(f"cannot create a run directory under {root}")

    def set_status(self, status: str) -> None:
        write_json_atomic(
            self.path / "status.json",
            {"status": status, "pid": os.getpid(), "host": socket.gethostname(), "updated": time.time()},
        )

    def record(self, status: str, summary: dict) -> None:
        """Write the summary and the final status (before `done` is sent, so a reader of `done` finds them)."""
        write_json_atomic(self.path / "summary.json", summary)
        self.set_status(status)

    def close(self) -> None:
        self.events.close()

    def finish(self, status: str, summary: dict) -> None:
        self.record(status, summary)
        self.close()


@dataclass
class RunRecord:
    """What a finished, stopped or crashed run left behind."""

    path: Path
    status: str
    config_toml: str
    events: list[dict] = field(default_factory=list)
    summary: dict | None = None

    @property
    def id(self) -> str:
        return self.path.name

    def of_type(self, type_: str) -> list[dict]:
        return [e for e in self.events if e.get("type") == type_]

    @property
    def epochs(self) -> list[dict]:
        return self.of_type("epoch")

    def last(self, type_: str) -> dict | None:
        found = self.of_type(type_)
        return found[-1] if found else None


def read_events(path: Path) -> list[dict]:
    """Every complete event line; a line cut short by a kill is skipped."""
    events = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(obj, dict):
                    events.append(obj)
    except FileNotFoundError:
        pass
    return events


def read_status(path: Path) -> str:
    """The run's status; a run whose process is gone without finishing reads as crashed."""
    try:
        info = json.loads((path / "status.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return "crashed"
    status = info.get("status", "crashed")
    if status == "running":
        same_host = info.get("host") == socket.gethostname()
        if same_host and not _process_alive(int(info.get("pid", -1))):
            return "crashed"
    return status


def load_run(path: Path) -> RunRecord:
    """Read a run directory."""
    if not (path / "config.toml").is_file():
        raise FileNotFoundError(f"{path} is not a run directory (no config.toml)")
    summary = None
    if (path / "summary.json").is_file():
        try:
            summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            summary = None
    return RunRecord(
        path=path,
        status=read_status(path),
        config_toml=(path / "config.toml").read_text(encoding="utf-8"),
        events=read_events(path / "events.jsonl"),
        summary=summary,
    )


def list_runs(root: Path) -> list[Path]:
    """Run directories under root, newest first."""
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if (p / "config.toml").is_file()), key=lambda p: p.name, reverse=True)


def find_run(root: Path, ref: str) -> Path:
    """A run by path, exact id, unique id prefix or suffix, or 'last'."""
    direct = Path(ref)
    if (direct / "config.toml").is_file():
        return direct
    runs = list_runs(root)
    if ref == "last" and runs:
        return runs[0]
    exact = [p for p in runs if p.name == ref]
    if exact:
        return exact[0]
    matches = [p for p in runs if p.name.startswith(ref) or p.name.endswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise FileNotFoundError(f"no run {ref!r} under {root}/; `nnplay runs` lists them")
    raise FileNotFoundError(f"{ref!r} matches {len(matches)} runs under {root}/; give more of the name")
