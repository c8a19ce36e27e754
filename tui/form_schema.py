"""The set-up form, described from the engine's config schema: groups, controls, options,
which fields apply to which experiment, and how typed text becomes a config value.

Pure Python (pydantic schema and the dataset catalog, no torch), so the form offers only
what the engine accepts, from one source of truth.
"""

from __future__ import annotations

import json
import re
import tomllib
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from nnplay.engine.core.catalog import DATASETS, DEFAULT_CLASSES, IMAGE, SEQUENCE, architectures_for, datasets_for
from nnplay.engine.core.config import LOSSES_FOR_TASK, ExperimentConfig, quoted
from nnplay.engine.core.i18n import N_, _

LAST_COLUMN = N_("(last column)")  # data.target's default, as its select offers it (its label: translated)

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
            "data.target",
            "data.features",
            "data.missing",
            "data.channels",
            "data.image_size",
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
            "sweep.grid",
            "sweep.random",
            "sweep.samples",
            "sweep.executor",
            "sweep.ray_address",
            "sweep.max_members",
        ],
    ),
]

# The fields that hold settings with their values (a grid's values, a random search's ranges), typed on one
# line as "optimizer.lr = 0.001, 0.01; training.batch_size = 16, 64": an example of each, its placeholder.
SETTINGS_EXAMPLES = {
    "sweep.grid": "optimizer.lr = 0.001, 0.01; training.batch_size = 16, 64",
    "sweep.random": "optimizer.lr = 0.0001, 0.1, log",
}

# A few concepts deserve more than the field's one-line docstring.
CONCEPTS = {
    "training.epochs": N_(
        "An epoch is one pass over the whole training split. Each epoch is cut into batches; "
        "each batch gives one update of the weights (an iteration)."
    ),
    "training.batch_size": N_(
        "Samples per update. Smaller batches mean more, noisier updates per epoch; "
        '"full" uses the whole training split at once (plain gradient descent).'
    ),
    "regularization.dropout": N_(
        "During training, each hidden unit is zeroed with this probability, so the network "
        "cannot rely on any single unit: a cheap ensemble that fights overfitting. Off at evaluation."
    ),
    "regularization.batch_norm": N_(
        "Normalizes each hidden layer's activations over the batch, which steadies "
        "and speeds up training; at evaluation it uses running averages instead."
    ),
    "regularization.l2": N_(
        "Adds λ·Σw² to the loss, pulling every weight toward zero: smoother functions, less overfitting."
    ),
    "regularization.l1": N_("Adds λ·Σ|w| to the loss: pushes many weights to exactly zero (sparse models)."),
    "regularization.weight_decay": N_(
        "Shrinks weights a little at every step, separately from the gradient (AdamW-style)."
    ),
    "regularization.early_stopping": N_(
        "Watches validation loss and stops when it has not improved for `patience` epochs, keeping the best weights."
    ),
    "data.train": N_(
        "The training split is what the weights are fitted to. Validation watches generalization during "
        "training; test stays locked until the end for an honest score."
    ),
    "data.normalization": N_(
        "Scale inputs using statistics of the training split only, so nothing about validation or "
        "test leaks into training."
    ),
    "optimizer.lr": N_(
        "The step size of each update. Too small: slow progress. Too large: the loss jumps around or diverges."
    ),
    "sweep.seeds": N_(
        "Train several copies that differ only in their seed, so each starts from other initial weights. "
        "The charts draw their mean and a band from the lowest to the highest curve: how much of a result is luck."
    ),
    "sweep.parameter": N_(
        "Train one copy per value of a regularization strength, everything else equal, "
        "to see its effect in one run. List the values below, e.g. 0, 0.001, 0.01."
    ),
    "sweep.grid": N_(
        "Settings to cross, each with its values: optimizer.lr = 0.001, 0.01, 0.1; training.batch_size = 16, 64, 256 "
        "trains 9 members, one per combination. Settings are separated by ; and values by commas; a list in "
        "brackets is one value, e.g. model.hidden = [16], [64, 64]."
    ),
    "sweep.random": N_(
        "Random search: each setting's range as low, high (drawn uniformly) or low, high, log (drawn "
        "log-uniformly), e.g. optimizer.lr = 0.0001, 0.1, log; sweep.samples says how many members are drawn."
    ),
    "optimizer.kind": N_(
        "sgd follows the gradient (with momentum); adam and adamw adapt a step size per weight; "
        "rmsprop scales steps by recent gradient size."
    ),
}


@dataclass(frozen=True)
class FieldSpec:
    """One control of the form."""

    path: str  # "data.dataset"
    label: str
    help: str  # in English, as the message catalogs hold it: explanation() is what the form shows
    kind: str  # select | switch | int | float | text | int_list | float_list | batch | column | column_list | settings
    options: tuple[str, ...] = ()
    optional: bool = False
    numeric_options: bool = False  # a select over numbers (Literal[1, 3]): its options are shown as text

    @property
    def widget_id(self) -> str:
        """The id of the control that edits this setting."""
        return "f-" + self.path.replace(".", "-")

    def explanation(self) -> str:
        """What the setting means, in the current language, on one line."""
        return " ".join(_(self.help).split())


def _model_for(path: str) -> tuple[Any, str]:
    """The settings section (a pydantic model) that holds `path`, and the setting's own name."""
    model: Any = ExperimentConfig
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
    if origin in (typing.Union, types.UnionType):  # int | "full", or a column by name or number
        return ("column" if str in args else "batch"), (), optional
    if origin is list:
        if args == (float,):
            return "float_list", (), optional
        return ("int_list" if args == (int,) else "column_list"), (), optional
    if annotation is bool:
        return "switch", (), optional
    if annotation is int:
        return "int", (), optional
    if annotation is float:
        return "float", (), optional
    return "text", (), optional


def field_spec(path: str) -> FieldSpec:
    """The form field for setting `path`, built from the config schema."""
    model, name = _model_for(path)
    info = model.model_fields[name]
    kind, options, optional = _kind_of(info.annotation)
    if path == "data.dataset":
        kind, options = "select", tuple(DATASETS)
    if path == "data.target":  # the columns are offered once the engine has read the file
        kind, options = "select", (LAST_COLUMN,)
    if path in SETTINGS_EXAMPLES:  # settings with their values, typed on one line
        kind = "settings"
    literal = typing.get_args(info.annotation) if typing.get_origin(info.annotation) is Literal else ()
    numeric = bool(literal) and all(isinstance(a, int) for a in literal)
    # The setting's docstring as the config catalog holds it (the form shows it translated, on one line).
    help_text = info.description or ""
    return FieldSpec(path, name.replace("_", " "), CONCEPTS.get(path, help_text), kind, options, optional, numeric)


FIELDS: dict[str, FieldSpec] = {path: field_spec(path) for _group, paths in GROUPS for path in paths}


def get_value(data: dict, path: str) -> Any:
    """The value at dotted `path` in nested `data`, or None when it is not set."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def current_names(data: dict) -> dict:
    """The experiment's settings under the names the form gives them: sweep.mode, the executor's earlier
    name, as sweep.executor."""
    sweep = data.get("sweep")
    if isinstance(sweep, dict) and "mode" in sweep and "executor" not in sweep:
        sweep["executor"] = sweep.pop("mode")
    return data


def implied_default(path: str, data: dict, defaults: dict) -> Any:
    """What a setting the form leaves unset means: its default, except the task of your own data,
    which the data decides ("auto")."""
    if path == "task":
        info = DATASETS.get(get_value(data, "data.dataset") or "")
        if info is not None and info.own:
            return "auto"
    return get_value(defaults, path)


def learned_columns(data: dict, columns: tuple[str, ...]) -> set[str]:
    """The table's columns the model learns from: data.features as set (by name or number), else
    every column but the target (by default the last)."""

    def named(ref: Any) -> str | None:
        if isinstance(ref, int) and -len(columns) <= ref < len(columns):
            return columns[ref]
        return str(ref) if str(ref) in columns else None

    features = get_value(data, "data.features")
    if features:
        return {name for name in map(named, features) if name is not None}
    target = named(get_value(data, "data.target") if get_value(data, "data.target") is not None else -1)
    return {name for name in columns if name != target}


def features_setting(ticked: list[str], data: dict, columns: tuple[str, ...]) -> list[str] | None:
    """data.features for the columns ticked, in the table's order; none (the default) when they are
    every column but the target."""
    chosen = [name for name in columns if name in ticked]
    if set(chosen) == learned_columns({"data": {"target": get_value(data, "data.target")}}, columns):
        return None
    return chosen


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


def options_for(path: str, data: dict, columns: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The choices a select may offer given the rest of the form: only combinations that fit;
    `columns` are those the engine read from the user's table (for data.target)."""
    if path == "data.target":
        current = get_value(data, path)
        kept = () if current is None or show(current) in columns else (show(current),)  # so it can be fixed
        return (LAST_COLUMN, *columns, *kept)
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
    grid, random_search = bool(sweep.get("grid")), bool(sweep.get("random"))
    search = grid or random_search or bool(sweep.get("samples"))
    rules = {
        "data.noise": bool(info and (info.synthetic or kind == SEQUENCE)),
        "data.n_classes": dataset in DEFAULT_CLASSES,
        "data.seq_len": kind == SEQUENCE,
        "data.path": bool(info and info.from_files),
        "data.target": bool(info and info.own and kind != IMAGE),
        "data.features": bool(info and info.own and kind != IMAGE),
        "data.missing": bool(info and info.own and kind != IMAGE),
        "data.channels": dataset == "image_folder",
        "data.image_size": dataset == "image_folder",
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
        "sweep.parameter": not search or strength_sweep,
        "sweep.values": strength_sweep or bool(sweep.get("values")),
        "sweep.grid": not (strength_sweep or random_search) or grid,
        "sweep.random": not (strength_sweep or grid) or random_search,
        "sweep.samples": random_search or bool(sweep.get("samples")),
        "sweep.executor": strength_sweep or several_seeds or search,
        "sweep.ray_address": sweep.get("executor") == "ray" or bool(sweep.get("ray_address")),
        "sweep.max_members": search or "max_members" in sweep,
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
        if spec.kind == "column":
            return column(text)
        if spec.kind == "column_list":
            return [column(part.strip()) for part in text.split(",") if part.strip()] or None
        if spec.kind in ("int_list", "float_list"):
            number = int if spec.kind == "int_list" else float
            return [number(part) for part in text.replace("[", "").replace("]", "").replace(",", " ").split()]
        if spec.kind == "settings":
            return settings_values(text)
    except ValueError:
        allowed = {
            "int": _("a whole number"),
            "float": _("a number"),
            "batch": _('a whole number or "full"'),
            "int_list": _("whole numbers separated by commas, e.g. 32, 32"),
            "float_list": _("numbers separated by commas, e.g. 0, 0.001, 0.01"),
            "settings": (
                _("settings with their ranges, e.g. {example}")
                if spec.path == "sweep.random"
                else _("settings with their values, e.g. {example}")
            ).format(example=SETTINGS_EXAMPLES.get(spec.path, "")),
        }[spec.kind]
        raise ValueError(
            _("{setting} = {value} is not valid; allowed: {allowed}").format(
                setting=spec.path, value=quoted(text), allowed=allowed
            )
        ) from None
    return text


SETTING_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
# In a list of values: a quoted string as it is, or a bare word (relu, full, log) that TOML would refuse.
WORD_OR_STRING = re.compile(r""""(?:[^"\\]|\\.)*"|'[^']*'|(?<![\w.+-])([A-Za-z_][\w.-]*)""")
TOML_WORDS = ("true", "false", "inf", "nan")


def _split_outside(text: str, separator: str) -> list[str]:
    """The text split at `separator` where it stands outside quotes and brackets."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            if char == quote and text[i - 1] != "\\":
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def settings_values(text: str) -> dict[str, list]:
    """Settings with their values as typed on one line, "optimizer.lr = 0.001, 0.01; model.activation = relu,
    tanh": separated by ";", each "name = values", the values read as the items of a TOML array ("[16],
    [64, 64]" is two lists; quoted strings work; a bare word is a string). ValueError when the text is not
    of that form."""
    settings: dict[str, list] = {}
    for part in _split_outside(text, ";"):
        if not part.strip():
            continue
        name, equals, values = part.partition("=")
        name = name.strip()
        if not equals or not SETTING_NAME.fullmatch(name) or name in settings:
            raise ValueError(part)

        def quoted_word(match: re.Match) -> str:
            word = match.group(1)
            return match.group(0) if word is None or word in TOML_WORDS else json.dumps(word)

        try:
            settings[name] = tomllib.loads(f"values = [{WORD_OR_STRING.sub(quoted_word, values)}]")["values"]
        except tomllib.TOMLDecodeError:
            raise ValueError(part) from None
    return settings


def _value_text(value: Any) -> str:
    """One value of a setting as settings_values reads it back: a bare word for a simple string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):  # read back as a float: 1.0 as "1.0" (a random range of whole numbers draws them)
        text = f"{value:g}"
        return text if any(c in text for c in ".ena") else f"{text}.0"
    if isinstance(value, str):
        simple = re.fullmatch(r"[A-Za-z_][\w.-]*", value) and value not in TOML_WORDS
        return value if simple else json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, dict) else str(value)


def settings_text(settings: dict, prefix: str = "") -> str:
    """Settings with their values on one line, as settings_values reads them ("optimizer.lr = 0.001, 0.01;
    training.batch_size = 16, 64"); nested tables ([sweep.grid.optimizer] in a file) by their dotted names."""
    parts = []
    for key, values in settings.items():
        name = f"{prefix}{key}"
        if isinstance(values, dict):
            parts.append(settings_text(values, f"{name}."))
        elif isinstance(values, list):
            parts.append(f"{name} = " + ", ".join(_value_text(v) for v in values))
        else:
            parts.append(f"{name} = {_value_text(values)}")
    return "; ".join(part for part in parts if part)


def column(text: str) -> str | int:
    """A table column as typed: a whole number is its position (0 the first, -1 the last), else its name."""
    return int(text) if text.lstrip("-").isdigit() else text


def typed_option(spec: FieldSpec, option: str) -> Any:
    """A select's option as the select holds it: the number itself for numeric choices (data.channels)."""
    return int(option) if spec.numeric_options else option


def chosen_value(spec: FieldSpec, option: Any, columns: tuple[str, ...] = ()) -> Any:
    """The config's value for a select's chosen option: none for the target's default (the last
    column), a column's position when a number that names no column was typed into the config."""
    if spec.path == "data.target":
        if option == LAST_COLUMN:
            return None
        return option if option in columns else column(str(option))
    return option


def show(value: Any) -> str:
    """A value as the form's inputs display it."""
    if value is None:
        return ""
    if isinstance(value, dict):  # settings with their values (sweep.grid, sweep.random)
        return settings_text(value)
    if isinstance(value, list):
        return ", ".join(show(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
