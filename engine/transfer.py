"""Transfer learning: start a model from the weights of an earlier run, and freeze some of its layers.

`model.init_from` names the run (its directory, its model.pt, or the name of the latest run of that
name in the run store); layers whose names and shapes match are copied, and a layer whose shape does
not fit is refused by name. `model.freeze` lists layer names or name prefixes whose parameters keep
their values during training. Both are checked when the plan is made, before any run directory exists.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import torch
from torch import nn

from nnplay.engine.core.catalog import DATASETS
from nnplay.engine.core.config import ConfigError, ExperimentConfig
from nnplay.engine.core.runs import list_runs, runs_root


def _run_name(run: Path) -> str | None:
    try:
        return tomllib.loads((run / "config.toml").read_text(encoding="utf-8")).get("name")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def resolve_init(init_from: str, root: str | Path | None) -> Path:
    """The model.pt that model.init_from names, or ConfigError saying what was looked for."""
    given = Path(init_from).expanduser()
    if given.is_file():
        return given
    if (given / "model.pt").is_file():
        return given / "model.pt"
    store = runs_root(root)
    for run in list_runs(store):  # newest first
        if (run / "model.pt").is_file() and _run_name(run) == init_from:
            return run / "model.pt"
    raise ConfigError(
        f"model.init_from = {init_from!r} is neither a run directory, a model.pt file, nor the name of a run "
        f"with saved weights under {store}/; run that experiment first (e.g. `nnplay run {init_from}`)",
        setting="model.init_from",
    )


def source_scaling(config: ExperimentConfig, root: str | Path | None) -> dict | None:
    """The input scaling the model.init_from run fitted (its summary's normalizer), or None: the copied
    layers expect inputs scaled as they were when they learned."""
    if not config.model.init_from:
        return None
    summary = resolve_init(config.model.init_from, root).parent / "summary.json"
    try:
        state = json.loads(summary.read_text(encoding="utf-8"))["normalizer"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if isinstance(state, dict) and "method" in state else None


def _keep_evaluating(module: nn.Module) -> None:
    """A frozen batch norm keeps its running statistics: it stays in evaluation mode when the model trains."""

    def train(mode: bool = True) -> nn.Module:
        return nn.Module.train(module, False)

    module.train = train  # type: ignore[method-assign]  # on purpose: model.train() reaches each child through its own train()
    module.eval()


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
                f"model.init_from = {m.init_from!r}: {path} could not be read as weights ({exc})",
                setting="model.init_from",
            ) from None
        own = model.state_dict()
        misfits = [
            f"{key} is {list(saved[key].shape)} there and {list(value.shape)} here"
            for key, value in own.items()
            if key in saved and saved[key].shape != value.shape
        ]
        if misfits:
            shapes = (
                " (your data must give the source run's input shape and number of classes: for images "
                "data.image_size and data.channels, for tables the same columns)"
                if DATASETS[config.data.dataset].own
                else ""
            )
            raise ConfigError(
                f"model.init_from = {m.init_from!r} does not fit this model: {'; '.join(misfits[:3])}; "
                f"allowed: a run of the same architecture and layer sizes{shapes}",
                setting="model.init_from",
            )
        shared = [key for key in own if key in saved]
        if not shared:
            raise ConfigError(
                f"model.init_from = {m.init_from!r} shares no layer with this model ({config.model.architecture}); "
                "allowed: a run of the same architecture",
                setting="model.init_from",
            )
        with torch.no_grad():
            for key in shared:
                own[key].copy_(saved[key])
        done.update(init_from=str(path.parent if path.name == "model.pt" else path), copied=len(shared))
        scaled = source_scaling(config, root) is not None
        done["scaling"] = "the source run's" if scaled else "fitted on this run's training split"
        done["fresh"] = sorted({key.rsplit(".", 1)[0] for key in own if key not in saved})
    names = [name for name, _ in model.named_parameters()]
    for prefix in m.freeze:
        if not any(_matches(name, prefix) for name in names):
            layers = sorted({name.rsplit(".", 1)[0] for name in names})
            raise ConfigError(
                f"model.freeze = {m.freeze}: {prefix!r} names no layer of this {config.model.architecture}; "
                f"allowed: {', '.join(layers)} or a prefix of them",
                setting="model.freeze",
            )
    for name, param in model.named_parameters():
        if any(_matches(name, prefix) for prefix in m.freeze):
            param.requires_grad_(False)
            done["frozen_params"] += param.numel()
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and any(_matches(name, p) for p in m.freeze):
            _keep_evaluating(module)
    if m.freeze and all(not p.requires_grad for p in model.parameters()):
        raise ConfigError(
            f"model.freeze = {m.freeze} freezes every layer, so nothing would train; leave one out",
            setting="model.freeze",
        )
    return done
