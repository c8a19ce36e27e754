"""The seam between the two sides: the terminal side never loads torch, the engine never loads Textual.

Each check runs in a fresh interpreter, since this test process has long since imported both.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

PACKAGE_DIRS = {"nnplay.tui": REPO_ROOT / "tui", "nnplay.engine.core": REPO_ROOT / "engine" / "core"}


def modules_in(package: str) -> list[str]:
    """Every module of `package` and of its sub-packages, by dotted name."""
    root = PACKAGE_DIRS[package]
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join((package, *parts)))
    return names


def loaded_after_import(modules: list[str], watched: tuple[str, ...]) -> list[str]:
    """The names among `watched` (packages, by dotted prefix) that importing `modules` pulls into
    a fresh interpreter."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"watched = {list(watched)!r}\n"
        "print(json.dumps(sorted(w for w in watched if any(m == w or m.startswith(w + '.') for m in sys.modules))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_module_of_the_app_and_the_shared_core_stays_free_of_torch():
    modules = modules_in("nnplay.tui") + modules_in("nnplay.engine.core") + ["nnplay.presets"]
    assert {"nnplay.tui.cli", "nnplay.tui.screens.dashboard", "nnplay.tui.widgets.loss_chart"} <= set(modules)
    assert {"nnplay.engine.core.config", "nnplay.engine.core.runs", "nnplay.engine.core.diagnosis"} <= set(modules)
    assert loaded_after_import(modules, ("torch", "sklearn", "json")) == ["json"]


def test_the_app_imports_of_the_engine_only_its_shared_core():
    loaded = loaded_after_import(modules_in("nnplay.tui"), ("nnplay.engine",))
    assert loaded == ["nnplay.engine"]
    script_free = loaded_after_import(
        modules_in("nnplay.tui"),
        tuple(
            f"nnplay.engine.{name}"
            for name in ("experiment", "planning", "serve", "sweep", "models", "training", "data")
        ),
    )
    assert script_free == []


def test_engine_never_imports_textual():
    watched = ("textual", "nnplay.tui", "torch")  # (torch itself may load rich)
    loaded = loaded_after_import(["nnplay.engine.experiment", "nnplay.engine.serve", "nnplay.engine.__main__"], watched)
    assert loaded == ["torch"]  # the engine did load; the terminal side did not come with it
