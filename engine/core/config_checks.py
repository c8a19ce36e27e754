"""Whether a config's sections fit together: one sentence naming the field, the value and what is
allowed when they do not. ExperimentConfig runs `check_combination` on every validation; the
data loader runs `check_batch_fits` once a data set's size is known from its files.
"""

from __future__ import annotations

import math

from nnplay.engine.core.catalog import (
    DATASETS,
    DEFAULT_CLASSES,
    GENERATIVE,
    IMAGE,
    KIND_WORDS,
    architectures_for,
    datasets_for,
)
from nnplay.engine.core.config import LOSSES_FOR_TASK, SWEEPABLE, ExperimentConfig, quoted, split_sizes

MAX_HIDDEN_LAYERS = 64  # deeper than any lesson needs; 200,000 layers took minutes and gigabytes to build


def check_combination(c: ExperimentConfig) -> None:
    """Raise ValueError (one sentence) when the sections do not fit together."""
    d, m, r = c.data, c.model, c.regularization
    if d.dataset not in DATASETS:
        raise ValueError(f"data.dataset = {quoted(d.dataset)} is not a known data set; allowed: {', '.join(DATASETS)}")
    info = DATASETS[d.dataset]
    if c.task not in info.tasks:
        raise ValueError(
            f"data.dataset = {d.dataset!r} does not serve task {c.task!r}; "
            f"data sets for {c.task}: {', '.join(datasets_for(c.task))}"
        )
    allowed = architectures_for(d.dataset, c.task)
    if m.architecture not in allowed:
        if c.task == "generation":
            why = "generation needs a generative model"
        elif m.architecture in GENERATIVE:
            why = f"{m.architecture} is generative and serves only task 'generation'"
        else:
            why = f"{d.dataset} is {KIND_WORDS[info.kind]}"
        raise ValueError(
            f"model.architecture = {m.architecture!r} does not fit data.dataset = {d.dataset!r} "
            f"({why}); allowed: {', '.join(allowed)}"
        )
    if c.loss not in LOSSES_FOR_TASK[c.task]:
        raise ValueError(
            f"loss = {c.loss!r} does not fit task {c.task!r}; allowed: {', '.join(LOSSES_FOR_TASK[c.task])}"
        )
    if c.loss == "bce" and c.task == "classification" and c.n_classes != 2:
        raise ValueError(
            f"loss = 'bce' needs two classes but {d.dataset} has {c.n_classes}; allowed: auto, cross_entropy"
        )
    if d.n_classes is not None and d.dataset not in DEFAULT_CLASSES:
        raise ValueError(
            f"data.n_classes = {d.n_classes} applies only to {' and '.join(DEFAULT_CLASSES)}, not {d.dataset}; remove it"
        )
    if info.from_files and not d.path:
        raise ValueError(
            f"data.path is not set; {d.dataset} is read from IDX files, so give the directory that holds them"
        )
    if info.fixed_size and d.n_samples and d.n_samples > info.fixed_size:
        raise ValueError(
            f"data.n_samples = {d.n_samples} exceeds the {info.fixed_size} samples of {d.dataset}; allowed: 10 to {info.fixed_size}"
        )
    if d.classes is not None:
        check_classes(c)
    total = d.train + d.val + d.test
    if d.k_folds is None and not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ValueError(
            f"data.train + data.val + data.test = {d.train:g} + {d.val:g} + {d.test:g} = {total:g}; the fractions must sum to 1"
        )
    if d.k_folds is None and d.val == 0 and (r.early_stopping or c.optimizer.schedule == "plateau"):
        raise ValueError(
            "data.val = 0 leaves no validation split, which early stopping and the plateau schedule need; allowed: above 0"
        )
    if m.architecture == "perceptron" and (r.dropout > 0 or r.batch_norm):
        field = "regularization.dropout" if r.dropout > 0 else "regularization.batch_norm"
        value = r.dropout if r.dropout > 0 else "true"
        raise ValueError(
            f"{field} = {value} does not apply to a perceptron (one linear layer, no hidden units); allowed: 0 / false"
        )
    if not m.hidden and m.architecture in ("mlp", "autoencoder", "vae"):
        raise ValueError(
            f"model.hidden = [] leaves the {m.architecture} without layers; allowed: one or more widths, e.g. [32, 32]"
        )
    if len(m.hidden) > MAX_HIDDEN_LAYERS:
        raise ValueError(
            f"model.hidden = {quoted(m.hidden)} has {len(m.hidden):,} layers; allowed: 1 to {MAX_HIDDEN_LAYERS} widths"
        )
    if any(w < 1 or w > 4096 for w in m.hidden):
        raise ValueError(f"model.hidden = {quoted(m.hidden)} has a width outside 1 to 4096")
    if m.architecture == "cnn":
        if not m.conv_channels or any(ch < 1 or ch > 512 for ch in m.conv_channels):
            raise ValueError(
                f"model.conv_channels = {quoted(m.conv_channels)}; allowed: 1 to 4 blocks of 1 to 512 channels"
            )
        side = info.image_side or 1
        if len(m.conv_channels) > 4 or side >> len(m.conv_channels) < 1:
            raise ValueError(
                f"model.conv_channels = {quoted(m.conv_channels)} has {len(m.conv_channels)} blocks, but each halves the "
                f"{side}x{side} image; allowed: at most {max(1, side.bit_length() - 1)} blocks"
            )
        if m.kernel_size % 2 == 0:
            raise ValueError(
                f"model.kernel_size = {m.kernel_size} is even; allowed: 1, 3, 5 or 7 (odd sizes keep the image side)"
            )
        if m.kernel_size > side:
            raise ValueError(
                f"model.kernel_size = {m.kernel_size} is larger than the {side}x{side} image; allowed: 1 to {side}"
            )
    if r.augment_shift and info.kind != IMAGE:
        raise ValueError(
            f"regularization.augment_shift = {r.augment_shift} shifts images, but {d.dataset} is {KIND_WORDS[info.kind]}; use augment_noise"
        )
    if r.augment_noise and info.kind == IMAGE:
        raise ValueError(
            f"regularization.augment_noise = {r.augment_noise:g} is for tabular and 2-D data; for images use augment_shift"
        )
    if c.optimizer.nesterov and c.optimizer.kind != "sgd":
        raise ValueError(f"optimizer.nesterov = true needs optimizer.kind = 'sgd', not {c.optimizer.kind!r}")
    if c.optimizer.nesterov and c.optimizer.momentum == 0:
        raise ValueError("optimizer.nesterov = true needs optimizer.momentum above 0")
    check_sweep(c)
    n = c.known_sample_count()
    if n is not None:
        check_batch_fits(c, n)


def check_classes(c: ExperimentConfig) -> None:
    """data.classes: a subset of a real classification data set's classes, each named once."""
    d = c.data
    info = DATASETS[d.dataset]
    if c.task != "classification" or info.synthetic:
        raise ValueError(
            f"data.classes = {quoted(d.classes)} applies to real classification data (iris, wine, breast_cancer, "
            f"digits, mnist, fashion_mnist), not {c.task} on {d.dataset}; remove it"
        )
    total = info.n_classes or 0
    if len(d.classes) < 2 or len(set(d.classes)) != len(d.classes) or any(k < 0 or k >= total for k in d.classes):
        raise ValueError(
            f"data.classes = {quoted(d.classes)} for {d.dataset}; allowed: two or more different class numbers from 0 to {total - 1}"
        )


def check_sweep(c: ExperimentConfig) -> None:
    """Raise ValueError when the sweep section does not make sense for this experiment."""
    s = c.sweep
    if (c.model.init_from or c.model.freeze) and s.members > 1:
        setting = (
            f"model.init_from = {quoted(c.model.init_from)}"
            if c.model.init_from
            else f"model.freeze = {quoted(c.model.freeze)}"
        )
        raise ValueError(f"sweep with {setting}: sweeps train every copy from fresh, unfrozen weights; remove one")
    if c.data.k_folds and s.members > 1:
        raise ValueError(
            f"sweep with data.k_folds = {c.data.k_folds}: cross-validation and sweeps do not combine; remove one"
        )
    if s.parameter == "none":
        if s.values:
            raise ValueError(
                f"sweep.values = {quoted(s.values)} needs sweep.parameter; allowed parameters: {', '.join(SWEEPABLE)}"
            )
        return
    if s.seeds != 1:
        raise ValueError(
            f"sweep.seeds = {s.seeds} with sweep.parameter = {s.parameter!r}: sweep one or the other; allowed: seeds = 1"
        )
    if len(s.values) < 2 or len(s.values) > 32:
        raise ValueError(f"sweep.values = {quoted(s.values)} for {s.parameter}; allowed: 2 to 32 values")
    if any(v < 0 for v in s.values) or (s.parameter == "dropout" and any(v >= 1 for v in s.values)):
        allowed = "0 up to (not including) 1" if s.parameter == "dropout" else "0 or more"
        raise ValueError(f"sweep.values = {quoted(s.values)} for {s.parameter}; allowed: {allowed}")
    if s.parameter == "dropout" and c.model.architecture == "perceptron":
        raise ValueError(
            "sweep.parameter = 'dropout' does not apply to a perceptron (no hidden units); allowed: l1, l2, weight_decay"
        )


def check_batch_fits(c: ExperimentConfig, n: int) -> None:
    """Raise ValueError when the batch is larger than the training split of n samples."""
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
        raise ValueError(
            f"data.train = {d.train:g} of {n} samples leaves {n_train} training samples; allowed: enough for 2 or more"
        )
    if size != "full" and size > n_train:
        raise ValueError(
            f'training.batch_size = {quoted(size)} is larger than {where}; allowed: 1 to {n_train}, or "full"'
        )
