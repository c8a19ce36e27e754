"""Configs in files and on the command line: TOML presets, `--set section.key=value` overrides,
and the README's reference of every setting, generated from the schema in engine/config.py.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from engine.config import ConfigError, ExperimentConfig, Section, validate
from presets import LESSON_TABLE


def parse_override(assignment: str) -> tuple[list[str], Any]:
    """Split `a.b=value` into (["a", "b"], value), reading the value as a TOML value when it is one."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {assignment!r} is not of the form section.key=value")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.strip().split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `a.b=value` overrides to nested plain data (a copy is returned)."""
    result = copy.deepcopy(data)
    for assignment in overrides:
        path, value = parse_override(assignment)
        node = result
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {assignment!r}: {part} is a value, not a section")
            node = child
        node[path[-1]] = value
    return result


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning syntax errors into ConfigError."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a UTF-8 text file") from None


def read_experiment(path: Path) -> dict[str, Any]:
    """A TOML experiment's settings: the file without its [lesson] table (the lesson's words, not settings)."""
    data = read_toml(path)
    data.pop(LESSON_TABLE, None)
    return data


def load(path: Path, overrides: list[str] = ()) -> ExperimentConfig:
    """Read a TOML experiment, apply overrides and validate; errors name the file."""
    data = apply_overrides(read_experiment(path), list(overrides))
    data.setdefault("name", path.stem)
    try:
        return validate(data)
    except ConfigError as exc:
        raise ConfigError(f"{path.name}: {exc}") from None


def reference_markdown() -> str:
    """The config reference for the README: every setting with its default and docstring."""
    sections = [("", ExperimentConfig)] + [
        (name, field.annotation)
        for name, field in ExperimentConfig.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, Section)
    ]
    lines = []
    for section, model in sections:
        lines += [
            "",
            f"**[{section}]**" if section else "**top level**",
            "",
            "| setting | default | meaning |",
            "|---|---|---|",
        ]
        for name, field in model.model_fields.items():
            if isinstance(field.annotation, type) and issubclass(field.annotation, Section):
                continue
            default = field.get_default(call_default_factory=True)
            shown = "—" if default is None else json_default(default)
            doc = " ".join((field.description or "").split())
            lines.append(f"| `{name}` | `{shown}` | {doc} |")
    return "\n".join(lines[1:]) + "\n"


def json_default(value: Any) -> str:
    """A default as it is written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
