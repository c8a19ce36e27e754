"""What each dataset is, in plain Python: shapes, tasks and sizes, without touching torch.

The config validator and the app read this catalog to offer only combinations that fit;
the loaders in this package produce the tensors it describes.
"""

from __future__ import annotations

from dataclasses import dataclass

from nnplay.engine.core.i18n import N_, _, ngettext

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
    description: str  # marked with N_: shown through `_`
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
        DatasetInfo("moons", POINTS, ("classification",), N_("two interleaving half circles"), 2, 2),
        DatasetInfo("circles", POINTS, ("classification",), N_("a circle inside a ring"), 2, 2),
        DatasetInfo("xor", POINTS, ("classification",), N_("four quadrants, opposite corners share a class"), 2, 2),
        DatasetInfo("spiral", POINTS, ("classification",), N_("interleaved spiral arms, one class per arm"), 2),
        DatasetInfo("blobs", POINTS, ("classification",), N_("k gaussian clusters, one class each"), 2),
        DatasetInfo(
            "sine", CURVE, ("regression",), N_("a noisy sine wave on [0, 1]: the classic overfitting curve"), 1
        ),
        DatasetInfo("plane", POINTS, ("regression",), N_("a noisy tilted plane over 2-D points"), 2),
        DatasetInfo("bump", POINTS, ("regression",), N_("a noisy gaussian bump over 2-D points"), 2),
        DatasetInfo("iris", TABULAR, ("classification",), N_("150 iris flowers, 4 measurements, 3 species"), 4, 3, 150),
        DatasetInfo(
            "wine", TABULAR, ("classification",), N_("178 wines, 13 chemical measurements, 3 cultivars"), 13, 3, 178
        ),
        DatasetInfo(
            "breast_cancer",
            TABULAR,
            ("classification",),
            N_("569 tumours, 30 features, benign or malignant"),
            30,
            2,
            569,
        ),
        DatasetInfo(
            "diabetes", TABULAR, ("regression",), N_("442 patients, 10 features, disease progression"), 10, None, 442
        ),
        DatasetInfo(
            "digits",
            IMAGE,
            ("classification", "generation"),
            N_("1,797 real handwritten digits, 8x8 pixels"),
            64,
            10,
            1797,
            image_side=8,
        ),
        DatasetInfo(
            "mnist",
            IMAGE,
            ("classification", "generation"),
            N_("MNIST handwritten digits, 28x28, read from IDX files in data.path"),
            784,
            10,
            image_side=28,
            from_files=True,
        ),
        DatasetInfo(
            "fashion_mnist",
            IMAGE,
            ("classification", "generation"),
            N_("Fashion-MNIST clothing images, 28x28, read from IDX files in data.path"),
            784,
            10,
            image_side=28,
            from_files=True,
        ),
        DatasetInfo(
            "csv",
            TABULAR,
            OWN_TABLE_TASKS,
            N_("your own table: a .csv or .tsv file in data.path, a first row naming the columns, one row per sample"),
            from_files=True,
            own=True,
        ),
        DatasetInfo(
            "numpy",
            TABULAR,
            OWN_TABLE_TASKS,
            N_(
                "your own arrays: a .npz file in data.path with arrays x and y, or a 2-D .npy file (target: last column)"
            ),
            from_files=True,
            own=True,
        ),
        DatasetInfo(
            "image_folder",
            IMAGE,
            ("classification", "generation", "auto"),
            N_("your own images: data.path holds one sub-folder of PNG, JPEG or BMP images per class"),
            from_files=True,
            own=True,
        ),
        DatasetInfo(
            "sine_forecast",
            SEQUENCE,
            ("forecasting",),
            N_("a noisy sine: predict the next value from a window of seq_len values"),
        ),
        DatasetInfo(
            "memory",
            SEQUENCE,
            ("classification",),
            N_("remember a marked ±1 signal from early in the sequence through seq_len noisy steps (long-lag memory)"),
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
KIND_WORDS = {  # shown through `_`
    POINTS: N_("2-D points"),
    CURVE: N_("a 1-D curve"),
    TABULAR: N_("tabular rows"),
    IMAGE: N_("images"),
    SEQUENCE: N_("sequences"),
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
    if len(counts) > 10:
        classes = _("{classes}, ... ({count} classes)").format(classes=classes, count=len(counts))
    if info["format"] == "image_folder":
        if info["channels"] == 3:
            images = _("{name}/: {used:,} of {rows:,} images, {side}x{side} RGB")
        else:
            images = _("{name}/: {used:,} of {rows:,} images, {side}x{side} grey")
        parts = [images.format(name=name, used=info["used"], rows=info["rows"], side=info["image_size"])]
        if classes:
            parts.append(_("classes {classes}").format(classes=classes))
        if info.get("skipped_files"):
            skipped = info["skipped_files"]
            parts.append(
                ngettext("{count} other file left out", "{count} other files left out", skipped).format(count=skipped)
            )
        return "; ".join(parts)
    parts = [
        _("{name}: {used:,} of {rows:,} rows, {features} feature columns").format(
            name=name, used=info["used"], rows=info["rows"], features=len(info["features"])
        ),
        _("target {target} → {task} ({reason})").format(
            target=info["target"], task=info["task"], reason=info["task_reason"]
        ),
    ]
    if classes:
        parts.append(_("classes {classes}").format(classes=classes))
    if info.get("encoded"):
        encoded = ", ".join(
            _("{column} ({count} values)").format(column=col, count=len(v)) for col, v in info["encoded"].items()
        )
        parts.append(_("one-hot {columns}").format(columns=encoded))
    if info.get("missing"):
        policy = info["missing_policy"]
        if policy == "drop":
            remedy = _("{count} rows dropped").format(count=info["dropped_rows"])
        elif policy == "mean":
            remedy = _("filled with training means")
        else:
            remedy = _("refused")
        missing = ", ".join(f"{col}: {n}" for col, n in info["missing"].items())
        parts.append(_("missing {columns} ({remedy})").format(columns=missing, remedy=remedy))
    if info.get("unused"):
        unused = ", ".join(info["unused"][:10]) + (" ..." if len(info["unused"]) > 10 else "")
        parts.append(_("unused {columns}").format(columns=unused))
    return "; ".join(parts)
