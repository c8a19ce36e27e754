"""A sweep's members: which settings each one changes, its label, its own validated config.

Members differ in seed (`sweep.seeds`), in one regularization strength (`sweep.parameter` and
`sweep.values`), or in any settings: every combination of `sweep.grid`'s values, or `sweep.samples`
random draws from `sweep.random`'s ranges; a grid or a search is crossed with the seeds. Pure Python
(no torch): the config checks and the app use it as the engine does.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
import types
import typing
from dataclasses import dataclass
from typing import Any

from nnplay.engine.core.config import ConfigError, ExperimentConfig, Problem, Section, quoted, validate
from nnplay.engine.core.events import is_number
from nnplay.engine.core.i18n import _

SECTIONS = ("data", "model", "regularization", "optimizer", "training")
TOP_LEVEL = ("task", "loss")
# Settings a sweep cannot vary: what names the run, the sweep itself, and what a sweep already refuses.
NOT_SWEPT = ("model.init_from", "model.freeze", "data.k_folds")
# What one batched model can hold: members that differ only in these train as one (vmap).
BATCHABLE = ("training.seed", "regularization.l1", "regularization.l2", "regularization.weight_decay")


@dataclass(frozen=True)
class Member:
    """One member of a sweep: its index, its label ("lr=0.01, batch_size=64"), the settings it changes
    (dotted name -> value) and its own config, a plain single run's."""

    index: int
    label: str
    settings: dict[str, Any]
    config: ExperimentConfig


def setting_names() -> list[str]:
    """Every setting a grid or random search may vary, dotted."""
    names = list(TOP_LEVEL)
    for section in SECTIONS:
        model = ExperimentConfig.model_fields[section].annotation
        assert isinstance(model, type) and issubclass(model, Section)
        names += [f"{section}.{name}" for name in model.model_fields if f"{section}.{name}" not in NOT_SWEPT]
    return names


def is_numeric(name: str) -> bool:
    """Whether the setting holds a number (int or float), so that a random search can draw it."""
    section, _dot, field = name.rpartition(".")
    model: Any = ExperimentConfig
    if section:
        model = ExperimentConfig.model_fields[section].annotation
    annotation = model.model_fields[field].annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):  # training.batch_size: int | "full"
        return any(a in (int, float) for a in typing.get_args(annotation))
    return annotation in (int, float)


def short_names(names: list[str]) -> dict[str, str]:
    """Each setting's name as labels show it: its last part, or the whole when two would read the same."""
    last = [name.rpartition(".")[2] for name in names]
    return {name: short if last.count(short) == 1 else name for name, short in zip(names, last, strict=True)}


def shown(value: Any) -> str:
    """A value as a member's label shows it."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def label_of(settings: dict[str, Any], short: dict[str, str]) -> str:
    """A member's label from the settings it changes: "lr=0.01, batch_size=64, seed 1"."""
    parts = []
    for name, value in settings.items():
        if name == "training.seed" and name not in short:
            parts.append(_("seed {seed}").format(seed=value))
        else:
            parts.append(f"{short[name]}={shown(value)}")
    return ", ".join(parts)


def _draw(rng: random.Random, bounds: list) -> float | int:
    """One value from a random search range: [low, high] or [low, high, "log"]."""
    low, high = bounds[0], bounds[1]
    log = len(bounds) > 2
    if isinstance(low, int) and isinstance(high, int):
        if log:
            return min(high, max(low, round(math.exp(rng.uniform(math.log(low), math.log(high))))))
        return rng.randint(low, high)
    value = math.exp(rng.uniform(math.log(low), math.log(high))) if log else rng.uniform(low, high)
    return float(f"{value:.3g}")  # three significant digits: labels and tables stay readable


def combinations(config: ExperimentConfig) -> list[dict[str, Any]]:
    """The settings each member changes, before the seeds: the grid's combinations (the first setting
    varying slowest), or the random draws (seeded by training.seed), or one empty set."""
    s = config.sweep
    if s.random:
        rng = random.Random(config.training.seed)
        return [{name: _draw(rng, bounds) for name, bounds in s.random.items()} for _sample in range(s.samples)]
    if s.grid:
        names = list(s.grid)
        return [dict(zip(names, values, strict=True)) for values in itertools.product(*s.grid.values())]
    return [{}]


def set_setting(data: dict, name: str, value: Any) -> None:
    """Put value at dotted `name` in a config's plain data."""
    section, _dot, field = name.rpartition(".")
    (data.setdefault(section, {}) if section else data)[field] = copy.deepcopy(value)


def member_settings(config: ExperimentConfig) -> list[dict[str, Any]]:
    """Every member's changed settings, in order: a strength sweep's value, or each combination crossed with
    the seeds (the seed varying fastest); seeds alone change training.seed."""
    s = config.sweep
    if s.parameter != "none":
        return [{f"regularization.{s.parameter}": value} for value in s.values]
    seeds = [config.training.seed + k for k in range(s.seeds)]
    rows = []
    for combination in combinations(config):
        for seed in seeds:
            rows.append({**combination, "training.seed": seed} if s.seeds > 1 or not combination else combination)
    return rows


def base_data(config: ExperimentConfig) -> dict:
    """A member's starting point: the experiment's settings without its sweep."""
    data = config.model_dump(exclude_none=True)
    data.pop("sweep")
    return data


def member_configs(config: ExperimentConfig) -> list[Member]:
    """Every member with its own validated config. A member whose settings do not make a valid run raises
    ConfigError naming the member and the setting."""
    rows = member_settings(config)
    short = labels_names(config)
    where = "sweep.random" if config.sweep.random else "sweep.grid" if config.sweep.grid else "sweep.values"
    base = base_data(config)
    members = []
    for k, settings in enumerate(rows):
        data = copy.deepcopy(base)
        for name, value in settings.items():
            set_setting(data, name, value)
        data["name"] = f"{config.name}-{k}"
        label = label_of(settings, short)
        try:
            member = validate(data)
        except ConfigError as exc:
            raise ConfigError([member_problem(k, label, p, where) for p in exc.problems]) from None
        members.append(Member(k, label, settings, member))
    return members


def labels_names(config: ExperimentConfig) -> dict[str, str]:
    """The names members' labels give the settings they change (the seed of a seed sweep says "seed N")."""
    s = config.sweep
    return short_names(s.searched if s.parameter == "none" else [f"regularization.{s.parameter}"])


def member_problem(k: int, label: str, problem: Problem, setting: str) -> Problem:
    """A member's problem as the sweep's: the member named, the sweep's setting (grid, random, values) marked."""
    return Problem(
        setting,
        _("sweep member {member} ({label}): {problem}").format(member=k, label=label, problem=problem.message),
    )


def value_problems(config: ExperimentConfig) -> list[Problem]:
    """Each value of the grid tried alone on the experiment, without the sweep: a value no member could run
    with names the first member that has it and the setting. Cheaper than building every member (the sum of
    the lists, not their product); combinations are checked when the members are built."""
    s = config.sweep
    if not s.grid:
        return []
    base = base_data(config)
    rows = member_settings(config)
    short = labels_names(config)
    problems: list[Problem] = []
    for name, values in s.grid.items():
        for value in values:
            data = copy.deepcopy(base)
            set_setting(data, name, value)
            try:
                validate(data)
            except ConfigError as exc:
                k = next(i for i, row in enumerate(rows) if row.get(name) == value)
                problems += [member_problem(k, label_of(rows[k], short), p, "sweep.grid") for p in exc.problems]
                break  # one bad value of a setting is enough to say
    return problems


def count_phrase(config: ExperimentConfig) -> str:
    """How the member count comes about, for the refusal of too many: "3 × 3 × 2 seeds"."""
    s = config.sweep
    parts = [str(len(v)) for v in s.grid.values()] if s.grid else []
    if s.random:
        parts.append(_("{count} samples").format(count=s.samples))
    if s.seeds > 1:
        parts.append(_("{count} seeds").format(count=s.seeds))
    return " × ".join(parts)


def range_problem(name: str, bounds: list) -> str | None:
    """Why a random search range cannot be drawn from, or None."""
    numbers = [b for b in bounds[:2] if is_number(b)]
    if len(bounds) not in (2, 3) or len(numbers) != 2 or (len(bounds) == 3 and bounds[2] != "log"):
        return _(
            'sweep.random["{setting}"] = {value}; allowed: [low, high] or [low, high, "log"], low and high finite '
            "numbers"
        ).format(setting=name, value=quoted(bounds))
    low, high = numbers
    if not low < high:
        return _('sweep.random["{setting}"] = {value}: the low end must be below the high end').format(
            setting=name, value=quoted(bounds)
        )
    if len(bounds) == 3 and low <= 0:
        return _('sweep.random["{setting}"] = {value}: a "log" range needs a low end above 0').format(
            setting=name, value=quoted(bounds)
        )
    return None
