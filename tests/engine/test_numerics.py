"""The engine's training loop against a plain PyTorch loop: same seed, same data, same permutations,
same weights and losses (micrograd checks itself against torch the same way)."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from nnplay.engine import experiment, planning
from nnplay.engine.core.config import validate
from nnplay.engine.core.events import Emitter
from nnplay.engine.data.load import load_dataset
from nnplay.engine.data.normalize import Normalizer
from nnplay.engine.data.split import split_indices
from nnplay.engine.models import build_model
from nnplay.engine.training.loop import Split, Trainer, TrainSettings
from nnplay.engine.training.losses import Criterion, regularization_penalty
from nnplay.engine.training.optim import make_optimizer

CPU = torch.device("cpu")
RTOL = 1e-5


def prepared(config):
    """Train and val splits, normalized on the training split, as engine/experiment.py prepares them."""
    dataset = load_dataset(config)
    d = config.data
    train_idx, val_idx, _ = split_indices(len(dataset), d.train, d.val, d.test, d.seed)
    normalizer = Normalizer().fit(dataset.x[train_idx], d.normalization)
    x = normalizer.apply(dataset.x)
    return dataset, Split(x[train_idx], dataset.y[train_idx]), Split(x[val_idx], dataset.y[val_idx])


def initial_model(config, dataset):
    """The untrained model exactly as _train_fold builds it (seeded, one fold)."""
    torch.manual_seed(config.training.seed)
    return build_model(config, dataset.input_shape, planning.n_outputs(config))


def plain_training(model, train: Split, epochs: int, batch: int, lr: float, seed: int) -> list[float]:
    """Textbook minibatch Adam with cross-entropy; returns the running mean training loss per epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    n = len(train)
    running = []
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            loss = F.cross_entropy(model(train.x[idx]), train.y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        running.append(total / n)
    return running


def assert_same_weights(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(
            actual[name], expected[name], rtol=RTOL, atol=1e-6, msg=lambda m, n=name: f"{n}: {m}"
        )


def test_engine_run_matches_plain_pytorch(tiny_config, runs_dir):
    # 120 training samples in batches of 32: the last batch of each epoch holds 24.
    config = tiny_config(training={"epochs": 3, "batch_size": 32, "seed": 3}, optimizer={"lr": 0.01})
    events: list[dict] = []
    summary = experiment.run(config, Emitter(callback=events.append), root=runs_dir)
    assert summary["status"] == "completed"

    dataset, train, _ = prepared(config)
    reference = initial_model(config, dataset)
    running = plain_training(reference, train, epochs=3, batch=32, lr=0.01, seed=3)

    engine_running = [e["train_loss_running"] for e in events if e["type"] == "epoch"]
    assert engine_running == pytest.approx(running, rel=RTOL)
    trained = torch.load(runs_dir / summary["id"] / "model.pt", weights_only=True)
    assert_same_weights(trained, reference.state_dict())
    # The check can fail: training moved the weights well beyond the tolerance.
    untrained = initial_model(config, dataset).state_dict()
    assert not torch.allclose(trained["head.weight"], untrained["head.weight"], rtol=1e-2)


def test_trainer_matches_plain_pytorch_on_the_same_initial_model(tiny_config):
    config = tiny_config(
        training={"epochs": 2, "batch_size": 16, "seed": 1}, optimizer={"lr": 0.005}, model={"hidden": [16]}
    )
    dataset, train, val = prepared(config)
    model = initial_model(config, dataset)
    reference = copy.deepcopy(model)
    settings = TrainSettings(epochs=2, batch_size=16, seed=1)
    trainer = Trainer(model, Criterion(config), make_optimizer(model, config, CPU), None, train, val, settings, CPU)
    assert trainer.fit() == "completed"

    running = plain_training(reference, train, epochs=2, batch=16, lr=0.005, seed=1)
    assert [r["train_loss_running"] for r in trainer.history] == pytest.approx(running, rel=RTOL)
    assert_same_weights(model.state_dict(), reference.state_dict())
    assert trainer.global_step == 2 * math.ceil(len(train) / 16)


def test_epoch_norms_are_the_global_l2_norms_of_the_weights_and_last_gradients(tiny_config):
    config = tiny_config(training={"epochs": 1, "batch_size": 16}, model={"hidden": [16, 8]})
    dataset, train, val = prepared(config)
    model = initial_model(config, dataset)
    settings = TrainSettings(epochs=1, batch_size=16)
    trainer = Trainer(model, Criterion(config), make_optimizer(model, config, CPU), None, train, val, settings, CPU)
    trainer.fit()
    record = trainer.history[-1]
    weights = torch.cat([p.detach().flatten() for p in model.parameters()])
    grads = torch.cat([p.grad.flatten() for p in model.parameters()])  # left by the epoch's last update
    assert record["weight_norm"] == pytest.approx(weights.norm().item(), rel=1e-5)
    assert record["grad_norm"] == pytest.approx(grads.norm().item(), rel=1e-5)
    assert record["grad_norm"] > 0


def test_a_cnn_keeps_channels_last_kernels_and_computes_what_the_plain_layout_does():
    config = validate({"data": {"dataset": "digits"}, "model": {"architecture": "cnn", "conv_channels": [4, 8]}})
    torch.manual_seed(0)
    model = build_model(config, (1, 8, 8), 10)
    plain = copy.deepcopy(model)
    for module in plain.modules():
        for param in module.parameters(recurse=False):
            param.data = param.data.contiguous()
    kernels = [p for p in model.parameters() if p.dim() == 4]
    assert kernels and all(p.is_contiguous(memory_format=torch.channels_last) for p in kernels)
    # (A kernel over one input channel is laid out alike in both formats.)
    plain_kernels = [p for p in plain.parameters() if p.dim() == 4 and p.shape[1] > 1]
    assert plain_kernels and not any(p.is_contiguous(memory_format=torch.channels_last) for p in plain_kernels)
    x = torch.randn(32, 1, 8, 8)
    torch.testing.assert_close(model(x), plain(x), rtol=1e-5, atol=1e-6)
    y = torch.randint(0, 10, (32,))
    for m in (model, plain):
        F.cross_entropy(m(x), y).backward()
    for a, b in zip(model.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6)


def test_l2_penalty_is_lambda_sum_of_squared_weights_without_biases(tiny_config):
    l2 = 0.05
    config = tiny_config(regularization={"l2": l2}, training={"batch_size": "full"})
    dataset, train, _ = prepared(config)
    model = initial_model(config, dataset)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 1:
                p.fill_(0.5)  # biases large enough that including them would change the penalty a lot
    reference = copy.deepcopy(model)
    weights = [p for p in reference.parameters() if p.dim() > 1]
    biases = [p for p in reference.parameters() if p.dim() == 1]
    assert weights and biases
    expected_penalty = l2 * sum(float(w.detach().pow(2).sum()) for w in weights)
    bias_share = l2 * sum(float(b.detach().pow(2).sum()) for b in biases)
    assert bias_share > 1e-3 * expected_penalty

    lr = 0.1
    settings = TrainSettings(epochs=1, batch_size=len(train), l2=l2, seed=0)
    trainer = Trainer(
        model, Criterion(config), torch.optim.SGD(model.parameters(), lr=lr), None, train, None, settings, CPU
    )
    trainer.fit()
    # One full-batch update: the recorded penalty is the one at the initial weights.
    assert trainer.history[0]["penalty"] == pytest.approx(expected_penalty, rel=1e-5)

    # The same update by hand: the gradient of λΣw² reaches weight matrices, never biases.
    total = F.cross_entropy(reference(train.x), train.y) + l2 * sum(w.pow(2).sum() for w in weights)
    grads = torch.autograd.grad(total, list(reference.parameters()))
    with torch.no_grad():
        for p, g in zip(reference.parameters(), grads, strict=True):
            p -= lr * g
    assert_same_weights(model.state_dict(), reference.state_dict())


def test_regularization_penalty_l1_and_l2():
    w = [torch.tensor([[1.0, -2.0], [3.0, 0.0]]), torch.tensor([[0.5]])]
    assert regularization_penalty(w, 0.0, 0.0) is None
    assert float(regularization_penalty(w, 0.0, 0.1)) == pytest.approx(0.1 * (1 + 4 + 9 + 0.25))
    assert float(regularization_penalty(w, 0.01, 0.0)) == pytest.approx(0.01 * (1 + 2 + 3 + 0.5))
    assert float(regularization_penalty(w, 0.01, 0.1)) == pytest.approx(0.01 * 6.5 + 0.1 * 14.25)


def test_trainer_penalizes_only_parameters_with_more_than_one_dimension(tiny_config):
    config = tiny_config(regularization={"batch_norm": True})
    dataset, train, _ = prepared(config)
    model = initial_model(config, dataset)
    trainer = Trainer(
        model,
        Criterion(config),
        torch.optim.SGD(model.parameters(), lr=0.1),
        None,
        train,
        None,
        TrainSettings(1, 32),
        CPU,
    )
    penalized = {id(p) for p in trainer.penalized}
    for name, p in model.named_parameters():
        assert (id(p) in penalized) == (p.dim() > 1), name
    assert any(p.dim() == 1 for p in model.parameters())  # biases and batch-norm scales exist


def test_train_loss_is_measured_in_evaluation_mode(tiny_config):
    # Dropout and batch norm behave differently in training mode: the reported train_loss must not.
    config = tiny_config(regularization={"dropout": 0.5, "batch_norm": True}, training={"epochs": 2})
    dataset, train, val = prepared(config)
    model = initial_model(config, dataset)
    settings = TrainSettings(epochs=2, batch_size=32, seed=0)
    trainer = Trainer(model, Criterion(config), make_optimizer(model, config, CPU), None, train, val, settings, CPU)
    trainer.fit()
    assert model.training  # evaluation leaves the model in the mode it found it in

    record = trainer.history[-1]
    model.eval()
    with torch.no_grad():
        train_out, val_out = model(train.x), model(val.x)
    assert record["train_loss"] == pytest.approx(float(F.cross_entropy(train_out, train.y)), rel=1e-5)
    assert record["val_loss"] == pytest.approx(float(F.cross_entropy(val_out, val.y)), rel=1e-5)
    assert record["train_accuracy"] == pytest.approx(float((train_out.argmax(-1) == train.y).float().mean()))
    assert record["val_accuracy"] == pytest.approx(float((val_out.argmax(-1) == val.y).float().mean()))

    # Training-mode outputs differ (dropout is random, batch norm uses batch statistics), so the
    # comparison above can tell the two modes apart.
    model.train()
    with torch.no_grad():
        train_mode_loss = float(F.cross_entropy(model(train.x), train.y))
    assert train_mode_loss != pytest.approx(record["train_loss"], rel=1e-3)
