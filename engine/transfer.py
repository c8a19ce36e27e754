"""Transfer learning: start a model from the weights of an earlier run, and freeze some of its layers.

`model.init_from` names the run (its directory, its model.pt, or the name of the latest run of that
name in the run store); layers whose names and shapes match are copied, and a layer whose shape does
not fit is refused by name. `model.freeze` lists layer names or name prefixes whose parameters keep
their values during training. Both are checked when the plan is made, before any run directory exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from engine.config import ConfigError, ExperimentConfig
from engine.runs import list_runs, runs_root

_STAMP = re.compile(r"^\d{8}-\d{6}-(?P<name>.+?)(-\d+)?$")


def resolve_init(init_from: str, root: str | Path | None) -> Path:
    """The model.pt that model.init_from names, or ConfigError saying what was looked for."""
    given = Path(init_from).expanduser()
    if given.is_file():
        return given
    if (given / "model.pt").is_file():
        return given / "model.pt"
    store = runs_root(root)
    for run in list_runs(store):
        match = _STAMP.match(run.name)
        if match and match.group("name") == init_from and (run / "model.pt").is_file():
            return run / "model.pt"
    raise ConfigError(
        f"model.init_from = {init_from!r} is neither a run directory, a model.pt file, nor the name of a run "
        f"with saved weights under {store}/; run that experiment first (e.g. `nnplay run {init_from}`)"
    )


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def apply_transfer(model: nn.Module, config: ExperimentConfig, root: str | Path | None) -> dict | None:
    """Copy the weights model.init_from names and freeze model.freeze; returns what was done, for the plan."""
    m = config.model
    if not m.init_from and not m.freeze:
        return None
    done: dict = {"init_from": None, "copied": 0, "fresh": [], "frozen": list(m.freeze), "frozen_params": 0}
    if m.init_from:
        path = resolve_init(m.init_from, root)
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a truncated or foreign file
            raise ConfigError(
                f"model.init_from = {m.init_from!r}: {path} could not be read as weights ({exc})"
            ) from None
        own = model.state_dict()
        misfits = [
            f"{key} is {list(saved[key].shape)} there and {list(value.shape)} here"
            for key, value in own.items()
            if key in saved and saved[key].shape != value.shape
        ]
        if misfits:
            raise ConfigError(
                f"model.init_from = {m.init_from!r} does not fit this model: {'; '.join(misfits[:3])}; "
                "allowed: a run of the same architecture and layer sizes"
            )
        shared = [key for key in own if key in saved]
        if not shared:
            raise ConfigError(
                f"model.init_from = {m.init_from!r} shares no layer with this model ({config.model.architecture}); "
                "allowed: a run of the same architecture"
            )
        with torch.no_grad():
            for key in shared:
                own[key].copy_(saved[key])
        done.update(init_from=str(path.parent if path.name == "model.pt" else path), copied=len(shared))
        done["fresh"] = sorted({key.rsplit(".", 1)[0] for key in own if key not in saved})
    names = [name for name, _ in model.named_parameters()]
    for prefix in m.freeze:
        if not any(_matches(name, prefix) for name in names):
            layers = sorted({name.rsplit(".", 1)[0] for name in names})
            raise ConfigError(
                f"model.freeze = {m.freeze}: {prefix!r} names no layer of this {config.model.architecture}; "
                f"allowed: {', '.join(layers)} or a prefix of them"
            )
    for name, param in model.named_parameters():
        if any(_matches(name, prefix) for prefix in m.freeze):
            param.requires_grad_(False)
            done["frozen_params"] += param.numel()
    if m.freeze and all(not p.requires_grad for p in model.parameters()):
        raise ConfigError(f"model.freeze = {m.freeze} freezes every layer, so nothing would train; leave one out")
    return done
