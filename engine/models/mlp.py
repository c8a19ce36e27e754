"""The perceptron (one linear layer) and the multilayer perceptron.

Both flatten each sample first, so they read points, curves, tabular rows, images and
sequences alike.
"""

from __future__ import annotations

from torch import Tensor, nn

from nnplay.engine.models.layers import dense_stack, flat_size


class Perceptron(nn.Module):
    """A single linear layer from the flattened input to the outputs: a linear decision boundary."""

    kind = "perceptron"

    def __init__(self, input_shape: tuple[int, ...], n_outputs: int) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(flat_size(input_shape), n_outputs)

    def forward(self, x: Tensor) -> Tensor:
        """Outputs of the single linear layer on the flattened inputs."""
        return self.linear(self.flatten(x))


class MLP(nn.Module):
    """Hidden layers (Linear → [BatchNorm] → activation → [Dropout]) followed by a linear head.

    Parameters are named `hidden.<i>.linear.*`, `hidden.<i>.batch_norm.*` and `head.*`.
    """

    kind = "mlp"

    def __init__(
        self,
        input_shape: tuple[int, ...],
        n_outputs: int,
        hidden: list[int],
        activation: str = "relu",
        batch_norm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.hidden, last_width = dense_stack(flat_size(input_shape), hidden, activation, batch_norm, dropout)
        self.head = nn.Linear(last_width, n_outputs)
        # The layers in order, called directly: small models are bound by per-call overhead, and the
        # nested Sequential containers (kept for readable parameter names) would double the calls.
        self._layers = [layer for block in self.hidden for layer in block.children()] + [self.head]

    def forward(self, x: Tensor) -> Tensor:
        """The head's outputs after every hidden layer in order; inputs of many axes (images) are flattened first."""
        if x.dim() > 2:
            x = self.flatten(x)
        for layer in self._layers:
            x = layer(x)
        return x
