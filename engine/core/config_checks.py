"""Whether a config's sections fit together: one sentence naming the field, the value and what is
allowed when they do not. ExperimentConfig runs `check_combination` on every validation; the
data loader runs `check_batch_fits` once a data set's size is known from its files.
"""

from __future__ import annotations

import difflib
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
from nnplay.engine.core.i18n import N_, _

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
            _("data.dataset = {value} is not a known data set; allowed: {allowed}").format(
                value=quoted(d.dataset), allowed=", ".join(DATASETS)
            ),
        )
        return
    info = DATASETS[d.dataset]
    if c.task == "auto" and not info.own:
        yield Problem(
            "task",
            _(
                "task = 'auto' lets your own data decide the task, but {dataset} is built in; "
                "allowed: {allowed} (or task = 'auto' with data sets {own})"
            ).format(dataset=d.dataset, allowed=", ".join(info.tasks), own=", ".join(datasets_for("auto"))),
        )
        return
    if c.task not in info.tasks:
        yield Problem(
            "task",
            _("data.dataset = {dataset} does not serve task {task}; data sets for {task_name}: {allowed}").format(
                dataset=repr(d.dataset), task=repr(c.task), task_name=c.task, allowed=", ".join(datasets_for(c.task))
            ),
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
            message = _(
                "model.architecture = {architecture} does not fit data.dataset = {dataset} "
                "(generation needs a generative model); allowed: {allowed}"
            )
        elif m.architecture in GENERATIVE:
            message = _(
                "model.architecture = {architecture} does not fit data.dataset = {dataset} "
                "({architecture_name} is generative and serves only task 'generation'); allowed: {allowed}"
            )
        else:
            message = _(
                "model.architecture = {architecture} does not fit data.dataset = {dataset} "
                "({dataset_name} is {kind}); allowed: {allowed}"
            )
        yield Problem(
            "model.architecture",
            message.format(
                architecture=repr(m.architecture),
                dataset=repr(d.dataset),
                architecture_name=m.architecture,
                dataset_name=d.dataset,
                kind=_(KIND_WORDS[info.kind]),
                allowed=", ".join(allowed),
            ),
        )
    if not m.hidden and m.architecture in ("mlp", "autoencoder", "vae"):
        yield Problem(
            "model.hidden",
            _(
                "model.hidden = [] leaves the {architecture} without layers; allowed: one or more widths, e.g. [32, 32]"
            ).format(architecture=m.architecture),
        )
    elif len(m.hidden) > MAX_HIDDEN_LAYERS:
        yield Problem(
            "model.hidden",
            _("model.hidden = {value} has {layers:,} layers; allowed: 1 to {limit} widths").format(
                value=quoted(m.hidden), layers=len(m.hidden), limit=MAX_HIDDEN_LAYERS
            ),
        )
    elif any(w < 1 or w > 4096 for w in m.hidden):
        yield Problem(
            "model.hidden", _("model.hidden = {value} has a width outside 1 to 4096").format(value=quoted(m.hidden))
        )
    if m.architecture == "cnn" and m.architecture in allowed:  # on other data the kernel sizes mean nothing
        yield from _cnn_fits_images(c)


def _cnn_fits_images(c: ExperimentConfig) -> Iterator[Problem]:
    m, info = c.model, DATASETS[c.data.dataset]
    side = c.data.image_size if info.own else info.image_side or 1
    if not m.conv_channels or any(ch < 1 or ch > 512 for ch in m.conv_channels):
        yield Problem(
            "model.conv_channels",
            _("model.conv_channels = {value}; allowed: 1 to 4 blocks of 1 to 512 channels").format(
                value=quoted(m.conv_channels)
            ),
        )
    elif len(m.conv_channels) > 4 or side >> len(m.conv_channels) < 1:
        yield Problem(
            "model.conv_channels",
            _(
                "model.conv_channels = {value} has {blocks} blocks, but each halves the {side}x{side} image; "
                "allowed: at most {limit} blocks"
            ).format(
                value=quoted(m.conv_channels),
                blocks=len(m.conv_channels),
                side=side,
                limit=max(1, side.bit_length() - 1),
            ),
        )
    if m.kernel_size % 2 == 0:
        yield Problem(
            "model.kernel_size",
            _("model.kernel_size = {size} is even; allowed: 1, 3, 5 or 7 (odd sizes keep the image side)").format(
                size=m.kernel_size
            ),
        )
    elif m.kernel_size > side:
        yield Problem(
            "model.kernel_size",
            _("model.kernel_size = {size} is larger than the {side}x{side} image; allowed: 1 to {side}").format(
                size=m.kernel_size, side=side
            ),
        )


def _loss_fits_task(c: ExperimentConfig) -> Iterator[Problem]:
    if c.loss not in LOSSES_FOR_TASK[c.task]:
        yield Problem(
            "loss",
            _("loss = {loss} does not fit task {task}; allowed: {allowed}").format(
                loss=repr(c.loss), task=repr(c.task), allowed=", ".join(LOSSES_FOR_TASK[c.task])
            ),
        )
    elif c.loss == "bce" and c.task == "classification" and c.n_classes not in (2, None):  # None: read later
        yield Problem(
            "loss",
            _("loss = 'bce' needs two classes but {dataset} has {classes}; allowed: auto, cross_entropy").format(
                dataset=c.data.dataset, classes=c.n_classes
            ),
        )


def _data_settings(c: ExperimentConfig) -> Iterator[Problem]:
    d, r, info = c.data, c.regularization, DATASETS[c.data.dataset]
    if d.n_classes is not None and d.dataset not in DEFAULT_CLASSES:
        yield Problem(
            "data.n_classes",
            _("data.n_classes = {value} applies only to {first} and {second}, not {dataset}; remove it").format(
                value=d.n_classes, first=SETS_OF_CLASSES[0], second=SETS_OF_CLASSES[1], dataset=d.dataset
            ),
        )
    if info.from_files and not d.path:
        message = OWN_PATH_WORDS.get(
            d.dataset,
            N_("data.path is not set; {dataset} is read from IDX files, so give the directory that holds them"),
        )
        yield Problem("data.path", _(message).format(dataset=d.dataset))
    if info.fixed_size and d.n_samples and d.n_samples > info.fixed_size:
        yield Problem(
            "data.n_samples",
            _("data.n_samples = {value} exceeds the {size} samples of {dataset}; allowed: 10 to {size}").format(
                value=d.n_samples, size=info.fixed_size, dataset=d.dataset
            ),
        )
    if d.classes is not None:
        yield from class_problems(c)
    total = d.train + d.val + d.test
    if d.k_folds is None and not math.isclose(total, 1.0, abs_tol=1e-6):
        yield Problem(
            "data.train",
            _(
                "data.train + data.val + data.test = {train:g} + {val:g} + {test:g} = {total:g}; "
                "the fractions must sum to 1"
            ).format(train=d.train, val=d.val, test=d.test, total=total),
        )
    if d.k_folds is None and d.val == 0 and (r.early_stopping or c.optimizer.schedule == "plateau"):
        yield Problem(
            "data.val",
            _(
                "data.val = 0 leaves no validation split, which early stopping and the plateau schedule need; "
                "allowed: above 0"
            ),
        )


OWN_TABLES = ("csv", "numpy")
OWN_SUFFIXES = {"csv": (".csv", ".tsv", ".txt"), "numpy": (".npy", ".npz")}
# The sentence for a data set read from files without data.path (shown through `_`).
OWN_PATH_WORDS = {
    "csv": N_("data.path is not set; {dataset} reads your own table, so give the path of its .csv or .tsv file"),
    "numpy": N_("data.path is not set; {dataset} reads your own arrays, so give the path of its .npz or .npy file"),
    "image_folder": N_(
        "data.path is not set; {dataset} reads your own images, so give the folder that holds one sub-folder per class"
    ),
}
SETS_OF_CLASSES = tuple(DEFAULT_CLASSES)  # the two data sets data.n_classes applies to
_TABLE_ONLY = ("target", "features", "missing")
_IMAGE_FOLDER_ONLY = ("channels", "image_size")


def _either(words: tuple[str, ...]) -> str:
    """'.csv, .tsv or .txt'."""
    if len(words) == 1:
        return words[0]
    return _("{choices} or {last}").format(choices=", ".join(words[:-1]), last=words[-1])


def _own_data_settings(c: ExperimentConfig) -> Iterator[Problem]:
    """The settings of your own data: only with it, and, without reading any file, a path that can hold it."""
    d = c.data
    defaults = type(d).model_fields
    for names, message, fits in (
        (
            _TABLE_ONLY,
            N_("data.{name} = {value} applies only to your own tables (csv, numpy), not {dataset}; remove it"),
            d.dataset in OWN_TABLES,
        ),
        (
            _IMAGE_FOLDER_ONLY,
            N_("data.{name} = {value} applies only to image_folder, not {dataset}; remove it"),
            d.dataset == "image_folder",
        ),
    ):
        for name in names:
            value = getattr(d, name)
            if not fits and value != defaults[name].default:
                yield Problem(
                    f"data.{name}",
                    _(message).format(name=name, value=quoted(value), dataset=d.dataset),
                )
    if d.dataset in OWN_SUFFIXES and d.path:
        suffix = PurePath(d.path).suffix.lower()
        if suffix not in OWN_SUFFIXES[d.dataset]:
            other = next((name for name, ends in OWN_SUFFIXES.items() if suffix in ends), None)
            if other:
                message = _(
                    "data.path = {path} is not a {suffixes} file, which {dataset} reads; "
                    "for a {suffix} file use data.dataset = {other}"
                )
            else:
                message = _("data.path = {path} is not a {suffixes} file, which {dataset} reads")
            yield Problem(
                "data.path",
                message.format(
                    path=quoted(d.path),
                    suffixes=_either(OWN_SUFFIXES[d.dataset]),
                    dataset=d.dataset,
                    suffix=suffix,
                    other=repr(other),
                ),
            )
    if d.features is not None:
        if not d.features:
            yield Problem(
                "data.features",
                _(
                    "data.features = [] leaves nothing to learn from; allowed: one or more columns, or leave it out for all"
                ),
            )
        elif len(set(map(str, d.features))) != len(d.features):
            twice = next(f for f in d.features if list(map(str, d.features)).count(str(f)) > 1)
            yield Problem(
                "data.features",
                _("data.features = {value} names {column} twice; allowed: each column once").format(
                    value=quoted(d.features), column=quoted(twice)
                ),
            )
        elif d.target is not None and d.target in d.features:
            yield Problem(
                "data.features",
                _(
                    "data.features = {value} holds the target {target}; a column is either input or target: "
                    "leave it out of data.features"
                ).format(value=quoted(d.features), target=quoted(d.target)),
            )


def _regularization_fits(c: ExperimentConfig) -> Iterator[Problem]:
    d, m, r, info = c.data, c.model, c.regularization, DATASETS[c.data.dataset]
    if m.architecture == "perceptron" and (r.dropout > 0 or r.batch_norm):
        if r.dropout > 0:
            field = "regularization.dropout"
            message = _(
                "regularization.dropout = {value} does not apply to a perceptron (one linear layer, no hidden units); "
                "allowed: 0 / false"
            ).format(value=r.dropout)
        else:
            field = "regularization.batch_norm"
            message = _(
                "regularization.batch_norm = true does not apply to a perceptron (one linear layer, no hidden units); "
                "allowed: 0 / false"
            )
        yield Problem(field, message)
    if r.augment_shift and info.kind != IMAGE:
        yield Problem(
            "regularization.augment_shift",
            _(
                "regularization.augment_shift = {shift} shifts images, but {dataset} is {kind}; use augment_noise"
            ).format(shift=r.augment_shift, dataset=d.dataset, kind=_(KIND_WORDS[info.kind])),
        )
    if r.augment_noise and info.kind == IMAGE:
        yield Problem(
            "regularization.augment_noise",
            _(
                "regularization.augment_noise = {noise:g} is for tabular and 2-D data; for images use augment_shift"
            ).format(noise=r.augment_noise),
        )


def _optimizer_fits(c: ExperimentConfig) -> Iterator[Problem]:
    o = c.optimizer
    if o.nesterov and o.kind != "sgd":
        yield Problem(
            "optimizer.nesterov",
            _("optimizer.nesterov = true needs optimizer.kind = 'sgd', not {kind}").format(kind=repr(o.kind)),
        )
    elif o.nesterov and o.momentum == 0:
        yield Problem("optimizer.nesterov", _("optimizer.nesterov = true needs optimizer.momentum above 0"))


def class_problems(c: ExperimentConfig) -> Iterator[Problem]:
    """data.classes: a subset of a real classification data set's classes, each named once."""
    d = c.data
    info = DATASETS[d.dataset]
    if info.own:
        yield Problem(
            "data.classes",
            _(
                "data.classes = {value} applies to built-in data sets, not your own {dataset}; "
                "remove it (and leave the other classes out of your file or folder)"
            ).format(value=quoted(d.classes), dataset=d.dataset),
        )
        return
    if c.task != "classification" or info.synthetic:
        yield Problem(
            "data.classes",
            _(
                "data.classes = {value} applies to real classification data (iris, wine, breast_cancer, "
                "digits, mnist, fashion_mnist), not {task} on {dataset}; remove it"
            ).format(value=quoted(d.classes), task=c.task, dataset=d.dataset),
        )
        return
    total = info.n_classes or 0
    classes = d.classes or []
    if len(classes) < 2 or len(set(classes)) != len(classes) or any(k < 0 or k >= total for k in classes):
        yield Problem(
            "data.classes",
            _(
                "data.classes = {value} for {dataset}; allowed: two or more different class numbers from 0 to {last}"
            ).format(value=quoted(d.classes), dataset=d.dataset, last=total - 1),
        )


def sweep_problems(c: ExperimentConfig) -> Iterator[Problem]:
    """The ways the sweep section does not make sense for this experiment."""
    s = c.sweep
    if (c.model.init_from or c.model.freeze) and s.members > 1:
        setting = "model.init_from" if c.model.init_from else "model.freeze"
        shown = quoted(c.model.init_from if c.model.init_from else c.model.freeze)
        yield Problem(
            setting,
            _(
                "sweep with {setting} = {value}: sweeps train every copy from fresh, unfrozen weights; remove one"
            ).format(setting=setting, value=shown),
        )
    if c.data.k_folds and s.members > 1:
        yield Problem(
            "data.k_folds",
            _("sweep with data.k_folds = {folds}: cross-validation and sweeps do not combine; remove one").format(
                folds=c.data.k_folds
            ),
        )
    if s.parameter != "none" and (s.grid or s.random):
        yield Problem(
            "sweep.parameter",
            _(
                "sweep.parameter = {parameter} with a grid or random search: put {setting} in sweep.grid "
                "instead; allowed: parameter = 'none' with a grid"
            ).format(parameter=repr(s.parameter), setting=f"regularization.{s.parameter}"),
        )
        return
    yield from search_problems(c)
    if s.parameter == "none":
        if s.values:
            yield Problem(
                "sweep.values",
                _("sweep.values = {values} needs sweep.parameter; allowed parameters: {allowed}").format(
                    values=quoted(s.values), allowed=", ".join(SWEEPABLE)
                ),
            )
        return
    if s.seeds != 1:
        yield Problem(
            "sweep.seeds",
            _(
                "sweep.seeds = {seeds} with sweep.parameter = {parameter}: sweep one or the other; allowed: seeds = 1"
            ).format(seeds=s.seeds, parameter=repr(s.parameter)),
        )
    if len(s.values) < 2 or len(s.values) > 32:
        yield Problem(
            "sweep.values",
            _("sweep.values = {values} for {parameter}; allowed: 2 to 32 values").format(
                values=quoted(s.values), parameter=s.parameter
            ),
        )
    elif any(v < 0 for v in s.values) or (s.parameter == "dropout" and any(v >= 1 for v in s.values)):
        if s.parameter == "dropout":
            message = _("sweep.values = {values} for {parameter}; allowed: 0 up to (not including) 1")
        else:
            message = _("sweep.values = {values} for {parameter}; allowed: 0 or more")
        yield Problem("sweep.values", message.format(values=quoted(s.values), parameter=s.parameter))
    if s.parameter == "dropout" and c.model.architecture == "perceptron":
        yield Problem(
            "sweep.parameter",
            _(
                "sweep.parameter = 'dropout' does not apply to a perceptron (no hidden units); "
                "allowed: l1, l2, weight_decay"
            ),
        )


def search_problems(c: ExperimentConfig) -> Iterator[Problem]:
    """A grid or random search that cannot be run: names, values, ranges and the number of members."""
    from nnplay.engine.core.sweep_members import count_phrase, is_numeric, range_problem, setting_names, value_problems

    s = c.sweep
    found = False
    if s.grid and s.random:
        found = True
        yield Problem(
            "sweep.random",
            _("sweep.grid and sweep.random cannot be combined: a sweep is a grid or a random search; remove one"),
        )
    if s.samples and not s.random:
        found = True
        yield Problem(
            "sweep.samples",
            _("sweep.samples = {samples} needs sweep.random, the ranges to draw the members from").format(
                samples=s.samples
            ),
        )
    if s.random and not s.samples:
        found = True
        yield Problem(
            "sweep.samples",
            _("sweep.random needs sweep.samples, how many members to draw; allowed: 1 or more"),
        )
    known = setting_names()
    for where, table in (("sweep.grid", s.grid), ("sweep.random", s.random)):
        for name, values in table.items():
            if name not in known:
                found = True
                close = difflib.get_close_matches(name, known, n=1)
                yield Problem(
                    where,
                    (
                        _("{where} names {setting}, which is not a setting a sweep can vary; did you mean {close}?")
                        if close
                        else _(
                            "{where} names {setting}, which is not a setting a sweep can vary; allowed: dotted "
                            "settings such as optimizer.lr, training.batch_size, model.hidden"
                        )
                    ).format(where=where, setting=quoted(name), close=close[0] if close else ""),
                )
            elif where == "sweep.grid" and not values:
                found = True
                yield Problem(
                    where,
                    _('sweep.grid["{setting}"] = [] has no values; allowed: a list of one or more values').format(
                        setting=name
                    ),
                )
            elif where == "sweep.random" and not is_numeric(name):
                found = True
                yield Problem(
                    where,
                    _(
                        'sweep.random["{setting}"]: {setting} is not a number and cannot be drawn; '
                        "list its values in sweep.grid instead"
                    ).format(setting=name),
                )
            elif where == "sweep.random" and (problem := range_problem(name, values)):
                found = True
                yield Problem(where, problem)
    if found:
        return
    if s.members > s.max_members:
        yield Problem(
            "sweep.max_members",
            _(
                "a sweep of {count} members ({how}) is more than sweep.max_members = {most}; allowed: up to {most} "
                "members: fewer values or seeds, or a higher sweep.max_members"
            ).format(count=s.members, how=count_phrase(c), most=s.max_members),
        )
        return
    yield from value_problems(c)


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
        too_large = _(
            "training.batch_size = {size} is larger than each fold's training part ({train} samples); "
            'allowed: 1 to {train}, or "full"'
        )
    else:
        n_train = split_sizes(n, d.train, d.val, d.test)[0]
        too_large = _(
            "training.batch_size = {size} is larger than the training split ({train} of {samples} samples); "
            'allowed: 1 to {train}, or "full"'
        )
    size = c.training.batch_size
    if n_train < 2:
        yield Problem(
            "data.train",
            _(
                "data.train = {fraction:g} of {samples} samples leaves {train} training samples; "
                "allowed: enough for 2 or more"
            ).format(fraction=d.train, samples=n, train=n_train),
        )
    elif size != "full" and size > n_train:
        yield Problem("training.batch_size", too_large.format(size=quoted(size), train=n_train, samples=n))
