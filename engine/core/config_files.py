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
    ConfigError,
    ExperimentConfig,
    Section,
    allowed_range,
    as_typed,
    nested_too_deeply,
    nesting_error,
    quoted,
    validate,
)
from nnplay.engine.core.i18n import _
from nnplay.presets import LESSON_TABLE


def parse_override(assignment: str) -> tuple[list[str], Any]:
    """Split `a.b=value` into (["a", "b"], value), reading the value as a TOML value when it is one."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            _("--set {assignment} is not of the form section.key=value").format(assignment=quoted(assignment))
        )
    path, raw = key.strip().split("."), raw.strip()
    setting = as_typed(key.strip())
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    except RecursionError:
        raise ConfigError(nested_too_deeply(setting)) from None
    except ValueError:  # tomllib's only other error: an integer of more digits than Python converts
        digits = max((len(run.replace("_", "")) for run in re.findall(r"[0-9_]+", raw)), default=0)
        allowed = allowed_range(path) or _("numbers of at most {limit} digits").format(
            limit=sys.get_int_max_str_digits()
        )
        raise ConfigError(
            _("{setting} = {value} is a number of {digits} digits, out of range; allowed: {allowed}").format(
                setting=setting, value=as_typed(raw), digits=digits, allowed=allowed
            )
        ) from None
    if nesting_error(value) is not None:
        raise ConfigError(nested_too_deeply(setting))
    return path, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `a.b=value` overrides to nested plain data (a copy is returned)."""
    where = nesting_error(data)
    if where is not None:  # before the copy, which would run out of stack
        raise ConfigError(nested_too_deeply(where))
    result = copy.deepcopy(data)
    for assignment in overrides:
        path, value = parse_override(assignment)
        node = result
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(
                    _("--set {assignment}: {key} is a value, not a section").format(
                        assignment=quoted(assignment), key=as_typed(part)
                    )
                )
            node = child
        node[path[-1]] = value
    return result


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file (a UTF-8 byte-order mark is allowed), turning every failure into ConfigError."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: editors on Windows start files with a BOM
    except FileNotFoundError:
        raise ConfigError(_("{path} does not exist").format(path=path)) from None
    except OSError as exc:
        raise ConfigError(_("{path} cannot be read: {reason}").format(path=path, reason=exc.strerror or exc)) from None
    except UnicodeDecodeError:
        raise ConfigError(_("{path} is not a UTF-8 text file").format(path=path)) from None
    except ValueError:  # a path Python refuses outright (a NUL byte in it)
        raise ConfigError(_("{path} is not a file name").format(path=quoted(str(path)))) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_("{path} is not valid TOML: {error}").format(path=path, error=exc)) from None
    except RecursionError:
        raise ConfigError(nested_too_deeply(str(path))) from None
    except ValueError:  # tomllib's only other error: an integer of more digits than Python converts
        limit = sys.get_int_max_str_digits()
        found = re.search(rf"[0-9_]{{{limit + 1},}}", text)
        if found:
            message = _(
                "{path} holds a number of more than {limit} digits on line {line}; "
                "allowed: numbers of at most {limit} digits"
            )
        else:
            message = _("{path} holds a number of more than {limit} digits; allowed: numbers of at most {limit} digits")
        line = text.count(chr(10), 0, found.start()) + 1 if found else 0
        raise ConfigError(message.format(path=path, limit=limit, line=line)) from None
    where = nesting_error(data)
    if where is not None:
        raise ConfigError(f"{path}: {nested_too_deeply(where)}")
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
