"""Whole experiments through experiment.run: every data set with every architecture that fits it,
early stopping, k-fold cross-validation, and the overfitting lessons' diagnoses."""

from __future__ import annotations

import gzip
import math
import statistics
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnplay.engine import experiment, planning
from nnplay.engine.core.catalog import DATASETS, architectures_for
from nnplay.engine.core.config import validate
from nnplay.engine.core.config_files import load
from nnplay.engine.core.diagnosis import VERDICTS
from nnplay.engine.core.events import Emitter
from nnplay.engine.data.load import load_dataset
from nnplay.engine.data.normalize import Normalizer
from nnplay.engine.data.split import split_indices
from nnplay.engine.models import build_model

PRESETS = Path(__file__).resolve().parents[2] / "presets"
IDX_IMAGES = 40

COMBINATIONS = [
    (name, task, arch)
    for name, info in DATASETS.items()
    if not info.own  # your own data needs files of its own: tests/engine/test_own_data.py
    for task in info.tasks
    for arch in architectures_for(name, task)
]

TEST_METRICS = {
    "classification": {"loss", "accuracy"},
    "regression": {"loss", "mae", "r2"},
    "forecasting": {"loss", "mae", "r2"},
    "generation": {"loss", "recon_error"},
}


def expected_views(dataset: str, task: str, arch: str) -> set[str]:
    kind = DATASETS[dataset].kind
    if task == "classification":
        views = {"confusion"} | ({"boundary"} if kind == "points" else {"samples"} if kind == "image" else set())
    elif task == "regression":
        views = {"curve"} if kind == "curve" else {"surface"} if kind == "points" else {"forecast"}
    elif task == "forecasting":
        views = {"forecast"}
    else:
        views = {"reconstructions"} | ({"generated"} if arch == "vae" else set())
    return views | {"layers"}


def write_idx(directory: Path, n: int, seed: int = 0) -> None:
    """A tiny MNIST-shaped training pair: n random 28x28 images and labels 0..9, gzipped IDX."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    header = b"\x00\x00\x08\x03" + n.to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
    (directory / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + images.tobytes()))
    (directory / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(b"\x00\x00\x08\x01" + n.to_bytes(4, "big") + labels.tobytes())
    )


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("idx")
    write_idx(directory, IDX_IMAGES)
    return directory


def run(config, runs_dir) -> tuple[dict, list[dict]]:
    events: list[dict] = []
    summary = experiment.run(config, Emitter(callback=events.append), root=runs_dir)
    return summary, events


def of_type(events: list[dict], type_: str) -> list[dict]:
    return [e for e in events if e["type"] == type_]


def finite(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


@pytest.mark.parametrize(("dataset", "task", "arch"), COMBINATIONS, ids=["-".join(c) for c in COMBINATIONS])
def test_every_dataset_with_every_fitting_architecture(dataset, task, arch, idx_dir, runs_dir):
    data = {"dataset": dataset, "seq_len": 8}
    if DATASETS[dataset].from_files:
        data["path"] = str(idx_dir)  # all 40 images: 24 train / 8 val / 8 test
    else:
        data["n_samples"] = 120
    config = validate(
        {
            "name": f"{dataset}-{arch}",
            "task": task,
            "data": data,
            "model": {"architecture": arch, "hidden": [8], "conv_channels": [4], "rnn_hidden": 8, "latent": 2},
            "training": {"epochs": 2, "batch_size": 16, "snapshot_every": 1, "device": "cpu"},
        }
    )
    summary, events = run(config, runs_dir)

    assert summary["status"] == "completed"
    epochs = of_type(events, "epoch")
    assert [e["epoch"] for e in epochs] == [1, 2]
    for e in epochs:
        for key in ("train_loss_running", "train_loss", "val_loss"):
            assert finite(e[key]), (key, e[key])

    test = summary["test"]
    expected = TEST_METRICS[task] | ({"kl"} if arch == "vae" else set())
    assert set(test) == expected
    assert all(finite(v) for v in test.values()), test
    if "accuracy" in test:
        assert 0.0 <= test["accuracy"] <= 1.0

    views = expected_views(dataset, task, arch)
    for epoch in (1, 2):
        got = {s["view"] for s in of_type(events, "snapshot") if s["epoch"] == epoch}
        assert got == views, f"epoch {epoch}"
    done = events[-1]
    assert done["type"] == "done" and done["status"] == "completed" and done["test"] == test


OVERFITTING_SETUP = {
    "name": "early",
    "data": {"dataset": "moons", "n_samples": 100, "noise": 0.35, "train": 0.5, "val": 0.3, "test": 0.2},
    "model": {"hidden": [256, 256]},
    "optimizer": {"lr": 0.01},
    "training": {"batch_size": "full", "epochs": 300, "snapshot_every": 50, "device": "cpu"},
}


def test_early_stopping_stops_early_and_restores_the_best_weights(runs_dir):
    patience = 5
    config = validate({**OVERFITTING_SETUP, "regularization": {"early_stopping": True, "patience": patience}})
    summary, events = run(config, runs_dir)
    epochs = of_type(events, "epoch")
    done = events[-1]

    assert summary["status"] == done["status"] == "early_stopped"
    assert len(epochs) < config.training.epochs
    best = min(epochs, key=lambda e: e["val_loss"])
    assert done["best_epoch"] == best["epoch"]
    assert done["weights_epoch"] == best["epoch"]
    # It stops once `patience` epochs in a row fail to beat the best.
    assert epochs[-1]["epoch"] == best["epoch"] + patience
    assert epochs[-1]["val_loss"] > best["val_loss"]

    # The saved weights are the best epoch's: they reproduce its validation loss, not the last one's.
    dataset = load_dataset(config)
    d = config.data
    _, val_idx, _ = split_indices(len(dataset), d.train, d.val, d.test, d.seed)
    x_val = Normalizer.from_state(summary["normalizer"]).apply(dataset.x[val_idx])
    model = build_model(config, dataset.input_shape, planning.n_outputs(config))
    model.load_state_dict(torch.load(runs_dir / summary["id"] / "model.pt", weights_only=True))
    model.eval()
    with torch.no_grad():
        val_loss = float(F.cross_entropy(model(x_val), dataset.y[val_idx]))
    assert val_loss == pytest.approx(best["val_loss"], rel=1e-5)
    assert val_loss != pytest.approx(epochs[-1]["val_loss"], rel=1e-5)

    # The final table describes those same weights, whole training split included; the verdict knows
    # that early stopping already caught what it would otherwise advise.
    kept = done["kept"]
    assert kept["epoch"] == best["epoch"] and kept["weights"] == "best"
    assert kept["val"]["loss"] == pytest.approx(best["val_loss"], rel=1e-5)
    assert kept["n_train"] == config_train_size(config)
    assert summary["verdict"] in ("overfitting caught", "good fit")
    assert "use early stopping" not in summary["diagnosis"]["advice"]


def config_train_size(config) -> int:
    from nnplay.engine.core.config import split_sizes

    return split_sizes(config.data.n_samples, config.data.train, config.data.val, config.data.test)[0]


def test_a_run_diverging_after_some_epochs_keeps_the_last_finite_weights(runs_dir):
    # SGD with heavy momentum on small batches builds up speed for a few finite epochs, then overflows.
    config = validate(
        {
            "task": "regression",
            "data": {"dataset": "sine", "n_samples": 200},
            "model": {"hidden": [64, 64]},
            "optimizer": {"kind": "sgd", "lr": 0.1, "momentum": 0.99},
            "training": {"epochs": 60, "batch_size": 8, "device": "cpu"},
        }
    )
    summary, events = run(config, runs_dir)
    epochs = of_type(events, "epoch")
    assert summary["status"] == "diverged" and len(epochs) >= 2
    kept = events[-1]["kept"]
    assert kept["epoch"] == epochs[-2]["epoch"] and kept["weights"] == "last finite"
    weights = torch.load(runs_dir / summary["id"] / "model.pt", weights_only=True)
    assert all(torch.isfinite(w).all() for w in weights.values())  # never NaN weights in model.pt
    assert finite(kept["test"]["loss"])
    explanation = summary["diagnosis"]["explanation"]
    assert f"epoch {epochs[-1]['epoch']}" in explanation and f"those of epoch {kept['epoch']}" in explanation


def test_k_fold_cross_validation(tiny_config, runs_dir):
    config = tiny_config(data={"k_folds": 3}, training={"epochs": 2})
    summary, events = run(config, runs_dir)

    folds = of_type(events, "fold")
    assert [(f["fold"], f["k"], f["status"]) for f in folds] == [
        (0, 3, "completed"),
        (1, 3, "completed"),
        (2, 3, "completed"),
    ]
    epochs = of_type(events, "epoch")
    assert [(e["fold"], e["epoch"]) for e in epochs] == [(k, epoch) for k in range(3) for epoch in (1, 2)]

    test = summary["test"]
    assert set(test) == {"loss", "loss_std", "accuracy", "accuracy_std"}
    fold_accuracy = [f["test"]["accuracy"] for f in folds]
    assert test["accuracy"] == pytest.approx(statistics.fmean(fold_accuracy))
    assert test["accuracy_std"] == pytest.approx(statistics.pstdev(fold_accuracy))
    assert test["loss_std"] >= 0
    assert events[-1]["type"] == "done" and events[-1]["test"] == test
    assert len(summary["folds"]) == 3


def test_k_fold_scores_each_fold_on_its_own_held_out_part(runs_dir):
    """iris, 5 folds: every fold line showed the shared test split's 100%, not the fold's own score."""
    config = validate(
        {
            "data": {"dataset": "iris", "k_folds": 5},
            "training": {"epochs": 15, "batch_size": 16, "device": "cpu", "snapshot_every": 100},
        }
    )
    summary, events = run(config, runs_dir)
    folds = of_type(events, "fold")
    assert len(folds) == 5
    # The pool of 120 (30 held out for test) splits into five validation parts of 24.
    for fold in folds:
        last = [e for e in of_type(events, "epoch") if e["fold"] == fold["fold"]][-1]
        assert fold["weights_epoch"] == last["epoch"]
        assert fold["val"]["loss"] == pytest.approx(last["val_loss"], rel=1e-5)  # its own part, at its weights
        assert fold["verdict"] in VERDICTS
    accuracies = [f["val"]["accuracy"] for f in folds]
    cv = summary["cv"]
    assert cv["val"]["accuracy"] == pytest.approx(statistics.fmean(accuracies))
    assert cv["val"]["accuracy_std"] == pytest.approx(statistics.pstdev(accuracies))
    diagnosis = final_diagnosis(events)
    assert diagnosis["best_epoch"] is None  # each fold has its own; none belongs to the run
    assert diagnosis["fold_verdicts"] == [f["verdict"] for f in folds]
    assert " of 5 folds" in diagnosis["explanation"] and "±" in diagnosis["explanation"]
    assert events[-1]["folds"] == summary["folds"] and events[-1]["cv"] == cv


def test_an_l1_penalty_makes_weights_sparse_and_the_epochs_say_so(runs_dir):
    base = {
        "data": {"dataset": "moons", "n_samples": 300},
        "model": {"hidden": [64, 64]},
        "training": {"epochs": 40, "batch_size": 32, "device": "cpu", "snapshot_every": 40},
    }
    plain_summary, plain = run(validate(base), runs_dir)
    l1_summary, sparse = run(validate({**base, "regularization": {"l1": 0.01}}), runs_dir)
    assert of_type(sparse, "epoch")[-1]["weight_sparsity"] > 0.3 > 0.05 > of_type(plain, "epoch")[-1]["weight_sparsity"]
    layers = [e for e in sparse if e["type"] == "snapshot" and e["view"] == "layers"][-1]
    assert max(s for s in layers["sparsity"] if s is not None) > 0.3 and layers["sparse_below"] == 0.001


def final_diagnosis(events: list[dict]) -> dict:
    (diagnosis,) = [e for e in events if e["type"] == "diagnosis" and e.get("final")]
    return diagnosis


def test_overfit_small_data_is_diagnosed_as_overfitting_and_dropout_narrows_the_gap(runs_dir):
    overfit_summary, overfit_events = run(load(PRESETS / "overfit-small-data.toml"), runs_dir)
    diagnosis = final_diagnosis(overfit_events)
    assert overfit_summary["status"] == "completed"
    assert diagnosis["verdict"] == "overfitting"
    assert isinstance(diagnosis["overfitting_epoch"], int)
    assert diagnosis["best_epoch"] < diagnosis["overfitting_epoch"] <= overfit_summary["epochs_run"]
    assert overfit_summary["verdict"] == "overfitting"

    rescue_summary, rescue_events = run(load(PRESETS / "dropout-rescue.toml"), runs_dir)
    rescue = final_diagnosis(rescue_events)
    assert rescue_summary["status"] == "completed"
    assert rescue["final_gap"] < diagnosis["final_gap"]
    assert rescue["verdict"] != "overfitting"
