"""`nnplay export RUN --format py`: a standalone PyTorch script that reproduces the run; and `--format tensorboard`.

Each reproduction case trains a short real run in this process, exports it, runs the script with this
Python in a subprocess, and compares every epoch's train_loss and val_loss with the run's own epoch events
(its events.jsonl) within 1e-4 relative, and the script's test metrics with the run's summary.
"""

from __future__ import annotations

import ast
import contextlib
import gzip
import io
import os
import re
import runpy
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn import datasets
from test_own_data import GAPS, write_digit_folder, write_iris, write_rgb_folder  # tests/engine's own-data files

from nnplay.engine import experiment
from nnplay.engine.core.config import validate
from nnplay.engine.core.config_files import load
from nnplay.engine.core.events import Emitter
from nnplay.engine.core.runs import RunRecord, load_run
from nnplay.engine.core.script import DataMissing, ScriptNotPossible, pytorch_script, script_of_run
from nnplay.presets import find_preset
from nnplay.tui.cli import main

REL = 1e-4  # how close each epoch's losses must come to the run's own
SCRIPT_TIMEOUT_S = 180.0  # a bound on one script's run (a few seconds here), so a hang fails the test
ALLOWED_IMPORTS = {"copy", "csv", "gzip", "math", "pathlib", "numpy", "torch", "sklearn", "PIL"}
MOONS = {
    "name": "moons-mlp",
    "data": {"dataset": "moons", "n_samples": 200},
    "model": {"hidden": [8, 8]},
    "training": {"epochs": 3, "batch_size": 32, "device": "cpu"},
}


def train(data: dict, runs_dir: Path) -> RunRecord:
    """A real run of the config, recorded under runs_dir."""
    summary = experiment.run(validate(data), Emitter(), root=runs_dir)
    return load_run(Path(summary["run_dir"]))


def preset(name: str, *overrides: str) -> dict:
    """A shipped preset, made small by overrides, as plain data."""
    path = find_preset(name)
    assert path is not None
    return load(path, ["training.device='cpu'", *overrides]).model_dump(exclude_none=True)


def run_script(
    record: RunRecord, tmp_path: Path, standalone: bool = False
) -> tuple[dict[int, dict[str, float]], dict[str, float], str]:
    """Export the run's script, run it; returns its per-epoch numbers, its test metrics and its output.

    `standalone` runs it as its own Python process, as a learner would; otherwise it runs here, as
    `__main__` in a namespace of its own (torch is loaded already, which saves seconds per case), with
    torch's thread count and deterministic mode put back afterwards."""
    script = tmp_path / "train.py"
    script.write_text(script_of_run(record), encoding="utf-8")
    if standalone:
        done = subprocess.run(
            [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S
        )
        assert done.returncode == 0, done.stderr[-3000:]
        stdout = done.stdout
    else:
        threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
        out = io.StringIO()
        try:
            with contextlib.chdir(tmp_path), contextlib.redirect_stdout(out):
                runpy.run_path(str(script), run_name="__main__")
        finally:
            torch.set_num_threads(threads)
            torch.use_deterministic_algorithms(deterministic)
        stdout = out.getvalue()
    epochs, test = {}, {}
    for line in stdout.splitlines():
        words = line.split()
        if words and words[0] == "epoch":
            epochs[int(words[1])] = {k: float(v) for k, v in zip(words[2::2], words[3::2], strict=True)}
        elif words and words[0] == "test":
            test = {k: float(v) for k, v in zip(words[1::2], words[2::2], strict=True)}
    return epochs, test, stdout


def assert_reproduces(record: RunRecord, tmp_path: Path, standalone: bool = False) -> tuple[str, dict[str, float]]:
    """The script's losses match the run's epoch events, epoch by epoch, and its test loss the summary's;
    returns the script's output and test metrics."""
    epochs, test, output = run_script(record, tmp_path, standalone)
    recorded = [e for e in record.epochs if e.get("train_loss") is not None]
    assert recorded, "the run recorded no measured epoch"
    assert sorted(epochs) == [e["epoch"] for e in recorded], output
    for event in recorded:
        printed = epochs[event["epoch"]]
        for key in ("train_loss", "val_loss"):
            if event.get(key) is not None:
                assert printed[key] == pytest.approx(event[key], rel=REL), (event["epoch"], key, output)
    summary_test = record.summary["test"]
    assert test["loss"] == pytest.approx(summary_test["loss"], rel=REL)
    if "accuracy" in summary_test:
        assert test["accuracy"] == pytest.approx(summary_test["accuracy"], abs=1e-6)
    return output, test


def imported_modules(text: str) -> set[str]:
    tree = ast.parse(text)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


# Reproduction.


def test_an_mlp_on_moons_is_reproduced_by_a_short_script_without_nnplay(runs_dir, tmp_path) -> None:
    record = train(MOONS, runs_dir)
    assert_reproduces(record, tmp_path, standalone=True)  # its own process: nothing of the tests' is loaded
    text = script_of_run(record)
    compile(text, "train.py", "exec")
    assert imported_modules(text) <= ALLOWED_IMPORTS and "nnplay" not in imported_modules(text)
    assert len(text.splitlines()) <= 150
    # Settings as named constants at the top; options the run does not use are not there.
    assert "HIDDEN = [8, 8]" in text and "BATCH_SIZE = 32" in text and "EPOCHS = 3" in text
    for unused in ("DROPOUT", "L2", "PATIENCE", "scheduler", "AUGMENT", "sklearn", "BatchNorm"):
        assert unused not in text


def test_the_digits_cnn_is_reproduced(runs_dir, tmp_path) -> None:
    data = preset("digits-cnn", "data.n_samples=300", "training.epochs=2", "model.conv_channels=[4, 8]")
    assert_reproduces(train(data, runs_dir), tmp_path)


def test_an_lstm_on_the_memory_task_is_reproduced(runs_dir, tmp_path) -> None:
    # 300 training samples: the train loss is measured on a random 256 of them, as the run measured it.
    data = preset("lstm-vs-rnn", "data.n_samples=500", "data.seq_len=10", "training.epochs=2", "model.rnn_hidden=8")
    assert_reproduces(train(data, runs_dir), tmp_path)


def test_an_lstm_forecast_is_reproduced_with_its_targets_standardized(runs_dir, tmp_path) -> None:
    data = preset("sine-forecast", "data.n_samples=200", "data.seq_len=10", "training.epochs=2", "model.rnn_hidden=8")
    record = train(data, runs_dir)
    _, test = assert_reproduces(record, tmp_path)
    assert test["mae"] == pytest.approx(record.summary["test"]["mae"], rel=1e-3)  # in the targets' own units


def test_dropout_l2_and_early_stopping_are_reproduced_with_the_best_weights_kept(runs_dir, tmp_path) -> None:
    data = {
        **MOONS,
        "data": {"dataset": "moons", "n_samples": 300, "noise": 0.35, "train": 0.2, "val": 0.4, "test": 0.4},
        "model": {"hidden": [64, 64]},
        "optimizer": {"lr": 0.01},
        "regularization": {"dropout": 0.5, "l2": 0.001, "early_stopping": True, "patience": 3},
        "training": {"epochs": 60, "batch_size": "full", "device": "cpu"},
    }
    record = train(data, runs_dir)
    assert record.summary["status"] == "early_stopped"
    output, _ = assert_reproduces(record, tmp_path)  # the same epochs, so the same stop; the test: the best weights
    assert f"Keeping the weights of epoch {record.summary['weights_epoch']}" in output


def test_batch_norm_augmentation_sgd_and_a_schedule_are_reproduced(runs_dir, tmp_path) -> None:
    data = {
        **MOONS,
        "data": {"dataset": "digits", "n_samples": 300, "normalization": "minmax"},
        "model": {"architecture": "cnn", "conv_channels": [4, 8]},
        "optimizer": {"kind": "sgd", "lr": 0.05, "nesterov": True, "schedule": "step", "step_size": 1},
        "regularization": {
            "batch_norm": True,
            "dropout": 0.2,
            "augment_shift": 1,
            "weight_decay": 0.001,
            "grad_clip": 1.0,
        },
        "training": {"epochs": 4, "batch_size": 32, "eval_every": 2, "drop_last": True, "device": "cpu"},
    }
    assert_reproduces(train(data, runs_dir), tmp_path)


def test_a_variational_autoencoder_is_reproduced(runs_dir, tmp_path) -> None:
    data = {
        **MOONS,
        "task": "generation",
        "data": {"dataset": "digits", "n_samples": 200},
        "model": {"architecture": "vae", "hidden": [16], "latent": 2},
        "training": {"epochs": 2, "batch_size": 32, "device": "cpu"},
    }
    assert_reproduces(train(data, runs_dir), tmp_path)


def write_idx(directory: Path, n: int) -> None:
    """A tiny MNIST-shaped training pair: n random 28x28 images and labels 0..9, gzipped IDX."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    header = b"\x00\x00\x08\x03" + b"".join(size.to_bytes(4, "big") for size in (n, 28, 28))
    (directory / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + images.tobytes()))
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    (directory / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + n.to_bytes(4, "big") + labels.tobytes())


def test_mnist_files_are_read_from_the_runs_path_and_a_move_is_named(runs_dir, tmp_path) -> None:
    mnist = tmp_path / "mnist"
    write_idx(mnist, 120)
    data = {
        **MOONS,
        "data": {"dataset": "mnist", "path": str(mnist), "classes": [3, 1, 4]},
        "training": {"epochs": 2, "batch_size": 8, "device": "cpu"},
    }
    record = train(data, runs_dir)
    assert_reproduces(record, tmp_path)
    mnist.rename(tmp_path / "moved")
    with pytest.raises(DataMissing, match=re.escape(str(mnist.resolve()))):
        script_of_run(record)
    code, _, err = cli("export", str(record.path), "--format", "py")
    assert code == 2 and str(mnist.resolve()) in err and "no longer exists" in err
    assert not (record.path / "train.py").exists()


# Your own data: the script reads the same file the same way (engine/data/files.py), with the choices the run
# recorded in its plan's data_info.


def own(dataset: str, path: Path, **changes) -> dict:
    """A small run on your own data at `path`; changes replace whole sections (data: added to it)."""
    data = {"dataset": dataset, "path": str(path), **changes.pop("data", {})}
    return {
        "name": f"own-{dataset}",
        "task": "auto",
        "data": data,
        "model": {"hidden": [8]},
        "training": {"epochs": 3, "batch_size": 16, "device": "cpu"},
        **changes,
    }


def test_a_csv_classifier_with_a_text_column_and_missing_values_filled_with_means(runs_dir, tmp_path) -> None:
    table = write_iris(tmp_path / "iris.csv", GAPS)  # a text column (colour), 3 empty cells, text species
    record = train(own("csv", table, data={"missing": "mean"}), runs_dir)
    info = record.summary["plan"]["data_info"]
    assert info["encoded"] == {"colour": ["blue", "green", "red"]} and info["missing_policy"] == "mean"
    assert record.summary["task"] == "classification"

    assert_reproduces(record, tmp_path)
    text = script_of_run(record)
    assert 'ENCODED = {"colour": ["blue", "green", "red"]}' in text and "np.nanmean" in text
    assert imported_modules(text) <= ALLOWED_IMPORTS and "sklearn" not in imported_modules(text)


def test_a_csv_regression_on_chosen_columns_of_a_sample_of_rows(runs_dir, tmp_path) -> None:
    # The target by name, features by name and number in their own order (a text one among them, one-hot).
    table = write_iris(tmp_path / "iris.tsv", delimiter="\t")
    data = {"target": "sepal length", "features": ["petal width", 1, "species"], "n_samples": 90}
    record = train(own("csv", table, data=data), runs_dir)
    assert record.summary["task"] == "regression"  # task "auto": numbers that are not all whole
    _, test = assert_reproduces(record, tmp_path)
    assert test["mae"] == pytest.approx(record.summary["test"]["mae"], rel=1e-3)

    # A config.toml that says task = "auto" is read with the task its plan decided: the same script.
    text = script_of_run(record)
    config_toml = record.path / "config.toml"
    config_toml.write_text(config_toml.read_text(encoding="utf-8").replace('"regression"', '"auto"'), "utf-8")
    assert 'task = "auto"' in config_toml.read_text(encoding="utf-8")
    assert script_of_run(load_run(record.path)) == text


@pytest.mark.parametrize("suffix", [".npz", ".npy"])
def test_numpy_arrays_with_missing_values_dropped(runs_dir, tmp_path, suffix) -> None:
    bunch = datasets.load_iris()
    x = bunch.data.copy()
    x[[5, 60, 61], [0, 2, 3]] = np.nan  # three samples with a missing feature, their rows dropped
    path = tmp_path / f"iris{suffix}"
    if suffix == ".npz":
        np.savez(path, x=x, y=bunch.target_names[bunch.target])  # text labels
    else:
        np.save(path, np.column_stack([x, bunch.target]))  # the last column: the target, numbered classes
    record = train(own("numpy", path, data={"missing": "drop", "n_samples": 120}), runs_dir)
    assert record.summary["plan"]["data_info"]["dropped_rows"] == 3
    assert_reproduces(record, tmp_path)


@pytest.mark.parametrize("channels", [1, 3])
def test_a_cnn_on_an_image_folder_is_reproduced(runs_dir, tmp_path, channels) -> None:
    if channels == 1:
        folder = write_digit_folder(tmp_path / "digits", per_class=8)  # 80 8x8 PNG files, grey
    else:
        folder = write_rgb_folder(tmp_path / "colours", per_class=40)  # 80 12x12 JPEG and BMP files
    data = {"channels": channels, "image_size": 6, "n_samples": 70}  # resized, and a sample of the images
    config = own("image_folder", folder, data=data, model={"architecture": "cnn", "conv_channels": [4]})
    record = train(config, runs_dir)
    assert record.summary["plan"]["input_shape"] == [channels, 6, 6]
    assert_reproduces(record, tmp_path)
    text = script_of_run(record)
    assert "from PIL import Image" in text and "Pillow" in text


def test_a_moved_or_changed_table_is_named(runs_dir, tmp_path) -> None:
    table = write_iris(tmp_path / "iris.csv")
    record = train(own("csv", table, training={"epochs": 1, "batch_size": 32, "device": "cpu"}), runs_dir)
    script_of_run(record)  # exportable while the table is where the run read it

    table.rename(tmp_path / "moved.csv")
    with pytest.raises(DataMissing, match=re.escape(str(table.resolve()))):
        script_of_run(record)
    code, _, err = cli("export", str(record.path), "--format", "py")
    assert code == 2 and str(table.resolve()) in err and "no longer exists" in err
    assert not (record.path / "train.py").exists()

    (tmp_path / "moved.csv").rename(table)
    with table.open("a", encoding="utf-8") as f:
        f.write("5.0,3.0,1.5,0.2,red,setosa\n")
    stat = table.stat()
    os.utime(table, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10 * 10**9))  # later, whatever the clock's grain
    with pytest.raises(DataMissing, match="was modified at .*, after this run read it") as changed:
        script_of_run(record)
    assert str(table.resolve()) in str(changed.value) and "\n" not in str(changed.value)


def test_an_image_folder_with_other_images_is_named(runs_dir, tmp_path) -> None:
    folder = write_digit_folder(tmp_path / "digits", per_class=2)
    config = own("image_folder", folder, data={"image_size": 8}, model={"architecture": "cnn", "conv_channels": [4]})
    record = train({**config, "training": {"epochs": 1, "batch_size": 4, "device": "cpu"}}, runs_dir)
    (folder / "3" / "0.png").unlink()
    with pytest.raises(DataMissing, match="holds 19 images in its class folders, but the run read 20"):
        script_of_run(record)
    (folder / "3").rename(folder / "three")
    with pytest.raises(DataMissing, match="no longer holds the class folder '3'"):
        script_of_run(record)


# Runs one script cannot reproduce are refused with one sentence.


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"data": {"dataset": "moons", "n_samples": 200, "k_folds": 3}}, "data.k_folds = 3"),
        ({"sweep": {"seeds": 2}}, "sweep.seeds = 2"),
        ({"sweep": {"parameter": "l2", "values": [0.0, 0.01]}}, "sweep.parameter = 'l2'"),
        ({"model": {"hidden": [8], "freeze": ["hidden"]}}, "model.freeze = ['hidden']"),
    ],
)
def test_k_fold_sweeps_and_transfer_are_refused_naming_the_setting(changes, named) -> None:
    config = validate({**MOONS, **changes})
    plan = {"input_shape": [2], "n_train": 120, "n_val": 40, "n_test": 40, "device": "cpu"}
    with pytest.raises(ScriptNotPossible, match=re.escape(named)) as refused:
        pytorch_script(config, plan)
    assert "allowed:" in str(refused.value) and "\n" not in str(refused.value)


# The command line.


def cli(*argv: str) -> tuple[int, str, str]:
    """Run `nnplay ARGV...` in this process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory) -> RunRecord:
    return train(MOONS, tmp_path_factory.mktemp("runs"))


def test_export_py_writes_train_py_into_the_run_or_to_stdout(moons_run) -> None:
    code, out, err = cli("export", str(moons_run.path), "--format", "py")
    assert code == 0, err
    assert (moons_run.path / "train.py").read_text(encoding="utf-8") == script_of_run(moons_run)
    code, out, err = cli("export", str(moons_run.path), "--format", "py", "-o", "-")
    assert code == 0 and out == script_of_run(moons_run)


def read_events(path: Path) -> list:
    """The events of a TensorBoard event file (TFRecord framing: length, its CRC, data, its CRC)."""
    from tensorboardX.proto import event_pb2

    data, pos, events = path.read_bytes(), 0, []
    while pos < len(data):
        (size,) = struct.unpack("<Q", data[pos : pos + 8])
        event = event_pb2.Event()
        event.ParseFromString(data[pos + 12 : pos + 12 + size])
        events.append(event)
        pos += 12 + size + 4
    return events


def scalars(directory: Path) -> dict[str, list[tuple[int, float]]]:
    out: dict[str, list[tuple[int, float]]] = {}
    for path in directory.glob("events.out.tfevents.*"):
        for event in read_events(path):
            for value in event.summary.value:
                if not value.tag.startswith("_hparams_"):
                    out.setdefault(value.tag, []).append((event.step, value.simple_value))
    return out


def test_export_tensorboard_writes_train_and_validation_runs_and_hparams(moons_run, tmp_path) -> None:
    pytest.importorskip("tensorboardX")
    for _ in range(2):  # a second export replaces the first: each curve once
        code, out, err = cli("export", str(moons_run.path), "--format", "tensorboard", "-o", str(tmp_path / "tb"))
        assert code == 0, err
    root = tmp_path / "tb" / moons_run.id
    train, validation = scalars(root / "train"), scalars(root / "validation")
    assert validation["loss"] == [(e["epoch"], pytest.approx(e["val_loss"])) for e in moons_run.epochs]
    assert train["loss"] == [(e["epoch"], pytest.approx(e["train_loss"])) for e in moons_run.epochs]
    assert "accuracy" in train and "accuracy" in validation and "lr" in train
    session = read_events(next(root.glob("events.out.tfevents.*")))
    tags = {value.tag for event in session for value in event.summary.value}
    assert {"_hparams_/experiment", "_hparams_/session_start_info", "hparam/test_loss"} <= tags
    assert any(b"training.epochs" in value.metadata.plugin_data.content for e in session for value in e.summary.value)


def test_export_tensorboard_without_tensorboardx_names_the_extra(moons_run, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import tensorboardX now raises ImportError
    code, _, err = cli("export", str(moons_run.path), "--format", "tensorboard", "-o", str(tmp_path / "tb"))
    assert code == 2
    assert "pip install 'nnplay[tensorboard]'" in " ".join(err.split())
    assert not (tmp_path / "tb").exists()


def test_export_of_a_k_fold_run_is_refused_with_exit_2(tmp_path) -> None:
    record = train({**MOONS, "data": {"dataset": "moons", "n_samples": 200, "k_folds": 2}}, tmp_path / "runs")
    code, _, err = cli("export", str(record.path), "--format", "py")
    assert code == 2 and "data.k_folds = 2" in err
