"""A run as one standalone PyTorch script that reproduces it: `nnplay export RUN --format py`.

Pure text generation from the run's resolved config.toml and its plan (no torch here): the script
generates or reads the same data, splits and normalizes it the same way, builds the same model as
plain `torch.nn` layers, and trains it with the same optimizer, schedule and regularization in a
short loop that prints one line per epoch. It imports only torch and numpy (scikit-learn for its
bundled data sets, Pillow for a folder of images) and holds only what the run used, its settings as named
constants at the top. Your own data (csv, numpy, image_folder) is read from the same file or folder the
way the engine reads it (engine/data/files.py), with the choices the run recorded in its plan's data_info
(delimiter, target, features, one-hot values, missing values, class folders) written in as settings.

Reproduction is exact on the CPU: every draw from a random generator happens in the engine's order
(data from numpy's generator seeded with data.seed, the split from a torch generator seeded with
data.seed, weights from torch's global generator seeded with training.seed just before the model is
built, then shuffling and augmentation from one generator seeded with training.seed, dropout from the
global one). The engine's bookkeeping (snapshots, diagnosis, weight copies) draws nothing.
"""

from __future__ import annotations

import json
import math
import time
import tomllib
from pathlib import Path
from typing import Any

from nnplay.engine.core.catalog import DATASETS, DEFAULT_CLASSES, DEFAULT_SYNTHETIC_SAMPLES
from nnplay.engine.core.config import ConfigError, ExperimentConfig, validate
from nnplay.engine.core.runs import RunRecord

SCRIPT_NAME = "train.py"  # where `nnplay export RUN --format py` writes it by default, in the run directory

# The engine's own numbers, repeated in the scripts it exports (engine/models, engine/data).
TINY_SCALE = "1e-8"  # a feature with less spread than this is left unscaled (engine/data/normalize.py)
TRAIN_EVAL_MIN = 256  # train loss measured on at least this many samples (engine/core/config.py)
MISSING_CELLS = ["", "na", "n/a", "nan", "null", "none", "?"]  # missing cells, in lower case (engine/data/files.py)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")  # the files of a class folder read as images (engine/data/files.py)
CHANGED_AFTER_S = 1.0  # a data file modified this long after its run started was changed since the run read it
SINE_STEP = 0.25  # radians per step of sine_forecast (engine/data/sequences.py)
IDX_PARTS = ("train", "t10k")  # MNIST file pairs: train required, t10k added when present (engine/data/images.py)

ACTIVATIONS = {
    "relu": "nn.ReLU()",
    "tanh": "nn.Tanh()",
    "sigmoid": "nn.Sigmoid()",
    "gelu": "nn.GELU()",
    "leaky_relu": "nn.LeakyReLU()",
    "linear": "",  # no activation at all
}
ARCHITECTURE_WORDS = {
    "perceptron": "a perceptron",
    "mlp": "an MLP",
    "cnn": "a CNN",
    "rnn": "an RNN",
    "lstm": "an LSTM",
    "gru": "a GRU",
    "autoencoder": "an autoencoder",
    "vae": "a variational autoencoder",
}
LOSSES = {
    "cross_entropy": "loss_fn = nn.CrossEntropyLoss()  # softmax over the class logits inside",
    "mse": "loss_fn = nn.MSELoss()  # on standardized targets",
    "mae": "loss_fn = nn.L1Loss()  # on standardized targets",
    "huber": "loss_fn = nn.HuberLoss()  # on standardized targets",
}


class ScriptNotPossible(ValueError):
    """A run that one standalone script cannot reproduce (k-fold, a sweep, transfer learning, a data set
    without a reader here): the message says why and what can be exported instead."""


class DataMissing(ValueError):
    """The files a run read are no longer where it read them, or changed since: the message names the path."""


def script_of_run(record: RunRecord) -> str:
    """The standalone training script of a recorded run; ScriptNotPossible or DataMissing (one sentence)
    when it cannot be written."""
    try:
        config = validate(tomllib.loads(record.config_toml))
    except (tomllib.TOMLDecodeError, ConfigError) as exc:
        raise ScriptNotPossible(f"{record.path / 'config.toml'} cannot be read as a config: {exc}") from None
    plan = (record.summary or {}).get("plan") or record.last("plan")
    if not isinstance(plan, dict) or "input_shape" not in plan:
        raise ScriptNotPossible(
            f"run {record.id} has no plan (its events.jsonl holds no plan event), so its data and model "
            "sizes are unknown; only runs that started training can be exported as a script"
        )
    # The run read its data before it started: a data file modified later is no longer what it read.
    read_at = (record.summary or {}).get("started") or (record.last("plan") or {}).get("time")
    return pytorch_script(config, plan, record.id, read_at)


def check_exportable(config: ExperimentConfig) -> None:
    """ScriptNotPossible when one script cannot reproduce runs of this config."""
    d, m, s = config.data, config.model, config.sweep
    if s.members > 1:
        setting = f"sweep.parameter = {s.parameter!r}" if s.parameter != "none" else f"sweep.seeds = {s.seeds}"
        raise ScriptNotPossible(
            f"this run is a sweep of {s.members} copies ({setting}), and a script reproduces one training; "
            "allowed: runs without a sweep (export one of its settings run on its own)"
        )
    if d.k_folds:
        raise ScriptNotPossible(
            f"this run uses k-fold cross-validation (data.k_folds = {d.k_folds}), which the script does not do; "
            "allowed: runs with one train/validation/test split"
        )
    if m.init_from or m.freeze:
        setting = f"model.init_from = {m.init_from!r}" if m.init_from else f"model.freeze = {m.freeze!r}"
        raise ScriptNotPossible(
            f"this run starts from another run's weights or freezes layers ({setting}), which a standalone "
            "script cannot carry; allowed: runs that train every layer from fresh weights"
        )
    if d.dataset not in DATA_SOURCES:
        raise ScriptNotPossible(
            f"runs on data.dataset = {d.dataset!r} cannot be exported as a script yet; allowed: "
            f"{', '.join(DATA_SOURCES)}"
        )


def data_files(config: ExperimentConfig, data_info: dict | None = None, read_at: float | None = None) -> list[Path]:
    """The files the script reads (none for generated and bundled data): checked at export, and written
    into the script as absolute paths. DataMissing names the path when they are gone, or for your own data
    (with the plan's data_info) when they changed since the run read them at `read_at` (a Unix time)."""
    d = config.data
    info = DATASETS[d.dataset]
    if not info.from_files:
        return []
    directory = Path(d.path or "").expanduser().resolve()
    if info.own:
        return [_own_files(config, directory, data_info or {}, read_at)]
    images, labels = (directory / f"{IDX_PARTS[0]}-{kind}-idx{n}-ubyte" for kind, n in (("images", 3), ("labels", 1)))
    missing = [f for f in (images, labels) if not f.is_file() and not f.with_name(f.name + ".gz").is_file()]
    if missing:
        where = "no longer exists" if not directory.exists() else f"no longer holds {missing[0].name} (raw or .gz)"
        raise DataMissing(
            f"data.path = {str(directory)!r} of this run {where}; the script reads the run's {d.dataset} files "
            "there: put them back in that directory and export again"
        )
    return [directory]


def _own_files(config: ExperimentConfig, path: Path, info: dict, read_at: float | None) -> Path:
    """Your own table or image folder, checked to hold what the run read; DataMissing names it when not."""
    shown = f"data.path = {str(path)!r}"
    put_back = "put back the data the run read and export again"
    try:
        return _checked_own_files(config, path, info, read_at, shown, put_back)
    except OSError as exc:
        raise DataMissing(f"{shown} of this run could not be read ({exc.strerror or exc}): {put_back}") from None


def _checked_own_files(
    config: ExperimentConfig, path: Path, info: dict, read_at: float | None, shown: str, put_back: str
) -> Path:
    if config.data.dataset == "image_folder":
        if not path.is_dir():
            raise DataMissing(
                f"{shown} of this run is no longer a folder; the script reads its class folders: {put_back}"
            )
        # The class folders the run read, with as many images as it found there (the folder's size).
        folders = list(info.get("class_counts") or {})
        gone = [name for name in folders if not (path / name).is_dir()]
        if gone:
            raise DataMissing(f"{shown} of this run no longer holds the class folder {gone[0]!r}: {put_back}")
        found = sum(1 for name in folders for f in (path / name).iterdir() if _image_file(f))
        if info.get("rows") is not None and found != info["rows"]:
            raise DataMissing(
                f"{shown} holds {found} images in its class folders, but the run read {info['rows']}; the script "
                f"would train on other images: {put_back}"
            )
        return path
    if not path.is_file():
        where = "is no longer a file" if path.exists() else "no longer exists"
        raise DataMissing(f"{shown} of this run {where}; the script reads the run's table there: {put_back}")
    modified = path.stat().st_mtime
    if read_at is not None and modified > read_at + CHANGED_AFTER_S:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(modified))
        raise DataMissing(
            f"{shown} was modified at {when}, after this run read it, so the script would train on other data: "
            f"{put_back}"
        )
    return path


def _image_file(path: Path) -> bool:
    """A file of a class folder that image_folder reads as an image (engine/data/files.py)."""
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES


def pytorch_script(
    config: ExperimentConfig, plan: dict, run_id: str | None = None, read_at: float | None = None
) -> str:
    """The script for a config and its plan (the run's `plan` event: input shape, split sizes, device; for your
    own data what was read, its data_info). `read_at`: when the run read its data, to tell a changed file."""
    if config.task == "auto":  # your own data: the run decided the task from it, and its plan says which
        decided = plan.get("task") or (plan.get("data_info") or {}).get("task")
        if decided not in ("classification", "regression", "generation"):
            raise ScriptNotPossible(
                "this run's config has task = 'auto' and its plan does not say which task the data decided; "
                "allowed: runs whose plan names the task"
            )
        config = config.with_data_read(decided, plan.get("n_classes"))
    check_exportable(config)
    if DATASETS[config.data.dataset].own and not isinstance(plan.get("data_info"), dict):
        raise ScriptNotPossible(
            f"this run's plan has no data_info, so how it read data.path = {config.data.path!r} is unknown; "
            "allowed: runs whose plan records what was read"
        )
    files = data_files(config, plan.get("data_info"), read_at)
    return _Script(config, plan, run_id, files).render()


# --- the script, section by section -------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    """A block of code as lines, without its first and last empty lines (blocks are written flush left)."""
    return text.strip("\n").split("\n")


class _Script:
    """One script being written: its settings, imports and sections."""

    def __init__(self, config: ExperimentConfig, plan: dict, run_id: str | None, files: list[Path]) -> None:
        self.c, self.plan, self.run_id, self.files = config, plan, run_id, files
        self.info: dict = plan.get("data_info") or {}  # your own data: what the run read, and how
        self.settings: list[tuple[str, Any, str]] = []
        self.imports = {"import numpy as np", "import torch", "from torch import nn"}
        self.needs_sklearn = False
        self.needs_pillow = False
        self.fill_missing = False  # the inputs hold NaN until the split: missing values get the training means
        self.input_shape = tuple(plan["input_shape"])
        self.n_classes = int(plan.get("n_classes") or config.n_classes or 0)  # 0 when not classifying
        self.device = str(plan.get("device") or "cpu").split(":")[0]
        self.has_val = bool(plan.get("n_val"))
        self.has_test = bool(plan.get("n_test"))
        self.n_train = int(plan["n_train"])
        self.n_train_eval = int(plan.get("n_train_eval") or self.n_train)
        self.train_eval = "x_train, y_train"  # the training samples the epoch's train loss is measured on

    def setting(self, name: str, value: Any, comment: str = "") -> str:
        """Declare a named constant at the top; returns its name."""
        if all(name != known for known, _, _ in self.settings):
            self.settings.append((name, value, comment))
        return name

    def render(self) -> str:
        """The whole script as text."""
        device_note = "where to train; other devices train as well, but with other random numbers"
        self.setting("DEVICE", self.device, device_note)
        threads = self.c.training.threads or 1
        body = [
            f"torch.set_num_threads({threads})  # small models train fastest on one thread",
            *(["torch.use_deterministic_algorithms(True)"] if self.c.training.deterministic else []),
            "",
            *self.data(),
            "",
            *self.split(),
            "",
            *self.model(),
            "",
            *self.optimizer(),
            "",
            *self.evaluation(),
            "",
            *self.loop(),
            *self.finish(),
        ]
        return "\n".join(_blank_lines([*self.header(), "", *body])) + "\n"

    # Head of the file: what it is, imports, settings.

    def header(self) -> list[str]:
        c = self.c
        arch = ARCHITECTURE_WORDS[c.model.architecture]
        source = f"nnplay run {self.run_id}" if self.run_id else f"the nnplay experiment {c.name!r}"
        needs = ["torch", "numpy", *(["scikit-learn"] if self.needs_sklearn else [])]
        needs += ["Pillow"] if self.needs_pillow else []
        own = DATASETS[c.data.dataset].own
        data = Path(c.data.path or "").name if own else c.data.dataset
        makes = "reads the same data" if own else "makes the same data"
        doc = [
            f'"""{c.name}: {arch} for {c.task} on {data}, as {source} trained it.',
            "",
            f"A standalone PyTorch script: it {makes} with the same split and normalization, builds",
            "the same model and trains it with the same settings. With the same seeds on the CPU it prints the",
            f"run's training and validation losses, epoch by epoch. Needs {', '.join(needs)}.",
            '"""',
            "",
        ]
        # Sorted as isort sorts them: the standard library first, plain imports before from-imports.
        order = sorted(self.imports, key=lambda line: (line.startswith("from"), line.split()[1].lower()))
        stdlib = [i for i in order if i.split()[1] in ("copy", "csv", "gzip", "math", "pathlib")]
        third = [i for i in order if i not in stdlib]
        imports = [*stdlib, "", *third] if stdlib else third
        settings = ["", "# Settings"]
        for name, value, comment in self.settings:
            settings += _setting_lines(name, value, comment)
        return [*doc, *imports, *settings]

    # Data: generate or read, subsample, split, normalize.

    def data(self) -> list[str]:
        d = self.c.data
        self.setting("DATA_SEED", d.seed, "seeds the data and its split")
        lines = DATA_SOURCES[d.dataset](self)
        if self.c.task == "generation":
            lines.append("y = x  # an autoencoder reconstructs its input (the unnormalized pixels)")
        return lines

    def split(self) -> list[str]:
        d = self.c.data
        self.setting("TRAIN, VAL, TEST", (d.train, d.val, d.test), "fractions of the samples")
        out = _lines(
            """
# Split: one shuffle of the samples, seeded with DATA_SEED, cut into train, validation and test
n_val, n_test = round(len(x) * VAL), round(len(x) * TEST)
n_train = len(x) - n_val - n_test
order = torch.randperm(len(x), generator=torch.Generator().manual_seed(DATA_SEED))
train_idx, val_idx, test_idx = order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :]
"""
        )
        if self.fill_missing:
            out += [""] + _lines(
                """
# Missing inputs (NaN) filled with their column's mean over the training split, known only now
x = np.where(np.isnan(x), np.nanmean(x[train_idx.numpy()], axis=0), x)
x = torch.from_numpy(x.astype(np.float32))
"""
            )
        out += self.normalization()
        if self.c.task in ("regression", "forecasting"):
            out += _lines(
                """
# Targets standardized with the training split's mean and spread: one learning rate suits any scale
y_mean, y_std = y[train_idx].double().mean().item(), y[train_idx].double().std(correction=0).item()
y = (y - y_mean) / y_std
"""
            )
        out.append("x_train, y_train = x[train_idx].to(DEVICE), y[train_idx].to(DEVICE)")
        if self.has_val:
            out.append("x_val, y_val = x[val_idx].to(DEVICE), y[val_idx].to(DEVICE)")
        if self.has_test:
            out.append("x_test, y_test = x[test_idx].to(DEVICE), y[test_idx].to(DEVICE)")
        return out

    def normalization(self) -> list[str]:
        method = self.c.data.normalization
        if method == "none":
            return []
        # Flat samples get a shift and scale per feature; images and sequences one for all their values.
        flat = len(self.input_shape) == 1
        per, axis = ("per feature", "0") if flat else ("all values alike", "")
        if method == "zscore":
            what = f"# Inputs scaled to mean 0 and standard deviation 1 ({per}), fitted on the training split only"
            correction = "0, correction=0" if flat else "correction=0"
            fit = [f"shift, scale = x[train_idx].mean({axis}), x[train_idx].std({correction})"]
        else:
            what = f"# Inputs scaled to [0, 1] ({per}) by the training split's minimum and range"
            fit = [f"shift = x[train_idx].amin({axis})", f"scale = x[train_idx].amax({axis}) - shift"]
        return [
            "",
            what,
            *fit,
            f"scale = torch.where(scale < {TINY_SCALE}, 1.0, scale)  # a constant feature is left as it is",
            "x = (x - shift) / scale",
            "",
        ]

    # The model.

    def n_outputs(self) -> int:
        if self.c.task == "classification":
            return 1 if self.c.resolved_loss == "bce" else self.n_classes
        return 1

    def hidden_layers_function(self) -> list[str]:
        """`hidden_layers(width, sizes)`: Linear → [BatchNorm] → activation → [Dropout] per size."""
        r, m = self.c.regularization, self.c.model
        self.setting("HIDDEN", list(m.hidden), "widths of the hidden layers")
        block = [f"nn.Linear(width, size{', bias=False' if r.batch_norm else ''})"]
        if r.batch_norm:
            block.append("nn.BatchNorm1d(size)")
        if activation := ACTIVATIONS[m.activation]:
            block.append(activation)
        if r.dropout > 0:
            self.setting("DROPOUT", r.dropout, "probability of zeroing each hidden unit while training")
            block.append("nn.Dropout(DROPOUT)")
        note = "\n        # No bias before batch norm: its mean subtraction cancels it" if r.batch_norm else ""
        return _lines(
            f'''
def hidden_layers(width, sizes):
    """One hidden layer per size; returns the layers and the last width."""
    layers = []
    for size in sizes:{note}
        layers += [{", ".join(block)}]
        width = size
    return layers, width
'''
        )

    def model(self) -> list[str]:
        c = self.c
        self.setting("SEED", c.training.seed, "seeds the weights, the shuffling, dropout and augmentation")
        arch = c.model.architecture
        n_out = self.n_outputs()
        out = {
            "perceptron": self.perceptron,
            "mlp": self.mlp,
            "cnn": self.cnn,
            "rnn": self.recurrent,
            "lstm": self.recurrent,
            "gru": self.recurrent,
            "autoencoder": self.autoencoder,
            "vae": self.vae,
        }[arch](n_out)
        return [
            *out,
            "",
            "torch.manual_seed(SEED)  # the initial weights come from torch's global generator",
            *self.construction(),
        ]

    def construction(self) -> list[str]:
        arch = self.c.model.architecture
        if arch in ("rnn", "lstm", "gru", "vae"):
            return ["model = Net().to(DEVICE)"]
        lines = ["model = make_model().to(DEVICE)"]
        if arch == "cnn":
            lines[0] = "model = make_model()"
            lines += [
                "# Kernels stored channels-last, as in the run: the layout CPU and GPU convolutions run fastest in",
                "model = model.to(DEVICE, memory_format=torch.channels_last)",
            ]
        return lines

    def flat_inputs(self) -> int:
        return math.prod(self.input_shape)

    def perceptron(self, n_out: int) -> list[str]:
        flatten = "nn.Flatten(), " if len(self.input_shape) > 1 else ""
        return _lines(
            f'''
def make_model():
    """One linear layer: a linear decision boundary."""
    return nn.Sequential({flatten}nn.Linear({self.flat_inputs()}, {n_out}))
'''
        )

    def mlp(self, n_out: int) -> list[str]:
        flatten = "nn.Flatten(), " if len(self.input_shape) > 1 else ""
        return [
            *self.hidden_layers_function(),
            "",
            "",
            *_lines(
                f'''
def make_model():
    """Hidden layers, then a linear layer with {_outputs_words(self.c, n_out)}."""
    layers, width = hidden_layers({self.flat_inputs()}, HIDDEN)
    return nn.Sequential({flatten}*layers, nn.Linear(width, {n_out}))
'''
            ),
        ]

    def cnn(self, n_out: int) -> list[str]:
        m, r = self.c.model, self.c.regularization
        self.imports.add("import math")
        self.setting("CONV_CHANNELS", list(m.conv_channels), "output channels of each convolution block")
        self.setting("KERNEL_SIZE", m.kernel_size, "side of the square kernels")
        channels, height, width = self.input_shape
        block = ["nn.Conv2d(channels, out, KERNEL_SIZE, padding=KERNEL_SIZE // 2{})"]
        block[0] = block[0].format(", bias=False" if r.batch_norm else "")
        if r.batch_norm:
            block.append("nn.BatchNorm2d(out)")
        if activation := ACTIVATIONS[m.activation]:
            block.append(activation)
        block.append("nn.MaxPool2d(2, ceil_mode=True)")
        head = ["nn.Flatten()"]
        if r.dropout > 0:
            self.setting("DROPOUT", r.dropout, "probability of zeroing each feature before the last layer")
            head.append("nn.Dropout(DROPOUT)")
        head.append(f"nn.Linear(channels * height * width, {n_out})")
        blocks = ",\n            ".join(block)
        return _lines(
            f'''
def make_model():
    """Convolution blocks (each halves the image side, rounding up), then a linear layer."""
    layers, channels, height, width = [], {channels}, {height}, {width}
    for out in CONV_CHANNELS:
        layers += [
            {blocks},
        ]
        channels, height, width = out, math.ceil(height / 2), math.ceil(width / 2)
    return nn.Sequential(*layers, {", ".join(head)})
'''
        )

    def recurrent(self, n_out: int) -> list[str]:
        m, r = self.c.model, self.c.regularization
        arch = m.architecture
        steps, features = self.input_shape
        self.setting("RNN_HIDDEN", m.rnn_hidden, "size of the hidden state")
        layer_args = f"{features}, RNN_HIDDEN, batch_first=True"
        if m.rnn_layers > 1:
            self.setting("RNN_LAYERS", m.rnn_layers, "stacked recurrent layers")
            layer_args += ", num_layers=RNN_LAYERS"
            if r.dropout > 0:
                layer_args += ", dropout=DROPOUT"
        if r.dropout > 0:
            self.setting("DROPOUT", r.dropout, "probability of zeroing each unit while training")
        init = ["        self.rnn = nn.{}({})".format({"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[arch], layer_args)]
        forward = ["        last = self.rnn(x)[0][:, -1]  # the output at the last time step"]
        if r.batch_norm:
            init.append("        self.batch_norm = nn.BatchNorm1d(RNN_HIDDEN)")
            forward.append("        last = self.batch_norm(last)")
        if r.dropout > 0:
            init.append("        self.dropout = nn.Dropout(DROPOUT)")
            forward.append("        last = self.dropout(last)")
        init.append(f"        self.head = nn.Linear(RNN_HIDDEN, {n_out})")
        if arch in ("lstm", "gru"):
            init += self.chrono_init(steps)
        forward.append("        return self.head(last)")
        title = ARCHITECTURE_WORDS[arch][0].upper() + ARCHITECTURE_WORDS[arch][1:]
        return [
            "class Net(nn.Module):",
            f'    """{title} reads the sequence; a linear layer reads its last step."""',
            "",
            "    def __init__(self):",
            "        super().__init__()",
            *init,
            "",
            "    def forward(self, x):",
            *forward,
        ]

    def chrono_init(self, steps: int) -> list[str]:
        """Chrono initialization of the gate biases (engine/models/recurrent.py), after the head's weights."""
        lstm = self.c.model.architecture == "lstm"
        gate = "forget" if lstm else "update"
        layers = "RNN_LAYERS" if self.c.model.rnn_layers > 1 else "1"
        out = [
            f"        # Chrono initialization: each unit's {gate} gate starts out keeping its state over up to",
            f"        # {steps - 1} steps (a random time scale each), so the gradient survives the whole sequence",
            "        h = RNN_HIDDEN",
            "        with torch.no_grad():",
            f"            for k in range({layers}):",
            f"                timescale = torch.log(torch.empty(h).uniform_(1.0, {max(2.0, steps - 1.0)!r}))",
            '                bias_ih, bias_hh = getattr(self.rnn, f"bias_ih_l{k}"), getattr(self.rnn, f"bias_hh_l{k}")',
            "                bias_ih[h : 2 * h], bias_hh[h : 2 * h] = timescale, 0.0",
        ]
        if lstm:
            out.append("                bias_ih[:h], bias_hh[:h] = -timescale, 0.0  # the input gate: write little")
        return out

    def image_coder_parts(self) -> tuple[int, str]:
        m = self.c.model
        self.setting("LATENT", m.latent, "size of the code")
        flatten_pixels = self.flat_inputs()
        return flatten_pixels, repr(tuple(self.input_shape))

    def autoencoder(self, n_out: int) -> list[str]:
        pixels, shape = self.image_coder_parts()
        return [
            *self.hidden_layers_function(),
            "",
            "",
            *_lines(
                f'''
def make_model():
    """Encoder (hidden layers, then the code), and a mirrored decoder ending in one logit per pixel."""
    encoder, width = hidden_layers({pixels}, HIDDEN)
    to_latent = nn.Linear(width, LATENT)
    decoder, width = hidden_layers(LATENT, HIDDEN[::-1])
    to_pixels = nn.Linear(width, {pixels})
    return nn.Sequential(nn.Flatten(), *encoder, to_latent, *decoder, to_pixels, nn.Unflatten(1, {shape}))
'''
            ),
        ]

    def vae(self, n_out: int) -> list[str]:
        pixels, shape = self.image_coder_parts()
        return [
            *self.hidden_layers_function(),
            "",
            "",
            *_lines(
                f'''
class Net(nn.Module):
    """A variational autoencoder: the encoder gives each image a gaussian code N(mu, exp(logvar))."""

    def __init__(self):
        super().__init__()
        encoder, width = hidden_layers({pixels}, HIDDEN)
        self.encoder = nn.Sequential(nn.Flatten(), *encoder)
        self.to_mu, self.to_logvar = nn.Linear(width, LATENT), nn.Linear(width, LATENT)
        decoder, width = hidden_layers(LATENT, HIDDEN[::-1])
        self.decoder = nn.Sequential(*decoder, nn.Linear(width, {pixels}), nn.Unflatten(1, {shape}))

    def forward(self, x):
        features = self.encoder(x)
        mu, logvar = self.to_mu(features), self.to_logvar(features)
        # Training samples the code (the reparameterization trick); evaluation uses its mean
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if self.training else mu
        return self.decoder(z), mu, logvar
'''
            ),
        ]

    # Loss, optimizer, schedule.

    def loss(self) -> list[str]:
        c = self.c
        name = c.resolved_loss
        if c.task == "generation":
            if c.model.architecture != "vae" and name == "bce":
                return ["loss_fn = nn.BCEWithLogitsLoss()  # each pixel's logit against its brightness in [0, 1]"]
            self.imports.add("import torch.nn.functional as F")
            if c.model.architecture == "vae":
                recon = (
                    'F.binary_cross_entropy_with_logits(logits, x, reduction="sum")'
                    if name.startswith("bce")
                    else 'F.mse_loss(torch.sigmoid(logits), x, reduction="sum")'
                )
                return _lines(
                    f'''
def loss_fn(out, x):
    """Reconstruction error summed over pixels plus the KL divergence of the code from N(0, I), per image."""
    logits, mu, logvar = out
    recon = {recon}
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (recon + kl) / x.shape[0]
'''
                )
            return _lines(
                '''
def loss_fn(logits, x):
    """Squared error of the reconstructed pixels (a sigmoid of the logits)."""
    return F.mse_loss(torch.sigmoid(logits), x)
'''
            )
        if name == "bce":
            self.imports.add("import torch.nn.functional as F")
            return _lines(
                '''
def loss_fn(logits, y):
    """Binary cross-entropy of one logit per sample (a sigmoid inside)."""
    return F.binary_cross_entropy_with_logits(logits.squeeze(-1), y.float())
'''
            )
        return [LOSSES[name]]

    def optimizer(self) -> list[str]:
        c, o, r = self.c, self.c.optimizer, self.c.regularization
        self.setting("LR", o.lr, "learning rate")
        out = self.loss()
        decay = ""
        if r.weight_decay:
            self.setting("WEIGHT_DECAY", r.weight_decay, "decoupled weight decay")
            decay = ", weight_decay=WEIGHT_DECAY"
        if o.kind in ("sgd", "rmsprop"):
            self.setting("MOMENTUM", o.momentum, "momentum")
            momentum = ", momentum=MOMENTUM" if o.momentum else ""
            nesterov = ", nesterov=True" if o.nesterov else ""
            kind = "SGD" if o.kind == "sgd" else "RMSprop"
            out.append(f"optimizer = torch.optim.{kind}(model.parameters(), lr=LR{momentum}{nesterov}{decay})")
        else:
            # Adam with weight decay is AdamW (decay applied to the weights, not through the gradient), as in
            # the engine; with none the two are the same. The fused kernel gives the run's very numbers.
            fused = ", fused=True" if self.device in ("cuda", "cpu") else ""
            if r.weight_decay or o.kind == "adamw":
                decay = decay or ", weight_decay=0.0"
                out.append(f"optimizer = torch.optim.AdamW(model.parameters(), lr=LR{decay}{fused})")
            else:
                out.append(f"optimizer = torch.optim.Adam(model.parameters(), lr=LR{fused})")
        if o.schedule == "step":
            self.setting("STEP_SIZE", o.step_size, "epochs between learning-rate decays")
            self.setting("GAMMA", o.gamma, "factor of each decay")
            out.append("scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=STEP_SIZE, gamma=GAMMA)")
        elif o.schedule == "cosine":
            out.append("scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)")
        elif o.schedule == "plateau":
            self.setting("GAMMA", o.gamma, "factor of each decay")
            self.setting("PLATEAU_PATIENCE", o.plateau_patience, "epochs without improvement before a decay")
            out.append(
                "scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=GAMMA, "
                "patience=PLATEAU_PATIENCE)"
            )
        if r.l1 or r.l2:
            out.append("weights = [p for p in model.parameters() if p.dim() > 1]  # penalized: not biases")
        if c.training.precision == "bf16" and self.device == "cuda":
            out.append('autocast = torch.autocast("cuda", dtype=torch.bfloat16)  # bf16 matrix products')
        return out

    # Measuring: the metrics of a split, and the training samples they are measured on.

    def metrics(self) -> tuple[list[str], list[str]]:
        """The lines of evaluate() that prepare its metrics from `out` and `y`, and its dict's entries."""
        c = self.c
        if c.task == "classification":
            pred = "(out.squeeze(-1) > 0).long()" if c.resolved_loss == "bce" else "out.argmax(1)"
            return [], [f'"accuracy": ({pred} == y).float().mean().item()']
        if c.task == "generation":
            if c.model.architecture == "vae":
                return ["    logits, mu, logvar = out"], [
                    '"recon_error": (torch.sigmoid(logits) - y).pow(2).mean().item()',
                    '"kl": (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean().item()',
                ]
            return [], ['"recon_error": (torch.sigmoid(out) - y).pow(2).mean().item()']
        return ["    sq_err, sq_spread = (out - y).pow(2).sum(), (y - y.mean()).pow(2).sum()"], [
            '"mae": (out - y).abs().mean().item() * y_std  # in the targets\' own units',
            '"r2": (1 - sq_err / sq_spread).item()',
        ]

    def evaluation(self) -> list[str]:
        extra, metrics = self.metrics()
        autocast = self.c.training.precision == "bf16" and self.device == "cuda"
        forward = ["    with autocast:", "        out = model(x)"] if autocast else ["    out = model(x)"]
        out = _lines(
            '''
@torch.no_grad()
def evaluate(x, y):
    """Loss and metrics on a whole split, in evaluation mode (dropout off, batch norm's running statistics)."""
    model.eval()
'''
        )
        out += forward
        out += extra
        entries = ['"loss": loss_fn(out, y).item()', *metrics]
        one_line = f"    return {{{', '.join(entries)}}}"
        if len(entries) <= 2 and len(one_line) <= 120:
            out.append(one_line)
        else:
            out += ["    return {", *(_with_comma(f"        {e}") for e in entries), "    }"]
        out.append("")
        out.append("")
        if self.n_train_eval < self.n_train:
            out += _lines(
                f"""
# The training loss is measured, in evaluation mode, on a fixed random subset of the training split as
# large as the validation split (at least {TRAIN_EVAL_MIN} samples): like is compared with like
eval_rows = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(SEED + 1))[:{self.n_train_eval}]
x_train_eval, y_train_eval = x_train[eval_rows], y_train[eval_rows]
"""
            )
            self.train_eval = "x_train_eval, y_train_eval"
        return out

    # The loop.

    def batch_size(self) -> str:
        t = self.c.training
        if t.batch_size == "full":
            return self.setting("BATCH_SIZE", self.n_train, "the whole training split: full-batch gradient descent")
        return self.setting("BATCH_SIZE", t.batch_size, "samples per update")

    def loop(self) -> list[str]:
        c, r, t = self.c, self.c.regularization, self.c.training
        self.setting("EPOCHS", t.epochs, "passes over the training split")
        batch = self.batch_size()
        stop = f"len(x_train) - {batch} + 1" if t.drop_last else "len(x_train)"
        drop = "  # the last, smaller batch is dropped" if t.drop_last else ""
        early = r.early_stopping and self.has_val
        out: list[str] = []
        if r.augment_shift:
            out += self.shift_function()
        if early:
            self.imports.add("import copy")
            self.setting("PATIENCE", r.patience, "early stopping: epochs without a better validation loss")
            if r.min_delta:
                self.setting("MIN_DELTA", r.min_delta, "the smallest decrease that counts as better")
            out.append("best_loss, best_state, waited = math.inf, None, 0")
            self.imports.add("import math")
        out += [
            "generator = torch.Generator(DEVICE).manual_seed(SEED)  # shuffling and augmentation draw from it",
            "for epoch in range(1, EPOCHS + 1):",
            "    model.train()",
            "    order = torch.randperm(len(x_train), device=DEVICE, generator=generator)  # a new shuffle each epoch",
            f"    for start in range(0, {stop}, {batch}):{drop}",
            f"        rows = order[start : start + {batch}]",
            "        xb, yb = x_train[rows], y_train[rows]",
        ]
        if r.augment_shift:
            self.setting("AUGMENT_SHIFT", r.augment_shift, "augmentation: largest random shift, in pixels")
            out.append("        xb = shift_images(xb)  # augmentation")
        if r.augment_noise:
            self.setting("AUGMENT_NOISE", r.augment_noise, "augmentation: std of the noise added to inputs")
            out.append(
                "        xb = xb + AUGMENT_NOISE * torch.randn(xb.shape, generator=generator, device=DEVICE)  # augmentation"
            )
        if c.training.precision == "bf16" and self.device == "cuda":
            out += ["        with autocast:", "            loss = loss_fn(model(xb), yb)"]
        else:
            out.append("        loss = loss_fn(model(xb), yb)")
        penalty = []
        if r.l1:
            self.setting("L1", r.l1, "L1 penalty on the weights")
            penalty.append("L1 * sum(w.abs().sum() for w in weights)")
        if r.l2:
            self.setting("L2", r.l2, "L2 penalty on the weights")
            penalty.append("L2 * sum(w.pow(2).sum() for w in weights)")
        if penalty:
            out.append(f"        penalty = {' + '.join(penalty)}")
        out += [
            "        optimizer.zero_grad()",
            f"        {'(loss + penalty)' if penalty else 'loss'}.backward()",
        ]
        if r.grad_clip:
            self.setting("GRAD_CLIP", r.grad_clip, "largest gradient norm; larger ones are scaled down")
            out.append("        nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)")
        out.append("        optimizer.step()")
        out += self.epoch_end(early)
        return out

    def shift_function(self) -> list[str]:
        self.imports.add("import torch.nn.functional as F")
        return _lines(
            '''
def shift_images(xb):
    """Each image moved by its own random whole number of pixels along both axes; zeros fill the border."""
    n, c, h, w, s = *xb.shape, AUGMENT_SHIFT
    dy, dx = torch.randint(-s, s + 1, (2, n), generator=generator, device=DEVICE)
    padded = F.pad(xb, (s, s, s, s))
    rows = torch.arange(h, device=DEVICE) + s - dy[:, None]
    cols = torch.arange(w, device=DEVICE) + s - dx[:, None]
    xb = padded.gather(2, rows[:, None, :, None].expand(n, c, h, w + 2 * s))
    return xb.gather(3, cols[:, None, None, :].expand(n, c, h, w))


'''
        ) + ["", ""]

    def epoch_end(self, early: bool) -> list[str]:
        c, t, o = self.c, self.c.training, self.c.optimizer
        headline = {"classification": "accuracy", "generation": "recon_error"}.get(c.task, "r2")
        indent = "    "
        out: list[str] = []
        if t.eval_every > 1:
            self.setting("EVAL_EVERY", t.eval_every, "measure every N epochs")
            out.append("    if epoch % EVAL_EVERY == 0 or epoch == EPOCHS:")
            indent = "        "
        parts = ["epoch {epoch:3d}", "  train_loss {train['loss']:.6g}"]
        if self.has_val:
            out.append(f"{indent}train, val = evaluate({self.train_eval}), evaluate(x_val, y_val)")
            parts += ["  val_loss {val['loss']:.6g}", f"  val_{headline} {{val['{headline}']:.4f}}"]
        else:
            out.append(f"{indent}train = evaluate({self.train_eval})")
            parts.append(f"  train_{headline} {{train['{headline}']:.4f}}")
        one_line = f'{indent}print(f"{"".join(parts)}")'
        if len(one_line) <= 120:
            out.append(one_line)
        else:  # two f-strings, as ruff would leave them
            out += [
                f"{indent}print(",
                f'{indent}    f"{"".join(parts[:3])}"',
                f'{indent}    f"{"".join(parts[3:])}"',
                f"{indent})",
            ]
        out += [
            f'{indent}if not math.isfinite(train["loss"]):',
            f'{indent}    print("The loss is no longer a finite number: training diverged.")',
            f"{indent}    break",
        ]
        self.imports.add("import math")
        if o.schedule == "plateau":
            out += [
                f'{indent}if math.isfinite(val["loss"]):',
                f'{indent}    scheduler.step(val["loss"])  # decays once validation loss stops improving',
            ]
        if early:
            min_delta = " - MIN_DELTA" if c.regularization.min_delta else ""
            out += [
                f'{indent}if val["loss"] < best_loss{min_delta}:  # better: keep these weights',
                f'{indent}    best_loss, best_epoch, waited = val["loss"], epoch, 0',
                f"{indent}    best_state = copy.deepcopy(model.state_dict())",
                f"{indent}else:",
                f"{indent}    waited += 1",
                f"{indent}    if waited >= PATIENCE:",
                f'{indent}        print(f"Early stopping: no better validation loss for {{PATIENCE}} epochs.")',
                f"{indent}        break",
            ]
        if o.schedule in ("step", "cosine"):
            out.append("    scheduler.step()  # once per epoch")
        return out

    def finish(self) -> list[str]:
        r = self.c.regularization
        out: list[str] = []
        if r.early_stopping and self.has_val and r.restore_best:
            out += [
                "",
                "if best_state is not None:",
                '    print(f"Keeping the weights of epoch {best_epoch}, the best on validation.")',
                "    model.load_state_dict(best_state)",
            ]
        if self.has_test:
            out += [
                "",
                "# The test split, untouched until now, gives the honest final score",
                'print("test", "  ".join(f"{name} {value:.6g}" for name, value in evaluate(x_test, y_test).items()))',
            ]
        return out


def _blank_lines(lines: list[str]) -> list[str]:
    """The lines with blank lines as ruff formats them: two around top-level functions and classes, at most
    one elsewhere."""
    out: list[str] = []
    in_definition = False
    for line in lines:
        if not line:
            if out and out[-1]:
                out.append(line)
            continue
        top_level = not line.startswith((" ", ")", "]"))
        starts_definition = line.startswith(("def ", "class ", "@"))
        if top_level and (starts_definition or in_definition) and not (out and out[-1].startswith("@")):
            while out and not out[-1]:
                out.pop()
            out += ["", ""] if out else []
        if top_level:
            in_definition = starts_definition
        out.append(line)
    return out


def _with_comma(line: str) -> str:
    """A dict entry with its trailing comma, before its comment if it has one."""
    code, hash_, comment = line.partition("  # ")
    return f"{code},{hash_}{comment}"


def _literal(value: Any) -> str:
    """A setting's value as Python source, strings in double quotes (as ruff formats them)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple):
        return ", ".join(_literal(v) for v in value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _setting_lines(name: str, value: Any, comment: str) -> list[str]:
    """A setting as a line; a list or dict too long for one line as one entry a line (as ruff formats it)."""
    tail = f"  # {comment}" if comment else ""
    line = f"{name} = {_literal(value)}{tail}"
    if len(line) <= 120 or not isinstance(value, list | dict) or not value:
        return [line]
    return _expanded(value, f"{name} = ", tail, "")


def _expanded(value: list | dict, prefix: str, tail: str, indent: str) -> list[str]:
    """A list or dict literal opened after `prefix`, one entry a line, long entries expanded in turn."""
    opening, closing = ("[", "]") if isinstance(value, list) else ("{", "}")
    out = [f"{indent}{prefix}{opening}{tail}"]
    inner = indent + "    "
    entries = (
        [(f"{_literal(k)}: ", v) for k, v in value.items()] if isinstance(value, dict) else [("", v) for v in value]
    )
    for key, entry in entries:
        line = f"{inner}{key}{_literal(entry)},"
        if len(line) <= 120 or not isinstance(entry, list | dict) or not entry:
            out.append(line)
        else:
            out += _expanded(entry, key, "", inner)
            out[-1] += ","
    return [*out, f"{indent}{closing}"]


def _outputs_words(config: ExperimentConfig, n_out: int) -> str:
    if config.task == "classification":
        return "one logit (two classes)" if n_out == 1 else f"one output per class ({n_out})"
    return "one output"


# --- the data sets -------------------------------------------------------------------------------------


def _synthetic_n(s: _Script) -> str:
    return s.setting("N_SAMPLES", s.c.data.n_samples or DEFAULT_SYNTHETIC_SAMPLES, "samples generated")


def _noise(s: _Script) -> str:
    return s.setting("NOISE", s.c.data.noise, "standard deviation of the noise")


def _balanced(s: _Script, k: str) -> list[str]:
    return [
        f"sizes = [N_SAMPLES // {k} + (c < N_SAMPLES % {k}) for c in range({k})]  # balanced classes",
        f"y = np.repeat(np.arange({k}), sizes)",
    ]


def _points(s: _Script, title: str, body: str, k: str = "2") -> list[str]:
    _synthetic_n(s), _noise(s)
    return [
        f"# Data: {title}",
        "rng = np.random.default_rng(DATA_SEED)",
        *_balanced(s, k),
        *_lines(body),
        "order = rng.permutation(N_SAMPLES)  # the classes were made one after the other: mix them",
        "x, y = torch.from_numpy(x[order].astype(np.float32)), torch.from_numpy(y[order])",
    ]


def _moons(s: _Script) -> list[str]:
    return _points(
        s,
        "two interleaving half circles, gaussian noise on every point",
        """
angle = rng.uniform(0.0, np.pi, size=N_SAMPLES)
upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
lower = np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
x = np.where(y[:, None] == 0, upper, lower) + rng.normal(0.0, NOISE, size=(N_SAMPLES, 2))
""",
    )


def _circles(s: _Script) -> list[str]:
    return _points(
        s,
        "a circle of radius 0.4 (class 1) inside a ring of radius 1 (class 0)",
        """
angle = rng.uniform(0.0, 2 * np.pi, size=N_SAMPLES)
radius = np.where(y == 0, 1.0, 0.4)
x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1) + rng.normal(0.0, NOISE, size=(N_SAMPLES, 2))
""",
    )


def _xor(s: _Script) -> list[str]:
    _synthetic_n(s), _noise(s)
    return _lines(
        """
# Data: points in [-1, 1]², class 1 where x1·x2 > 0 (the position before the noise decides)
rng = np.random.default_rng(DATA_SEED)
x = rng.uniform(-1.0, 1.0, size=(N_SAMPLES, 2))
x += 0.05 * np.sign(x)  # keep the points off the axes
y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
x = x + rng.normal(0.0, NOISE, size=(N_SAMPLES, 2))
order = rng.permutation(N_SAMPLES)
x, y = torch.from_numpy(x[order].astype(np.float32)), torch.from_numpy(y[order])
"""
    )


def _n_classes(s: _Script) -> str:
    d = s.c.data
    return s.setting("N_CLASSES", d.n_classes or DEFAULT_CLASSES[d.dataset], "classes")


def _spiral(s: _Script) -> list[str]:
    k = _n_classes(s)
    n_classes = s.c.data.n_classes or DEFAULT_CLASSES["spiral"]
    turns = max(0.5, 2.0 / (0.8 * n_classes))  # engine/data/synthetic.py: arms 0.8 apart, at least half a turn
    return _points(
        s,
        "interleaved spiral arms from the centre out, one class per arm",
        f"""
progress = rng.uniform(0.0, 1.0, size=N_SAMPLES)  # 0 at the centre, 1 at the tip of the arm
angle = 2 * np.pi * ({turns!r} * progress + y / {k})  # {turns:g} turns
radius = 2.0 * progress
x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1) + rng.normal(0.0, NOISE, size=(N_SAMPLES, 2))
""",
        k,
    )


def _blobs(s: _Script) -> list[str]:
    k = _n_classes(s)
    return _points(
        s,
        "gaussian clusters on a ring of radius 1.5, one class each",
        f"""
angle = rng.uniform(0.0, 2 * np.pi) + 2 * np.pi * np.arange({k}) / {k}
centres = 1.5 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
x = centres[y] + rng.normal(0.0, NOISE, size=(N_SAMPLES, 2))
""",
        k,
    )


def _curve(s: _Script, title: str, body: str) -> list[str]:
    _synthetic_n(s), _noise(s)
    return [
        f"# Data: {title}",
        "rng = np.random.default_rng(DATA_SEED)",
        *_lines(body),
        "x, y = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.float32))",
    ]


def _sine(s: _Script) -> list[str]:
    return _curve(
        s,
        "x uniform in [0, 1], y = sin(2πx) + noise",
        """
x = rng.uniform(0.0, 1.0, size=(N_SAMPLES, 1))
y = np.sin(2 * np.pi * x) + rng.normal(0.0, NOISE, size=(N_SAMPLES, 1))
""",
    )


def _plane(s: _Script) -> list[str]:
    return _curve(
        s,
        "x uniform in [-1, 1]², y = 1.0·x1 - 0.5·x2 + noise",
        """
x = rng.uniform(-1.0, 1.0, size=(N_SAMPLES, 2))
y = x @ np.array([[1.0], [-0.5]]) + rng.normal(0.0, NOISE, size=(N_SAMPLES, 1))
""",
    )


def _bump(s: _Script) -> list[str]:
    return _curve(
        s,
        "x uniform in [-1, 1]², y = a gaussian bump of width 0.5 + noise",
        """
x = rng.uniform(-1.0, 1.0, size=(N_SAMPLES, 2))
y = np.exp(-(x**2).sum(axis=1, keepdims=True) / (2 * 0.5**2)) + rng.normal(0.0, NOISE, size=(N_SAMPLES, 1))
""",
    )


def _sine_forecast(s: _Script) -> list[str]:
    s.setting("SEQ_LEN", s.c.data.seq_len, "values in each input window")
    return _curve(
        s,
        "one long noisy sine cut into overlapping windows, each with the value that follows it",
        f"""
phase = rng.uniform(0.0, 2 * np.pi)
series = np.sin({SINE_STEP} * np.arange(N_SAMPLES + SEQ_LEN) + phase) + rng.normal(0.0, NOISE, size=N_SAMPLES + SEQ_LEN)
windows = np.lib.stride_tricks.sliding_window_view(series, SEQ_LEN + 1)  # one window per start
x, y = windows[:, :SEQ_LEN, None], windows[:, SEQ_LEN:]  # (n, SEQ_LEN, 1) inputs, the next value as target
""",
    )


def _memory(s: _Script) -> list[str]:
    _synthetic_n(s), _noise(s)
    s.setting("SEQ_LEN", s.c.data.seq_len, "time steps to remember the signal through")
    return _lines(
        """
# Data: a ±1 signal at one marked early step, to remember through SEQ_LEN noisy steps (label 1 for +1)
rng = np.random.default_rng(DATA_SEED)
y = rng.permutation(np.arange(N_SAMPLES) % 2)
x = np.zeros((N_SAMPLES, SEQ_LEN, 2))  # channel 0: the signal in noise, channel 1: the marker
x[:, :, 0] = rng.normal(0.0, NOISE, size=(N_SAMPLES, SEQ_LEN))
marked = rng.integers(0, max(1, SEQ_LEN // 5), size=N_SAMPLES)  # within the first fifth
x[np.arange(N_SAMPLES), marked, 0] = 2.0 * y - 1.0
x[np.arange(N_SAMPLES), marked, 1] = 1.0
x, y = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y)
"""
    )


def _subsample(s: _Script, labels: str) -> list[str]:
    """Keep data.classes (renumbered 0, 1, ...) and a seeded random data.n_samples of the rows."""
    d = s.c.data
    out: list[str] = []
    if d.classes or d.n_samples:
        out.append("rng = np.random.default_rng(DATA_SEED)")
    if d.classes:
        s.setting("CLASSES", list(d.classes), "the classes kept, numbered 0, 1, ... in this order")
        out.append(f"rows = np.flatnonzero(np.isin({labels}, CLASSES))")
        if d.n_samples:
            s.setting("N_SAMPLES", d.n_samples, "samples drawn from those classes")
            out.append("rows = rows[rng.choice(len(rows), size=N_SAMPLES, replace=False)]")
    elif d.n_samples:
        s.setting("N_SAMPLES", d.n_samples, "samples drawn at random")
        out.append(f"rows = rng.choice(len({labels}), size=N_SAMPLES, replace=False)")
    return out


def _table(s: _Script) -> list[str]:
    d, c = s.c.data, s.c
    s.needs_sklearn = True
    loader = {"diabetes": "load_diabetes(scaled=False)"}.get(d.dataset, f"load_{d.dataset}()")
    s.imports.add(f"from sklearn.datasets import load_{d.dataset}")
    classifying = c.task == "classification"
    out = [
        f"# Data: scikit-learn's {d.dataset} table",
        f"table = {loader}",
        f"x, y = table.data.astype(np.float32), table.target.astype(np.{'int64' if classifying else 'float32'})",
    ]
    picked = _subsample(s, "y" if classifying else "x")
    if picked:
        out += picked
        out.append("x, y = x[rows], y[rows]")
    if d.classes:
        out.append("y = np.array([CLASSES.index(label) for label in y])  # renumbered 0, 1, ...")
    reshape = "" if classifying else ".reshape(-1, 1)"
    out.append(f"x, y = torch.from_numpy(x), torch.from_numpy(y){reshape}")
    return out


def _images(s: _Script) -> list[str]:
    d = s.c.data
    if DATASETS[d.dataset].from_files:
        out = _idx_reader(s)
        brightest = "255"
    else:
        s.needs_sklearn = True
        s.imports.add("from sklearn.datasets import load_digits")
        out = [
            "# Data: scikit-learn's 1,797 handwritten digits, 8x8 pixels from 0 to 16",
            "digits = load_digits()",
            "images, labels = digits.images.astype(np.uint8), digits.target",
        ]
        brightest = "16"
    picked = _subsample(s, "labels")
    if picked:
        out += picked
        out.append("images, labels = images[rows], labels[rows]")
    if d.classes and s.c.task == "classification":
        out.append("labels = np.array([CLASSES.index(label) for label in labels])  # renumbered 0, 1, ...")
    out.append(f"x = torch.from_numpy(images).unsqueeze(1).float() / {brightest}  # (n, 1, side, side) in [0, 1]")
    if s.c.task == "classification":
        out.append("y = torch.from_numpy(labels)")
    return out


def _idx_reader(s: _Script) -> list[str]:
    (directory,) = s.files
    s.imports.update({"import gzip", "from pathlib import Path"})
    s.setting("DATA_DIR", str(directory), "where the run read its IDX files")
    parts = [p for p in IDX_PARTS if p == IDX_PARTS[0] or _idx_file(directory, f"{p}-images-idx3-ubyte")]
    name = "MNIST" if s.c.data.dataset == "mnist" else "Fashion-MNIST"
    return [
        *_lines(
            '''
def read_idx(name):
    """An IDX file of unsigned bytes (raw, or .gz): its header gives the shape."""
    path = Path(DATA_DIR) / name
    raw = path.read_bytes() if path.exists() else gzip.decompress(path.with_name(name + ".gz").read_bytes())
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(raw[3])]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * raw[3]).reshape(shape)


'''
        ),
        "",
        f"# Data: the {name} files {' and '.join(parts)}, together (the split below is this script's own)",
        f"parts = {_literal(parts)}",
        'images = np.concatenate([read_idx(f"{part}-images-idx3-ubyte") for part in parts])',
        'labels = np.concatenate([read_idx(f"{part}-labels-idx1-ubyte") for part in parts]).astype(np.int64)',
    ]


def _idx_file(directory: Path, stem: str) -> bool:
    return (directory / stem).is_file() or (directory / f"{stem}.gz").is_file()


# Your own data: the file the run read, read as engine/data/files.py reads it, with the choices it recorded.


def _own_table(s: _Script) -> list[str]:
    """A csv or numpy table: the same rows, columns, one-hot values, missing values and targets as the run."""
    info, d = s.info, s.c.data
    (path,) = s.files
    s.setting("DATA_PATH", str(path), "the table the run read")
    text = info["format"] in ("csv", "tsv")
    if text:
        s.imports.add("import csv")
        s.setting("DELIMITER", info["delimiter"] or ",", "between the cells of a row")
    s.setting("TARGET", info["target"], "the column to predict")
    s.setting("FEATURES", list(info["features"]), "the columns to learn from")
    encoded = info.get("encoded") or {}
    if encoded:
        s.setting("ENCODED", encoded, "text columns: one input for each of these values")
    # Missing cells in the columns used: the run refused them, dropped their rows, or filled them in.
    gaps = bool(info.get("missing"))
    feature_gaps = gaps and any(name in info["missing"] for name in info["features"])
    s.fill_missing = feature_gaps and d.missing == "mean"
    if gaps:
        s.setting("MISSING", MISSING_CELLS, "cells that count as missing (compared in lower case)")
    out = [] if text else _column_helper()
    out += _missing_helpers(text) if gaps else []
    out += _csv_reader(info) if text else _numpy_reader(info)
    numbers = "numbers({})" if gaps else "{}.astype(np.float64)"

    picked = []
    dropping = feature_gaps and d.missing == "drop"
    if dropping or info["target"] in info.get("missing", {}):
        picked.append("keep = ~missing(columns[TARGET])  # a sample without its target is left out")
        if dropping:
            picked += [
                'for name in FEATURES:  # data.missing = "drop": so is a sample missing an input',
                "    keep &= ~missing(columns[name])",
            ]
        picked.append("rows = np.flatnonzero(keep)")
    if d.n_samples:
        s.setting("N_SAMPLES", d.n_samples, "rows drawn at random")
        population = "rows" if picked else "len(columns[TARGET])"
        picked += [
            "rng = np.random.default_rng(DATA_SEED)",
            f"rows = np.sort(rng.choice({population}, size=N_SAMPLES, replace=False))  # kept in the file's order",
        ]
    if picked:
        out += ["", *picked, "columns = {name: values[rows] for name, values in columns.items()}  # the samples kept"]

    nan = "  # NaN where missing, until the split" if s.fill_missing else ""
    if encoded:
        out += ["", "", *_inputs_helper(numbers, gaps), "", ""]
        out += ["# Inputs: numbers as they are, each text column one-hot encoded (an input per value)"]
        out.append(f"x = np.concatenate([inputs(name) for name in FEATURES], axis=1){nan}")
    else:
        out += ["", "# Inputs: the feature columns, as numbers"]
        out.append(f"x = np.stack([{numbers.format('columns[name]')} for name in FEATURES], axis=1){nan}")
    if not s.fill_missing:
        out.append("x = torch.from_numpy(x.astype(np.float32))")
    target = numbers.format("columns[TARGET]")
    if s.c.task == "classification":
        names = [str(name) for name in s.plan.get("class_names") or []]
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        values = target if _numeric_classes(names) else "columns[TARGET]"
        out += [
            "",
            f"# Targets: the classes in sorted order ({shown}), numbered 0, 1, ...",
            f"classes, y = np.unique({values}, return_inverse=True)",
            "y = torch.from_numpy(y)",
        ]
    else:
        out += ["", f"y = torch.from_numpy({target}.astype(np.float32)).reshape(-1, 1)  # a target per sample"]
    return out


def _numeric_classes(class_names: list[str]) -> bool:
    """Whether the run's classes were numbers (numbered in order of value) rather than text (in text order): the
    run names classes of numbers by their values, so every name reads as a number."""
    try:
        [float(name) for name in class_names]
    except ValueError:
        return False
    return True


def _missing_helpers(text: bool) -> list[str]:
    """missing() and numbers() for the columns of a table: text only (csv), or numbers and text (numpy)."""
    if text:
        return _lines(
            '''
def missing(cells):
    """True where a cell is empty or says that it is missing (NA, NaN, null, ...)."""
    return np.isin(np.char.lower(cells), MISSING)


def numbers(cells):
    """The cells as numbers, NaN where missing."""
    return np.where(missing(cells), "nan", cells).astype(np.float64)
'''
        ) + ["", ""]
    return _lines(
        '''
def missing(values):
    """True where a value is missing: NaN among numbers; an empty cell, NA, NaN, null, ... among text."""
    return np.isnan(values) if values.dtype.kind == "f" else np.isin(np.char.lower(values), MISSING)


def numbers(values):
    """A column as numbers, NaN where missing."""
    return values if values.dtype.kind == "f" else np.where(missing(values), "nan", values).astype(np.float64)
'''
    ) + ["", ""]


def _csv_reader(info: dict) -> list[str]:
    # An empty column name was read as "column N" (N from 1): only then does the script need that rule.
    unnamed = any(name == f"column {j + 1}" for j, name in enumerate(info.get("columns") or []))
    names = (
        'cell.strip() or f"column {j + 1}" for j, cell in enumerate(lines[0])'
        if unnamed
        else "cell.strip() for cell in lines[0]"
    )
    return [
        "# Data: the table DATA_PATH, its first row naming the columns, then a row per sample (blank lines skipped)",
        'with open(DATA_PATH, encoding="utf-8-sig", newline="") as f:',
        '    lines = [row for row in csv.reader(f, delimiter=DELIMITER) if len(row) > 1 or "".join(row).strip()]',
        f"names = [{names}]",
        "cells = np.char.strip(np.array(lines[1:]))  # a row per sample, without the spaces around each cell",
        "columns = {name: cells[:, j] for j, name in enumerate(names)}",
    ]


def _column_helper() -> list[str]:
    return _lines(
        '''
def column(values):
    """A column as the run read it: numbers as float64, text without the spaces around it."""
    return values.astype(np.float64) if values.dtype.kind in "biuf" else np.char.strip(values.astype(str))
'''
    ) + ["", ""]


def _numpy_reader(info: dict) -> list[str]:
    if info["format"] == "npz":
        return [
            '# Data: the arrays x (features, a row per sample) and y (targets) of DATA_PATH; x\'s columns are "0", "1", ...',
            "with np.load(DATA_PATH) as arrays:",
            '    x_file, y_file = arrays["x"], arrays["y"]',
            "columns = {str(j): column(values) for j, values in enumerate(x_file.reshape(len(x_file), -1).T)}",
            'columns["y"] = column(y_file.reshape(-1))',
        ]
    return [
        '# Data: the 2-D array of DATA_PATH, a row per sample; its columns are named "0", "1", ...',
        "columns = {str(j): column(values) for j, values in enumerate(np.load(DATA_PATH).T)}",
    ]


def _inputs_helper(numbers: str, gaps: bool) -> list[str]:
    one_hot = "(cells[:, None] == np.array(ENCODED[name], dtype=str)).astype(np.float64)"
    if gaps:
        ending = [
            f"    block = {one_hot}",
            "    block[missing(cells)] = np.nan  # a missing cell: NaN in each of its inputs",
            "    return block",
        ]
    else:
        ending = [f"    return {one_hot}"]
    return [
        "def inputs(name):",
        '    """A feature\'s inputs: its numbers, or for a text column one input per value, 1 where the cell holds it."""',
        "    cells = columns[name]",
        "    if name not in ENCODED:",
        f"        return {numbers.format('cells')}[:, None]",
        *ending,
    ]


def _own_images(s: _Script) -> list[str]:
    """A folder of class folders: the same images, resized and converted the same way, with the same labels."""
    info, d = s.info, s.c.data
    (directory,) = s.files
    s.needs_pillow = True
    s.imports.update({"from pathlib import Path", "from PIL import Image"})
    s.setting("DATA_DIR", str(directory), "the folder the run read: a sub-folder of images per class")
    s.setting("CLASS_FOLDERS", list(info.get("class_counts") or {}), "classes 0, 1, ... in this order")
    s.setting("IMAGE_SUFFIXES", list(IMAGE_SUFFIXES), "the files read as images; others are left out")
    s.setting("IMAGE_SIZE", info.get("image_size") or d.image_size, "the side every image is resized to")
    out = _lines(
        """
# Data: the images of each class folder, in name order, labelled with the folder's number
files, labels = [], []
for label, folder in enumerate(CLASS_FOLDERS):
    for path in sorted((Path(DATA_DIR) / folder).iterdir()):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."):
            files.append(path)
            labels.append(label)
"""
    )
    if d.n_samples:
        s.setting("N_SAMPLES", d.n_samples, "images drawn at random")
        out += [
            "rng = np.random.default_rng(DATA_SEED)",
            "chosen = np.sort(rng.choice(len(files), size=N_SAMPLES, replace=False))  # kept in the same order",
            "files, labels = [files[k] for k in chosen], [labels[k] for k in chosen]",
        ]
    grey = (info.get("channels") or d.channels) == 1
    mode, layout, note = ("L", "[None]", "one channel") if grey else ("RGB", ".transpose(2, 0, 1)", "channels first")
    out += [
        "",
        f"# Each image as {'grey levels' if grey else 'red, green and blue'}, resized by bilinear interpolation",
        "pixels = []",
        "for path in files:",
        "    with Image.open(path) as image:",
        f'        resized = image.convert("{mode}").resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)',
        f"    pixels.append(np.asarray(resized){layout})  # {note}",
        "x = torch.from_numpy(np.stack(pixels).astype(np.float32) / 255.0)  # (n, channels, side, side) in [0, 1]",
    ]
    if s.c.task == "classification":
        out.append("y = torch.tensor(labels)")
    return out


# How the script makes each data set; data_files() checks the files of those read from files.
DATA_SOURCES = {
    "moons": _moons,
    "circles": _circles,
    "xor": _xor,
    "spiral": _spiral,
    "blobs": _blobs,
    "sine": _sine,
    "plane": _plane,
    "bump": _bump,
    "sine_forecast": _sine_forecast,
    "memory": _memory,
    "iris": _table,
    "wine": _table,
    "breast_cancer": _table,
    "diabetes": _table,
    "digits": _images,
    "mnist": _images,
    "fashion_mnist": _images,
    "csv": _own_table,
    "numpy": _own_table,
    "image_folder": _own_images,
}
