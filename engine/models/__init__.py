"""Model construction: one `build_model` for every architecture in the config, and `summarize`.

Shapes per sample: points (2,), curve (1,), tabular (F,), image (1, H, W), sequence (T, F).
`n_outputs` is the number of classes (1 for two classes with BCE), 1 for regression and
forecasting, and ignored for generation, whose output is the image itself.

Every model has a `kind` (its architecture name) and names its layers so that the module
prefix of a parameter (`hidden.0.linear`, `features.1.conv`, `rnn`, `head`, ...) reads as a
layer to a learner.
"""

from __future__ import annotations

from torch import nn

from nnplay.engine.core.config import ExperimentConfig
from nnplay.engine.core.i18n import _
from nnplay.engine.models.autoencoder import VAE, Autoencoder, VAEOutput
from nnplay.engine.models.cnn import LeNet
from nnplay.engine.models.layers import make_activation
from nnplay.engine.models.mlp import MLP, Perceptron
from nnplay.engine.models.recurrent import RecurrentNet
from nnplay.engine.models.summary import summarize

__all__ = [
    "MLP",
    "VAE",
    "Autoencoder",
    "LeNet",
    "Perceptron",
    "RecurrentNet",
    "VAEOutput",
    "build_model",
    "make_activation",
    "summarize",
]


def build_model(config: ExperimentConfig, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
    """The untrained model that `config.model` describes, for samples of `input_shape`.

    Seed torch before calling: the initial weights come from torch's global generator.
    """
    m, r = config.model, config.regularization
    input_shape = tuple(input_shape)
    arch = m.architecture
    if arch == "perceptron":
        return Perceptron(input_shape, n_outputs)
    if arch == "mlp":
        return MLP(input_shape, n_outputs, m.hidden, m.activation, r.batch_norm, r.dropout)
    if arch == "cnn":
        return LeNet(input_shape, n_outputs, m.conv_channels, m.kernel_size, m.activation, r.batch_norm, r.dropout)
    if arch in ("rnn", "lstm", "gru"):
        return RecurrentNet(arch, input_shape, n_outputs, m.rnn_hidden, m.rnn_layers, r.batch_norm, r.dropout)
    if arch in ("autoencoder", "vae"):
        if len(input_shape) != 3:
            raise ValueError(
                _(
                    "a {architecture} reconstructs images shaped (channels, height, width), not samples shaped {shape}"
                ).format(architecture=arch, shape=input_shape)
            )
        model_class = VAE if arch == "vae" else Autoencoder
        return model_class(input_shape, m.hidden, m.latent, m.activation, r.batch_norm, r.dropout)
    raise ValueError(
        _(
            "model.architecture = {architecture} is not known; "
            "allowed: perceptron, mlp, cnn, rnn, lstm, gru, autoencoder, vae"
        ).format(architecture=repr(arch))
    )
