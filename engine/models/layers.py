"""Building blocks shared by the architectures: activations and hidden-layer blocks.

Blocks are `nn.Sequential`s with named children (`linear`, `batch_norm`, `activation`,
`dropout`), so parameter names read like `hidden.0.linear.weight` rather than `hidden.3.weight`.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from torch import nn

from nnplay.engine.core.i18n import _

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "linear": nn.Identity,
}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module for `name` (relu, tanh, sigmoid, gelu, leaky_relu, linear)."""
    if name not in ACTIVATIONS:
        raise ValueError(
            _("activation {name} is not known; allowed: {allowed}").format(
                name=repr(name), allowed=", ".join(ACTIVATIONS)
            )
        )
    return ACTIVATIONS[name]()


def dense_block(
    in_features: int, out_features: int, activation: str, batch_norm: bool, dropout: float
) -> nn.Sequential:
    """One hidden layer: Linear → BatchNorm1d (optional) → activation → Dropout (optional)."""
    parts: OrderedDict[str, nn.Module] = OrderedDict()
    # A bias before batch norm is cancelled by the mean subtraction: it would only ever show a zero gradient.
    parts["linear"] = nn.Linear(in_features, out_features, bias=not batch_norm)
    if batch_norm:
        parts["batch_norm"] = nn.BatchNorm1d(out_features)
    parts["activation"] = make_activation(activation)
    if dropout > 0:
        parts["dropout"] = nn.Dropout(dropout)
    return nn.Sequential(parts)


def dense_stack(
    in_features: int, widths: list[int], activation: str, batch_norm: bool, dropout: float
) -> tuple[nn.Sequential, int]:
    """Hidden layers of the given widths, one `dense_block` each; returns them and the last width."""
    blocks = []
    for width in widths:
        blocks.append(dense_block(in_features, width, activation, batch_norm, dropout))
        in_features = width
    return nn.Sequential(*blocks), in_features


def conv_block(
    in_channels: int, out_channels: int, kernel_size: int, activation: str, batch_norm: bool
) -> nn.Sequential:
    """One LeNet-style block: Conv2d (same padding) → BatchNorm2d (optional) → activation → 2x2 max pool."""
    parts: OrderedDict[str, nn.Module] = OrderedDict()
    parts["conv"] = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=not batch_norm)
    if batch_norm:
        parts["batch_norm"] = nn.BatchNorm2d(out_channels)
    parts["activation"] = make_activation(activation)
    # ceil_mode keeps odd sides from losing their last row: 7 → 4 rather than 3.
    parts["pool"] = nn.MaxPool2d(2, ceil_mode=True)
    return nn.Sequential(parts)


def conv_block_side(side: int, kernel_size: int) -> int:
    """Image side after one `conv_block` (odd kernels keep the side before pooling, even ones add 1)."""
    conv_side = side + 2 * (kernel_size // 2) - kernel_size + 1
    return math.ceil(conv_side / 2)


def flat_size(input_shape: tuple[int, ...]) -> int:
    """Number of features in one sample once flattened."""
    return math.prod(input_shape)
