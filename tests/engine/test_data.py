"""The data package: every catalogued data set loads as described, splits and scalers behave, files fail clearly."""

from __future__ import annotations

import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnplay.engine.core.catalog import DATASETS, DEFAULT_SYNTHETIC_SAMPLES, IMAGE, SEQUENCE
from nnplay.engine.core.config import ConfigError, ExperimentConfig, split_sizes, validate
from nnplay.engine.data.augment import augment
from nnplay.engine.data.images import FASHION_NAMES, IDX_PARTS
from nnplay.engine.data.load import load_dataset
from nnplay.engine.data.normalize import Normalizer, TargetScaler
from nnplay.engine.data.sequences import memory
from nnplay.engine.data.split import kfold_indices, split_indices

N_IDX_TRAIN, N_IDX_TEST = 40, 20


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file, gzip-compressed when the name ends in .gz."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)


def write_idx_set(directory: Path, gz: bool, with_t10k: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Tiny MNIST-shaped train (and t10k) files; returns all images and labels in file order."""
    rng = np.random.default_rng(seed)
    sizes = (N_IDX_TRAIN, N_IDX_TEST) if with_t10k else (N_IDX_TRAIN,)
    all_images, all_labels = [], []
    for (images_stem, labels_stem), size in zip(IDX_PARTS, sizes, strict=False):
        images = rng.integers(0, 256, size=(size, 28, 28), dtype=np.uint8)
        labels = np.arange(size, dtype=np.uint8) % 10
        suffix = ".gz" if gz else ""
        write_idx(directory / f"{images_stem}{suffix}", images)
        write_idx(directory / f"{labels_stem}{suffix}", labels)
        all_images.append(images)
        all_labels.append(labels)
    return np.concatenate(all_images), np.concatenate(all_labels)


def make_config(dataset: str, task: str = "classification", batch_size: int = 8, **data: object) -> ExperimentConfig:
    """A valid experiment for `dataset` and `task`, with the data settings given."""
    architecture = "autoencoder" if task == "generation" else "mlp"
    return validate(
        {
            "task": task,
            "data": {"dataset": dataset, **data},
            "model": {"architecture": architecture},
            "training": {"batch_size": batch_size},
        }
    )


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("idx")
    write_idx_set(directory, gz=False)
    return directory


# Every data set, for every task it serves.

# Your own data (csv, numpy, image_folder) needs files of its own: tests/engine/test_own_data.py.
CASES = [(name, task) for name, info in DATASETS.items() if not info.own for task in info.tasks]


@pytest.mark.parametrize(("name", "task"), CASES, ids=[f"{n}-{t}" for n, t in CASES])
def test_every_dataset_loads_with_catalogued_shapes(name: str, task: str, idx_dir: Path) -> None:
    info = DATASETS[name]
    data: dict[str, object] = {"seq_len": 12} if info.kind == SEQUENCE else {}
    if info.synthetic:
        data["n_samples"] = 300
    if info.from_files:
        data["path"] = str(idx_dir)
    config = make_config(name, task, **data)
    dataset = load_dataset(config)

    n = 300 if info.synthetic else info.fixed_size or N_IDX_TRAIN + N_IDX_TEST
    expected_shape = {
        "points": (2,),
        "curve": (1,),
        "tabular": (info.n_features,),
        "image": (1, info.image_side, info.image_side),
        "sequence": (12, 2 if name == "memory" else 1),
    }[info.kind]
    assert dataset.name == name and dataset.kind == info.kind
    assert dataset.input_shape == expected_shape
    assert dataset.x.shape == (n, *expected_shape) and dataset.x.dtype == torch.float32
    assert torch.isfinite(dataset.x).all()
    if info.kind == IMAGE:
        assert dataset.x.min() >= 0 and dataset.x.max() <= 1
    if task == "classification":
        assert dataset.y.shape == (n,) and dataset.y.dtype == torch.int64
        assert dataset.n_classes == config.n_classes
        assert len(dataset.class_names) == dataset.n_classes
        assert set(dataset.y.tolist()) == set(range(dataset.n_classes))  # every class present, none outside
    elif task == "generation":
        assert dataset.y is dataset.x
        assert dataset.to("cpu").y is dataset.to("cpu").x
    else:
        assert dataset.y.shape == (n, 1) and dataset.y.dtype == torch.float32
        assert dataset.n_classes is None and dataset.class_names is None
    if info.kind in ("points", "curve", "tabular"):
        assert len(dataset.feature_names) == expected_shape[0]


def test_n_classes_and_defaults_for_spiral_and_blobs() -> None:
    assert load_dataset(make_config("blobs")).n_classes == 3
    spiral = load_dataset(make_config("spiral", n_classes=5))
    assert spiral.n_classes == 5 and set(spiral.y.tolist()) == set(range(5))
    assert len(load_dataset(make_config("moons"))) == DEFAULT_SYNTHETIC_SAMPLES


def test_tabular_keeps_feature_and_class_names() -> None:
    iris = load_dataset(make_config("iris"))
    assert iris.class_names == ["setosa", "versicolor", "virginica"]
    assert iris.feature_names[0] == "sepal length (cm)"
    assert load_dataset(make_config("diabetes", "regression")).feature_names[:3] == ["age", "sex", "bmi"]


# Determinism and subsampling.

SEEDED = ["moons", "circles", "xor", "spiral", "blobs", "sine", "plane", "bump", "sine_forecast", "memory"]


@pytest.mark.parametrize("name", SEEDED)
def test_same_seed_same_data_and_different_seed_different_data(name: str) -> None:
    task = DATASETS[name].tasks[0]
    first = load_dataset(make_config(name, task, n_samples=100, seed=3))
    again = load_dataset(make_config(name, task, n_samples=100, seed=3))
    other = load_dataset(make_config(name, task, n_samples=100, seed=4))
    assert torch.equal(first.x, again.x) and torch.equal(first.y, again.y)
    assert not torch.equal(first.x, other.x)


def test_noise_zero_gives_clean_curves() -> None:
    sine = load_dataset(make_config("sine", "regression", noise=0.0))
    assert torch.allclose(sine.y, torch.sin(2 * math.pi * sine.x), atol=1e-5)
    noisy = load_dataset(make_config("sine", "regression", noise=0.3, n_samples=5000))
    residual = noisy.y - torch.sin(2 * math.pi * noisy.x)
    assert residual.std().item() == pytest.approx(0.3, rel=0.05)


def test_real_data_is_subsampled_to_n_samples_without_repeats() -> None:
    full = load_dataset(make_config("iris"))
    sample = load_dataset(make_config("iris", n_samples=50, seed=1))
    assert sample.x.shape == (50, 4)
    full_rows = {tuple(row) for row in torch.cat([full.x, full.y[:, None].float()], 1).tolist()}
    sample_rows = [tuple(row) for row in torch.cat([sample.x, sample.y[:, None].float()], 1).tolist()]
    assert set(sample_rows) <= full_rows
    assert not torch.equal(sample.x, load_dataset(make_config("iris", n_samples=50, seed=2)).x)


def test_sine_forecast_targets_are_the_next_value() -> None:
    dataset = load_dataset(make_config("sine_forecast", "forecasting", n_samples=50, seq_len=8))
    x, y = dataset.x[:, :, 0], dataset.y[:, 0]
    assert torch.equal(x[1:, :-1], x[:-1, 1:])  # consecutive windows overlap: one long series
    assert torch.equal(y[:-1], x[1:, -1])


def test_memory_task_marks_one_early_signal_that_decides_the_label() -> None:
    x, y = memory(4000, 30, 0.7, np.random.default_rng(0))
    assert x.shape == (4000, 30, 2)
    marker = x[:, :, 1]
    assert set(np.unique(marker)) == {0.0, 1.0}
    assert (marker.sum(axis=1) == 1).all()  # exactly one marked step per sequence
    where = marker.argmax(axis=1)
    assert where.max() < 30 // 5 and len(set(where.tolist())) > 1  # early, and not always the same step
    signal = x[np.arange(4000), where, 0]
    assert set(np.unique(signal)) == {-1.0, 1.0}
    assert np.array_equal(y, (signal > 0).astype(np.int64))
    assert y.mean() == 0.5
    unmarked = x[:, :, 0][marker == 0]
    assert unmarked.std() == pytest.approx(0.7, rel=0.02)


# MNIST-style IDX files.


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_idx_files_are_read_whole_train_then_t10k(tmp_path: Path, gz: bool, name: str) -> None:
    images, labels = write_idx_set(tmp_path, gz=gz)
    dataset = load_dataset(make_config(name, path=str(tmp_path)))
    assert torch.equal(dataset.x[:, 0], torch.from_numpy(images).float() / 255)
    assert torch.equal(dataset.y, torch.from_numpy(labels).long())
    if name == "fashion_mnist":
        assert dataset.class_names == FASHION_NAMES


def test_idx_without_t10k_and_subsampled(tmp_path: Path) -> None:
    write_idx_set(tmp_path, gz=True, with_t10k=False)
    assert len(load_dataset(make_config("mnist", path=str(tmp_path)))) == N_IDX_TRAIN
    sample = load_dataset(make_config("mnist", path=str(tmp_path), n_samples=25, seed=5))
    assert len(sample) == 25 and len(set(sample.y.tolist())) > 1


def test_idx_n_samples_beyond_the_files_names_the_count(tmp_path: Path) -> None:
    write_idx_set(tmp_path, gz=False)
    with pytest.raises(ConfigError, match=r"data\.n_samples = 500 .*60"):
        load_dataset(make_config("mnist", path=str(tmp_path), n_samples=500))


def test_idx_batch_larger_than_training_split(tmp_path: Path) -> None:
    write_idx_set(tmp_path, gz=False)
    with pytest.raises(ConfigError, match=r"training\.batch_size = 50"):
        load_dataset(make_config("mnist", path=str(tmp_path), batch_size=50))


def test_missing_idx_directory_and_files(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match="does not exist") as exc:
        load_dataset(make_config("mnist", path=str(missing)))
    assert str(missing) in str(exc.value) and "train-images-idx3-ubyte" in str(exc.value)

    with pytest.raises(ConfigError) as exc:
        load_dataset(make_config("fashion_mnist", path=str(tmp_path)))
    message = str(exc.value)
    assert str(tmp_path) in message and "Fashion-MNIST" in message
    assert "train-images-idx3-ubyte and train-labels-idx1-ubyte (raw or .gz)" in message
    assert message.count(". ") == 0  # one sentence

    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ConfigError, match="has train-images-idx3-ubyte but not train-labels-idx1-ubyte"):
        load_dataset(make_config("mnist", path=str(tmp_path)))


@pytest.mark.parametrize(
    ("file_name", "payload", "why"),
    [
        ("train-images-idx3-ubyte", b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"abc", "magic number 00000801"),
        ("train-images-idx3-ubyte", b"\x12\x34", "magic number missing"),
        ("train-labels-idx1-ubyte", b"\x00\x00\x08\x01" + (100).to_bytes(4, "big") + bytes(10), "truncated"),
        ("train-labels-idx1-ubyte.gz", b"not gzip at all", "gzip"),
        ("train-labels-idx1-ubyte.gz", gzip.compress(np.random.default_rng(0).bytes(2000))[:1000], "gzip"),
    ],
    ids=["wrong-ndim", "short-header", "truncated", "not-gzip", "cut-gzip"],
)
def test_malformed_idx_file_is_named(tmp_path: Path, file_name: str, payload: bytes, why: str) -> None:
    write_idx_set(tmp_path, gz=False, with_t10k=False)
    stem = file_name.removesuffix(".gz")
    (tmp_path / stem).unlink()
    (tmp_path / file_name).write_bytes(payload)
    with pytest.raises(ConfigError, match=why) as exc:
        load_dataset(make_config("mnist", path=str(tmp_path)))
    assert str(tmp_path / file_name) in str(exc.value)


# Splits and folds.


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(10, 2000),
    val=st.floats(0.0, 0.4),
    test=st.floats(0.0, 0.4),
    seed=st.integers(0, 2**31),
)
def test_split_sizes_are_exact_disjoint_and_covering(n: int, val: float, test: float, seed: int) -> None:
    train = 1.0 - val - test
    parts = split_indices(n, train, val, test, seed)
    assert tuple(len(p) for p in parts) == split_sizes(n, train, val, test)
    assert all(p.dtype == torch.int64 for p in parts)
    assert torch.equal(torch.cat(parts).sort().values, torch.arange(n))
    again = split_indices(n, train, val, test, seed)
    assert all(torch.equal(a, b) for a, b in zip(parts, again, strict=True))


def test_split_depends_on_seed() -> None:
    assert not torch.equal(split_indices(100, 0.6, 0.2, 0.2, 0)[0], split_indices(100, 0.6, 0.2, 0.2, 1)[0])


@settings(max_examples=40, deadline=None)
@given(n_pool=st.integers(20, 500), k=st.integers(2, 20), seed=st.integers(0, 1000))
def test_kfold_val_folds_are_disjoint_and_cover_the_pool(n_pool: int, k: int, seed: int) -> None:
    folds = kfold_indices(n_pool, k, seed)
    assert len(folds) == k
    all_val = torch.cat([val for _, val in folds])
    assert torch.equal(all_val.sort().values, torch.arange(n_pool))
    for train, val in folds:
        assert torch.equal(torch.cat([train, val]).sort().values, torch.arange(n_pool))
    # The largest fold is ceil(n/k): the size config_checks.check_batch_fits subtracts.
    assert max(len(val) for _, val in folds) == math.ceil(n_pool / k)


# Normalization.


def test_zscore_is_fitted_on_the_training_split_only() -> None:
    dataset = load_dataset(make_config("wine"))
    train, val, _ = split_indices(len(dataset), 0.6, 0.2, 0.2, seed=0)
    normalizer = Normalizer().fit(dataset.x[train], "zscore")
    x = normalizer.apply(dataset.x)
    assert torch.allclose(x[train].mean(0), torch.zeros(13), atol=1e-4)
    assert torch.allclose(x[train].std(0, correction=0), torch.ones(13), atol=1e-4)
    assert not torch.allclose(x[val].mean(0), torch.zeros(13), atol=1e-3)  # val statistics did not leak in
    assert torch.allclose(normalizer.invert(x), dataset.x, rtol=1e-4, atol=1e-3)


def test_images_get_one_global_scale_and_minmax_maps_train_to_unit_range() -> None:
    images = load_dataset(make_config("digits")).x
    normalizer = Normalizer().fit(images[:1000], "zscore")
    assert normalizer.shift.ndim == 0 and normalizer.scale.ndim == 0
    x = normalizer.apply(images[:1000])
    assert x.mean().item() == pytest.approx(0.0, abs=1e-4) and x.std().item() == pytest.approx(1.0, abs=1e-3)

    points = torch.randn(200, 2) * torch.tensor([5.0, 0.1]) + 3
    scaled = Normalizer().fit(points, "minmax").apply(points)
    assert torch.allclose(scaled.amin(0), torch.zeros(2)) and torch.allclose(scaled.amax(0), torch.ones(2))


def test_constant_features_and_none_method_are_safe() -> None:
    x = torch.cat([torch.full((50, 1), 7.0), torch.randn(50, 1)], dim=1)
    for method in ("zscore", "minmax"):
        out = Normalizer().fit(x, method).apply(x)
        assert torch.isfinite(out).all() and torch.all(out[:, 0] == 0)
    identity = Normalizer().fit(x, "none")
    out = identity.apply(x)
    assert torch.equal(out, x) and out is not x


def test_normalizer_state_survives_json() -> None:
    x = torch.randn(100, 3) * 4 + 1
    normalizer = Normalizer().fit(x, "zscore")
    restored = Normalizer.from_state(json.loads(json.dumps(normalizer.state_dict())))
    assert restored.method == "zscore"
    assert torch.allclose(restored.apply(x), normalizer.apply(x))


def test_target_scaler_standardizes_and_inverts() -> None:
    y = torch.randn(300, 1) * 50 + 150
    scaler = TargetScaler().fit(y[:200])
    z = scaler.apply(y[:200])
    assert z.mean().item() == pytest.approx(0.0, abs=1e-5)
    assert z.std(correction=0).item() == pytest.approx(1.0, abs=1e-5)
    assert scaler.std == pytest.approx(y[:200].std(correction=0).item(), rel=1e-5)
    assert torch.allclose(scaler.invert(scaler.apply(y)), y, atol=1e-3)
    restored = TargetScaler.from_state(json.loads(json.dumps(scaler.state_dict())))
    assert torch.allclose(restored.apply(y), scaler.apply(y))
    assert TargetScaler().fit(torch.ones(10, 1)).std == 1.0  # a constant target must not divide by zero


# Augmentation.


def _shifted(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Reference: move the image content by (dy, dx), filling with zeros (a per-sample loop, for checking)."""
    h, w = image.shape[-2:]
    out = torch.zeros_like(image)
    out[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = image[
        ..., max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def test_shift_moves_each_image_by_its_own_offset_with_zero_fill() -> None:
    images = torch.rand(64, 1, 8, 8) + 0.1  # no zero pixels, so any fill shows
    out = augment(images, 0.0, 2, torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    offsets = []
    for image, moved in zip(images, out, strict=True):
        offsets_in_range = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)]
        matches = [(dy, dx) for dy, dx in offsets_in_range if torch.equal(moved, _shifted(image, dy, dx))]
        assert len(matches) == 1
        offsets.append(matches[0])
    assert len(set(offsets)) > 5  # offsets vary per sample
    assert any(offset != (0, 0) for offset in offsets)


def test_augment_identity_noise_and_reproducibility() -> None:
    x = torch.randn(500, 4)
    same = augment(x, 0.0, 0, None)
    assert torch.equal(same, x) and same is not x
    images = torch.rand(4, 1, 8, 8)
    assert torch.equal(augment(images, 0.0, 0, None), images)

    noisy = augment(x, 0.5, 0, torch.Generator().manual_seed(1))
    assert noisy.shape == x.shape
    assert (noisy - x).std().item() == pytest.approx(0.5, rel=0.05)
    assert torch.equal(noisy, augment(x, 0.5, 0, torch.Generator().manual_seed(1)))
    with pytest.raises(ValueError, match="images"):
        augment(x, 0.0, 1, None)


def test_catalog_import_stays_free_of_torch() -> None:
    code = "import sys, nnplay.engine.core.catalog; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
