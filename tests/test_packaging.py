"""The built wheel installs one top-level package, `nnplay`, and works from a fresh virtual
environment: `nnplay presets` lists the course and a one-epoch run trains and is recorded.

The fresh environment gets the wheel only; its dependencies (torch, numpy, ...) come from this
test's environment through a path file, so nothing large is installed twice. The check runs in
a folder outside the repository, so nothing can be imported from the checkout by accident.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["pyproject.toml", "README.md", "engine", "tui", "presets"]


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of its sources (the build leaves nothing in the checkout)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)], cwd=out)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-3000:]
    (path,) = out.glob("nnplay-*.whl")
    return path


def test_the_wheel_holds_one_top_level_package_with_every_module_and_data_file(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"nnplay", wheel.name.split("-py3")[0] + ".dist-info"}
    packaged = {name for name in names if name.endswith((".py", ".toml", ".tcss", ".md", ".po"))}
    for folder in ("engine", "tui", "presets"):
        for path in (REPO_ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".toml", ".tcss", ".md", ".po") and "__pycache__" not in path.parts:
                assert f"nnplay/{path.relative_to(REPO_ROOT).as_posix()}" in packaged


def test_the_installed_wheel_runs_from_a_fresh_environment(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    installed = run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)], cwd=tmp_path
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    fresh_site = Path(
        run([str(python), "-c", "import site; print(site.getsitepackages()[0])"], cwd=tmp_path).stdout.strip()
    )
    # the dependencies, from here (a plain path entry: this environment's own nnplay, an editable
    # install's import hook, is not carried over)
    (fresh_site / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")

    where = tmp_path / "elsewhere"
    where.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NNPLAY_RUNS", "NNPLAY_PRESETS")}
    probe = run(
        [
            str(python),
            "-c",
            "import importlib.util, json, nnplay.engine, nnplay.tui.cli; "
            "print(json.dumps([nnplay.engine.__file__, [importlib.util.find_spec(n) is None "
            "for n in ('engine', 'tui', 'presets')]]))",
        ],
        cwd=where,
        env=env,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    engine_file, absent = json.loads(probe.stdout)
    assert Path(engine_file).is_relative_to(fresh_site)
    assert absent == [True, True, True]  # no top-level engine, tui or presets beside other packages

    nnplay = str(env_dir / "bin" / "nnplay")
    listed = run([nnplay, "presets"], cwd=where, env=env)
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "batch-math" in listed.stdout

    runs = tmp_path / "runs"
    trained = run([nnplay, "--runs", str(runs), "run", "batch-math", "--set", "training.epochs=1"], cwd=where, env=env)
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-3000:]
    (run_dir,) = [path for path in runs.iterdir() if path.is_dir()]
    status = json.loads((run_dir / "status.json").read_text(encoding="utf-8"))
    assert status["status"] == "completed"
    epochs = [json.loads(line) for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [event["epoch"] for event in epochs if event.get("type") == "epoch"] == [1]
