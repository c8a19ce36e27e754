"""Preset experiments ("lessons"): TOML files beside this module, each holding only the keys it changes."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

PRESETS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    path: Path


def list_presets() -> list[Preset]:
    """Every preset, by name, with the first sentence of its description."""
    found = []
    for path in sorted(PRESETS_DIR.glob("*.toml")):
        try:
            description = str(tomllib.loads(path.read_text(encoding="utf-8")).get("description", ""))
        except tomllib.TOMLDecodeError:
            description = "(this preset is not valid TOML)"
        found.append(Preset(path.stem, " ".join(description.split()), path))
    return found


def find_preset(name_or_path: str) -> Path | None:
    """A preset by name, or a TOML file by path; None when neither exists."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return path
    candidate = PRESETS_DIR / f"{name_or_path}.toml"
    return candidate if candidate.is_file() else None
