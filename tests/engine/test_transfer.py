"""Transfer learning's settings: a subset of classes, starting from a run's weights, frozen layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnplay.engine import experiment, planning
from nnplay.engine.core.config import ConfigError, validate
from nnplay.engine.core.events import Emitter
from nnplay.engine.data.load import load_dataset

SOURCE = {
    "name": "source",
    "data": {"dataset": "digits", "classes": [0, 1, 2, 3, 4]},
    "model": {"architecture": "cnn", "conv_channels": [4, 8]},
    "training": {"epochs": 2, "batch_size": 64, "device": "cpu", "snapshot_every": 100},
}


def target(**model) -> dict:
    return {
        "name": "target",
        "data": {"dataset": "digits", "classes": [5, 6, 7, 8, 9], "n_samples": 200},
        "model": {"architecture": "cnn", "conv_channels": [4, 8], **model},
        "training": {"epochs": 3, "batch_size": 32, "device": "cpu", "snapshot_every": 100},
    }


def run(data: dict, root) -> tuple[dict, list[dict]]:
    events: list[dict] = []
    return experiment.run(validate(data), Emitter(callback=events.append), root=root), events


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    summary, _ = run(SOURCE, root)
    return root, summary


def test_classes_keeps_a_subset_numbered_in_the_order_given():
    dataset = load_dataset(
        validate({"data": {"dataset": "digits", "classes": [9, 5], "n_samples": 50}, "training": {"batch_size": 8}})
    )
    assert dataset.n_classes == 2 and dataset.class_names == ["9", "5"]
    assert set(dataset.y.tolist()) == {0, 1} and len(dataset) == 50


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"data": {"dataset": "moons", "classes": [0, 1]}}, "applies to real classification data"),
        ({"data": {"dataset": "iris", "classes": [0, 3]}}, "allowed: two or more different class numbers from 0 to 2"),
        ({"data": {"dataset": "iris", "classes": [1, 1]}}, "two or more different"),
        ({"data": {"dataset": "iris", "classes": [1], "n_samples": 20}}, "two or more"),
    ],
)
def test_bad_classes_are_refused_with_one_sentence(data, says):
    with pytest.raises(ConfigError, match="data.classes") as error:
        validate(data)
    assert says in str(error.value)


def test_too_many_samples_for_the_kept_classes_names_them():
    config = validate({"data": {"dataset": "iris", "classes": [0, 1], "n_samples": 120}})
    with pytest.raises(ConfigError, match=r"exceeds the 100 samples of classes \[0, 1\] of iris"):
        load_dataset(config)


def test_init_from_copies_the_weights_and_freeze_keeps_them(source_run):
    root, source = source_run
    summary, events = run(target(init_from=source["run_dir"], freeze=["features"]), root)
    plan = next(e for e in events if e["type"] == "plan")
    transfer = plan["transfer"]
    assert transfer["init_from"] == source["run_dir"] and transfer["copied"] > 0
    assert transfer["frozen"] == ["features"] and transfer["frozen_params"] > 0
    assert plan["model"]["trainable_params"] == plan["params"] - transfer["frozen_params"]
    before = torch.load(f"{source['run_dir']}/model.pt", weights_only=True)
    after = torch.load(f"{summary['run_dir']}/model.pt", weights_only=True)
    frozen = [k for k in after if k.startswith("features.")]
    assert frozen and all(torch.equal(before[k], after[k]) for k in frozen)  # the frozen layers kept their values
    assert not torch.equal(before["head.weight"], after["head.weight"])  # the head learned the new classes


def test_init_from_a_run_name_takes_the_latest_run_of_that_name(source_run):
    root, source = source_run
    plan = planning.plan(validate(target(init_from="source")), root=root)
    assert plan["transfer"]["init_from"] == source["run_dir"]
    assert plan["transfer"]["scaling"] == "the source run's"  # the copied layers expect its input scaling


def test_init_from_matches_the_runs_own_name_not_a_part_of_its_directory(tmp_path):
    # "source-2" lives in a directory named <stamp>-source-2, which a name parser would read as "source".
    summary, _ = run({**SOURCE, "name": "source-2"}, tmp_path)
    plan = planning.plan(validate(target(init_from="source-2")), root=tmp_path)
    assert plan["transfer"]["init_from"] == summary["run_dir"]
    with pytest.raises(ConfigError, match="'source' is neither"):
        planning.plan(validate(target(init_from="source")), root=tmp_path)


def test_the_target_is_scaled_as_the_source_was(source_run):
    root, source = source_run
    summary, _ = run(target(init_from=source["run_dir"], freeze=["features"]), root)
    assert summary["normalizer"] == source["normalizer"]


def test_a_frozen_batch_norm_keeps_its_running_statistics(tmp_path):
    data = {**SOURCE, "name": "bn-source", "regularization": {"batch_norm": True}}
    source, _ = run(data, tmp_path)
    frozen = {**target(init_from=source["run_dir"], freeze=["features"]), "regularization": {"batch_norm": True}}
    summary, _ = run(frozen, tmp_path)
    before = torch.load(f"{source['run_dir']}/model.pt", weights_only=True)
    after = torch.load(f"{summary['run_dir']}/model.pt", weights_only=True)
    stats = [k for k in after if k.startswith("features.") and "running_" in k]
    assert stats and all(torch.equal(before[k], after[k]) for k in stats)


def test_a_sweep_of_a_frozen_model_is_refused():
    with pytest.raises(ConfigError, match=r"sweep with model.freeze = \['features'\]"):
        validate({**target(freeze=["features"]), "sweep": {"seeds": 2}})


def test_kept_classes_that_the_sample_happens_to_miss_still_number_in_order():
    from nnplay.engine.data.load import _relabel

    labels, names = _relabel(np.array([5, 6, 5]), [str(k) for k in range(10)], [5, 6, 9])
    assert labels.tolist() == [0, 1, 0] and names == ["5", "6", "9"]


def test_init_from_that_names_nothing_is_refused_before_any_run_directory(tmp_path):
    with pytest.raises(ConfigError, match="model.init_from = 'nowhere' is neither a run directory") as error:
        experiment.run(validate(target(init_from="nowhere")), root=tmp_path)
    assert "nnplay run nowhere" in str(error.value)
    assert not any(tmp_path.iterdir())


def test_init_from_with_other_layer_sizes_names_the_layers(source_run):
    root, source = source_run
    with pytest.raises(ConfigError, match=r"does not fit this model: features.0.conv.weight is \[4, 1, 3, 3\] there"):
        planning.plan(
            validate(
                {
                    **target(init_from=source["run_dir"]),
                    "model": {"architecture": "cnn", "conv_channels": [6, 8], "init_from": source["run_dir"]},
                }
            ),
            root=root,
        )


def test_freeze_of_an_unknown_layer_lists_the_layers():
    with pytest.raises(ConfigError, match=r"model.freeze = \['body'\]: 'body' names no layer of this cnn; allowed: "):
        planning.plan(validate(target(freeze=["body"])))


def test_freezing_every_layer_is_refused():
    with pytest.raises(ConfigError, match="freezes every layer"):
        planning.plan(validate(target(freeze=["features", "head"])))
