"""The experiment config: one typed, validated description of everything a run does.

Read from TOML presets plus `--set key=value` overrides, written back as TOML. Pure Python
(pydantic, no torch), so the app can validate a form as the user types.
Every error is one sentence naming the field, the value and what is allowed.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.data.catalog import (
    DATASETS,
    DEFAULT_CLASSES,
    DEFAULT_SYNTHETIC_SAMPLES,
    GENERATIVE,
    IMAGE,
    KIND_WORDS,
    architectures_for,
    datasets_for,
)

Task = Literal["classification", "regression", "generation", "forecasting"]
Activation = Literal["relu", "tanh", "sigmoid", "gelu", "leaky_relu", "linear"]
Architecture = Literal["perceptron", "mlp", "cnn", "rnn", "lstm", "gru", "autoencoder", "vae"]
Loss = Literal["auto", "cross_entropy", "bce", "mse", "mae", "huber"]

LOSSES_FOR_TASK: dict[str, tuple[str, ...]] = {
    "classification": ("auto", "cross_entropy", "bce"),
    "regression": ("auto", "mse", "mae", "huber"),
    "forecasting": ("auto", "mse", "mae", "huber"),
    "generation": ("auto", "bce", "mse"),
}


class ConfigError(ValueError):
    """A config that cannot be run; the message is one sentence for the user."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_attribute_docstrings=True, strict=True)


class DataConfig(Section):
    dataset: str = "moons"
    """Which data set: 2-D synthetic (moons, circles, xor, spiral, blobs), regression (sine, plane, bump),
    real tabular (iris, wine, breast_cancer, diabetes), images (digits, mnist, fashion_mnist),
    sequences (sine_forecast, memory)."""
    n_samples: int | None = Field(None, ge=10)
    """How many samples to use; synthetic data is generated with this many (default 1000),
    real data sets are subsampled to it (default: all)."""
    noise: float = Field(0.2, ge=0)
    """Noise added to synthetic data (standard deviation, in the data's own units)."""
    n_classes: int | None = Field(None, ge=2, le=10)
    """Number of classes for spiral (default 2) and blobs (default 3)."""
    seq_len: int = Field(20, ge=2, le=500)
    """Sequence length: the input window for sine_forecast, the lag to remember for memory."""
    path: str | None = None
    """Directory holding the IDX files (mnist, fashion_mnist), raw or .gz."""
    seed: int = Field(0, ge=0, lt=2**32)
    """Seed for generating and splitting the data (the same seed gives the same split)."""
    train: float = Field(0.6, gt=0, lt=1)
    """Fraction of the samples used to fit the weights."""
    val: float = Field(0.2, ge=0, lt=1)
    """Fraction held out to watch generalization during training (early stopping, overfitting)."""
    test: float = Field(0.2, ge=0, lt=1)
    """Fraction locked away until the end, for an honest final score."""
    k_folds: int | None = Field(None, ge=2, le=20)
    """k-fold cross-validation: train k times, each fold serving once as validation (test stays held out)."""
    normalization: Literal["none", "minmax", "zscore"] = "zscore"
    """Input scaling, fitted on the training split only: none, minmax to [0, 1], zscore to mean 0 and std 1."""


class ModelConfig(Section):
    architecture: Architecture = "mlp"
    """perceptron (one linear layer), mlp, cnn (LeNet-style), rnn, lstm, gru, autoencoder, vae."""
    hidden: list[int] = Field(default_factory=lambda: [16, 16])
    """Hidden layer widths of the MLP (and of the autoencoder/VAE encoder, mirrored in the decoder)."""
    activation: Activation = "relu"
    """Non-linearity between layers."""
    conv_channels: list[int] = Field(default_factory=lambda: [16, 32])
    """Output channels of each convolution block of the CNN (each block halves the image side)."""
    kernel_size: int = Field(3, ge=1, le=7)
    """Side of the CNN's square convolution kernels: 1, 3, 5 or 7 (odd, so padding keeps the image side)."""
    rnn_hidden: int = Field(32, ge=1, le=1024)
    """Hidden state size of the recurrent layers."""
    rnn_layers: int = Field(1, ge=1, le=4)
    """Number of stacked recurrent layers."""
    latent: int = Field(8, ge=1, le=256)
    """Size of the autoencoder/VAE code."""


class RegularizationConfig(Section):
    l1: float = Field(0.0, ge=0)
    """L1 penalty λ·Σ|w| added to the loss: pushes weights to exactly zero."""
    l2: float = Field(0.0, ge=0)
    """L2 penalty λ·Σw² added to the loss: keeps weights small."""
    weight_decay: float = Field(0.0, ge=0)
    """Decoupled weight decay applied by the optimizer at each step."""
    dropout: float = Field(0.0, ge=0, lt=1)
    """Probability of zeroing each hidden unit during training."""
    batch_norm: bool = False
    """Normalize each hidden layer's activations over the batch."""
    early_stopping: bool = False
    """Stop when validation loss has not improved for `patience` epochs."""
    patience: int = Field(10, ge=1)
    """Epochs without improvement before early stopping (also used to date the onset of overfitting)."""
    min_delta: float = Field(0.0, ge=0)
    """Smallest decrease of validation loss that counts as an improvement."""
    restore_best: bool = True
    """Finish with the weights of the best validation epoch rather than the last."""
    augment_noise: float = Field(0.0, ge=0)
    """Augmentation: standard deviation of gaussian noise added to training inputs (not images)."""
    augment_shift: int = Field(0, ge=0, le=4)
    """Augmentation: largest random shift of training images, in pixels."""
    grad_clip: float = Field(0.0, ge=0)
    """Clip the global gradient norm to this value (0 = off)."""


class OptimizerConfig(Section):
    kind: Literal["sgd", "adam", "adamw", "rmsprop"] = "adam"
    """The update rule."""
    lr: float = Field(0.01, gt=0, le=10)
    """Learning rate: the step size of each update."""
    momentum: float = Field(0.9, ge=0, lt=1)
    """Momentum of sgd and rmsprop."""
    nesterov: bool = False
    """Nesterov momentum (sgd only)."""
    schedule: Literal["constant", "step", "cosine", "plateau"] = "constant"
    """How the learning rate changes over epochs."""
    step_size: int = Field(30, ge=1)
    """Epochs between decays of the step schedule."""
    gamma: float = Field(0.5, gt=0, lt=1)
    """Factor applied at each decay (step and plateau schedules)."""
    plateau_patience: int = Field(5, ge=1)
    """Epochs without validation improvement before the plateau schedule decays."""


class TrainingConfig(Section):
    epochs: int = Field(50, ge=1, le=100_000)
    """Passes over the training split."""
    batch_size: int | Literal["full"] = 32
    """Samples per update, or "full" for full-batch gradient descent."""

    @field_validator("batch_size", mode="before")
    @classmethod
    def _batch_size_form(cls, value: Any) -> Any:
        if value == "full" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        raise ValueError(f'training.batch_size = {value!r} is not valid; allowed: a whole number from 1 up, or "full"')

    drop_last: bool = False
    """Drop the last, smaller batch of each epoch instead of training on it."""
    seed: int = Field(0, ge=0, lt=2**32)
    """Seed for weights, shuffling, dropout and augmentation."""
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    """Where to train: auto picks cuda, then mps, then cpu."""
    precision: Literal["fp32", "bf16"] = "fp32"
    """bf16 autocast speeds up CUDA training; elsewhere training stays fp32."""
    eval_every: int = Field(1, ge=1)
    """Measure validation metrics every N epochs."""
    snapshot_every: int = Field(5, ge=1)
    """Send model snapshots (decision boundary, predictions) every N epochs, and at the end."""
    step_every: int = Field(0, ge=0)
    """Send a step event every N updates (0 = off; events are rate-limited)."""
    threads: int = Field(0, ge=0, le=256)
    """CPU threads for torch (0 = one: these models are too small to gain from more)."""
    deterministic: bool = False
    """Use deterministic algorithms (slower on GPU)."""


SWEEPABLE = ("l1", "l2", "weight_decay", "dropout")


class SweepConfig(Section):
    seeds: int = Field(1, ge=1, le=32)
    """Train this many copies, with seeds training.seed, training.seed + 1, ...; charts show their mean and min–max band."""
    parameter: Literal["none", "l1", "l2", "weight_decay", "dropout"] = "none"
    """A regularization strength to vary across copies (one copy per value) instead of the seed."""
    values: list[float] = Field(default_factory=list)
    """The values of `parameter`, one copy each."""
    mode: Literal["auto", "batched", "processes"] = "auto"
    """auto trains the copies as one batched model (vmap) when the experiment allows it, else as separate processes."""

    @property
    def members(self) -> int:
        """How many copies are trained."""
        return len(self.values) if self.parameter != "none" else self.seeds


class ExperimentConfig(Section):
    name: str = "experiment"
    """Short name of the experiment, used to name its runs."""
    description: str = ""
    """What the experiment demonstrates."""
    task: Task = "classification"
    """classification, regression, generation or forecasting; the loss follows from it."""
    loss: Loss = "auto"
    """auto picks by task; or cross_entropy, bce (two classes), mse, mae, huber."""
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    regularization: RegularizationConfig = Field(default_factory=RegularizationConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    sweep: SweepConfig = Field(default_factory=SweepConfig)

    @model_validator(mode="after")
    def _check_combination(self) -> ExperimentConfig:
        check_combination(self)
        return self

    # Derived facts, shared by the engine's plan and the app's form.

    @property
    def n_classes(self) -> int | None:
        """Number of classes for classification, else None."""
        if self.task != "classification":
            return None
        info = DATASETS[self.data.dataset]
        return info.n_classes or self.data.n_classes or DEFAULT_CLASSES[self.data.dataset]

    @property
    def resolved_loss(self) -> str:
        """The loss actually used: `loss`, or the task's natural one when auto."""
        if self.task == "generation":
            recon = "bce" if self.loss in ("auto", "bce") else "mse"
            return f"{recon}+kl" if self.model.architecture == "vae" else recon
        if self.loss != "auto":
            return self.loss
        return "cross_entropy" if self.task == "classification" else "mse"

    def known_sample_count(self) -> int | None:
        """Samples in the data set when known without reading files."""
        info = DATASETS[self.data.dataset]
        if info.from_files:
            return self.data.n_samples
        if info.fixed_size:
            return min(self.data.n_samples or info.fixed_size, info.fixed_size)
        return self.data.n_samples or DEFAULT_SYNTHETIC_SAMPLES

    def to_toml(self) -> str:
        """The fully resolved config as TOML (None values are left out)."""
        return tomli_w.dumps(self.model_dump(exclude_none=True))


def split_sizes(n: int, train: float, val: float, test: float) -> tuple[int, int, int]:
    """Train/val/test sizes for n samples: val and test are rounded, train takes the rest."""
    n_test = round(n * test)
    n_val = round(n * val)
    return n - n_val - n_test, n_val, n_test


def batch_size_of(config: ExperimentConfig, n_train: int) -> int:
    """The batch size in samples ("full" means the whole training split)."""
    size = config.training.batch_size
    return n_train if size == "full" else size


def check_combination(c: ExperimentConfig) -> None:
    """Raise ValueError (one sentence) when the sections do not fit together."""
    d, m, r = c.data, c.model, c.regularization
    if d.dataset not in DATASETS:
        raise ValueError(f"data.dataset = {d.dataset!r} is not a known data set; allowed: {', '.join(DATASETS)}")
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
    if any(w < 1 or w > 4096 for w in m.hidden):
        raise ValueError(f"model.hidden = {m.hidden} has a width outside 1 to 4096")
    if m.architecture == "cnn":
        if not m.conv_channels or any(ch < 1 or ch > 512 for ch in m.conv_channels):
            raise ValueError(f"model.conv_channels = {m.conv_channels}; allowed: 1 to 4 blocks of 1 to 512 channels")
        side = info.image_side or 1
        if len(m.conv_channels) > 4 or side >> len(m.conv_channels) < 1:
            raise ValueError(
                f"model.conv_channels = {m.conv_channels} has {len(m.conv_channels)} blocks, but each halves the "
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


def check_sweep(c: ExperimentConfig) -> None:
    """Raise ValueError when the sweep section does not make sense for this experiment."""
    s = c.sweep
    if c.data.k_folds and s.members > 1:
        raise ValueError(
            f"sweep with data.k_folds = {c.data.k_folds}: cross-validation and sweeps do not combine; remove one"
        )
    if s.parameter == "none":
        if s.values:
            raise ValueError(
                f"sweep.values = {s.values} needs sweep.parameter; allowed parameters: {', '.join(SWEEPABLE)}"
            )
        return
    if s.seeds != 1:
        raise ValueError(
            f"sweep.seeds = {s.seeds} with sweep.parameter = {s.parameter!r}: sweep one or the other; allowed: seeds = 1"
        )
    if len(s.values) < 2 or len(s.values) > 32:
        raise ValueError(f"sweep.values = {s.values} for {s.parameter}; allowed: 2 to 32 values")
    if any(v < 0 for v in s.values) or (s.parameter == "dropout" and any(v >= 1 for v in s.values)):
        allowed = "0 up to (not including) 1" if s.parameter == "dropout" else "0 or more"
        raise ValueError(f"sweep.values = {s.values} for {s.parameter}; allowed: {allowed}")
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
        raise ValueError(f'training.batch_size = {size} is larger than {where}; allowed: 1 to {n_train}, or "full"')


# Reading and writing.


_BOUND_WORDS = {
    "greater_than_equal": ("ge", "{} or more"),
    "greater_than": ("gt", "above {}"),
    "less_than_equal": ("le", "at most {}"),
    "less_than": ("lt", "below {}"),
}
_TYPE_WORDS = {
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "int_type": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text in quotes",
    "list_type": "a list, e.g. [32, 32]",
    "model_type": "a table of settings",
    "dict_type": "a table of settings",
}


def _field_path(loc: tuple) -> list[str]:
    """The part of a pydantic error location that names config fields (drops union tags)."""
    path, model = [], ExperimentConfig
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if fields is None or not isinstance(part, str) or part not in fields:
            if isinstance(part, int) and path:
                path[-1] += f"[{part}]"
                continue
            break
        path.append(part)
        model = fields[part].annotation
    return path or [str(loc[0])]


def _describe_error(exc: ValidationError) -> str:
    """One sentence for the first problem pydantic found: field, value, what is allowed."""
    err = exc.errors(include_url=False)[0]
    kind, ctx = err["type"], err.get("ctx", {})
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        section = [str(p) for p in err["loc"][:-1]]
        model = ExperimentConfig
        for part in section:
            model = model.model_fields[part].annotation
        where = f"in [{'.'.join(section)}]" if section else "at the top level"
        return f"{'.'.join(str(p) for p in err['loc'])} is not a known setting {where}; allowed: {', '.join(model.model_fields)}"
    field = ".".join(_field_path(err["loc"]))
    value = err.get("input")
    shown = "a table" if isinstance(value, dict) else repr(value)
    if kind in _BOUND_WORDS:
        key, words = _BOUND_WORDS[kind]
        return f"{field} = {shown} is out of range; allowed: {words.format(ctx[key])}"
    if kind == "literal_error":
        return f"{field} = {shown} is not an option; allowed: {ctx['expected'].replace(' or ', ', ')}"
    if kind in _TYPE_WORDS:
        return f"{field} = {shown} is not valid; allowed: {_TYPE_WORDS[kind]}"
    return f"{field} = {shown}: {err['msg'][0].lower() + err['msg'][1:]}"


def validate(data: dict[str, Any]) -> ExperimentConfig:
    """Build a config from plain data, or raise ConfigError with one clear sentence."""
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe_error(exc)) from None
