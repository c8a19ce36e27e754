"""The engine, the app and the presets type-check: mypy, with pyproject's [tool.mypy], finds no error
in any of their modules.

The package `nnplay` is mapped from the repository's root (pyproject's package-dir), a mapping that mypy
cannot follow, so mypy runs from a scratch folder in which `nnplay` is a link to the repository. Run this
file directly (`python tests/test_types.py`) to see mypy's whole report.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "tui", "presets")


def run_mypy(scratch: Path) -> subprocess.CompletedProcess[str]:
    """mypy over the packages that pyproject names, from `scratch`, where `nnplay` links to the repository."""
    link = scratch / "nnplay"
    if not link.exists():
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    command = [sys.executable, "-m", "mypy", "--config-file", str(REPO_ROOT / "pyproject.toml")]
    command += ["--cache-dir", str(REPO_ROOT / ".mypy_cache")]  # kept between runs: a second run takes seconds
    return subprocess.run(command, cwd=scratch, capture_output=True, text=True, timeout=900)


def test_mypy_finds_no_errors(tmp_path: Path) -> None:
    result = run_mypy(tmp_path)
    report = result.stdout + result.stderr
    tail = "\n".join(report.splitlines()[-80:])
    assert result.returncode == 0, f"mypy found errors (exit {result.returncode}):\n{tail}"
    # Every module was checked, not only those mypy happened to find.
    modules = sum(1 for package in PACKAGES for _ in (REPO_ROOT / package).rglob("*.py"))
    assert f"Success: no issues found in {modules} source files" in report, f"expected {modules} modules:\n{report}"


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        result = run_mypy(Path(scratch))
    print(result.stdout + result.stderr, end="")
    sys.exit(result.returncode)
