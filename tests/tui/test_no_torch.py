"""The seam between the two sides: the terminal side never loads torch, the engine never loads Textual.

Each check runs in a fresh interpreter, since this test process has long since imported both.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

TERMINAL_SIDE = [
    "tui.cli",
    "tui.report",
    "tui.live",
    "tui.charts",
    "engine.config",
    "engine.events",
    "engine.runs",
    "engine.data.catalog",
    "presets",
]


def loaded_after_import(modules: list[str], watched: tuple[str, ...]) -> list[str]:
    """Top-level packages among `watched` that importing `modules` pulls into a fresh interpreter."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(watched)!r}))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_terminal_side_never_imports_torch_or_sklearn():
    assert loaded_after_import(TERMINAL_SIDE, ("torch", "sklearn", "json")) == ["json"]


def test_every_tui_module_stays_free_of_torch():
    modules = sorted(f"tui.{p.stem}" for p in (REPO_ROOT / "tui").glob("*.py") if p.stem != "__init__")
    assert "tui.cli" in modules
    assert loaded_after_import(modules, ("torch", "sklearn")) == []


def test_engine_never_imports_textual():
    loaded = loaded_after_import(["engine.experiment", "engine.serve", "engine.__main__"], ("textual", "tui", "torch"))
    assert loaded == ["torch"]  # the engine did load; the terminal side did not come with it
