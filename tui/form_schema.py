"""The set-up form, described from the engine's config schema: groups, controls, options,
which fields apply to which experiment, and how typed text becomes a config value.

Pure Python (pydantic schema and the dataset catalog, no torch), so the form offers only
what the engine accepts, from one source of truth.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from nnplay.engine.core.catalog import DATASETS, DEFAULT_CLASSES, IMAGE, SEQUENCE, architectures_for, datasets_for
from nnplay.engine.core.config import LOSSES_FOR_TASK, ExperimentConfig, quoted

GROUPS: list[tuple[str, list[str]]] = [
    (
        "Task & data",
        [
            "name",
            "task",
            "data.dataset",
            "data.n_samples",
            "data.noise",
            "data.n_classes",
            "data.seq_len",
            "data.path",
            "data.train",
            "data.val",
            "data.test",
            "data.k_folds",
            "data.normalization",
            "data.seed",
        ],
    ),
    (
        "Model",
        [
            "model.architecture",
            "model.hidden",
            "model.activation",
            "model.conv_channels",
            "model.kernel_size",
            "model.rnn_hidden",
            "model.rnn_layers",
            "model.latent",
            "loss",
        ],
    ),
    (
        "Regularization",
        [
            "regularization.l1",
            "regularization.l2",
            "regularization.weight_decay",
            "regularization.dropout",
            "regularization.batch_norm",
            "regularization.early_stopping",
            "regularization.patience",
            "regularization.min_delta",
            "regularization.restore_best",
            "regularization.augment_noise",
            "regularization.augment_shift",
            "regularization.grad_clip",
        ],
    ),
    (
        "Optimizer",
        [
            "optimizer.kind",
            "optimizer.lr",
            "optimizer.momentum",
            "optimizer.nesterov",
            "optimizer.schedule",
            "optimizer.step_size",
            "optimizer.gamma",
            "optimizer.plateau_patience",
        ],
    ),
    (
        "Training",
        [
            "training.epochs",
            "training.batch_size",
            "training.drop_last",
            "training.seed",
            "training.device",
            "training.precision",
            "training.eval_every",
            "training.snapshot_every",
            "training.threads",
        ],
    ),
    (
        "Sweep",
        [
            "sweep.seeds",
            "sweep.parameter",
            "sweep.values",
            "sweep.mode",
        ],
    ),
]

# A few concepts deserve more than the field's one-line docstring.
CONCEPTS = {
    "training.epochs": "An epoch is one pass over the whole training split. Each epoch is cut into batches; "
    "each batch gives one update of the weights (an iteration).",
    "training.batch_size": "Samples per update. Smaller batches mean more, noisier updates per epoch; "
    '"full" uses the whole training split at once (plain gradient descent).',
    "regularization.dropout": "During training, each hidden unit is zeroed with this probability, so the network "
    "cannot rely on any single unit: a cheap ensemble that fights overfitting. Off at evaluation.",
    "regularization.batch_norm": "Normalizes each hidden layer's activations over the batch, which steadies "
    "and speeds up training; at evaluation it uses running averages instead.",
    "regularization.l2": "Adds λ·Σw² to the loss, pulling every weight toward zero: smoother functions, less overfitting.",
    "regularization.l1": "Adds λ·Σ|w| to the loss: pushes many weights to exactly zero (sparse models).",
    "regularization.weight_decay": "Shrinks weights a little at every step, separately from the gradient (AdamW-style).",
    "regularization.early_stopping": "Watches validation loss and stops when it has not improved for `patience` "
    "epochs, keeping the best weights.",
    "data.train": "The training split is what the weights are fitted to. Validation watches generalization during "
    "training; test stays locked until the end for an honest score.",
    "data.normalization": "Scale inputs using statistics of the training split only, so nothing about validation or "
    "test leaks into training.",
    "optimizer.lr": "The step size of each update. Too small: slow progress. Too large: the loss jumps around or diverges.",
    "sweep.seeds": "Train several copies that differ only in their seed, so each starts from other initial weights. "
    "The charts draw their mean and a band from the lowest to the highest curve: how much of a result is luck.",
    "sweep.parameter": "Train one copy per value of a regularization strength, everything else equal, "
    "to see its effect in one run. List the values below, e.g. 0, 0.001, 0.01.",
    "optimizer.kind": "sgd follows the gradient (with momentum); adam and adamw adapt a step size per weight; "
    "rmsprop scales steps by recent gradient size.",
}


@dataclass(frozen=True)
class FieldSpec:
    """One control of the form."""

    path: str  # "data.dataset"
    label: str
    help: str
    kind: str  # select | switch | int | float | text | int_list | float_list | batch
    options: tuple[str, ...] = ()
    optional: bool = False

    @property
    def widget_id(self) -> str:
        return "f-" + self.path.replace(".", "-")


def _model_for(path: str):
    model = ExperimentConfig
    parts = path.split(".")
    for part in parts[:-1]:
        model = model.model_fields[part].annotation
    return model, parts[-1]


def _kind_of(annotation) -> tuple[str, tuple[str, ...], bool]:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    optional = origin in (typing.Union, types.UnionType) and type(None) in args
    if optional:
        rest = [a for a in args if a is not type(None)]
        annotation = rest[0]
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return "select", tuple(str(a) for a in args), optional
    if origin in (typing.Union, types.UnionType):  # int | "full"
        return "batch", (), optional
    if origin is list:
        return ("float_list" if args == (float,) else "int_list"), (), optional
    if annotation is bool:
        return "switch", (), optional
    if annotation is int:
        return "int", (), optional
    if annotation is float:
        return "float", (), optional
    return "text", (), optional


def field_spec(path: str) -> FieldSpec:
    model, name = _model_for(path)
    info = model.model_fields[name]
    kind, options, optional = _kind_of(info.annotation)
    if path == "data.dataset":
        kind, options = "select", tuple(DATASETS)
    help_text = " ".join((info.description or "").split())
    return FieldSpec(path, name.replace("_", " "), CONCEPTS.get(path, help_text), kind, options, optional)


FIELDS: dict[str, FieldSpec] = {path: field_spec(path) for _, paths in GROUPS for path in paths}


def get_value(data: dict, path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def set_value(data: dict, path: str, value: Any) -> None:
    """Set a dotted path; None removes the key (the config's default applies)."""
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value


# When a select's value no longer fits the rest of the form, the nearest choice that does, in order.
CLOSEST_ARCHITECTURE = {
    "cnn": ("mlp",),
    "perceptron": ("mlp",),
    "rnn": ("lstm", "gru", "mlp"),
    "lstm": ("gru", "rnn", "mlp"),
    "gru": ("lstm", "rnn", "mlp"),
    "autoencoder": ("vae", "mlp"),
    "vae": ("autoencoder", "mlp"),
    "mlp": ("cnn", "lstm", "autoencoder"),
}


def closest_option(path: str, value: Any, options: tuple[str, ...]) -> Any:
    """The value itself if it is offered, else the closest choice that is (an MLP for a CNN on points)."""
    if value in options or not options:
        return value
    preferred = CLOSEST_ARCHITECTURE.get(value, ()) if path == "model.architecture" else ()
    return next((o for o in preferred if o in options), options[0])


def options_for(path: str, data: dict) -> tuple[str, ...]:
    """The choices a select may offer given the rest of the form: only combinations that fit."""
    task = get_value(data, "task") or "classification"
    dataset = get_value(data, "data.dataset") or "moons"
    if path == "data.dataset":
        return datasets_for(task)
    if path == "model.architecture":
        return architectures_for(dataset, task) if task in DATASETS.get(dataset, DATASETS["moons"]).tasks else ()
    if path == "loss":
        return LOSSES_FOR_TASK[task]
    return FIELDS[path].options


def applies(path: str, data: dict) -> bool:
    """Whether a field means anything for this experiment (fields that don't are hidden)."""
    dataset = get_value(data, "data.dataset") or "moons"
    info = DATASETS.get(dataset)
    arch = get_value(data, "model.architecture") or "mlp"
    kind = info.kind if info else None
    reg = data.get("regularization", {})
    opt = data.get("optimizer", {})
    sweep = data.get("sweep", {})
    strength_sweep, several_seeds = sweep.get("parameter", "none") != "none", sweep.get("seeds", 1) != 1
    rules = {
        "data.noise": bool(info and (info.synthetic or kind == SEQUENCE)),
        "data.n_classes": dataset in DEFAULT_CLASSES,
        "data.seq_len": kind == SEQUENCE,
        "data.path": bool(info and info.from_files),
        "data.train": not get_value(data, "data.k_folds"),
        "data.val": not get_value(data, "data.k_folds"),
        "model.hidden": arch in ("mlp", "autoencoder", "vae"),
        "model.activation": arch in ("mlp", "cnn", "autoencoder", "vae"),
        "model.conv_channels": arch == "cnn",
        "model.kernel_size": arch == "cnn",
        "model.rnn_hidden": arch in ("rnn", "lstm", "gru"),
        "model.rnn_layers": arch in ("rnn", "lstm", "gru"),
        "model.latent": arch in ("autoencoder", "vae"),
        "regularization.dropout": arch != "perceptron",
        "regularization.batch_norm": arch != "perceptron",
        "regularization.min_delta": bool(reg.get("early_stopping")),
        "regularization.restore_best": bool(reg.get("early_stopping")),
        "regularization.augment_noise": kind != IMAGE,
        "regularization.augment_shift": kind == IMAGE,
        "optimizer.momentum": opt.get("kind", "adam") in ("sgd", "rmsprop"),
        "optimizer.nesterov": opt.get("kind", "adam") == "sgd",
        "optimizer.step_size": opt.get("schedule") == "step",
        "optimizer.gamma": opt.get("schedule") in ("step", "plateau"),
        "optimizer.plateau_patience": opt.get("schedule") == "plateau",
        # A value the experiment does not use stays visible while it is set, so its error can be fixed.
        "sweep.seeds": not strength_sweep or several_seeds,
        "sweep.values": strength_sweep or bool(sweep.get("values")),
        "sweep.mode": strength_sweep or several_seeds,
    }
    return rules.get(path, True)


def parse(spec: FieldSpec, text: str) -> Any:
    """Typed value from the text of an input; raises ValueError with one sentence."""
    text = text.strip()
    if text == "" and spec.optional:
        return None
    try:
        if spec.kind == "int":
            return int(text)
        if spec.kind == "float":
            return float(text)
        if spec.kind == "batch":
            return "full" if text.lower() == "full" else int(text)
        if spec.kind in ("int_list", "float_list"):
            number = int if spec.kind == "int_list" else float
            return [number(part) for part in text.replace("[", "").replace("]", "").replace(",", " ").split()]
    except ValueError:
        allowed = {
            "int": "a whole number",
            "float": "a number",
            "batch": 'a whole number or "full"',
            "int_list": "whole numbers separated by commas, e.g. 32, 32",
            "float_list": "numbers separated by commas, e.g. 0, 0.001, 0.01",
        }[spec.kind]
        raise ValueError(f"{spec.path} = {quoted(text)} is not valid; allowed: {allowed}") from None
    return text


def show(value: Any) -> str:
    """A value as the form's inputs display it."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(show(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def error_field(message: str) -> str | None:
    """The field a validation message names first ("model.architecture = ..." → model.architecture)."""
    head = message.split(":", 1)[-1] if ".toml:" in message else message
    first = head.strip().split(" ", 1)[0]
    return first if first in FIELDS else None
