"""Your own data: CSV and TSV tables, NumPy arrays and folders of images, read by the engine.

Every file is made here, in tmp_path, from scikit-learn's bundled data sets (nothing is downloaded): iris with
text species, a text column and missing cells; diabetes with a numeric target; the 8x8 digits as PNG files in
ten class folders; small RGB pictures in two."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn import datasets

from nnplay.engine import experiment, planning
from nnplay.engine.core.config import ConfigError, validate
from nnplay.engine.core.events import Emitter, decode, encode
from nnplay.engine.core.protocol import check_event
from nnplay.engine.core.runs import load_run
from nnplay.engine.data import files
from nnplay.engine.data.load import load_dataset
from nnplay.engine.data.split import split_indices
from nnplay.engine.serve import DatasetCache
from nnplay.tui.cli import main as cli_main
from nnplay.tui.report import to_markdown

IRIS_COLUMNS = ["sepal length", "sepal width", "petal length", "petal width", "colour", "species"]
GAPS = {3: 1, 17: 1, 40: 3}  # row index -> column index of an empty cell (in "sepal width" and "petal width")
COLOURS = ["red", "green", "blue"]


def write_iris(path: Path, gaps: dict[int, int] | None = None, delimiter: str = ",", labels: str = "text") -> Path:
    """Iris as a table: four measurements, a text column (colour), the species as text (or its number)."""
    bunch = datasets.load_iris()
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(IRIS_COLUMNS)
        for i, (row, target) in enumerate(zip(bunch.data, bunch.target, strict=True)):
            cells = [f"{v:g}" for v in row] + [COLOURS[i % 3]]
            if gaps and i in gaps:
                cells[gaps[i]] = ""
            writer.writerow([*cells, bunch.target_names[target] if labels == "text" else int(target)])
    return path


def write_digit_folder(root: Path, per_class: int = 30, side: int = 8) -> Path:
    """The first `per_class` digits of each class as PNG files in folders 0 ... 9."""
    bunch = datasets.load_digits()
    for digit in range(10):
        folder = root / str(digit)
        folder.mkdir(parents=True)
        for k, index in enumerate(np.flatnonzero(bunch.target == digit)[:per_class]):
            pixels = (bunch.images[index] * (255 / 16)).round().astype(np.uint8)
            image = Image.fromarray(pixels, mode="L")
            if side != 8:
                image = image.resize((side, side), Image.Resampling.NEAREST)
            image.save(folder / f"{k}.png")
    (root / "0" / "notes.txt").write_text("not an image: left out\n", encoding="utf-8")
    return root


def write_rgb_folder(root: Path, per_class: int = 20, side: int = 12) -> Path:
    """Two classes that only colour tells apart: reddish and bluish noise, as JPEG and BMP."""
    rng = np.random.default_rng(0)
    for name, channel, suffix in (("blue", 2, ".bmp"), ("red", 0, ".jpg")):
        folder = root / name
        folder.mkdir(parents=True)
        for k in range(per_class):
            pixels = rng.integers(0, 90, size=(side, side, 3), dtype=np.uint8)
            pixels[..., channel] += 150
            Image.fromarray(pixels, mode="RGB").save(folder / f"{k}{suffix}")
    return root


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory) -> Path:
    return write_iris(tmp_path_factory.mktemp("iris") / "iris.csv", GAPS)


@pytest.fixture(scope="module")
def clean_iris_csv(tmp_path_factory) -> Path:
    return write_iris(tmp_path_factory.mktemp("iris") / "iris.csv")


@pytest.fixture(scope="module")
def diabetes_tsv(tmp_path_factory) -> Path:
    bunch = datasets.load_diabetes(scaled=False)
    path = tmp_path_factory.mktemp("diabetes") / "diabetes.tsv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow([*bunch.feature_names, "progression"])
        writer.writerows([*(f"{v:g}" for v in row), f"{t:g}"] for row, t in zip(bunch.data, bunch.target, strict=True))
    return path


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory) -> Path:
    return write_digit_folder(tmp_path_factory.mktemp("digits") / "digits")


@pytest.fixture(scope="module")
def rgb_folder(tmp_path_factory) -> Path:
    return write_rgb_folder(tmp_path_factory.mktemp("rgb") / "colours")


def own(dataset: str, path: Path | str, task: str | None = "auto", **data) -> object:
    config: dict = {
        "name": f"own-{dataset}",
        "data": {"dataset": dataset, "path": str(path), **data},
        "model": {"hidden": [8], "conv_channels": [8]},
        "training": {"epochs": 2, "batch_size": 16, "snapshot_every": 1, "device": "cpu"},
    }
    if task is not None:
        config["task"] = task
    return validate(config)


def with_changes(config, **sections):
    data = config.model_dump(exclude_none=True)
    for section, values in sections.items():
        if isinstance(values, dict):
            data[section].update(values)
        else:
            data[section] = values
    return validate(data)


def refusal(config) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        planning.plan(config)
    assert len(caught.value.problems) == 1 and "\n" not in str(caught.value)  # one sentence
    return caught.value


def run(config, runs_dir: Path) -> tuple[dict, list[dict]]:
    events: list[dict] = []
    summary = experiment.run(config, Emitter(callback=events.append), root=runs_dir)
    return summary, [decode(encode(event)) for event in events]


# --- tables: the task follows the target ---------------------------------------------------------------------


def test_text_labels_make_a_classifier_with_their_class_names_in_the_plan(clean_iris_csv):
    plan = planning.plan(own("csv", clean_iris_csv))

    assert plan["task"] == "classification" and plan["n_classes"] == 3
    assert plan["class_names"] == ["setosa", "versicolor", "virginica"]
    info = plan["data_info"]
    assert info["target"] == "species" and info["task"] == "classification"
    assert info["task_reason"] == "the target holds text"
    assert info["class_counts"] == {"setosa": 50, "versicolor": 50, "virginica": 50}
    assert info["rows"] == info["used"] == 150 and info["delimiter"] == "," and info["format"] == "csv"
    assert check_event(decode(encode({"type": "plan", "time": 0.0, "id": 1, **plan}))) == []


def test_text_columns_are_one_hot_encoded_and_listed(clean_iris_csv):
    dataset = load_dataset(own("csv", clean_iris_csv))

    assert dataset.feature_names == [*IRIS_COLUMNS[:4], "colour=blue", "colour=green", "colour=red"]
    assert dataset.input_shape == (7,)
    one_hot = dataset.x[:, 4:]
    assert set(one_hot.unique().tolist()) == {0.0, 1.0} and (one_hot.sum(1) == 1).all()
    assert one_hot[0].tolist() == [0.0, 0.0, 1.0]  # row 0 is red
    assert dataset.data_info["encoded"] == {"colour": ["blue", "green", "red"]}
    assert dataset.data_info["unused"] == []


def test_a_numeric_target_makes_a_regression(diabetes_tsv):
    plan = planning.plan(own("csv", diabetes_tsv))

    assert plan["task"] == "regression" and plan["n_classes"] is None and plan["class_names"] is None
    assert plan["loss"] == "mse" and plan["input_shape"] == [10]
    info = plan["data_info"]
    assert info["format"] == "tsv" and info["target"] == "progression" and info["class_counts"] is None
    assert "more than 20" in info["task_reason"]


def test_a_few_whole_numbers_make_classes_unless_the_task_says_regression(tmp_path):
    path = write_iris(tmp_path / "numbered.csv", labels="number")

    auto = load_dataset(own("csv", path))
    assert auto.task == "classification" and auto.class_names == ["0", "1", "2"]
    assert auto.y.dtype == torch.int64 and sorted(set(auto.y.tolist())) == [0, 1, 2]

    regression = load_dataset(own("csv", path, task="regression"))
    assert regression.task == "regression" and regression.y.shape == (150, 1)


def test_target_and_features_choose_columns_by_name_or_number(clean_iris_csv):
    dataset = load_dataset(own("csv", clean_iris_csv, target=0, features=["petal length", 3]))

    assert dataset.task == "regression"  # sepal length: numbers, not all whole
    assert dataset.feature_names == ["petal length", "petal width"]
    assert dataset.data_info["unused"] == ["sepal width", "colour", "species"]


def test_a_semicolon_table_is_sniffed(tmp_path):
    dataset = load_dataset(own("csv", write_iris(tmp_path / "iris.csv", delimiter=";")))
    assert dataset.data_info["delimiter"] == ";" and dataset.class_names == ["setosa", "versicolor", "virginica"]


def test_numpy_arrays_x_and_y_and_a_table_whose_last_column_is_the_target(tmp_path):
    bunch = datasets.load_iris()
    np.savez(tmp_path / "iris.npz", x=bunch.data, y=bunch.target_names[bunch.target])
    np.save(tmp_path / "iris.npy", np.column_stack([bunch.data, bunch.target]))

    npz = load_dataset(own("numpy", tmp_path / "iris.npz"))
    assert npz.class_names == ["setosa", "versicolor", "virginica"] and npz.input_shape == (4,)
    assert npz.data_info["target"] == "y" and npz.feature_names == ["0", "1", "2", "3"]

    npy = load_dataset(own("numpy", tmp_path / "iris.npy"))
    assert npy.class_names == ["0", "1", "2"] and npy.input_shape == (4,)
    assert torch.equal(npy.y, npz.y)


# --- missing values --------------------------------------------------------------------------------------------


def test_missing_values_are_refused_by_default_and_counted_per_column(iris_csv):
    error = refusal(own("csv", iris_csv))

    assert error.problems[0].setting == "data.missing"
    assert "2 in 'sepal width', 1 in 'petal width'" in str(error)
    assert 'data.missing = "drop"' in str(error) and "iris.csv" in str(error)


def test_missing_drop_leaves_those_rows_out(iris_csv):
    dataset = load_dataset(own("csv", iris_csv, missing="drop"))

    assert len(dataset) == 147 and torch.isfinite(dataset.x).all()
    info = dataset.data_info
    assert info["dropped_rows"] == 3 and info["missing"] == {"sepal width": 2, "petal width": 1}
    assert sum(info["class_counts"].values()) == 147


def test_missing_mean_fills_with_the_training_splits_mean(iris_csv, clean_iris_csv):
    config = own("csv", iris_csv, missing="mean")
    filled = load_dataset(config)
    complete = load_dataset(own("csv", clean_iris_csv))

    assert len(filled) == 150 and torch.isfinite(filled.x).all() and filled.data_info["dropped_rows"] == 0
    train = split_indices(150, config.data.train, config.data.val, config.data.test, config.data.seed)[0]
    column = 1  # sepal width
    known = torch.tensor([i for i in train.tolist() if i not in (3, 17)])
    expected = complete.x[known, column].double().mean().item()
    assert filled.x[3, column].item() == pytest.approx(expected, rel=1e-5)
    assert filled.x[17, column].item() == pytest.approx(expected, rel=1e-5)
    assert filled.x[0, column].item() == complete.x[0, column].item()  # known cells are kept


# --- bad input: one sentence naming the file, row, column or folder ----------------------------------------------


def test_a_missing_file_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short path: the sentence quotes it whole, whatever the machine's temp dir
    error = refusal(own("csv", Path("nowhere.csv")))
    assert error.problems[0].setting == "data.path" and "nowhere.csv' does not exist" in str(error)


def test_an_empty_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # short paths: the sentences quote them whole
    Path("empty.csv").write_text("", encoding="utf-8")
    Path("blank.csv").write_text("\n \n", encoding="utf-8")
    assert "empty.csv' is empty" in str(refusal(own("csv", Path("empty.csv"))))
    assert "blank.csv' is empty" in str(refusal(own("csv", Path("blank.csv"))))


def test_an_unknown_target_lists_the_columns(clean_iris_csv):
    error = refusal(own("csv", clean_iris_csv, target="specie"))

    assert error.problems[0].setting == "data.target"
    assert "data.target = 'specie' is not a column of" in str(error)
    assert "its columns: sepal length, sepal width, petal length, petal width, colour, species" in str(error)
    assert "has 6: numbers 0 to 5" in str(refusal(own("csv", clean_iris_csv, target=6)))


def test_a_target_with_one_class_is_refused(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("a,b,kind\n" + "".join(f"{i},{i * 2},same\n" for i in range(20)), encoding="utf-8")
    error = refusal(own("csv", path))
    assert error.problems[0].setting == "data.target"
    assert "holds one class ('same') in all 20 rows" in str(error)


def test_ragged_rows_name_the_row(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n" + "1,2,x\n" * 5 + "1,2\n" + "1,2,y\n" * 10, encoding="utf-8")
    error = refusal(own("csv", path))
    assert error.problems[0].setting == "data.path"
    assert "has 2 fields in row 7 but 3 columns in its first row; allowed: 3 in every row" in str(error)


def test_a_first_row_of_numbers_is_not_a_header(tmp_path):
    path = tmp_path / "headless.csv"
    path.write_text("".join(f"{i},{i % 2}\n" for i in range(30)), encoding="utf-8")
    assert "starts with a row of numbers" in str(refusal(own("csv", path)))


def test_too_few_samples_are_refused(tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("a,label\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(6)), encoding="utf-8")
    error = refusal(own("csv", path))
    assert "has 6 usable rows; allowed: 10 or more" in str(error)


def test_more_than_a_gigabyte_is_refused_before_reading(tmp_path, rgb_folder):
    big = tmp_path / "big.csv"
    with big.open("wb") as f:  # sparse: takes no space, and is never read
        f.truncate(files.MAX_DATA_BYTES + 1)
    error = refusal(own("csv", big))
    assert error.problems[0].setting == "data.path"
    assert "holds 1,000,000,001 bytes; allowed: at most 1 GB (1,000,000,000 bytes) of data" in str(error)

    # Images: their count times their size as float32 pixels (1,220 RGB images of 256x256 pass 1 GB).
    many = tmp_path / "many"
    for name in ("a", "b"):
        (many / name).mkdir(parents=True)
        for k in range(650):
            os.link(rgb_folder / "red" / "0.jpg", many / name / f"{k}.jpg")
    error = refusal(own("image_folder", many, channels=3, image_size=256))
    assert "holds 1,300 images, 1.02 GB as pixels; allowed: at most 1 GB" in str(error)


def test_a_class_folder_without_images_is_named(tmp_path, digit_folder):
    root = tmp_path / "folders"
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
    for k in range(12):
        Image.new("L", (8, 8), k * 10).save(root / "cats" / f"{k}.png")
    (root / "dogs" / "readme.txt").write_text("dogs to come", encoding="utf-8")
    error = refusal(own("image_folder", root))
    assert error.problems[0].setting == "data.path"
    assert "class folder 'dogs' of data.path" in str(error) and "holds no PNG, JPEG or BMP image" in str(error)


def test_an_unreadable_image_is_named(tmp_path):
    root = tmp_path / "folders"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        for k in range(6):
            Image.new("L", (8, 8), k * 10).save(root / name / f"{k}.png")
    (root / "b" / "3.png").write_bytes(b"not a png at all")
    error = refusal(own("image_folder", root))
    assert "the image 'b/3.png' in data.path" in str(error) and "could not be read" in str(error)


def test_a_folder_with_one_class_is_refused_for_classification(tmp_path, digit_folder):
    root = tmp_path / "one"
    (root / "only").mkdir(parents=True)
    for k in range(12):
        Image.new("L", (8, 8), k * 10).save(root / "only" / f"{k}.png")
    assert "holds one class folder ('only')" in str(refusal(own("image_folder", root)))


def test_settings_of_own_data_are_checked_without_reading_any_file():
    # Validation (what the app runs on each keystroke) reads nothing: a file that is not there is fine.
    assert validate({"data": {"dataset": "csv", "path": "/nowhere/at/all.csv"}, "task": "auto"}).task == "auto"
    problems = {
        "task": {"task": "auto"},
        "data.path": {"data": {"dataset": "csv", "path": "table.xlsx"}},
        "data.target": {"data": {"dataset": "moons", "target": "y"}},
        "data.channels": {"data": {"dataset": "digits", "channels": 3}},
        "data.features": {"data": {"dataset": "csv", "path": "t.csv", "features": []}},
        "data.classes": {"data": {"dataset": "image_folder", "path": "x", "classes": [0, 1]}},
    }
    for setting, data in problems.items():
        with pytest.raises(ConfigError) as caught:
            validate(data)
        assert [p.setting for p in caught.value.problems] == [setting]
    with pytest.raises(ConfigError, match="data.path is not set; csv reads your own table"):
        validate({"data": {"dataset": "csv"}})


# --- the command line: one sentence, exit 2, no run directory ----------------------------------------------------


@pytest.mark.parametrize("case", ["missing file", "ragged rows"])
def test_the_cli_prints_one_sentence_and_exits_2(tmp_path, case, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short path: the sentence quotes it whole, whatever the machine's temp dir
    if case == "missing file":
        table, expected = Path("gone.csv"), "gone.csv' does not exist"
    else:
        table, expected = Path("ragged.csv"), "has 1 field in row 12 but 2 columns"
        table.write_text("a,b\n" + "1,x\n" * 10 + "1\n", encoding="utf-8")
    toml = tmp_path / "mine.toml"
    toml.write_text(f'task = "auto"\n[data]\ndataset = "csv"\npath = "{table}"\n', encoding="utf-8")
    runs = tmp_path / "runs"

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(["--runs", str(runs), "run", str(toml)])

    printed = " ".join((out.getvalue() + err.getvalue()).split())  # the console wraps long lines
    assert code == 2 and expected in printed, printed
    assert not runs.exists() or not any(runs.iterdir())


def test_a_refused_config_leaves_no_run_directory(tmp_path, iris_csv):
    runs = tmp_path / "runs"
    with pytest.raises(ConfigError):
        experiment.run(own("csv", iris_csv), Emitter(), root=runs)  # missing values, refused
    assert not runs.exists() or not any(runs.iterdir())


# --- whole runs ----------------------------------------------------------------------------------------------


def test_a_finished_run_keeps_the_class_names_and_the_decided_task(tmp_path, iris_csv):
    config = own("csv", iris_csv, missing="mean")
    summary, events = run(config, tmp_path / "runs")

    assert summary["status"] == "completed" and summary["task"] == "classification"
    plan = next(e for e in events if e["type"] == "plan")
    assert plan["data_info"]["missing"] == {"sepal width": 2, "petal width": 1}
    confusion = [e for e in events if e["type"] == "snapshot" and e["view"] == "confusion"][-1]
    assert confusion["class_names"] == ["setosa", "versicolor", "virginica"]
    assert all(check_event(e) == [] for e in events if e["type"] in ("plan", "snapshot"))
    stored = tomllib.loads((Path(summary["run_dir"]) / "config.toml").read_text(encoding="utf-8"))
    assert stored["task"] == "classification"  # the run says what it was, whatever the file holds later
    saved = json.loads((Path(summary["run_dir"]) / "summary.json").read_text(encoding="utf-8"))
    assert saved["plan"]["class_names"] == ["setosa", "versicolor", "virginica"]
    report = to_markdown(load_run(Path(summary["run_dir"])))
    assert "- read: iris.csv: 150 of 150 rows, 5 feature columns; target species → classification" in report


def test_a_cnn_trains_on_an_image_folder_and_its_loss_falls(tmp_path, digit_folder):
    config = own("image_folder", digit_folder, task=None, image_size=8)
    config = with_changes(config, model={"architecture": "cnn"}, training={"epochs": 8}, optimizer={"lr": 0.01})
    summary, events = run(config, tmp_path / "runs")

    plan = next(e for e in events if e["type"] == "plan")
    assert plan["input_shape"] == [1, 8, 8] and plan["class_names"] == [str(d) for d in range(10)]
    info = plan["data_info"]
    assert info["class_counts"] == {str(d): 30 for d in range(10)} and info["skipped_files"] == 1
    assert info["image_size"] == 8 and info["channels"] == 1
    losses = [e["train_loss"] for e in events if e["type"] == "epoch"]
    assert summary["status"] == "completed" and losses[-1] < 0.7 * losses[0]


def test_rgb_images_keep_three_channels_and_views_send_grey_previews(tmp_path, rgb_folder):
    config = own("image_folder", rgb_folder, channels=3, image_size=12)
    dataset = load_dataset(config)
    assert dataset.input_shape == (3, 12, 12) and dataset.class_names == ["blue", "red"]
    blue = dataset.x[dataset.y == 0]  # folders in sorted order: blue, then red
    assert blue[:, 2].mean() > blue[:, 0].mean() + 0.3

    summary, events = run(with_changes(config, model={"architecture": "cnn"}), tmp_path / "runs")
    assert summary["status"] == "completed"
    samples = next(e for e in events if e["type"] == "snapshot" and e["view"] == "samples")
    assert np.array(samples["images"]).shape[1:] == (12, 12)  # one grey level per pixel
    assert check_event(samples) == []

    vae = with_changes(config, task="generation", model={"architecture": "vae", "hidden": [16], "latent": 2})
    summary, events = run(vae, tmp_path / "runs")
    views = {e["view"]: e for e in events if e["type"] == "snapshot"}
    assert summary["status"] == "completed" and np.array(views["generated"]["images"]).shape[1:] == (12, 12)


def test_fine_tuning_a_digits_cnn_on_an_image_folder(tmp_path, digit_folder):
    runs = tmp_path / "runs"
    source = validate(
        {
            "name": "digits-cnn",
            "data": {"dataset": "digits", "n_samples": 300},
            "model": {"architecture": "cnn", "conv_channels": [8]},
            "training": {"epochs": 2, "batch_size": 32, "device": "cpu"},
        }
    )
    source_summary, _ = run(source, runs)
    config = own("image_folder", digit_folder, task=None, image_size=8)
    config = with_changes(config, model={"architecture": "cnn", "init_from": "digits-cnn", "freeze": ["features"]})

    summary, events = run(config, runs)

    plan = next(e for e in events if e["type"] == "plan")
    assert plan["transfer"]["init_from"] == source_summary["run_dir"] and plan["transfer"]["fresh"] == []
    assert plan["transfer"]["frozen_params"] > 0 and summary["status"] == "completed"
    before = torch.load(Path(source_summary["run_dir"]) / "model.pt", weights_only=True)
    after = torch.load(Path(summary["run_dir"]) / "model.pt", weights_only=True)
    assert torch.equal(before["features.0.conv.weight"], after["features.0.conv.weight"])  # frozen
    assert not torch.equal(before["head.weight"], after["head.weight"])  # fine-tuned

    bigger = with_changes(config, data={"image_size": 16})
    error = refusal_in(bigger, runs)
    assert error.problems[0].setting == "model.init_from" and "head.weight is [10, 128] there" in str(error)
    assert "data.image_size" in str(error)


def refusal_in(config, runs: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        planning.plan(config, root=runs)
    return caught.value


# --- serve mode's cache --------------------------------------------------------------------------------------


def test_the_serve_cache_reads_a_file_again_once_it_changed(tmp_path):
    path = write_iris(tmp_path / "iris.csv")
    config = own("csv", path)
    cache = DatasetCache()
    first = cache.get(config)
    assert cache.get(config) is first

    text = path.read_text(encoding="utf-8").replace("setosa", "bristly")
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # a later time, whatever the clock's grain
    again = cache.get(config)
    assert again is not first and again.class_names == ["bristly", "versicolor", "virginica"]


def test_without_a_task_your_own_table_decides_it(tmp_path):
    """The task follows the target unless the config names one: numbers make a regression."""
    from nnplay.engine.core.config import validate

    path = tmp_path / "plants.csv"
    path.write_text("height,width,weight\n" + "".join(f"{i % 7},{i % 5},{i * 0.37:.2f}\n" for i in range(60)))
    config = validate({"data": {"dataset": "csv", "path": str(path)}})
    assert config.task == "auto"
    named = validate({"task": "regression", "data": {"dataset": "csv", "path": str(path)}})
    assert named.task == "regression"
    assert validate({"data": {"dataset": "moons"}}).task == "classification"  # built-in data: as before
