"""A LeNet-style convolutional network for square images: grey levels (1 channel) or RGB (3 channels)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nnplay.engine.core.i18n import _
from nnplay.engine.models.layers import conv_block, conv_block_side


class LeNet(nn.Module):
    """Convolution blocks (Conv → [BatchNorm] → activation → 2x2 max pool), then a linear classifier.

    The first convolution reads as many channels as the images have (input_shape[0]). Each block halves the
    image side (8 → 4 → 2 → 1, 28 → 14 → 7 → 4 → 2). Parameters are named
    `features.<i>.conv.*`, `features.<i>.batch_norm.*` and `head.*`.
    """

    kind = "cnn"

    def __init__(
        self,
        input_shape: tuple[int, ...],
        n_outputs: int,
        conv_channels: list[int],
        kernel_size: int = 3,
        activation: str = "relu",
        batch_norm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(
                _("a cnn reads images shaped (channels, height, width), not samples shaped {shape}").format(
                    shape=tuple(input_shape)
                )
            )
        in_channels, height, width = input_shape
        blocks = []
        for out_channels in conv_channels:
            blocks.append(conv_block(in_channels, out_channels, kernel_size, activation, batch_norm))
            in_channels = out_channels
            height, width = conv_block_side(height, kernel_size), conv_block_side(width, kernel_size)
        self.features = nn.Sequential(*blocks)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.head = nn.Linear(in_channels * height * width, n_outputs)
        # The shape of the feature maps the head reads, per sample (for explanations in the app).
        self.feature_shape = (in_channels, height, width)
        # Kernels stored channels-last (NHWC): oneDNN on the CPU and cuDNN on the GPU convolve in that
        # layout, so every step skips two layout conversions per convolution (bench/README.md: the
        # digits CNN trains ~15 % faster and evaluates ~2x faster on one CPU thread). `.to(device)`
        # keeps the layout; the weights' values, names and shapes are unchanged.
        self.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stubs omit this keyword

    def forward(self, x: Tensor) -> Tensor:
        """The head's outputs for a batch of images shaped (batch, channels, height, width)."""
        x = self.flatten(self.features(x))
        if self.dropout is not None:
            x = self.dropout(x)
        return self.head(x)
