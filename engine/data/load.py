"""Turn the data section of an experiment config into tensors: one `Dataset`, whole, in memory."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from nnplay.engine.core.catalog import DATASETS, DEFAULT_CLASSES, DEFAULT_SYNTHETIC_SAMPLES, IMAGE
from nnplay.engine.core.config import ConfigError, ExperimentConfig
from nnplay.engine.core.config_checks import check_batch_fits
from nnplay.engine.core.i18n import _
from nnplay.engine.data import files, images, sequences, synthetic, tabular


@dataclass
class Dataset:
    """Every sample of a data set as two tensors, before splitting and normalization."""

    name: str
    kind: str  # catalog kind: points | curve | tabular | image | sequence
    x: torch.Tensor  # float32 (N, *input_shape); images in [0, 1]
    y: torch.Tensor  # classification int64 (N,); regression/forecasting float32 (N, 1); generation: x itself
    input_shape: tuple[int, ...]
    n_classes: int | None
    class_names: list[str] | None
    feature_names: list[str] | None
    task: str | None = None  # the task it serves; for your own data, as decided when it was read
    data_info: dict | None = None  # your own data: what was read (the plan's data_info)

    def to(self, device: torch.device | str) -> Dataset:
        """The same data set on `device` (a generation target stays the very tensor of its inputs)."""
        x = self.x.to(device)
        y = x if self.y is self.x else self.y.to(device)
        return replace(self, x=x, y=y)

    def __len__(self) -> int:
        return len(self.x)


def _tensor(array: np.ndarray) -> torch.Tensor:
    # torch.from_numpy shares memory and warns on read-only arrays (IDX files are read with
    # np.frombuffer), so copy those first; writeable, contiguous arrays are shared as they are.
    return torch.from_numpy(np.require(array, requirements=["C", "W"]))


def _subsample(labels: np.ndarray, config: ExperimentConfig, rng: np.random.Generator, what: str) -> np.ndarray | None:
    """Row indices to keep: the rows of data.classes (if set), then a seeded random subsample of
    data.n_samples of them; None to keep every row."""
    d = config.data
    rows = np.flatnonzero(np.isin(labels, d.classes)) if d.classes else None
    n_available = len(labels) if rows is None else len(rows)
    if rows is not None:
        what = _("classes {classes} of {data}").format(classes=d.classes, data=what)
    if d.n_samples is None:
        return rows
    if d.n_samples > n_available:
        raise ConfigError(
            _("data.n_samples = {n} exceeds the {available} samples of {data}; allowed: 10 to {available}").format(
                n=d.n_samples, available=n_available, data=what
            ),
            setting="data.n_samples",
        )
    chosen = rng.choice(n_available, size=d.n_samples, replace=False)
    return chosen if rows is None else rows[chosen]


def _relabel(labels: np.ndarray, class_names: list[str] | None, classes: list[int] | None):
    """Kept classes numbered 0, 1, ... in the order data.classes lists them, with their names."""
    if not classes:
        return labels, class_names
    index = np.full(max(int(labels.max()), *classes) + 1, -1, dtype=np.int64)  # a kept class may not be drawn
    index[classes] = np.arange(len(classes))
    names = [class_names[k] for k in classes] if class_names else [str(k) for k in classes]
    return index[labels], names


def _images(config: ExperimentConfig, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, side, side) in [0, 1] and int64 labels for digits, mnist or fashion_mnist."""
    d = config.data
    from_files = DATASETS[d.dataset].from_files
    if from_files:
        pixels, labels = images.load_idx(d.dataset, d.path or "")
        brightest, what = 255.0, _("{dataset} in {path}").format(dataset=d.dataset, path=d.path)
    else:
        pixels, labels, brightest = images.load_digits()
        what = d.dataset
    rows = _subsample(labels, config, rng, what)
    if rows is not None:
        # Subsample the uint8 pixels before converting: a quarter of the memory of float32.
        pixels, labels = pixels[rows], labels[rows]
    if from_files or d.classes:
        check_batch_fits(config, len(pixels))
    x = _tensor(pixels).unsqueeze(1).float().div_(brightest)
    return x, _tensor(labels)


def load_dataset(config: ExperimentConfig) -> Dataset:
    """Generate or read the data set named by config.data, honouring n_samples, noise, n_classes, seq_len and seed.

    Raises ConfigError (one sentence) for missing or malformed files and sizes that do not fit.
    """
    d = config.data
    info = DATASETS[d.dataset]
    rng = np.random.default_rng(d.seed)
    n = d.n_samples or DEFAULT_SYNTHETIC_SAMPLES
    feature_names: list[str] | None = None
    class_names: list[str] | None = None

    if d.dataset in synthetic.CLASSIFIERS:
        x, y = synthetic.CLASSIFIERS[d.dataset](n, d.noise, rng)
        feature_names = ["x1", "x2"]
    elif d.dataset in synthetic.CLASSIFIERS_WITH_K:
        n_classes = d.n_classes or DEFAULT_CLASSES[d.dataset]
        x, y = synthetic.CLASSIFIERS_WITH_K[d.dataset](n, d.noise, rng, n_classes)
        feature_names = ["x1", "x2"]
    elif d.dataset in synthetic.REGRESSIONS:
        x, y = synthetic.REGRESSIONS[d.dataset](n, d.noise, rng)
        feature_names = ["x"] if x.shape[1] == 1 else ["x1", "x2"]
    elif d.dataset == "sine_forecast":
        x, y = sequences.sine_forecast(n, d.seq_len, d.noise, rng)
        feature_names = ["value"]
    elif d.dataset == "memory":
        x, y = sequences.memory(n, d.seq_len, d.noise, rng)
        feature_names, class_names = ["signal", "marker"], ["-1", "+1"]
    elif d.dataset in tabular.TABLES:
        table = tabular.load_table(d.dataset)
        labels = table.y if table.class_names else np.zeros(len(table.y), dtype=np.int64)
        rows = _subsample(labels, config, rng, d.dataset)
        x, y = (table.x, table.y) if rows is None else (table.x[rows], table.y[rows])
        feature_names, class_names = table.feature_names, table.class_names
        if config.task == "classification":
            y, class_names = _relabel(y, class_names, d.classes)
            check_batch_fits(config, len(x))
    elif info.own:
        return _own_dataset(config, rng)
    elif info.kind == IMAGE:
        x_images, y_images = _images(config, rng)
        labels, names = _relabel(y_images.numpy(), images.CLASS_NAMES[d.dataset], d.classes)
        return _dataset(config, x_images, _tensor(labels), None, names)
    else:  # a catalog entry without a loader is a programming error, not a user's
        raise NotImplementedError(f"no loader for data set {d.dataset!r}")

    if class_names is None and config.task == "classification":
        class_names = [str(c) for c in range(config.n_classes or 0)]
    return _dataset(config, _tensor(x).float(), _tensor(y), feature_names, class_names)


def _own_dataset(config: ExperimentConfig, rng: np.random.Generator) -> Dataset:
    """Your own table or image folder, with the task decided from it (engine/data/files.py)."""
    own = files.load_own(config, rng)
    check_batch_fits(config, len(own.x))
    n_classes = len(own.class_names) if own.task == "classification" and own.class_names else None
    return _dataset(
        config, _tensor(own.x), _tensor(own.y), own.feature_names, own.class_names, own.task, n_classes, own.info
    )


def settled(config: ExperimentConfig, dataset: Dataset) -> ExperimentConfig:
    """The config to plan, train and record with: for your own data, with the task decided from the data
    (task = "auto") and the number of classes read; other configs as they are."""
    if not DATASETS[config.data.dataset].own or dataset.task is None:
        return config
    return config.with_data_read(dataset.task, dataset.n_classes)


def _dataset(
    config: ExperimentConfig,
    x: torch.Tensor,
    labels_or_targets: torch.Tensor,
    feature_names: list[str] | None,
    class_names: list[str] | None,
    task: str | None = None,
    n_classes: int | None = None,
    data_info: dict | None = None,
) -> Dataset:
    """Shape the targets for the task (the config's, or for your own data the one decided from it) and
    wrap everything in a Dataset."""
    task = task or config.task
    if task == "classification":
        y = labels_or_targets.long()
    elif task == "generation":
        y = x  # an autoencoder reconstructs its input
    else:  # regression and forecasting: one float target per sample, as a column
        y = labels_or_targets.float().reshape(-1, 1)
    classifying = task == "classification"
    return Dataset(
        name=config.data.dataset,
        kind=DATASETS[config.data.dataset].kind,
        x=x,
        y=y,
        input_shape=tuple(x.shape[1:]),
        n_classes=(n_classes if data_info is not None else config.n_classes) if classifying else None,
        class_names=class_names if classifying else None,
        feature_names=feature_names,
        task=task,
        data_info=data_info,
    )
