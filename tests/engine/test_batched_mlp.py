"""Batched sweeps of plain stacks of Linear layers: computed directly on the stacked weights, they train exactly as
through vmap(functional_call), with each member's own dropout masks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nnplay.engine.core.config import validate
from nnplay.engine.core.control import Control
from nnplay.engine.models import build_model
from nnplay.engine.planning import n_outputs
from nnplay.engine.training.batched import BatchedTrainer, dense_layers, member_losses
from nnplay.engine.training.loop import Split, TrainSettings
from nnplay.engine.training.losses import Criterion
from nnplay.engine.training.optim import make_optimizer, make_scheduler

CPU = torch.device("cpu")
# What differs between two trainings of the same numbers: the clock.
TIMED = ("time_s", "samples_per_s")


def experiment(**sections) -> dict:
    return {"name": "batched-mlp", "data": {"dataset": "moons"}, **sections}


def points(n: int, shape: tuple[int, ...], task: str, seed: int) -> Split:
    """n samples of `shape` whose target depends on the first two features."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, *shape, generator=generator)
    flat = x.flatten(1)
    if task == "classification":
        return Split(x, (flat[:, 0] * flat[:, 1] > 0).long())
    return Split(x, (flat[:, 0] - 0.5 * flat[:, 1]).reshape(-1, 1))


def batched(
    config: dict,
    direct: bool,
    shape: tuple[int, ...] = (2,),
    members: int = 3,
    strengths: dict[str, list[float]] | None = None,
    **settings,
) -> BatchedTrainer:
    """A batched trainer of `members` seeds of the config's model on small random data."""
    cfg = validate(config)
    models = []
    for seed in range(members):
        torch.manual_seed(seed)
        models.append(build_model(cfg, shape, n_outputs(cfg)))
    return BatchedTrainer(
        models,
        Criterion(cfg),
        lambda params, wd: make_optimizer(params, cfg, CPU, weight_decay=wd),
        lambda optimizer: make_scheduler(optimizer, cfg),
        points(40, shape, cfg.task, seed=1),
        points(24, shape, cfg.task, seed=2),
        TrainSettings(**{"epochs": 3, "batch_size": 16, **settings}),
        CPU,
        Control(),
        strengths or {name: [0.0] * members for name in ("l1", "l2", "weight_decay")},
        [[] for _ in range(members)],
        direct=direct,
    )


def test_plain_stacks_of_linear_layers_take_the_direct_path_and_the_others_vmap():
    def model(**sections) -> nn.Module:
        cfg = validate(experiment(**sections))
        return build_model(cfg, (2,) if cfg.model.architecture != "cnn" else (1, 8, 8), n_outputs(cfg))

    mlp = dense_layers(model(model={"hidden": [8, 4], "activation": "tanh"}, regularization={"dropout": 0.2}))
    assert mlp is not None
    assert [name for name, _ in mlp] == [
        "flatten",
        "hidden.0.linear",
        "hidden.0.activation",
        "hidden.0.dropout",
        "hidden.1.linear",
        "hidden.1.activation",
        "hidden.1.dropout",
        "head",
    ]
    assert [name for name, _ in dense_layers(model(model={"architecture": "perceptron"})) or []] == [
        "flatten",
        "linear",
    ]
    assert dense_layers(model(regularization={"batch_norm": True})) is None  # running statistics: not a plain stack
    assert dense_layers(nn.Sequential(nn.Linear(2, 4), nn.Softmax(-1))) is None  # not a function of each number
    assert dense_layers(nn.Sequential(nn.Linear(2, 4), nn.Flatten(), nn.Linear(4, 1))) is None
    shared = nn.Linear(4, 4)
    assert dense_layers(nn.Sequential(nn.Linear(2, 4), shared, nn.ReLU(), shared)) is None
    assert batched(experiment(), direct=True).direct
    assert not batched(experiment(), direct=False).direct
    cnn = experiment(data={"dataset": "digits"}, model={"architecture": "cnn", "conv_channels": [2]})
    assert not batched(cnn, direct=True, shape=(1, 8, 8)).direct


@pytest.mark.parametrize(
    ("config", "shape", "settings"),
    [
        (experiment(model={"hidden": [16, 16]}), (2,), {}),
        (
            experiment(
                loss="bce",
                model={"hidden": [8], "activation": "sigmoid"},
                optimizer={"kind": "sgd", "lr": 0.5, "momentum": 0.9},
            ),
            (2,),
            {"grad_clip": 0.5},
        ),
        (experiment(model={"hidden": [8, 8], "activation": "gelu"}), (1, 3, 3), {}),  # images, flattened
        (experiment(model={"architecture": "perceptron"}), (2,), {}),
        (
            experiment(task="regression", loss="huber", data={"dataset": "plane"}, model={"activation": "tanh"}),
            (2,),
            {},
        ),
    ],
    ids=["cross-entropy", "bce-sgd-clipped", "images", "perceptron", "regression"],
)
def test_the_direct_path_trains_each_member_as_the_vmap_path_does(config, shape, settings):
    trainers = {direct: batched(config, direct, shape, **settings) for direct in (True, False)}
    assert trainers[True].direct and not trainers[False].direct
    for trainer in trainers.values():
        assert trainer.fit() == ["completed"] * 3
    for fast, reference in zip(trainers[True].members, trainers[False].members, strict=True):
        assert len(fast.history) == len(reference.history) == 3
        for got, want in zip(fast.history, reference.history, strict=True):
            assert got.keys() == want.keys()
            for key in want.keys() - set(TIMED):
                assert got[key] == pytest.approx(want[key], rel=1e-5, abs=1e-7), key
    # Members differ (their own initial weights), and each one's metrics are those of its own module.
    trainer = trainers[True]
    assert len({member.history[-1]["val_loss"] for member in trainer.members}) == 3
    split, criterion = trainer.val, trainer.criterion
    assert split is not None
    for member, metrics in zip(trainer.members, trainer.evaluate(split), strict=True):
        member.model.eval()
        with torch.no_grad():
            own = criterion.finish(criterion.batch_sums(member.model(split.x), split.y), len(split))
        assert metrics.keys() == own.keys()
        for name, value in own.items():
            assert metrics[name].item() == pytest.approx(value.item(), rel=1e-5, abs=1e-7), name


def test_a_strength_sweep_gives_each_member_its_own_penalty_and_decay_on_the_direct_path():
    strengths = {"l1": [0.0, 0.01, 0.0], "l2": [0.0, 0.0, 0.05], "weight_decay": [0.0, 0.1, 0.0]}
    trainers = {direct: batched(experiment(), direct, strengths=strengths) for direct in (True, False)}
    for trainer in trainers.values():
        trainer.fit()
    for fast, reference in zip(trainers[True].members, trainers[False].members, strict=True):
        for key in ("train_loss_running", "penalty", "weight_norm", "val_loss"):
            assert fast.history[-1][key] == pytest.approx(reference.history[-1][key], rel=1e-5, abs=1e-7), key
    penalties = [member.history[-1]["penalty"] for member in trainers[True].members]
    assert penalties[0] == 0.0 and penalties[1] > 0.0 and penalties[2] > 0.0


@pytest.mark.parametrize(
    ("config", "classes"),
    [
        (experiment(), 2),
        (experiment(loss="bce"), 1),
        *((experiment(task="regression", loss=loss, data={"dataset": "plane"}), 1) for loss in ("mse", "mae", "huber")),
    ],
    ids=["cross_entropy", "bce", "mse", "mae", "huber"],
)
def test_each_members_loss_is_the_criterion_on_its_own_outputs(config, classes):
    cfg = validate(config)
    criterion = Criterion(cfg)
    generator = torch.Generator().manual_seed(0)
    outputs = torch.randn(4, 10, classes, generator=generator) * 3
    y = points(10, (2,), cfg.task, seed=3).y
    expected = torch.stack([criterion(outputs[k], y) for k in range(4)])
    torch.testing.assert_close(member_losses(criterion, outputs, y), expected, rtol=1e-6, atol=1e-7)


def test_dropout_draws_each_members_own_masks_in_training_and_none_in_evaluation():
    config = experiment(model={"hidden": [32]}, regularization={"dropout": 0.5})
    trainer = batched(config, direct=True, members=4)
    with torch.no_grad():  # every member the same weights: only their masks can tell them apart
        for stacked in trainer.params.values():
            stacked.copy_(stacked[0].expand_as(stacked))
    x = points(64, (2,), "classification", seed=4).x
    with torch.no_grad():
        trained = trainer.outputs(x)
        trainer.template.eval()
        evaluated = trainer.outputs(x)
        trainer.template.train()
    for k in range(1, 4):
        assert not torch.equal(trained[k], trained[0])
        torch.testing.assert_close(evaluated[k], evaluated[0], rtol=0, atol=0)
    assert not torch.equal(trained[0], evaluated[0])
