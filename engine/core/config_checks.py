"""Whether a config's sections fit together: one sentence naming the field, the value and what is
allowed when they do not. ExperimentConfig runs `check_combination` on every validation; the
data loader runs `check_batch_fits` once a data set's size is known from its files.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import PurePath

from nnplay.engine.core.catalog import (
    DATASETS,
    DEFAULT_CLASSES,
    GENERATIVE,
    IMAGE,
    KIND_WORDS,
    architectures_for,
    datasets_for,
)
from nnplay.engine.core.config import (
    LOSSES_FOR_TASK,
    SWEEPABLE,
    CombinationError,
    ConfigError,
    ExperimentConfig,
    Problem,
    quoted,
    split_sizes,
)

MAX_HIDDEN_LAYERS = 64  # deeper than any lesson needs; 200,000 layers took minutes and gigabytes to build


def check_combination(c: ExperimentConfig) -> None:
    """Raise CombinationError, holding every problem found, when the sections do not fit together."""
    problems = list(combination_problems(c))
    if problems:
        raise CombinationError(problems)


def combination_problems(c: ExperimentConfig) -> Iterator[Problem]:
    """Every way the sections do not fit together, each one sentence with the setting it names.

    Checks that need an earlier one to hold (the architecture needs a known data set) are skipped
    when it does not; otherwise every independent rule is checked, so a learner sees all that is
    wrong at once."""
    d = c.data
    if d.dataset not in DATASETS:
        yield Problem(
            "data.dataset",
            f"data.dataset = {quoted(d.dataset)} is not a known data set; allowed: {', '.join(DATASETS)}",
        )
        return
    info = DATASETS[d.dataset]
    if c.task == "auto" and not info.own:
        yield Problem(
            "task",
            f"task = 'auto' lets your own data decide the task, but {d.dataset} is built in; "
            f"allowed: {', '.join(info.tasks)} (or task = 'auto' with data sets {', '.join(datasets_for('auto'))})",
        )
        return
    if c.task not in info.tasks:
        yield Problem(
            "task",
            f"data.dataset = {d.dataset!r} does not serve task {c.task!r}; "
            f"data sets for {c.task}: {', '.join(datasets_for(c.task))}",
        )
        return
    for rules in (
        _model_fits_data,
        _loss_fits_task,
        _data_settings,
        _own_data_settings,
        _regularization_fits,
        _optimizer_fits,
    ):
        yield from rules(c)
    sweep = list(sweep_problems(c))
    yield from sweep
    if not sweep and not any(p.setting and p.setting.startswith("data.") for p in _data_settings(c)):
        n = c.known_sample_count()
        if n is not None:
            yield from batch_problems(c, n)


def _model_fits_data(c: ExperimentConfig) -> Iterator[Problem]:
    d, m, info = c.data, c.model, DATASETS[c.data.dataset]
    allowed = architectures_for(d.dataset, c.task)
    if m.architecture not in allowed:
        if c.task == "generation":
            why = "generation needs a generative model"
        elif m.architecture in GENERATIVE:
            why = f"{m.architecture} is generative and serves only task 'generation'"
        else:
            why = f"{d.dataset} is {KIND_WORDS[info.kind]}"
        yield Problem(
            "model.architecture",
            f"model.architecture = {m.architecture!r} does not fit data.dataset = {d.dataset!r} "
            f"({why}); allowed: {', '.join(allowed)}",
        )
    if not m.hidden and m.architecture in ("mlp", "autoencoder", "vae"):
        yield Problem(
            "model.hidden",
            f"model.hidden = [] leaves the {m.architecture} without layers; allowed: one or more widths, e.g. [32, 32]",
        )
    elif len(m.hidden) > MAX_HIDDEN_LAYERS:
        yield Problem(
            "model.hidden",
            f"model.hidden = {quoted(m.hidden)} has {len(m.hidden):,} layers; allowed: 1 to {MAX_HIDDEN_LAYERS} widths",
        )
    elif any(w < 1 or w > 4096 for w in m.hidden):
        yield Problem("model.hidden", f"model.hidden = {quoted(m.hidden)} has a width outside 1 to 4096")
    if m.architecture == "cnn" and m.architecture in allowed:  # on other data the kernel sizes mean nothing
        yield from _cnn_fits_images(c)


def _cnn_fits_images(c: ExperimentConfig) -> Iterator[Problem]:
    m, info = c.model, DATASETS[c.data.dataset]
    side = c.data.image_size if info.own else info.image_side or 1
    if not m.conv_channels or any(ch < 1 or ch > 512 for ch in m.conv_channels):
        yield Problem(
            "model.conv_channels",
            f"model.conv_channels = {quoted(m.conv_channels)}; allowed: 1 to 4 blocks of 1 to 512 channels",
        )
    elif len(m.conv_channels) > 4 or side >> len(m.conv_channels) < 1:
        yield Problem(
            "model.conv_channels",
            f"model.conv_channels = {quoted(m.conv_channels)} has {len(m.conv_channels)} blocks, but each halves the "
            f"{side}x{side} image; allowed: at most {max(1, side.bit_length() - 1)} blocks",
        )
    if m.kernel_size % 2 == 0:
        yield Problem(
            "model.kernel_size",
            f"model.kernel_size = {m.kernel_size} is even; allowed: 1, 3, 5 or 7 (odd sizes keep the image side)",
        )
    elif m.kernel_size > side:
        yield Problem(
            "model.kernel_size",
            f"model.kernel_size = {m.kernel_size} is larger than the {side}x{side} image; allowed: 1 to {side}",
        )


def _loss_fits_task(c: ExperimentConfig) -> Iterator[Problem]:
    if c.loss not in LOSSES_FOR_TASK[c.task]:
        yield Problem(
            "loss", f"loss = {c.loss!r} does not fit task {c.task!r}; allowed: {', '.join(LOSSES_FOR_TASK[c.task])}"
        )
    elif c.loss == "bce" and c.task == "classification" and c.n_classes not in (2, None):  # None: read later
        yield Problem(
            "loss",
            f"loss = 'bce' needs two classes but {c.data.dataset} has {c.n_classes}; allowed: auto, cross_entropy",
        )


def _data_settings(c: ExperimentConfig) -> Iterator[Problem]:
    d, r, info = c.data, c.regularization, DATASETS[c.data.dataset]
    if d.n_classes is not None and d.dataset not in DEFAULT_CLASSES:
        yield Problem(
            "data.n_classes",
            f"data.n_classes = {d.n_classes} applies only to {' and '.join(DEFAULT_CLASSES)}, not {d.dataset}; remove it",
        )
    if info.from_files and not d.path:
        what = OWN_PATH_WORDS.get(d.dataset, "is read from IDX files, so give the directory that holds them")
        yield Problem("data.path", f"data.path is not set; {d.dataset} {what}")
    if info.fixed_size and d.n_samples and d.n_samples > info.fixed_size:
        yield Problem(
            "data.n_samples",
            f"data.n_samples = {d.n_samples} exceeds the {info.fixed_size} samples of {d.dataset}; "
            f"allowed: 10 to {info.fixed_size}",
        )
    if d.classes is not None:
        yield from class_problems(c)
    total = d.train + d.val + d.test
    if d.k_folds is None and not math.isclose(total, 1.0, abs_tol=1e-6):
        yield Problem(
            "data.train",
            f"data.train + data.val + data.test = {d.train:g} + {d.val:g} + {d.test:g} = {total:g}; "
            "the fractions must sum to 1",
        )
    if d.k_folds is None and d.val == 0 and (r.early_stopping or c.optimizer.schedule == "plateau"):
        yield Problem(
            "data.val",
            "data.val = 0 leaves no validation split, which early stopping and the plateau schedule need; "
            "allowed: above 0",
        )


OWN_TABLES = ("csv", "numpy")
OWN_SUFFIXES = {"csv": (".csv", ".tsv", ".txt"), "numpy": (".npy", ".npz")}
OWN_PATH_WORDS = {
    "csv": "reads your own table, so give the path of its .csv or .tsv file",
    "numpy": "reads your own arrays, so give the path of its .npz or .npy file",
    "image_folder": "reads your own images, so give the folder that holds one sub-folder per class",
}
_TABLE_ONLY = ("target", "features", "missing")
_IMAGE_FOLDER_ONLY = ("channels", "image_size")


def _either(words: tuple[str, ...]) -> str:
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else words[0]


def _own_data_settings(c: ExperimentConfig) -> Iterator[Problem]:
    """The settings of your own data: only with it, and, without reading any file, a path that can hold it."""
    d = c.data
    defaults = type(d).model_fields
    for names, where, fits in (
        (_TABLE_ONLY, "your own tables (csv, numpy)", d.dataset in OWN_TABLES),
        (_IMAGE_FOLDER_ONLY, "image_folder", d.dataset == "image_folder"),
    ):
        for name in names:
            value = getattr(d, name)
            if not fits and value != defaults[name].default:
                yield Problem(
                    f"data.{name}",
                    f"data.{name} = {quoted(value)} applies only to {where}, not {d.dataset}; remove it",
                )
    if d.dataset in OWN_SUFFIXES and d.path:
        suffix = PurePath(d.path).suffix.lower()
        if suffix not in OWN_SUFFIXES[d.dataset]:
            other = next((name for name, ends in OWN_SUFFIXES.items() if suffix in ends), None)
            hint = f"; for a {suffix} file use data.dataset = {other!r}" if other else ""
            yield Problem(
                "data.path",
                f"data.path = {quoted(d.path)} is not a {_either(OWN_SUFFIXES[d.dataset])} file, which "
                f"{d.dataset} reads{hint}",
            )
    if d.features is not None:
        if not d.features:
            yield Problem(
                "data.features",
                "data.features = [] leaves nothing to learn from; allowed: one or more columns, or leave it out for all",
            )
        elif len(set(map(str, d.features))) != len(d.features):
            twice = next(f for f in d.features if list(map(str, d.features)).count(str(f)) > 1)
            yield Problem(
                "data.features",
                f"data.features = {quoted(d.features)} names {quoted(twice)} twice; allowed: each column once",
            )
        elif d.target is not None and d.target in d.features:
            yield Problem(
                "data.features",
                f"data.features = {quoted(d.features)} holds the target {quoted(d.target)}; a column is either "
                "input or target: leave it out of data.features",
            )


def _regularization_fits(c: ExperimentConfig) -> Iterator[Problem]:
    d, m, r, info = c.data, c.model, c.regularization, DATASETS[c.data.dataset]
    if m.architecture == "perceptron" and (r.dropout > 0 or r.batch_norm):
        field = "regularization.dropout" if r.dropout > 0 else "regularization.batch_norm"
        value = r.dropout if r.dropout > 0 else "true"
        yield Problem(
            field,
            f"{field} = {value} does not apply to a perceptron (one linear layer, no hidden units); allowed: 0 / false",
        )
    if r.augment_shift and info.kind != IMAGE:
        yield Problem(
            "regularization.augment_shift",
            f"regularization.augment_shift = {r.augment_shift} shifts images, but {d.dataset} is "
            f"{KIND_WORDS[info.kind]}; use augment_noise",
        )
    if r.augment_noise and info.kind == IMAGE:
        yield Problem(
            "regularization.augment_noise",
            f"regularization.augment_noise = {r.augment_noise:g} is for tabular and 2-D data; for images use augment_shift",
        )


def _optimizer_fits(c: ExperimentConfig) -> Iterator[Problem]:
    o = c.optimizer
    if o.nesterov and o.kind != "sgd":
        yield Problem("optimizer.nesterov", f"optimizer.nesterov = true needs optimizer.kind = 'sgd', not {o.kind!r}")
    elif o.nesterov and o.momentum == 0:
        yield Problem("optimizer.nesterov", "optimizer.nesterov = true needs optimizer.momentum above 0")


def class_problems(c: ExperimentConfig) -> Iterator[Problem]:
    """data.classes: a subset of a real classification data set's classes, each named once."""
    d = c.data
    info = DATASETS[d.dataset]
    if info.own:
        yield Problem(
            "data.classes",
            f"data.classes = {quoted(d.classes)} applies to built-in data sets, not your own {d.dataset}; "
            "remove it (and leave the other classes out of your file or folder)",
        )
        return
    if c.task != "classification" or info.synthetic:
        yield Problem(
            "data.classes",
            f"data.classes = {quoted(d.classes)} applies to real classification data (iris, wine, breast_cancer, "
            f"digits, mnist, fashion_mnist), not {c.task} on {d.dataset}; remove it",
        )
        return
    total = info.n_classes or 0
    classes = d.classes or []
    if len(classes) < 2 or len(set(classes)) != len(classes) or any(k < 0 or k >= total for k in classes):
        yield Problem(
            "data.classes",
            f"data.classes = {quoted(d.classes)} for {d.dataset}; "
            f"allowed: two or more different class numbers from 0 to {total - 1}",
        )


def sweep_problems(c: ExperimentConfig) -> Iterator[Problem]:
    """The ways the sweep section does not make sense for this experiment."""
    s = c.sweep
    if (c.model.init_from or c.model.freeze) and s.members > 1:
        setting = "model.init_from" if c.model.init_from else "model.freeze"
        shown = f"{setting} = {quoted(c.model.init_from if c.model.init_from else c.model.freeze)}"
        yield Problem(setting, f"sweep with {shown}: sweeps train every copy from fresh, unfrozen weights; remove one")
    if c.data.k_folds and s.members > 1:
        yield Problem(
            "data.k_folds",
            f"sweep with data.k_folds = {c.data.k_folds}: cross-validation and sweeps do not combine; remove one",
        )
    if s.parameter == "none":
        if s.values:
            yield Problem(
                "sweep.values",
                f"sweep.values = {quoted(s.values)} needs sweep.parameter; allowed parameters: {', '.join(SWEEPABLE)}",
            )
        return
    if s.seeds != 1:
        yield Problem(
            "sweep.seeds",
            f"sweep.seeds = {s.seeds} with sweep.parameter = {s.parameter!r}: sweep one or the other; allowed: seeds = 1",
        )
    if len(s.values) < 2 or len(s.values) > 32:
        yield Problem("sweep.values", f"sweep.values = {quoted(s.values)} for {s.parameter}; allowed: 2 to 32 values")
    elif any(v < 0 for v in s.values) or (s.parameter == "dropout" and any(v >= 1 for v in s.values)):
        allowed = "0 up to (not including) 1" if s.parameter == "dropout" else "0 or more"
        yield Problem("sweep.values", f"sweep.values = {quoted(s.values)} for {s.parameter}; allowed: {allowed}")
    if s.parameter == "dropout" and c.model.architecture == "perceptron":
        yield Problem(
            "sweep.parameter",
            "sweep.parameter = 'dropout' does not apply to a perceptron (no hidden units); "
            "allowed: l1, l2, weight_decay",
        )


def check_batch_fits(c: ExperimentConfig, n: int) -> None:
    """Raise ConfigError when the batch is larger than the training split of n samples (the data
    loader's check, once a data set's size is known from its files)."""
    problems = list(batch_problems(c, n))
    if problems:
        raise ConfigError(problems)


def batch_problems(c: ExperimentConfig, n: int) -> Iterator[Problem]:
    """The batch against the training split of n samples: too few samples, or a batch larger than them."""
    d = c.data
    if d.k_folds:
        n_train_total = n - round(n * d.test)
        n_train = n_train_total - math.ceil(n_train_total / d.k_folds)
        where = f"each fold's training part ({n_train} samples)"
    else:
        n_train = split_sizes(n, d.train, d.val, d.test)[0]
        where = f"the training split ({n_train} of {n} samples)"
    size = c.training.batch_size
    if n_train < 2:
        yield Problem(
            "data.train",
            f"data.train = {d.train:g} of {n} samples leaves {n_train} training samples; allowed: enough for 2 or more",
        )
    elif size != "full" and size > n_train:
        yield Problem(
            "training.batch_size",
            f'training.batch_size = {quoted(size)} is larger than {where}; allowed: 1 to {n_train}, or "full"',
        )
