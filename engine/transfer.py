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
from nnplay.engine.core.i18n import _
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
        _(
            "model.init_from = {init_from} is neither a run directory, a model.pt file, nor the name of a run "
            "with saved weights under {store}/; run that experiment first (e.g. `nnplay run {name}`)"
        ).format(init_from=repr(init_from), store=store, name=init_from),
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
                _("model.init_from = {init_from}: {path} could not be read as weights ({reason})").format(
                    init_from=repr(m.init_from), path=path, reason=exc
                ),
                setting="model.init_from",
            ) from None
        own = model.state_dict()
        misfits = [
            _("{tensor} is {there} there and {here} here").format(
                tensor=key, there=list(saved[key].shape), here=list(value.shape)
            )
            for key, value in own.items()
            if key in saved and saved[key].shape != value.shape
        ]
        if misfits:
            if DATASETS[config.data.dataset].own:
                message = _(
                    "model.init_from = {init_from} does not fit this model: {misfits}; "
                    "allowed: a run of the same architecture and layer sizes (your data must give the source "
                    "run's input shape and number of classes: for images data.image_size and data.channels, "
                    "for tables the same columns)"
                )
            else:
                message = _(
                    "model.init_from = {init_from} does not fit this model: {misfits}; "
                    "allowed: a run of the same architecture and layer sizes"
                )
            raise ConfigError(
                message.format(init_from=repr(m.init_from), misfits="; ".join(misfits[:3])),
                setting="model.init_from",
            )
        shared = [key for key in own if key in saved]
        if not shared:
            raise ConfigError(
                _(
                    "model.init_from = {init_from} shares no layer with this model ({architecture}); "
                    "allowed: a run of the same architecture"
                ).format(init_from=repr(m.init_from), architecture=config.model.architecture),
                setting="model.init_from",
            )
        with torch.no_grad():
            for key in shared:
                own[key].copy_(saved[key])
        done.update(init_from=str(path.parent if path.name == "model.pt" else path), copied=len(shared))
        scaled = source_scaling(config, root) is not None
        done["scaling"] = _("the source run's") if scaled else _("fitted on this run's training split")
        done["fresh"] = sorted({key.rsplit(".", 1)[0] for key in own if key not in saved})
    names = [name for name, _param in model.named_parameters()]
    for prefix in m.freeze:
        if not any(_matches(name, prefix) for name in names):
            layers = sorted({name.rsplit(".", 1)[0] for name in names})
            raise ConfigError(
                _(
                    "model.freeze = {freeze}: {prefix} names no layer of this {architecture}; "
                    "allowed: {layers} or a prefix of them"
                ).format(
                    freeze=m.freeze,
                    prefix=repr(prefix),
                    architecture=config.model.architecture,
                    layers=", ".join(layers),
                ),
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
            _("model.freeze = {freeze} freezes every layer, so nothing would train; leave one out").format(
                freeze=m.freeze
            ),
            setting="model.freeze",
        )
    return done
