"""The run store when its directory or its files are not what they should be.

A runs directory that cannot hold runs (a file, a path under a file, read-only) is refused in one
sentence naming the path, before anything starts and before torch loads, by `python -m nnplay.engine` and
`python -m nnplay.engine serve` alike. A run whose files are damaged says which file and what is wrong with
it; its events' garbage lines are skipped."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from nnplay.engine.core.runs import RunStoreError, RunWriter, UnreadableRun, load_run, read_events, writable_runs_root

REPO = Path(__file__).resolve().parents[2]
PRESET = REPO / "presets" / "batch-math.toml"


@pytest.fixture
def no_env_runs(monkeypatch):
    monkeypatch.delenv("NNPLAY_RUNS", raising=False)


@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("not a directory\n", encoding="utf-8")
    return path


# --- the runs directory -------------------------------------------------------------------------


def test_a_runs_directory_under_a_file_is_refused_naming_the_file(a_file, no_env_runs):
    with pytest.raises(RunStoreError) as caught:
        writable_runs_root(a_file / "runs")
    assert str(caught.value) == f"--runs {a_file / 'runs'}: {a_file} is a file, not a directory"


def test_a_file_as_the_runs_directory_is_refused(a_file, no_env_runs):
    with pytest.raises(RunStoreError, match="is a file, not a directory"):
        writable_runs_root(a_file)


def test_nnplay_runs_in_the_environment_is_named_as_such(a_file, monkeypatch):
    monkeypatch.setenv("NNPLAY_RUNS", str(a_file / "x"))
    with pytest.raises(RunStoreError) as caught:
        writable_runs_root(None)
    assert str(caught.value) == f"$NNPLAY_RUNS={a_file / 'x'}: {a_file} is a file, not a directory"


def test_the_default_runs_directory_is_named_as_such(tmp_path, monkeypatch, no_env_runs):
    monkeypatch.chdir(tmp_path)
    Path("runs").write_text("a file where ./runs should be\n", encoding="utf-8")
    with pytest.raises(RunStoreError, match=r"^the runs directory runs/: runs is a file, not a directory$"):
        writable_runs_root(None)


def test_a_missing_runs_directory_passes_and_is_not_left_behind(tmp_path, no_env_runs):
    root = tmp_path / "a" / "b" / "runs"
    assert writable_runs_root(root) == root
    assert list(tmp_path.iterdir()) == []  # the directories it made to try, and its probe file, are gone


def test_an_existing_runs_directory_passes_and_gains_no_files(tmp_path, no_env_runs):
    (tmp_path / "20250101-090000-run").mkdir()
    assert writable_runs_root(tmp_path) == tmp_path
    assert [p.name for p in tmp_path.iterdir()] == ["20250101-090000-run"]


def test_a_read_only_file_system_is_not_writable(tmp_path, monkeypatch, no_env_runs):
    # Root writes into a chmod 0o500 directory; a read-only mount refuses everyone. Simulated here.
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(RunStoreError) as caught:
        writable_runs_root(tmp_path)
    assert str(caught.value) == f"--runs {tmp_path}: {tmp_path} is not writable"


def test_a_directory_that_cannot_be_created_names_its_parent(tmp_path, monkeypatch, no_env_runs):
    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(RunStoreError) as caught:
        writable_runs_root(tmp_path / "runs")
    assert str(caught.value) == f"--runs {tmp_path / 'runs'}: {tmp_path} is not writable"


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root writes into a directory whatever its mode bits (the read-only file system test covers it)",
)
def test_a_directory_without_write_permission_is_not_writable(tmp_path, no_env_runs):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(RunStoreError, match="is not writable"):
            writable_runs_root(locked / "runs")
    finally:
        locked.chmod(0o700)


def test_a_run_directory_that_cannot_be_made_is_one_sentence(a_file):
    # The runs directory was fine when checked and is not when the run starts (the app's engine runs
    # for hours): the run still says what is wrong in a sentence.
    with pytest.raises(RunStoreError) as caught:
        RunWriter.create(a_file / "runs", "late", 'name = "late"\n')
    assert str(caught.value) == (
        f"no run directory can be made in {a_file / 'runs'}: {a_file} is a file, not a directory"
    )


def engine_main(*argv: str, stdin: str = "", env: dict | None = None) -> tuple[int, list[dict], bool]:
    """`python -m nnplay.engine ARGV` in a fresh interpreter: its exit code, its events, and whether torch was
    imported by the time it returned."""
    snippet = (
        "import json, sys\n"
        "from engine.__main__ import main\n"
        "code = main(sys.argv[1:])\n"
        "sys.stdout.flush()\n"
        "print(json.dumps({'code': code, 'torch': 'torch' in sys.modules}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", snippet, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    *lines, last = done.stdout.splitlines()
    result = json.loads(last)
    assert "Traceback" not in done.stderr, done.stderr
    return result["code"], [json.loads(line) for line in lines], result["torch"]


@pytest.mark.parametrize("runs", ["under-a-file", "a-file"])
def test_engine_refuses_a_bad_runs_directory_at_once(a_file, runs):
    path = a_file / "runs" if runs == "under-a-file" else a_file
    code, events, torch_loaded = engine_main(str(PRESET), "--runs", str(path))
    assert code == 2
    assert [(e["type"], e["kind"]) for e in events] == [("error", "config")]
    assert events[0]["message"] == f"--runs {path}: {a_file} is a file, not a directory"
    assert not torch_loaded  # refused before the seconds torch takes to import


def test_engine_refuses_a_bad_nnplay_runs_with_the_config_on_stdin(a_file):
    config = json.dumps({"name": "stdin-run", "data": {"dataset": "moons"}}) + "\n"
    code, events, torch_loaded = engine_main(stdin=config, env={"NNPLAY_RUNS": str(a_file / "runs")})
    assert code == 2 and not torch_loaded
    assert [e["message"] for e in events] == [f"$NNPLAY_RUNS={a_file / 'runs'}: {a_file} is a file, not a directory"]


def test_serve_refuses_a_bad_runs_directory_before_hello(a_file):
    code, events, torch_loaded = engine_main("serve", "--runs", str(a_file / "runs"))
    assert code == 2 and not torch_loaded
    assert [(e["type"], e["kind"]) for e in events] == [("error", "config")]  # no hello: no engine came up
    assert events[0]["message"] == f"--runs {a_file / 'runs'}: {a_file} is a file, not a directory"


# --- a damaged run ------------------------------------------------------------------------------


def make_run(root: Path, name: str = "20250101-090000-run", **files: bytes | str) -> Path:
    """A run directory with a good config, status and summary, and `files` put over them."""
    path = root / name
    path.mkdir(parents=True)
    contents: dict[str, bytes | str] = {
        "config.toml": f'name = "{name}"\n',
        "status.json": json.dumps({"status": "completed", "pid": 1, "host": "elsewhere", "updated": 0}),
        "summary.json": json.dumps({"status": "completed", "name": name}),
        "events.jsonl": "",
    } | {key.replace("_", "."): value for key, value in files.items()}
    for file_name, content in contents.items():
        if isinstance(content, bytes):
            (path / file_name).write_bytes(content)
        else:
            (path / file_name).write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"status": "completed", ', "summary.json is not JSON (Expecting property name enclosed in double quotes"),
        ("", "summary.json is not JSON (Expecting value at line 1, column 1)"),
        ("[1, 2]", "summary.json holds an array, not a JSON object"),
        ('"completed"', "summary.json holds a string, not a JSON object"),
        ("null", "summary.json holds null, not a JSON object"),
        (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "summary.json is not UTF-8 text"),
        ("[" * 100_000, "summary.json is not JSON"),
    ],
    ids=["cut-short", "empty", "array", "string", "null", "binary", "nested-too-deep"],
)
def test_a_damaged_summary_names_the_file_and_what_is_wrong(tmp_path, content, reason):
    run = make_run(tmp_path, summary_json=content)
    with pytest.raises(UnreadableRun) as caught:
        load_run(run)
    assert caught.value.reason.startswith(reason)
    assert str(caught.value).startswith(f"run {run} cannot be read: {reason}")
    assert isinstance(caught.value, ValueError)  # the CLI's one sentence and exit code 2


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{", "status.json is not JSON"),
        ("[]", "status.json holds an array, not a JSON object"),
        (b"\xff\x00garbage", "status.json is not UTF-8 text"),
    ],
)
def test_a_damaged_status_names_the_file(tmp_path, content, reason):
    with pytest.raises(UnreadableRun, match=reason):
        load_run(make_run(tmp_path, status_json=content))


def test_a_status_without_a_usable_pid_reads_as_crashed_not_as_an_error(tmp_path):
    host = socket.gethostname()
    for i, pid in enumerate([None, "1234", -1, 0]):
        status = {"status": "running", "host": host} | ({"pid": pid} if pid is not None else {})
        run = make_run(tmp_path, f"20250101-09000{i}-run", status_json=json.dumps(status))
        assert load_run(run).status == "crashed", pid


def test_a_config_that_is_not_utf8_is_named_when_it_is_read(tmp_path):
    run = make_run(tmp_path, config_toml=b'name = "caf\xe9"\n')
    record = load_run(run)  # the status and summary are fine: a listing shows the run
    assert record.summary == {"status": "completed", "name": run.name}
    with pytest.raises(UnreadableRun, match="config.toml is not UTF-8 text"):
        _ = record.config_toml


def test_garbage_lines_in_the_events_are_skipped(tmp_path):
    epoch = {"type": "epoch", "epoch": 1, "train_loss": 0.5, "val_loss": 0.6}
    lines = [
        b"\x00\xff\xfe binary garbage",
        json.dumps(epoch).encode(),
        b'{"type": "epoch", "epoch": 2, "train_lo',  # cut short by a kill
        b"[1, 2, 3]",
        b'"a string"',
        b"[" * 100_000,  # nested past the recursion limit
        b"",
        json.dumps(epoch | {"epoch": 3}).encode(),
    ]
    run = make_run(tmp_path, events_jsonl=b"\n".join(lines) + b"\n")
    assert [e["epoch"] for e in read_events(run / "events.jsonl")] == [1, 3]
    assert [e["epoch"] for e in load_run(run).epochs] == [1, 3]


def test_events_are_read_only_when_asked_for(tmp_path):
    # A listing of finished runs reads their status and summary, not their (large) events.
    run = make_run(tmp_path)
    (run / "events.jsonl").unlink()
    (run / "events.jsonl").mkdir()  # reading it would fail
    record = load_run(run)
    assert record.summary["name"] == run.name
    with pytest.raises(IsADirectoryError):
        _ = record.events
