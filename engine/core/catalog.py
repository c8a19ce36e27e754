"""What each dataset is, in plain Python: shapes, tasks and sizes, without touching torch.

The config validator and the app read this catalog to offer only combinations that fit;
the loaders in this package produce the tensors it describes.
"""

from __future__ import annotations

from dataclasses import dataclass

# The shape of one sample, which decides which architectures can read it.
POINTS = "points"  # 2-D points (x1, x2)
CURVE = "curve"  # one input feature, one target
TABULAR = "tabular"  # a row of named features
IMAGE = "image"  # C x H x W image in [0, 1]: 1 channel (grey levels), or 3 (RGB) for image_folder
SEQUENCE = "sequence"  # T time steps x F features

DEFAULT_SYNTHETIC_SAMPLES = 1000
# Your own tables: task "auto" (the config's way of saying "follow the target column") decides between these.
OWN_TABLE_TASKS = ("classification", "regression", "auto")


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset the engine can load: its kind, the tasks it serves and its fixed sizes."""

    name: str
    kind: str
    tasks: tuple[str, ...]
    description: str
    n_features: int | None = None  # flat inputs per sample; None when set by parameters
    n_classes: int | None = None  # None for regression, or when set by data.n_classes
    fixed_size: int | None = None  # real data sets have a fixed number of samples
    image_side: int | None = None  # images are square: side x side pixels (data.image_size for image_folder)
    from_files: bool = False  # read from files in data.path (IDX files, or the user's own)
    own: bool = False  # the user's own files: features, classes, sizes and the task are read from them

    @property
    def synthetic(self) -> bool:
        """True for data generated from parameters (no fixed size, no files)."""
        return self.fixed_size is None and not self.from_files


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("moons", POINTS, ("classification",), "two interleaving half circles", 2, 2),
        DatasetInfo("circles", POINTS, ("classification",), "a circle inside a ring", 2, 2),
        DatasetInfo("xor", POINTS, ("classification",), "four quadrants, opposite corners share a class", 2, 2),
        DatasetInfo("spiral", POINTS, ("classification",), "interleaved spiral arms, one class per arm", 2),
        DatasetInfo("blobs", POINTS, ("classification",), "k gaussian clusters, one class each", 2),
        DatasetInfo("sine", CURVE, ("regression",), "a noisy sine wave on [0, 1]: the classic overfitting curve", 1),
        DatasetInfo("plane", POINTS, ("regression",), "a noisy tilted plane over 2-D points", 2),
        DatasetInfo("bump", POINTS, ("regression",), "a noisy gaussian bump over 2-D points", 2),
        DatasetInfo("iris", TABULAR, ("classification",), "150 iris flowers, 4 measurements, 3 species", 4, 3, 150),
        DatasetInfo(
            "wine", TABULAR, ("classification",), "178 wines, 13 chemical measurements, 3 cultivars", 13, 3, 178
        ),
        DatasetInfo(
            "breast_cancer", TABULAR, ("classification",), "569 tumours, 30 features, benign or malignant", 30, 2, 569
        ),
        DatasetInfo(
            "diabetes", TABULAR, ("regression",), "442 patients, 10 features, disease progression", 10, None, 442
        ),
        DatasetInfo(
            "digits",
            IMAGE,
            ("classification", "generation"),
            "1,797 real handwritten digits, 8x8 pixels",
            64,
            10,
            1797,
            image_side=8,
        ),
        DatasetInfo(
            "mnist",
            IMAGE,
            ("classification", "generation"),
            "MNIST handwritten digits, 28x28, read from IDX files in data.path",
            784,
            10,
            image_side=28,
            from_files=True,
        ),
        DatasetInfo(
            "fashion_mnist",
            IMAGE,
            ("classification", "generation"),
            "Fashion-MNIST clothing images, 28x28, read from IDX files in data.path",
            784,
            10,
            image_side=28,
            from_files=True,
        ),
        DatasetInfo(
            "csv",
            TABULAR,
            OWN_TABLE_TASKS,
            "your own table: a .csv or .tsv file in data.path, a first row naming the columns, one row per sample",
            from_files=True,
            own=True,
        ),
        DatasetInfo(
            "numpy",
            TABULAR,
            OWN_TABLE_TASKS,
            "your own arrays: a .npz file in data.path with arrays x and y, or a 2-D .npy file (target: last column)",
            from_files=True,
            own=True,
        ),
        DatasetInfo(
            "image_folder",
            IMAGE,
            ("classification", "generation", "auto"),
            "your own images: data.path holds one sub-folder of PNG, JPEG or BMP images per class",
            from_files=True,
            own=True,
        ),
        DatasetInfo(
            "sine_forecast",
            SEQUENCE,
            ("forecasting",),
            "a noisy sine: predict the next value from a window of seq_len values",
        ),
        DatasetInfo(
            "memory",
            SEQUENCE,
            ("classification",),
            "remember a marked ±1 signal from early in the sequence through seq_len noisy steps (long-lag memory)",
            n_classes=2,
        ),
    )
}

DEFAULT_CLASSES = {"spiral": 2, "blobs": 3}

# Which architectures can read which kind of sample.
ARCHITECTURES_FOR_KIND: dict[str, tuple[str, ...]] = {
    POINTS: ("perceptron", "mlp"),
    CURVE: ("perceptron", "mlp"),
    TABULAR: ("perceptron", "mlp"),
    IMAGE: ("perceptron", "mlp", "cnn", "autoencoder", "vae"),
    SEQUENCE: ("perceptron", "mlp", "rnn", "lstm", "gru"),
}
GENERATIVE = ("autoencoder", "vae")
KIND_WORDS = {
    POINTS: "2-D points",
    CURVE: "a 1-D curve",
    TABULAR: "tabular rows",
    IMAGE: "images",
    SEQUENCE: "sequences",
}


def architectures_for(dataset: str, task: str) -> tuple[str, ...]:
    """The architectures that can be trained on `dataset` for `task`."""
    kind = DATASETS[dataset].kind
    allowed = ARCHITECTURES_FOR_KIND[kind]
    if task == "generation":
        return tuple(a for a in allowed if a in GENERATIVE)
    return tuple(a for a in allowed if a not in GENERATIVE)


def own_data(dataset: str) -> bool:
    """True for the data sets read from the user's own files (csv, numpy, image_folder)."""
    info = DATASETS.get(dataset)
    return bool(info and info.own)


def datasets_for(task: str) -> tuple[str, ...]:
    """The datasets that serve `task`."""
    return tuple(name for name, info in DATASETS.items() if task in info.tasks)


def data_info_summary(info: dict) -> str:
    """What was read from your own data (the plan's data_info) in one line, for the CLI's plan and reports."""
    name = info["path"].rstrip("/").rsplit("/", 1)[-1]
    counts = info.get("class_counts") or {}
    classes = ", ".join(f"{label}: {count}" for label, count in list(counts.items())[:10])
    classes += f", ... ({len(counts)} classes)" if len(counts) > 10 else ""
    if info["format"] == "image_folder":
        colour = "RGB" if info["channels"] == 3 else "grey"
        side = info["image_size"]
        parts = [f"{name}/: {info['used']:,} of {info['rows']:,} images, {side}x{side} {colour}"]
        if classes:
            parts.append(f"classes {classes}")
        if info.get("skipped_files"):
            skipped = info["skipped_files"]
            parts.append(f"{skipped} other file{'s' if skipped > 1 else ''} left out")
        return "; ".join(parts)
    parts = [
        f"{name}: {info['used']:,} of {info['rows']:,} rows, {len(info['features'])} feature columns",
        f"target {info['target']} → {info['task']} ({info['task_reason']})",
    ]
    if classes:
        parts.append(f"classes {classes}")
    if info.get("encoded"):
        parts.append("one-hot " + ", ".join(f"{col} ({len(v)} values)" for col, v in info["encoded"].items()))
    if info.get("missing"):
        remedy = {"drop": f"{info['dropped_rows']} rows dropped", "mean": "filled with training means"}
        missing = ", ".join(f"{col}: {n}" for col, n in info["missing"].items())
        parts.append(f"missing {missing} ({remedy.get(info['missing_policy'], 'refused')})")
    if info.get("unused"):
        parts.append("unused " + ", ".join(info["unused"][:10]) + (" ..." if len(info["unused"]) > 10 else ""))
    return "; ".join(parts)
