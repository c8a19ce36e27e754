"""`nnplay --runs DIR` (or $NNPLAY_RUNS) that cannot hold runs: the commands that start runs (run, lesson,
the app) refuse it in one sentence, exit code 2, before anything starts and before torch is imported;
the commands that only read runs (runs, show) treat a missing directory as an empty store, as before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def nnplay(*argv: str, env: dict | None = None) -> tuple[int, str, str, bool]:
    """`nnplay ARGV` in a fresh interpreter: exit code, stdout, stderr, and whether torch was imported."""
    snippet = (
        "import json, sys\n"
        "from nnplay.tui.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "sys.stdout.flush()\n"
        "print('\\n' + json.dumps({'code': code, 'torch': 'torch' in sys.modules}))\n"
    )
    environment = {k: v for k, v in os.environ.items() if k != "NNPLAY_RUNS"} | {"COLUMNS": "200"} | (env or {})
    done = subprocess.run(
        [sys.executable, "-c", snippet, *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environment,
        timeout=120,
    )
    out, _, last = done.stdout.rstrip("\n").rpartition("\n")
    result = json.loads(last)
    return result["code"], out, done.stderr, result["torch"]


@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("not a directory\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["run", "batch-math"], ["lesson", "batch-math"]])
def test_a_runs_directory_under_a_file_is_one_sentence_before_anything_starts(a_file, command):
    code, out, err, torch_loaded = nnplay("--runs", str(a_file / "x"), *command)
    assert code == 2
    assert err.strip() == f"error: --runs {a_file / 'x'}: {a_file} is a file, not a directory"
    assert "Traceback" not in err and out.strip() == ""  # no plan, no lesson panel: nothing started
    assert not torch_loaded


def test_the_runs_option_after_the_command_is_checked_too(a_file):
    code, _, err, _ = nnplay("run", "batch-math", "--runs", str(a_file))
    assert code == 2 and err.strip() == f"error: --runs {a_file}: {a_file} is a file, not a directory"


def test_nnplay_runs_in_the_environment_is_checked_and_named(a_file):
    code, _, err, torch_loaded = nnplay("run", "batch-math", env={"NNPLAY_RUNS": str(a_file / "runs")})
    assert code == 2 and not torch_loaded
    assert err.strip() == f"error: $NNPLAY_RUNS={a_file / 'runs'}: {a_file} is a file, not a directory"


def test_the_app_is_not_opened_on_a_runs_directory_it_could_not_write(a_file):
    code, _, err, _ = nnplay("--runs", str(a_file / "x"))
    assert code == 2 and err.strip() == f"error: --runs {a_file / 'x'}: {a_file} is a file, not a directory"


def test_a_run_checks_a_missing_runs_directory_without_leaving_it_behind(tmp_path):
    # A config error after the check: nothing started, and the directory the check tried is gone again.
    code, _, err, _ = nnplay("run", "batch-math", "--set", "training.epochs=0", "--runs", str(tmp_path / "a" / "runs"))
    assert code == 2 and "training.epochs" in err
    assert list(tmp_path.iterdir()) == []


def test_reading_commands_on_a_missing_runs_directory_work_as_before(tmp_path, a_file):
    for missing in (tmp_path / "none", a_file / "x"):
        code, out, err, _ = nnplay("runs", "--runs", str(missing))
        assert code == 0, err
        assert out.startswith(f"No runs under {missing}/ yet")
        code, _, err, _ = nnplay("show", "last", "--runs", str(missing))
        assert code == 2 and "Traceback" not in err and "no run 'last'" in err
    assert not (tmp_path / "none").exists()  # reading creates nothing
