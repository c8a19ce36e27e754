"""Behaviour of engine.models: shapes, parameter counts, regularization layers, summaries."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
import torch
from torch import nn

from nnplay.engine.core.config import ExperimentConfig, validate
from nnplay.engine.models import VAEOutput, build_model, make_activation, summarize

# Per-sample input shapes of the data sets the tests use (sequences have the default seq_len 20).
SHAPES: dict[str, tuple[int, ...]] = {
    "moons": (2,),
    "sine": (1,),
    "iris": (4,),
    "digits": (1, 8, 8),
    "mnist": (1, 28, 28),
    "memory": (20, 1),
    "sine_forecast": (20, 1),
}
TASKS = {"sine": "regression", "sine_forecast": "forecasting"}
BATCH = 8


def make_config(
    architecture: str, dataset: str, task: str | None = None, **sections: dict[str, Any]
) -> ExperimentConfig:
    """A validated config for `architecture` on `dataset`; extra sections (model=..., regularization=...) merge in."""
    data: dict[str, Any] = {"dataset": dataset}
    if dataset == "mnist":
        data["path"] = "/unused"  # validation needs a path; these tests never read the files
    raw: dict[str, Any] = {"task": task or TASKS.get(dataset, "classification"), "data": data}
    raw["model"] = {"architecture": architecture, **sections.pop("model", {})}
    raw.update({name: values for name, values in sections.items()})
    return validate(raw)


def n_outputs_for(config: ExperimentConfig) -> int:
    """What the trainer passes: classes, 1 for BCE, regression and forecasting; ignored for generation."""
    if config.task == "classification":
        return 1 if config.resolved_loss == "bce" else config.n_classes
    return 1


def build(architecture: str, dataset: str, task: str | None = None, **sections: dict[str, Any]) -> nn.Module:
    config = make_config(architecture, dataset, task, **sections)
    return build_model(config, SHAPES[dataset], n_outputs_for(config))


def batch(dataset: str, n: int = BATCH) -> torch.Tensor:
    return torch.randn(n, *SHAPES[dataset])


def reconstruction(output: torch.Tensor | VAEOutput) -> torch.Tensor:
    return output.recon_logits if isinstance(output, VAEOutput) else output


@pytest.fixture(autouse=True)
def _seed_and_one_thread() -> Iterator[None]:
    # Tiny models gain nothing from threads, and on a busy 2-core runner extra threads thrash.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


# (architecture, dataset, task, expected output shape per sample)
CASES = [
    ("perceptron", "moons", None, (2,)),
    ("perceptron", "sine", None, (1,)),
    ("perceptron", "digits", None, (10,)),
    ("perceptron", "memory", None, (2,)),
    ("mlp", "moons", None, (2,)),
    ("mlp", "iris", None, (3,)),
    ("mlp", "sine", None, (1,)),
    ("mlp", "digits", None, (10,)),
    ("mlp", "sine_forecast", None, (1,)),
    ("cnn", "digits", None, (10,)),
    ("cnn", "mnist", None, (10,)),
    ("rnn", "memory", None, (2,)),
    ("lstm", "memory", None, (2,)),
    ("gru", "sine_forecast", None, (1,)),
    ("autoencoder", "digits", "generation", (1, 8, 8)),
    ("vae", "digits", "generation", (1, 8, 8)),
]
IDS = [f"{arch}-{dataset}" for arch, dataset, _, _ in CASES]


@pytest.mark.parametrize(("architecture", "dataset", "task", "shape"), CASES, ids=IDS)
def test_output_shape_and_kind(architecture: str, dataset: str, task: str | None, shape: tuple[int, ...]) -> None:
    model = build(architecture, dataset, task)
    assert model.kind == architecture
    assert reconstruction(model(batch(dataset))).shape == (BATCH, *shape)


def test_bce_classification_has_one_output() -> None:
    model = build("mlp", "moons", loss="bce")
    assert model(batch("moons")).shape == (BATCH, 1)


@pytest.mark.parametrize("conv_channels", [[4], [4, 4], [4, 4, 4], [4, 4, 4, 4]])
def test_each_cnn_block_halves_the_image_side(conv_channels: list[int]) -> None:
    model = build("cnn", "mnist", model={"conv_channels": conv_channels})
    sides = [28, 14, 7, 4, 2]
    assert model.feature_shape == (4, sides[len(conv_channels)], sides[len(conv_channels)])
    assert model(batch("mnist")).shape == (BATCH, 10)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_match_hand_computation() -> None:
    assert n_params(build("perceptron", "moons")) == 2 * 2 + 2
    assert n_params(build("perceptron", "iris")) == 4 * 3 + 3
    assert n_params(build("mlp", "moons", model={"hidden": [16, 16]})) == 2 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2
    # Batch norm replaces each hidden bias (redundant before it) with a scale and a shift.
    with_bn = build("mlp", "moons", model={"hidden": [16, 16]}, regularization={"batch_norm": True})
    assert n_params(with_bn) == 354 - 2 * 16 + 2 * (2 * 16)
    # conv 1→16 (3x3), conv 16→32 (3x3), 8x8 → 4x4 → 2x2, head 32*2*2 → 10.
    cnn = build("cnn", "digits", model={"conv_channels": [16, 32], "kernel_size": 3})
    assert n_params(cnn) == (9 * 16 + 16) + (16 * 9 * 32 + 32) + (32 * 2 * 2 * 10 + 10)
    # An LSTM layer has four gates, each with input and recurrent weights and two biases.
    lstm = build("lstm", "memory", model={"rnn_hidden": 8})
    assert n_params(lstm) == 4 * (8 * 1 + 8 * 8 + 2 * 8) + (8 * 2 + 2)


def layer_groups(model: nn.Module) -> list[str]:
    """Parameter names without their last component, in order: how the trainer groups norms."""
    groups = [name.rsplit(".", 1)[0] for name, _ in model.named_parameters()]
    return list(dict.fromkeys(groups))


def test_parameter_names_read_as_layers() -> None:
    assert layer_groups(build("perceptron", "moons")) == ["linear"]
    assert layer_groups(build("mlp", "moons", model={"hidden": [16, 16]})) == [
        "hidden.0.linear",
        "hidden.1.linear",
        "head",
    ]
    cnn = build("cnn", "digits", regularization={"batch_norm": True})
    assert layer_groups(cnn) == [
        "features.0.conv",
        "features.0.batch_norm",
        "features.1.conv",
        "features.1.batch_norm",
        "head",
    ]
    assert layer_groups(build("gru", "memory")) == ["rnn", "head"]
    assert "rnn.weight_hh_l0" in dict(build("rnn", "memory").named_parameters())
    vae = build("vae", "digits", "generation", model={"hidden": [32]})
    assert layer_groups(vae) == ["encoder.0.linear", "to_mu", "to_logvar", "decoder.0.linear", "to_pixels"]


REGULARIZED = [
    ("mlp", "moons", None),
    ("cnn", "digits", None),
    ("lstm", "memory", None),
    ("gru", "sine_forecast", None),
    ("autoencoder", "digits", "generation"),
    ("vae", "digits", "generation"),
]
REG_IDS = [arch for arch, _, _ in REGULARIZED]


@pytest.mark.parametrize(("architecture", "dataset", "task"), REGULARIZED, ids=REG_IDS)
@pytest.mark.parametrize(("dropout", "batch_norm"), [(0.0, False), (0.3, False), (0.0, True), (0.3, True)])
def test_dropout_and_batch_norm_present_exactly_when_configured(
    architecture: str, dataset: str, task: str | None, dropout: float, batch_norm: bool
) -> None:
    model = build(architecture, dataset, task, regularization={"dropout": dropout, "batch_norm": batch_norm})
    kinds = [type(m) for m in model.modules()]
    assert (nn.Dropout in kinds) == (dropout > 0)
    assert any(k in (nn.BatchNorm1d, nn.BatchNorm2d) for k in kinds) == batch_norm


def test_stacked_recurrent_layers_get_dropout_between_them() -> None:
    assert build("lstm", "memory", model={"rnn_layers": 2}, regularization={"dropout": 0.3}).rnn.dropout == 0.3
    assert build("lstm", "memory", model={"rnn_layers": 1}, regularization={"dropout": 0.3}).rnn.dropout == 0.0


@pytest.mark.parametrize(("architecture", "dataset", "task"), REGULARIZED, ids=REG_IDS)
def test_dropout_is_active_in_training_and_off_in_eval(architecture: str, dataset: str, task: str | None) -> None:
    model = build(architecture, dataset, task, regularization={"dropout": 0.5})
    x = batch(dataset)
    model.train()
    assert not torch.equal(reconstruction(model(x)), reconstruction(model(x)))
    model.eval()
    assert torch.equal(reconstruction(model(x)), reconstruction(model(x)))


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "gelu", "leaky_relu", "linear"])
def test_activation_is_the_configured_one(name: str) -> None:
    model = build("mlp", "moons", model={"activation": name})
    assert type(model.hidden[0].activation) is type(make_activation(name))
    x = torch.linspace(-2, 2, 5)
    if name == "linear":
        assert torch.equal(make_activation(name)(x), x)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_gated_cells_start_remembering_over_the_sequence_length(kind: str) -> None:
    """Chrono initialization: keep-gate biases log(u), u in [1, T - 1], for sequences of T steps."""
    steps = SHAPES["memory"][0]
    torch.manual_seed(0)  # the timescales are drawn at random
    model = build(kind, "memory", model={"rnn_hidden": 8, "rnn_layers": 2})
    for layer in range(2):
        bias = getattr(model.rnn, f"bias_ih_l{layer}") + getattr(model.rnn, f"bias_hh_l{layer}")
        keep = bias[8:16]  # LSTM gates (input, forget, cell, output); GRU gates (reset, update, new)
        assert (keep >= 0).all() and (keep <= math.log(steps - 1) + 1e-6).all() and keep.std() > 0
        # A gate with bias b lets a fraction sigmoid(b) of the state through per step: over the whole
        # sequence the longest-remembering units still keep a good part of it (a bias of 1 keeps 0.73^T).
        assert torch.sigmoid(keep.max()) ** steps > 0.1
        if kind == "lstm":
            assert torch.equal(bias[:8], -keep)  # the input gate starts mostly closed


def test_autoencoder_encode_and_decode() -> None:
    model = build("autoencoder", "digits", "generation", model={"latent": 3})
    z = model.encode(batch("digits"))
    assert z.shape == (BATCH, 3)
    assert model.decode(z).shape == (BATCH, 1, 8, 8)


def test_vae_eval_forward_is_deterministic_and_uses_mu() -> None:
    model = build("vae", "digits", "generation", model={"latent": 4}).eval()
    x = batch("digits")
    first, second = model(x), model(x)
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    mu, logvar = model.encode(x)
    assert torch.equal(first.mu, mu) and torch.equal(first.logvar, logvar)
    assert torch.equal(first.recon_logits, model.decode(mu))
    model.train()
    assert not torch.equal(model(x).recon_logits, model(x).recon_logits)


def test_vae_sample_shape_range_and_reproducibility() -> None:
    model = build("vae", "digits", "generation", model={"latent": 4}, regularization={"batch_norm": True})
    model.train()
    images = model.sample(5, torch.Generator().manual_seed(1))
    assert images.shape == (5, 1, 8, 8)
    assert images.min() >= 0 and images.max() <= 1
    assert torch.equal(images, model.sample(5, torch.Generator().manual_seed(1)))
    assert model.training, "sampling must restore training mode"


@pytest.mark.parametrize(("architecture", "dataset", "task", "shape"), CASES, ids=IDS)
def test_summary_totals_and_shapes(architecture: str, dataset: str, task: str | None, shape: tuple[int, ...]) -> None:
    model = build(
        architecture, dataset, task, regularization={} if architecture == "perceptron" else {"batch_norm": True}
    )
    model.train()
    summary = summarize(model, SHAPES[dataset])
    assert model.training, "summarize must restore training mode"
    assert summary["total_params"] == summary["trainable_params"] == n_params(model)
    assert sum(layer["params"] for layer in summary["layers"]) == n_params(model)
    assert summary["layers"][-1]["output_shape"] == list(shape)
    assert all(isinstance(layer["name"], str) and isinstance(layer["type"], str) for layer in summary["layers"])


def test_summary_counts_frozen_parameters_as_not_trainable() -> None:
    model = build("mlp", "moons", model={"hidden": [16, 16]})
    model.hidden[0].requires_grad_(False)
    summary = summarize(model, (2,))
    assert summary["total_params"] == 354
    assert summary["trainable_params"] == 354 - (2 * 16 + 16)
    assert [layer["output_shape"] for layer in summary["layers"] if layer["type"] == "Linear"] == [[16], [16], [2]]


@pytest.mark.parametrize(("architecture", "dataset", "task", "shape"), CASES, ids=IDS)
def test_gradients_reach_the_first_layer(
    architecture: str, dataset: str, task: str | None, shape: tuple[int, ...]
) -> None:
    model = build(
        architecture, dataset, task, regularization={} if architecture == "perceptron" else {"batch_norm": True}
    )
    # A squared loss: a plain sum of outputs after batch norm has zero gradient by construction.
    loss = reconstruction(model(batch(dataset))).pow(2).mean()
    loss.backward()
    name, first = next(iter(model.named_parameters()))
    assert first.grad is not None and first.grad.abs().sum() > 0, f"no gradient reached {name}"


@pytest.mark.parametrize(("architecture", "dataset"), [("cnn", "moons"), ("lstm", "iris")])
def test_architecture_rejects_samples_it_cannot_read(architecture: str, dataset: str) -> None:
    config = make_config("mlp", dataset)
    config.model.architecture = architecture  # bypasses the combination check on purpose
    with pytest.raises(ValueError, match="reads"):
        build_model(config, SHAPES[dataset], 2)
