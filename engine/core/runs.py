"""The run store: one directory per run, readable whatever happened to the process.

Layout of runs/<id>/:
  config.toml    the fully resolved config
  events.jsonl   every event, appended and flushed line by line
  status.json    {"status", "pid", "host", "updated"}; "running" reads as "crashed" once the process is gone.
                 At the end it also holds the run's `listing`: what a row of a listing shows (LISTING_KEYS of
                 the summary) and the size of each file that came from (`sources`), so that listing 10,000
                 runs reads one small file each. A run found crashed is recorded as such by the first
                 listing that reads it (status "crashed", with the listing rebuilt from its events).
  summary.json   written atomically (temp file, fsync, rename) at the end of the run
  model.pt       best (or last) weights, a plain state dict for torch.load(weights_only=True)
  members/       a sweep's members, each a run directory of its own (<date>-<time>-<sweep name>-<k>); found as
                 <id>/<k> like any run (find_run), listed by their sweep (sweep_members), never as runs of the store

Pure Python: the CLI and the app read runs without importing torch. A runs directory is checked to
hold runs (writable_runs_root) before a run starts; a run is read lazily (status and summary first, its
config and events when used), and a damaged file raises UnreadableRun naming the file and what is wrong.
A listing reads a run's `listing` (read_listing) and falls back to its other files when the run has none,
or one that no longer matches them.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from nnplay.engine.core.events import finite
from nnplay.engine.core.i18n import N_, _

DEFAULT_ROOT = Path("runs")


def runs_root(root: str | Path | None = None) -> Path:
    """The runs directory: the argument, $NNPLAY_RUNS, or ./runs."""
    return Path(root or os.environ.get("NNPLAY_RUNS") or DEFAULT_ROOT)


class RunStoreError(ValueError):
    """The runs directory cannot hold new runs, or a run's files cannot be read: one sentence for the user."""


class UnreadableRun(RunStoreError):
    """A run directory whose files are damaged; `reason` names the file and what is wrong with it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(_("run {path} cannot be read: {reason}").format(path=path, reason=reason))
        self.path = path
        self.reason = reason


def _where_from(root: str | Path | None) -> str:
    """How the user named the runs directory, for an error message."""
    if root:
        return f"--runs {root}"
    if os.environ.get("NNPLAY_RUNS"):
        return f"$NNPLAY_RUNS={os.environ['NNPLAY_RUNS']}"
    return _("the runs directory {path}/").format(path=DEFAULT_ROOT)


def why_not_writable(root: Path) -> str | None:
    """Why runs cannot be written under root (a phrase naming the path at fault), or None when they can.

    Tried, not predicted from permission bits (root ignores them; a read-only mount does not): the
    missing directories are created, a probe file is created and removed in root, and the directories
    this made are removed again, so a check before a run that never starts leaves nothing behind."""
    existing = root
    created: list[Path] = []  # deepest first
    while not existing.exists() and not existing.is_symlink() and existing != existing.parent:
        created.append(existing)
        existing = existing.parent
    if not existing.is_dir():
        if existing.is_symlink() and not existing.exists():
            return _("{path} is a link to nothing").format(path=existing)
        if existing.is_file():
            return _("{path} is a file, not a directory").format(path=existing)
        return _("{path} is not a directory").format(path=existing)
    try:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                return _("{path} is not writable").format(path=existing)
            return _("{path} cannot be created ({reason})").format(path=root, reason=exc.strerror)
        try:
            fd, probe = tempfile.mkstemp(prefix=".nnplay-probe-", dir=root)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                return _("{path} is not writable").format(path=root)
            return _("{path} cannot hold files ({reason})").format(path=root, reason=exc.strerror)
    finally:
        for directory in created:
            try:
                directory.rmdir()
            except OSError:
                break  # not made here after all, or no longer empty: leave it
    return None


def writable_runs_root(root: str | Path | None = None) -> Path:
    """runs_root(root), checked to hold new runs before anything starts (and before torch is imported);
    RunStoreError says in one sentence what is wrong: '--runs /etc/passwd/x: /etc/passwd is a file, not a
    directory'."""
    path = runs_root(root)
    problem = why_not_writable(path)
    if problem is not None:
        raise RunStoreError(f"{_where_from(root)}: {problem}")
    return path


def write_json_atomic(path: Path, data: Any, durable: bool = True) -> None:
    """Write JSON so that a reader sees the old file or the new one, never half of one; durable: on the disk
    (fsync) before it replaces the old one, which a file that can be rebuilt does without."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(finite(data), f, indent=2, allow_nan=False, default=str)
            f.flush()
            if durable:
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
    """The writing side of one run directory, owned by the engine process. `durable`: its status and summary
    reach the disk (fsync) before they replace the old ones; a batched sweep's members, dozens of runs ended
    at once whose sweep records the same results durably, write theirs without."""

    def __init__(self, path: Path, config_toml: str, durable: bool = True) -> None:
        self.path = path
        self.durable = durable
        path.mkdir(parents=True, exist_ok=False)
        (path / "config.toml").write_text(config_toml, encoding="utf-8")
        self.events: IO[str] = open(path / "events.jsonl", "a", encoding="utf-8")
        self.set_status("running")

    @classmethod
    def create(cls, root: Path, name: str, config_toml: str, durable: bool = True) -> RunWriter:
        """A new run directory named <date>-<time>-<name>, unique under root. RunStoreError, in one
        sentence, when root cannot hold it (a run started after the check, on a directory that changed)."""
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        try:
            root.mkdir(parents=True, exist_ok=True)
            for n in range(1000):
                candidate = root / (f"{stamp}-{slug}" + (f"-{n}" if n else ""))
                try:
                    return cls(candidate, config_toml, durable)
                except FileExistsError:
                    continue
        except OSError as exc:
            why = why_not_writable(root) or f"{exc.filename or root}: {exc.strerror or exc}"
            raise RunStoreError(_("no run directory can be made in {root}: {why}").format(root=root, why=why)) from exc
        raise FileExistsError(_("cannot create a run directory under {root}").format(root=root))

    def set_status(self, status: str, reason: str | None = None, listing: dict | None = None) -> None:
        """status.json, replaced whole; on a full disk (no room for the new copy) rewritten in place, which
        needs no new space, so that the run's end is still recorded (without its listing: readers then
        read the summary)."""
        data = {"status": status, "pid": os.getpid(), "host": socket.gethostname(), "updated": time.time()}
        if reason:
            data["reason"] = reason
        path = self.path / "status.json"
        try:
            write_json_atomic(path, data | ({"listing": listing} if listing else {}), self.durable)
        except OSError:
            with open(path, "r+", encoding="utf-8") as f:  # raises again when even that is impossible
                f.write(json.dumps(data))
                f.truncate()

    def record(self, status: str, summary: dict) -> None:
        """Write the summary, then the final status with the run's listing (before `done` is sent, so a
        reader of `done` finds them). A failed run gets no listing: what a listing shows of it is rebuilt
        from its events, not read from its summary."""
        path = self.path / "summary.json"
        write_json_atomic(path, summary, self.durable)
        listing = None
        if summary.get("status") != "failed":
            listing = listing_of(summary, {"summary.json": path.stat().st_size})
        self.set_status(status, listing=listing)

    def close(self) -> None:
        """Close events.jsonl."""
        self.events.close()

    def finish(self, status: str, summary: dict) -> None:
        """Record the run's end (status and summary) and close its events."""
        self.record(status, summary)
        self.close()


class RunRecord:
    """What a finished, stopped or crashed run left behind.

    Its config and events are read when first asked for: a listing of finished runs needs only their
    status and summary, and events.jsonl is by far the largest file of a run."""

    def __init__(
        self,
        path: Path,
        status: str,
        config_toml: str | None = None,
        events: list[dict] | None = None,
        summary: dict | None = None,
    ) -> None:
        self.path = path
        self.status = status
        self.summary = summary
        self._config_toml = config_toml
        self._events = events
        self._config: dict | None = None

    @property
    def id(self) -> str:
        """The run's id: its directory's name."""
        return self.path.name

    @property
    def config_toml(self) -> str:
        """The resolved config as written; UnreadableRun when it is not UTF-8 text."""
        if self._config_toml is None:
            self._config_toml = _read_text(self.path, "config.toml")
        return self._config_toml

    @property
    def config(self) -> dict:
        """The resolved config as a dict, parsed once ({} when config.toml is not TOML)."""
        if self._config is None:
            try:
                self._config = tomllib.loads(self.config_toml)
            except tomllib.TOMLDecodeError:
                self._config = {}
        return self._config

    @property
    def events(self) -> list[dict]:
        """Every complete event of events.jsonl, read once."""
        if self._events is None:
            self._events = read_events(self.path / "events.jsonl")
        return self._events

    def of_type(self, type_: str) -> list[dict]:
        """The events of one type, in order."""
        return [e for e in self.events if e.get("type") == type_]

    @property
    def epochs(self) -> list[dict]:
        """The run's epoch events, in order."""
        return self.of_type("epoch")

    def last(self, type_: str) -> dict | None:
        """The last event of a type, or None when there is none."""
        found = self.of_type(type_)
        return found[-1] if found else None


def read_events(path: Path) -> list[dict]:
    """Every complete event line; a line cut short by a kill, or any other line that is not a JSON
    object, is skipped."""
    events = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    obj = json.loads(line)
                except (ValueError, RecursionError):  # RecursionError: garbage nested thousands deep
                    continue
                if isinstance(obj, dict):
                    events.append(obj)
    except FileNotFoundError:
        pass
    return events


# What a JSON value is, in words (shown through `_`).
JSON_KINDS = {
    list: N_("an array"),
    str: N_("a string"),
    int: N_("a number"),
    float: N_("a number"),
    bool: N_("true or false"),
}


def _read_text(path: Path, name: str) -> str:
    """A run's file as text, its line ends made "\n" as Path.read_text makes them. Read without a Python
    file object, which costs as much as the reading of a small file: a listing reads one of each run."""
    try:
        fd = os.open(f"{path}{os.sep}{name}", os.O_RDONLY)
        try:
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(fd)
        text = b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableRun(path, _("{name} is not UTF-8 text").format(name=name)) from None
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnreadableRun(
            path, _("{name} cannot be read ({reason})").format(name=name, reason=exc.strerror)
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _read_object(path: Path, name: str) -> dict | None:
    """A run's JSON file as a dict; None when it is missing; UnreadableRun when it is damaged."""
    try:
        text = _read_text(path, name)
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = _("{name} is not JSON ({error} at line {line}, column {column})").format(
            name=name, error=exc.msg, line=exc.lineno, column=exc.colno
        )
        raise UnreadableRun(path, reason) from None
    except RecursionError:
        raise UnreadableRun(path, _("{name} is not JSON (nested too deep)").format(name=name)) from None
    if not isinstance(data, dict):
        if data is None:
            kind = "null"
        else:
            kind = _(JSON_KINDS[type(data)]) if type(data) in JSON_KINDS else type(data).__name__
        raise UnreadableRun(path, _("{name} holds {kind}, not a JSON object").format(name=name, kind=kind))
    return data


def _status_of(info: dict | None) -> str:
    """The status a status.json records; a run whose process is gone without finishing reads as crashed."""
    if info is None:
        return "crashed"
    status = info.get("status", "crashed")
    if not isinstance(status, str):
        return "crashed"
    if status == "running" and info.get("host") == socket.gethostname():
        pid = info.get("pid")
        # A pid of 0 or below would ask about a whole process group (kill(-1, 0) about every process).
        if not isinstance(pid, int) or pid <= 0 or not _process_alive(pid):
            return "crashed"
    return status


def read_status(path: Path) -> str:
    """The run's status; a run whose process is gone without finishing reads as crashed. UnreadableRun
    when status.json is damaged."""
    return _status_of(_read_object(path, "status.json"))


# What a row of a listing shows of a run besides its id and status (`nnplay runs`, the app's runs screen):
# these keys of its summary, as summary.json holds them or as they are rebuilt from its events.
LISTING_KEYS = (
    "name",
    "task",
    "dataset",
    "architecture",
    "started",
    "duration_s",
    "epochs_run",
    "best_epoch",
    "best_val_loss",
    "test",
    "verdict",
)
# The files a listing can be made from; its `sources` give the size of each as it was then (null: absent).
LISTING_SOURCES = ("summary.json", "config.toml", "events.jsonl")
# The kind of each value of a listing as JSON gives it back (a key left out counts as null).
_NULL, _NUMBER = type(None), {int, float}
_LISTING_KINDS: dict[str, set[type]] = {
    "name": {str},
    "task": {str, _NULL},
    "dataset": {str, _NULL},
    "architecture": {str, _NULL},
    "started": {*_NUMBER, _NULL},
    "duration_s": {*_NUMBER, _NULL},
    "epochs_run": {int},
    "best_epoch": {int, _NULL},
    "best_val_loss": {*_NUMBER, _NULL},
    "test": {dict, _NULL},  # metric: number or null
    "verdict": {str, _NULL},
    "members": {int, _NULL},
}


def listing_of(summary: dict, sources: dict[str, int | None]) -> dict:
    """A run's listing: the LISTING_KEYS of its summary, how many members it has when it is a sweep
    (sweep_size), and the size of each file it was made from."""
    listing = {key: summary.get(key) for key in LISTING_KEYS}
    return listing | {"members": sweep_size(summary), "sources": sources}


def _usable_listing(listing: Any) -> bool:
    """Whether a listing is one this version writes, each value of its kind. A damaged or hand-edited one
    is not used: the run is then read from its other files."""
    if type(listing) is not dict:
        return False
    for key, kinds in _LISTING_KINDS.items():
        if type(listing.get(key)) not in kinds:
            return False
    sources = listing.get("sources")
    return (
        all(type(value) in (int, float, _NULL) for value in (listing.get("test") or {}).values())
        and type(sources) is dict
        and bool(sources)
        and all(name in LISTING_SOURCES and type(size) in (int, _NULL) for name, size in sources.items())
    )


def _file_size(path: str) -> int | None:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return None


def _sources_unchanged(path: Path, sources: dict[str, int | None]) -> bool:
    """Whether the files a listing was made from are still there (or still absent) with the same sizes: a
    summary.json replaced or cut short, or events appended, make it stale."""
    for name, size in sources.items():
        try:
            if os.stat(f"{path}{os.sep}{name}").st_size != size:
                return False
        except FileNotFoundError:
            if size is not None:
                return False
        except OSError:  # cannot even be looked at: reading the files says why
            return False
    return True


def read_listing(path: Path) -> tuple[str, dict | None]:
    """A run's status and its listing, read from status.json alone (the files the listing was made from are
    only looked at, for their sizes). The listing is None when the run has none (it is running, or was
    written before listings, or ended without a summary) or one that no longer matches its files: the run
    is then read as load_run reads it. UnreadableRun when status.json is damaged."""
    info = _read_object(path, "status.json")
    listing: Any = (info or {}).get("listing")
    if not _usable_listing(listing) or not _sources_unchanged(path, listing["sources"]):
        listing = None
    return _status_of(info), listing


def record_crash(path: Path, summary: dict) -> bool:
    """Record a run whose process is gone without finishing as crashed, with its listing made from summary
    (as rebuilt from its events), so that later listings read it from status.json alone. Only a run whose
    status.json still says running, on this host, of a process that is gone. Best effort: a run that cannot
    be written to (a copy on a read-only disk) is read from its events each time. Whether it was recorded."""
    try:
        info = _read_object(path, "status.json")
    except (UnreadableRun, OSError):
        return False
    if info is None or info.get("status") != "running" or _status_of(info) != "crashed":
        return False
    try:
        sources = {name: _file_size(os.path.join(path, name)) for name in LISTING_SOURCES}
        crashed = info | {"status": "crashed", "listing": listing_of(summary, sources)}
        write_json_atomic(path / "status.json", crashed, durable=False)  # lost, it is only rebuilt again
    except OSError:
        return False
    return True


def load_run(path: Path) -> RunRecord:
    """Read a run directory: its status and summary now, its config and events when first used.
    FileNotFoundError when it is not a run; UnreadableRun, naming the file and what is wrong with it,
    when its status or summary (now) or its config (when used) is damaged."""
    if not (path / "config.toml").is_file():
        raise FileNotFoundError(_("{path} is not a run directory (no config.toml)").format(path=path))
    return RunRecord(path=path, status=read_status(path), summary=_read_object(path, "summary.json"))


def list_runs(root: Path) -> list[Path]:
    """Run directories under root, newest first."""
    if not root.is_dir():
        return []
    runs = (p for p in root.iterdir() if os.path.isfile(f"{p}{os.sep}config.toml"))
    return sorted(runs, key=lambda p: p.name, reverse=True)


def find_run(root: Path, ref: str) -> Path:
    """A run by path, exact id, unique id prefix or suffix, or 'last'; a sweep's member as SWEEP/K, SWEEP any of
    these and K the member's index."""
    direct = Path(ref)
    if (direct / "config.toml").is_file():
        return direct
    sweep_ref, slash, index = ref.rpartition("/")
    if slash and sweep_ref and index.isdigit():
        try:
            sweep = find_run(root, sweep_ref)
        except FileNotFoundError:
            sweep = None  # not a member either: said of the whole reference below
        if sweep is not None:
            return find_member(sweep, int(index))
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
        raise FileNotFoundError(
            _("no run {ref} under {root}/; `nnplay runs` lists them").format(ref=repr(ref), root=root)
        )
    raise FileNotFoundError(
        _("{ref} matches {count} runs under {root}/; give more of the name").format(
            ref=repr(ref), count=len(matches), root=root
        )
    )


# A sweep's members are runs of their own, in <sweep>/members/<date>-<time>-<sweep name>-<k>/.
MEMBERS_DIR = "members"


def sweep_size(summary: dict) -> int | None:
    """How many members a run has when it is a sweep, None when it is a single run: from its listing's
    `members` (a count), its summary's `members` (their rows), or, for a sweep still running or crashed, its
    plan's `sweep`."""
    members = summary.get("members")
    if type(members) is int:
        return members
    if isinstance(members, list):
        return len(members)
    plan = summary.get("plan")
    sweep = plan.get("sweep") if isinstance(plan, dict) else None
    count = sweep.get("members") if isinstance(sweep, dict) else None
    return count if type(count) is int else None


def listed_sweep_size(path: Path, listed: dict) -> int | None:
    """sweep_size of what a listing shows of the run at `path`; a listing written before listings counted
    members says nothing of them, so the run's members/ is looked for then (one more file looked at)."""
    if "members" not in listed and os.path.isdir(f"{path}{os.sep}{MEMBERS_DIR}"):
        return member_count(path) or None
    return sweep_size(listed)


def sweep_of(path: Path) -> Path | None:
    """The sweep whose member the run at `path` is (`<sweep>/members/<member>`), or None for a run of its own."""
    parent = path.parent
    if parent.name == MEMBERS_DIR and (parent.parent / "config.toml").is_file():
        return parent.parent
    return None


def _config_name(path: Path) -> str | None:
    """A run's name as its config.toml gives it (the first line a config writes), without reading it all."""
    try:
        text = _read_text(path, "config.toml")
    except (OSError, RunStoreError):
        return None
    found = re.search(r"^name\s*=.*$", text, re.MULTILINE)
    if found is None:
        return None
    try:
        name = tomllib.loads(found.group(0)).get("name")
    except tomllib.TOMLDecodeError:
        return None
    return name if isinstance(name, str) else None


def _sweep_summary(sweep: Path) -> dict:
    """The sweep's summary.json ({} while it runs, or when it cannot be read)."""
    try:
        return _read_object(sweep, "summary.json") or {}
    except (OSError, RunStoreError):
        return {}


def _result_rows(summary: dict) -> dict[int, dict]:
    """A sweep summary's rows of its members' results, by member index."""
    rows = summary.get("members")
    if not isinstance(rows, list):
        return {}
    results = {}
    for k, row in enumerate(rows):
        if isinstance(row, dict):
            index = row.get("member", k)
            results[index if type(index) is int else k] = row
    return results


def member_dirs(sweep: Path, summary: dict | None = None) -> dict[int, Path]:
    """The run directory of each member of a sweep by its index: as the sweep's summary names it (its
    `run_dir`, taken from under the sweep's members/ by its name, wherever the engine ran), and for members it
    does not name (a sweep still running, or one that crashed) found by its config's name, `<sweep name>-<k>`.
    A member that never began has none. `summary`: the sweep's, when it has been read already."""
    folder = sweep / MEMBERS_DIR
    found: dict[int, Path] = {}
    rows = _result_rows(_sweep_summary(sweep) if summary is None else summary)
    for index, row in rows.items():
        run_dir = row.get("run_dir")
        if not isinstance(run_dir, str) or not run_dir:
            continue
        for candidate in (folder / Path(run_dir).name, Path(run_dir)):
            if (candidate / "config.toml").is_file():
                found[index] = candidate
                break
    try:
        others = [p for p in folder.iterdir() if p not in found.values() and (p / "config.toml").is_file()]
    except OSError:  # no members/: a single run, or a sweep recorded before its members were runs
        others = []
    if others:
        sweep_name = _config_name(sweep)
        for path in sorted(others):
            name = _config_name(path)
            if sweep_name is None or name is None or not name.startswith(f"{sweep_name}-"):
                continue
            index_text = name[len(sweep_name) + 1 :]
            if index_text.isdigit() and int(index_text) not in found:
                found[int(index_text)] = path
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class SweepMember:
    """One member of a recorded sweep: its index, its label ("lr=0.01, batch_size=64"; None when the sweep
    recorded none), its run directory (None when it has none), its row of the sweep's results (empty while
    the sweep runs), and whether the sweep chose it as its best."""

    index: int
    label: str | None
    path: Path | None
    result: dict
    best: bool


def sweep_members(sweep: Path) -> list[SweepMember]:
    """Every member of the sweep at `sweep`, in member order ([] for a single run): its label and result
    from the sweep's summary, or while it runs (or after a crash) its label from its plan."""
    summary = _sweep_summary(sweep)
    results = _result_rows(summary)
    dirs = member_dirs(sweep, summary)
    labels: list = []
    count = max(results, default=-1) + 1
    if not results:
        plan = next((e for e in read_events(sweep / "events.jsonl") if e.get("type") == "plan"), None) or {}
        planned = plan.get("sweep")
        planned_labels = planned.get("labels") if isinstance(planned, dict) else None
        labels = planned_labels if isinstance(planned_labels, list) else []
        count = sweep_size({"plan": plan}) or 0
    count = max(count, max(dirs, default=-1) + 1)
    best = summary.get("best_member")
    members = []
    for k in range(count):
        result = results.get(k, {})
        label = result.get("label") if isinstance(result.get("label"), str) else None
        if label is None and k < len(labels) and isinstance(labels[k], str):
            label = labels[k]
        members.append(SweepMember(k, label, dirs.get(k), result, best == k and type(best) is int))
    return members


def members_of(sweep: Path) -> list[Path]:
    """The run directories of a sweep's members, in member order ([] for a single run)."""
    return list(member_dirs(sweep).values())


def member_count(sweep: Path) -> int:
    """How many members a sweep has (0 for a single run): as its summary or its plan says, and at least as
    many as have a directory."""
    return len(sweep_members(sweep))


def find_member(sweep: Path, index: int) -> Path:
    """Member `index` of the sweep at `sweep`; FileNotFoundError, in one sentence, when the run is no sweep,
    has no such member, or the member has no run directory."""
    members = sweep_members(sweep)
    path = members[index].path if index < len(members) else None
    if path is not None:
        return path
    count = len(members)
    if count == 0:
        raise FileNotFoundError(
            _("{run} is not a sweep, so it has no member {member}; `nnplay runs` lists the runs").format(
                run=sweep.name, member=index
            )
        )
    if index >= count:
        raise FileNotFoundError(
            _("sweep {sweep} has no member {member}; allowed: 0 to {last} ({count} members)").format(
                sweep=sweep.name, member=index, last=count - 1, count=count
            )
        )
    raise FileNotFoundError(
        _(
            "member {member} of sweep {sweep} has no run directory: it never started, or the sweep was "
            "recorded before its members were kept as runs"
        ).format(member=index, sweep=sweep.name)
    )
