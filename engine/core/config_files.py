"""Configs in files and on the command line: TOML presets, `--set section.key=value` overrides,
and the README's reference of every setting, generated from the schema in engine/config.py.
"""

from __future__ import annotations

import copy
import re
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nnplay.engine.core.config import (
    NESTING_WORDS,
    ConfigError,
    ExperimentConfig,
    Section,
    allowed_range,
    as_typed,
    nesting_error,
    quoted,
    validate,
)
from nnplay.presets import LESSON_TABLE


def parse_override(assignment: str) -> tuple[list[str], Any]:
    """Split `a.b=value` into (["a", "b"], value), reading the value as a TOML value when it is one."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {quoted(assignment)} is not of the form section.key=value")
    path, raw = key.strip().split("."), raw.strip()
    setting = as_typed(key.strip())
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    except RecursionError:
        raise ConfigError(f"{setting} is nested too deeply; {NESTING_WORDS}") from None
    except ValueError:  # tomllib's only other error: an integer of more digits than Python converts
        digits = max((len(run.replace("_", "")) for run in re.findall(r"[0-9_]+", raw)), default=0)
        allowed = allowed_range(path) or f"numbers of at most {sys.get_int_max_str_digits()} digits"
        raise ConfigError(
            f"{setting} = {as_typed(raw)} is a number of {digits} digits, out of range; allowed: {allowed}"
        ) from None
    if nesting_error(value) is not None:
        raise ConfigError(f"{setting} is nested too deeply; {NESTING_WORDS}")
    return path, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `a.b=value` overrides to nested plain data (a copy is returned)."""
    where = nesting_error(data)
    if where is not None:  # before the copy, which would run out of stack
        raise ConfigError(f"{where} is nested too deeply; {NESTING_WORDS}")
    result = copy.deepcopy(data)
    for assignment in overrides:
        path, value = parse_override(assignment)
        node = result
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {quoted(assignment)}: {as_typed(part)} is a value, not a section")
            node = child
        node[path[-1]] = value
    return result


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file (a UTF-8 byte-order mark is allowed), turning every failure into ConfigError."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: editors on Windows start files with a BOM
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a UTF-8 text file") from None
    except ValueError:  # a path Python refuses outright (a NUL byte in it)
        raise ConfigError(f"{quoted(str(path))} is not a file name") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path} is nested too deeply; {NESTING_WORDS}") from None
    except ValueError:  # tomllib's only other error: an integer of more digits than Python converts
        limit = sys.get_int_max_str_digits()
        found = re.search(rf"[0-9_]{{{limit + 1},}}", text)
        line = f" on line {text.count(chr(10), 0, found.start()) + 1}" if found else ""
        raise ConfigError(
            f"{path} holds a number of more than {limit} digits{line}; allowed: numbers of at most {limit} digits"
        ) from None
    where = nesting_error(data)
    if where is not None:
        raise ConfigError(f"{path}: {where} is nested too deeply; {NESTING_WORDS}")
    return data


def read_experiment(path: Path) -> dict[str, Any]:
    """A TOML experiment's settings: the file without its [lesson] table (the lesson's words, not settings)."""
    data = read_toml(path)
    data.pop(LESSON_TABLE, None)
    return data


def load(path: Path, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Read a TOML experiment, apply overrides and validate; errors name the file."""
    data = apply_overrides(read_experiment(path), list(overrides))
    data.setdefault("name", path.stem)
    try:
        return validate(data)
    except ConfigError as exc:
        raise exc.within(path.name) from None


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
