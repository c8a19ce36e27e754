"""The experiment config: one typed, validated description of everything a run does.

Read from TOML presets plus `--set key=value` overrides (engine/config_files.py), written back
as TOML; sections that do not fit together are refused by engine/config_checks.py. Pure Python
(pydantic, no torch), so the app can validate a form as the user types.
Every error is one sentence naming the field, the value and what is allowed.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, NamedTuple

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from nnplay.engine.core.catalog import (
    DATASETS,
    DEFAULT_CLASSES,
    DEFAULT_SYNTHETIC_SAMPLES,
)
from nnplay.engine.core.events import QUOTE_LIMIT, quoted, shortened  # noqa: F401 (the config's messages use them)
from nnplay.engine.core.i18n import N_, _

Task = Literal["classification", "regression", "generation", "forecasting"]
# The task setting: a task, or "auto" (your own data only), which the engine decides from the data it reads.
TaskSetting = Literal["classification", "regression", "generation", "forecasting", "auto"]
Activation = Literal["relu", "tanh", "sigmoid", "gelu", "leaky_relu", "linear"]
Architecture = Literal["perceptron", "mlp", "cnn", "rnn", "lstm", "gru", "autoencoder", "vae"]
Loss = Literal["auto", "cross_entropy", "bce", "mse", "mae", "huber"]

LOSSES_FOR_TASK: dict[str, tuple[str, ...]] = {
    "classification": ("auto", "cross_entropy", "bce"),
    "regression": ("auto", "mse", "mae", "huber"),
    "forecasting": ("auto", "mse", "mae", "huber"),
    "generation": ("auto", "bce", "mse"),
    "auto": ("auto",),  # the task is decided from the data: so is its loss
}


class Problem(NamedTuple):
    """One thing wrong with a config: the setting it names (dotted, e.g. "training.batch_size"; None
    when it names no single setting, such as an unreadable file) and one sentence for the user."""

    setting: str | None
    message: str


def problems_text(messages: list[str], where: str | None = None) -> str:
    """Problems as one text: the one sentence, or how many and one sentence per line; `where` (a file
    name) leads it when given."""
    if len(messages) == 1:
        return f"{where}: {messages[0]}" if where else messages[0]
    if where:  # never one problem here: one is said alone, above
        head = _("{file} has {count} problems").format(file=where, count=len(messages))
    else:
        head = _("{count} problems").format(count=len(messages))
    return f"{head}:\n" + "\n".join(f"- {m}" for m in messages)


class ConfigError(ValueError):
    """A config that cannot be run, with every problem found: one sentence each, naming its setting.

    `str()` is the one sentence when there is one problem, else a count and the sentences one per
    line. The app marks each named setting in its form from `problems`; the engine's error event
    carries them too."""

    def __init__(
        self, problems: str | Problem | list[Problem], setting: str | None = None, where: str | None = None
    ) -> None:
        if isinstance(problems, str):
            problems = [Problem(setting, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems) or [Problem(setting, _("the config cannot be run"))]
        self.where = where  # the file the config came from, when it came from one
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The problems as the CLI prints them: one sentence ("bad.toml: training.epochs = 0 is out of
        range; ..."), or a count and one sentence per line."""
        return problems_text([p.message for p in self.problems], self.where)

    def __str__(self) -> str:
        return self.message

    def within(self, where: str) -> ConfigError:
        """The same problems, found in `where` (a file name), which the message then names."""
        return ConfigError(self.problems, where=where)

    def as_event_fields(self) -> dict[str, Any]:
        """`message` and `problems` for the protocol's error event."""
        return {"message": self.message, "problems": [p._asdict() for p in self.problems]}


class CombinationError(ValueError):
    """Raised inside validation by the combination rules, carrying every problem they found (pydantic
    keeps the exception, so validate() can hand each problem on with its setting)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


class Section(BaseModel):
    """A section of settings: unknown keys, wrong types and non-finite numbers are refused."""

    # allow_inf_nan=False: inf or nan in any float setting (and in lists of floats) is an error, not a
    # value that reaches the engine and breaks it mid-run. defer_build: the validators are built at the
    # first validation, not at import (the app's first frame does not wait for them). Each setting's
    # description is the docstring under it (_attribute_docstrings, below the classes).
    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        strict=True,
        allow_inf_nan=False,
        defer_build=True,
    )


class DataConfig(Section):
    """[data]: which data set, how many samples, and how they are split."""

    dataset: str = "moons"
    """Which data set: 2-D synthetic (moons, circles, xor, spiral, blobs), regression (sine, plane, bump),
    real tabular (iris, wine, breast_cancer, diabetes), images (digits, mnist, fashion_mnist),
    sequences (sine_forecast, memory); your own files in data.path (csv, numpy, image_folder)."""
    n_samples: int | None = Field(None, ge=10, le=10_000_000)
    """How many samples to use; synthetic data is generated with this many (default 1000),
    real data sets are subsampled to it (default: all)."""
    noise: float = Field(0.2, ge=0)
    """Noise added to synthetic data (standard deviation, in the data's own units)."""
    n_classes: int | None = Field(None, ge=2, le=10)
    """Number of classes for spiral (default 2) and blobs (default 3)."""
    seq_len: int = Field(20, ge=2, le=500)
    """Sequence length: the input window for sine_forecast, the lag to remember for memory."""
    path: str | None = None
    """Where the data is read from: the directory holding the IDX files (mnist, fashion_mnist), raw or .gz; for your
    own data the .csv or .tsv file (csv), the .npz or .npy file (numpy), or the folder of class folders (image_folder).
    A relative path is relative to the directory nnplay runs in."""
    target: str | int | None = None
    """Your own table (csv, numpy): the column to predict, by name or number (0 the first, -1 the last); default the
    last column. Text or a few whole numbers make it classification, other numbers regression (with task = "auto")."""
    features: list[str | int] | None = None
    """Your own table: the columns to learn from, by name or number; default every column but the target. Text columns
    are one-hot encoded (one input per value)."""
    missing: Literal["refuse", "drop", "mean"] = "refuse"
    """Your own table: what to do with empty cells (or NA, NaN, null, ?): refuse the file and count them, drop their
    rows, or fill them with the column's mean over the training split (rows missing the target are dropped)."""
    channels: Literal[1, 3] = 1
    """image_folder: 1 reads every image as grey levels, 3 keeps its colours (RGB)."""
    image_size: int = Field(28, ge=4, le=256)
    """image_folder: the side, in pixels, every image is resized to (square)."""
    seed: int = Field(0, ge=0, lt=2**32)
    """Seed for generating and splitting the data (the same seed gives the same split)."""
    train: float = Field(0.6, gt=0, lt=1)
    """Fraction of the samples used to fit the weights."""
    val: float = Field(0.2, ge=0, lt=1)
    """Fraction held out to watch generalization during training (early stopping, overfitting)."""
    test: float = Field(0.2, ge=0, lt=1)
    """Fraction locked away until the end, for an honest final score."""
    classes: list[int] | None = None
    """Keep only these classes of a real classification data set (e.g. [5, 6, 7, 8, 9] of digits), numbered
    0, 1, ... in this order; data.n_samples then counts the samples kept."""
    k_folds: int | None = Field(None, ge=2, le=20)
    """k-fold cross-validation: train k times, each fold serving once as validation (test stays held out)."""
    normalization: Literal["none", "minmax", "zscore"] = "zscore"
    """Input scaling, fitted on the training split only: none, minmax to [0, 1], zscore to mean 0 and std 1."""

    @field_validator("target", mode="before")
    @classmethod
    def _target_form(cls, value: Any) -> Any:
        if value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise ValueError(
            _("data.target = {value} is not valid; allowed: a column name in quotes or a number").format(
                value=quoted(value)
            )
        )

    @field_validator("features", mode="before")
    @classmethod
    def _features_form(cls, value: Any) -> Any:
        if value is None or (
            isinstance(value, list)
            and all(isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)) for v in value)
        ):
            return value
        raise ValueError(
            _(
                "data.features = {value} is not valid; allowed: a list of column names in quotes or numbers, "
                'e.g. ["age", "income"]'
            ).format(value=quoted(value))
        )


class ModelConfig(Section):
    """[model]: the architecture and its sizes, and weights to start from."""

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
    init_from: str = ""
    """Transfer learning: start from the weights of an earlier run (its directory, its model.pt, or the
    name of the latest run of that name in the run store); layers whose names and shapes match are copied."""
    freeze: list[str] = Field(default_factory=list)
    """Layers to keep fixed during training, by name or name prefix (e.g. ["features"]: the CNN's
    convolution blocks), usually with init_from."""


class RegularizationConfig(Section):
    """[regularization]: the cures for overfitting (dropout, penalties, early stopping, augmentation)."""

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
    """With early stopping, finish with the weights of the best validation epoch rather than the last."""
    augment_noise: float = Field(0.0, ge=0)
    """Augmentation: standard deviation of gaussian noise added to training inputs (not images)."""
    augment_shift: int = Field(0, ge=0, le=4)
    """Augmentation: largest random shift of training images, in pixels."""
    grad_clip: float = Field(0.0, ge=0)
    """Clip the global gradient norm to this value (0 = off)."""


class OptimizerConfig(Section):
    """[optimizer]: the update rule, its learning rate and schedule."""

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
    """[training]: epochs, batches, seed, device and how often the engine reports."""

    epochs: int = Field(50, ge=1, le=100_000)
    """Passes over the training split."""
    batch_size: int | Literal["full"] = 32
    """Samples per update, or "full" for full-batch gradient descent."""

    @field_validator("batch_size", mode="before")
    @classmethod
    def _batch_size_form(cls, value: Any) -> Any:
        if value == "full" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        raise ValueError(
            _('training.batch_size = {value} is not valid; allowed: a whole number from 1 up, or "full"').format(
                value=quoted(value)
            )
        )

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


SweepExecutor = Literal["auto", "batched", "processes", "ray"]


def _flat_settings(table: Any, prefix: str = "") -> Any:
    """A table of dotted setting -> list, whether written with quoted keys ("optimizer.lr" = [...]) or as
    TOML's nested tables (optimizer.lr = [...] or [sweep.grid.optimizer]); anything else is left for the
    type check to refuse."""
    if not isinstance(table, dict):
        return table
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat_settings(value, f"{name}."))
        else:
            flat[name] = value
    return flat


class SweepConfig(Section):
    """[sweep]: train several copies ("members") that differ in seed, in one regularization strength, or in
    any settings (a grid or a random search)."""

    seeds: int = Field(1, ge=1, le=32)
    """Train this many copies, with seeds training.seed, training.seed + 1, ...; with a grid or a random search,
    every combination this many times. Charts show the members' mean and min–max band."""
    parameter: Literal["none", "l1", "l2", "weight_decay", "dropout"] = "none"
    """A regularization strength to vary across copies (one copy per value) instead of the seed."""
    values: list[float] = Field(default_factory=list)
    """The values of `parameter`, one copy each."""
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    """Settings to cross, each with its list of values: "optimizer.lr" = [0.001, 0.01, 0.1] and
    "training.batch_size" = [16, 64, 256] train 9 members, one per combination."""
    samples: int = Field(0, ge=0)
    """Random search: draw this many members, each setting of `random` drawn from its range."""
    random: dict[str, list[Any]] = Field(default_factory=dict)
    """Random search: each setting's range, [low, high] drawn uniformly or [low, high, "log"] log-uniformly, e.g.
    "optimizer.lr" = [0.0001, 0.1, "log"]; whole-number bounds draw whole numbers."""
    executor: SweepExecutor = "auto"
    """How the members train: batched (one vmapped model) when they differ only in seed or L1/L2/weight decay,
    processes (one engine each, as many at once as cores), ray (tasks on a Ray cluster), or auto: batched when
    possible, else processes."""
    ray_address: str = ""
    """With executor = "ray": empty starts a local Ray on this machine; "auto" or "host:port" joins a running
    cluster."""
    max_members: int = Field(256, ge=1)
    """The most members a sweep may have; a grid or search with more is refused before anything trains."""

    @model_validator(mode="before")
    @classmethod
    def _earlier_names(cls, data: Any) -> Any:
        """`mode` was the executor's earlier name; nested tables of settings become dotted names."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "mode" in data and "executor" not in data:
            data["executor"] = data.pop("mode")
        for key in ("grid", "random"):
            if key in data:
                data[key] = _flat_settings(data[key])
        return data

    @property
    def searched(self) -> list[str]:
        """The settings a grid or random search varies, in the config's order."""
        return list(self.grid) + [name for name in self.random if name not in self.grid]

    @property
    def combinations(self) -> int:
        """Members before the seeds: the grid's combinations, or the random samples, or one."""
        if self.random:
            return self.samples
        count = 1
        for values in self.grid.values():
            count *= len(values)
        return count

    @property
    def members(self) -> int:
        """How many copies are trained."""
        if self.parameter != "none":
            return len(self.values)
        return self.combinations * self.seeds


class ExperimentConfig(Section):
    """One experiment, every setting validated and the sections checked to fit together."""

    name: str = Field("experiment", min_length=1, max_length=100)
    """Short name of the experiment, used to name its runs."""
    description: str = ""
    """What the experiment demonstrates."""
    task: TaskSetting = "classification"
    """classification, regression, generation or forecasting; the loss follows from it. With your own data (csv,
    numpy, image_folder) also auto, the default there: classification or regression as the target column says
    (images: classification)."""
    loss: Loss = "auto"
    """auto picks by task; or cross_entropy, bce (two classes), mse, mae, huber."""
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    regularization: RegularizationConfig = Field(default_factory=RegularizationConfig)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    sweep: SweepConfig = Field(default_factory=SweepConfig)
    # The number of classes the engine found in your own data (no setting states it); None until then.
    _classes_read: int | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _own_data_decides_its_task(cls, data: Any) -> Any:
        """Your own data with no task given: the task is "auto", decided from the data when it is read."""
        if isinstance(data, dict) and "task" not in data:
            section = data.get("data")
            dataset = section.get("dataset") if isinstance(section, dict) else None
            if isinstance(dataset, str) and dataset in DATASETS and DATASETS[dataset].own:
                return {**data, "task": "auto"}
        return data

    @model_validator(mode="after")
    def _check_combination(self) -> ExperimentConfig:
        from nnplay.engine.core.config_checks import check_combination  # the checks read this module's types

        check_combination(self)
        return self

    # Derived facts, shared by the engine's plan and the app's form.

    @property
    def n_classes(self) -> int | None:
        """Number of classes for classification, else None."""
        if self.task != "classification":
            return None
        info = DATASETS[self.data.dataset]
        if info.own:  # read, not known: None until the engine has read the files (with_data_read)
            return self._classes_read
        if self.data.classes:
            return len(self.data.classes)
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
        if info.from_files or self.data.classes:  # how many samples the kept classes have is read, not known
            return self.data.n_samples
        if info.fixed_size:
            return min(self.data.n_samples or info.fixed_size, info.fixed_size)
        return self.data.n_samples or DEFAULT_SYNTHETIC_SAMPLES

    def with_data_read(self, task: str, n_classes: int | None) -> ExperimentConfig:
        """This config once the engine has read your own data: the task it decided (for task = "auto") and the
        number of classes it found. The engine trains, plans and records with this one."""
        settled = self.model_copy(update={"task": task})
        settled._classes_read = n_classes
        return settled

    def to_toml(self) -> str:
        """The fully resolved config as TOML (None values are left out)."""
        return tomli_w.dumps(self.model_dump(exclude_none=True))


def _attribute_docstrings(models: Iterable[type[BaseModel]]) -> None:
    """Each setting's description from the docstring written under it, as pydantic's
    `use_attribute_docstrings` reads them, from one parse of this file (pydantic reads the source once
    per class: most of this module's import time)."""
    try:
        tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    except (OSError, SyntaxError):  # no source beside the bytecode: settings without descriptions
        return
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    for model in models:
        body = classes[model.__name__].body
        for statement, after in zip(body, body[1:], strict=False):
            if (
                isinstance(statement, ast.AnnAssign)
                and isinstance(statement.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
                and (field := model.model_fields.get(statement.target.id)) is not None
            ):
                field.description = inspect.cleandoc(after.value.value)


_attribute_docstrings(
    (DataConfig, ModelConfig, RegularizationConfig, OptimizerConfig, TrainingConfig, SweepConfig, ExperimentConfig)
)


def split_sizes(n: int, train: float, val: float, test: float) -> tuple[int, int, int]:
    """Train/val/test sizes for n samples: val and test are rounded, train takes the rest."""
    n_test = round(n * test)
    n_val = round(n * val)
    return n - n_val - n_test, n_val, n_test


# The evaluation-mode training loss is measured each epoch on a fixed random subset of the training
# split when it is large: as many samples as the validation split (and at least this many), so the
# generalization gap compares like with like without a second full pass over the data per epoch.
TRAIN_EVAL_MIN = 256


def train_eval_size(n_train: int, n_val: int) -> int:
    """How many training samples the per-epoch train metrics are measured on."""
    return min(n_train, max(TRAIN_EVAL_MIN, n_val))


def batch_size_of(config: ExperimentConfig, n_train: int) -> int:
    """The batch size in samples ("full" means the whole training split)."""
    size = config.training.batch_size
    return n_train if size == "full" else size


# Reading and writing.

MAX_NESTING = 16  # tables and lists inside one another; settings need three (a section, a key, a list)


def nested_too_deeply(where: str) -> str:
    """The sentence for data nested deeper than MAX_NESTING at `where` (a setting, a file, "the config")."""
    return _("{where} is nested too deeply; allowed: at most {limit} tables and lists inside one another").format(
        where=where, limit=MAX_NESTING
    )


def as_typed(text: str) -> str:
    """A setting's name or a typed value as a message shows it: as typed, or quoted when it holds
    line breaks or other unprintable characters; cut to QUOTE_LIMIT characters."""
    return shortened(text) if text.isprintable() else quoted(text)


def nesting_error(data: Any) -> str | None:
    """Where plain data nests tables and lists more than MAX_NESTING deep ("model.hidden"), or None.
    Iterative, so that it cannot itself run out of stack."""
    stack: list[tuple[Any, tuple[Any, ...], int]] = [(data, (), 0)]
    while stack:
        value, path, depth = stack.pop()
        children: Iterable[tuple[Any, Any]]
        if isinstance(value, dict):
            children = value.items()
        elif isinstance(value, list | tuple):
            children = enumerate(value)
        else:
            continue
        if depth >= MAX_NESTING:
            keys = [str(part) for part in path[:2] if isinstance(part, str)]
            return as_typed(".".join(keys)) if keys else _("the config")
        stack.extend((child, (*path, key), depth + 1) for key, child in children)
    return None


# Words shown through `_`.
_BOUND_WORDS = {
    "greater_than_equal": ("ge", N_("{bound} or more")),
    "greater_than": ("gt", N_("above {bound}")),
    "less_than_equal": ("le", N_("at most {bound}")),
    "less_than": ("lt", N_("below {bound}")),
}
_TYPE_WORDS = {
    "int_parsing": N_("a whole number"),
    "int_from_float": N_("a whole number"),
    "int_type": N_("a whole number"),
    "float_parsing": N_("a number"),
    "float_type": N_("a number"),
    "bool_parsing": N_("true or false"),
    "bool_type": N_("true or false"),
    "string_type": N_("text in quotes"),
    "list_type": N_("a list, e.g. [32, 32]"),
    "model_type": N_("a table of settings"),
    "dict_type": N_("a table of settings"),
}


def _walk(loc: tuple) -> tuple[list[str], Any]:
    """The part of a pydantic error location that names config fields (drops union tags), and the
    FieldInfo of the last field it names (None when it names none)."""
    path: list[str] = []
    model: Any = ExperimentConfig
    info = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if fields is None or not isinstance(part, str) or part not in fields:
            if isinstance(part, int) and path:
                path[-1] += f"[{part}]"
                continue
            break
        path.append(part)
        info = fields[part]
        model = info.annotation
    return path, info


def _field_path(loc: tuple) -> list[str]:
    path, _info = _walk(loc)
    return path or [as_typed(str(part)) for part in loc[:1]] or [_("the config")]


def allowed_range(path: list[str]) -> str | None:
    """The bounds of a numeric setting in words ("1 or more and at most 100000"), or None."""
    _path, info = _walk(tuple(path))
    if info is None:
        return None
    words = [
        _(template).format(bound=getattr(bound, key))
        for bound in info.metadata
        for key, template in _BOUND_WORDS.values()
        if hasattr(bound, key)
    ]
    if len(words) == 2:  # a lower and an upper bound, as a setting has at most
        return _("{first} and {second}").format(first=words[0], second=words[1])
    return " and ".join(words) or None


def _length_words(info: Any) -> str:
    """The allowed length of a text setting in words ("1 to 100 characters")."""
    lengths = {
        key: getattr(bound, key)
        for bound in info.metadata
        for key in ("min_length", "max_length")
        if hasattr(bound, key)
    }
    low, high = lengths.get("min_length"), lengths.get("max_length")
    if low and high:
        return _("{low} to {high} characters").format(low=low, high=high)
    if high:
        return _("at most {high} characters").format(high=high)
    return _("at least {low} characters").format(low=low)


def _problems(exc: ValidationError) -> list[Problem]:
    """Every problem pydantic found, each with its setting, in the order of the config's sections."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, CombinationError):
            problems.extend(cause.problems)
            continue
        path, _info = _walk(err["loc"])
        setting = ".".join(part.split("[")[0] for part in path) or None
        problems.append(Problem(setting, _describe_error(err)))
    return problems


def _describe_error(err: Any) -> str:
    """One sentence for one problem pydantic found: field, value, what is allowed."""
    kind, ctx = err["type"], err.get("ctx", {})
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        section = [str(p) for p in err["loc"][:-1]]
        model: Any = ExperimentConfig
        for part in section:
            model = model.model_fields[part].annotation
        key = as_typed(".".join(str(p) for p in err["loc"]))
        allowed = ", ".join(model.model_fields)
        if section:
            return _("{key} is not a known setting in [{section}]; allowed: {allowed}").format(
                key=key, section=".".join(section), allowed=allowed
            )
        return _("{key} is not a known setting at the top level; allowed: {allowed}").format(key=key, allowed=allowed)
    path, info = _walk(err["loc"])
    field = ".".join(_field_path(err["loc"]))
    value = err.get("input")
    shown = _("a table") if isinstance(value, dict) else quoted(value)
    if kind == "finite_number":
        bounds = allowed_range(path) if path and "[" not in path[-1] else None
        if bounds:
            return _("{field} = {value} is not a finite number; allowed: a finite number, {bounds}").format(
                field=field, value=shown, bounds=bounds
            )
        return _("{field} = {value} is not a finite number; allowed: a finite number").format(field=field, value=shown)
    if kind in ("string_too_short", "string_too_long") and info is not None:
        if not value:
            return _("{field} = {value} is empty; allowed: {allowed}").format(
                field=field, value=shown, allowed=_length_words(info)
            )
        return _("{field} = {value} is {length} characters long; allowed: {allowed}").format(
            field=field, value=shown, length=len(value), allowed=_length_words(info)
        )
    if kind in _BOUND_WORDS:
        key, words = _BOUND_WORDS[kind]
        return _("{field} = {value} is out of range; allowed: {allowed}").format(
            field=field, value=shown, allowed=_(words).format(bound=ctx[key])
        )
    if kind == "literal_error":
        return _("{field} = {value} is not an option; allowed: {allowed}").format(
            field=field, value=shown, allowed=ctx["expected"].replace(" or ", ", ")
        )
    if kind in _TYPE_WORDS:
        return _("{field} = {value} is not valid; allowed: {allowed}").format(
            field=field, value=shown, allowed=_(_TYPE_WORDS[kind])
        )
    return f"{field} = {shown}: {err['msg'][0].lower() + err['msg'][1:]}"  # pydantic's own words


def validate(data: dict[str, Any]) -> ExperimentConfig:
    """Build a config from plain data, or raise ConfigError with every problem found (the
    combination rules are checked once every setting on its own is valid)."""
    where = nesting_error(data)
    if where is not None:
        raise ConfigError(nested_too_deeply(where))
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc)) from None
