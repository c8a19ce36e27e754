"""Recurrent networks (vanilla RNN, LSTM, GRU) that read a sequence and predict from its last step."""

from __future__ import annotations

import torch
from torch import Tensor, nn

RECURRENT_LAYERS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentNet(nn.Module):
    """A stacked RNN/LSTM/GRU over (batch, time, features); the last step's output feeds a linear head.

    Parameters are named `rnn.weight_ih_l<k>`, `rnn.weight_hh_l<k>`, `rnn.bias_*_l<k>`
    (k = stacked layer), `batch_norm.*` and `head.*`.
    """

    def __init__(
        self,
        kind: str,
        input_shape: tuple[int, ...],
        n_outputs: int,
        hidden_size: int = 32,
        num_layers: int = 1,
        batch_norm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if kind not in RECURRENT_LAYERS:
            raise ValueError(f"recurrent kind {kind!r} is not known; allowed: {', '.join(RECURRENT_LAYERS)}")
        if len(input_shape) != 2:
            raise ValueError(
                f"a {kind} reads sequences shaped (time steps, features), not samples shaped {tuple(input_shape)}"
            )
        self.kind = kind
        self.rnn = RECURRENT_LAYERS[kind](
            input_size=input_shape[1],
            hidden_size=hidden_size,
            num_layers=num_layers,
            batch_first=True,
            # PyTorch applies this dropout only between stacked layers (and warns when there is one layer).
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.batch_norm = nn.BatchNorm1d(hidden_size) if batch_norm else None
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.head = nn.Linear(hidden_size, n_outputs)
        if kind == "lstm":
            init_forget_gate_bias(self.rnn, 1.0)

    def forward(self, x: Tensor) -> Tensor:
        outputs, _ = self.rnn(x)
        last_step = outputs[:, -1]
        if self.batch_norm is not None:
            last_step = self.batch_norm(last_step)
        if self.dropout is not None:
            last_step = self.dropout(last_step)
        return self.head(last_step)


@torch.no_grad()
def init_forget_gate_bias(lstm: nn.LSTM, value: float) -> None:
    """Set each layer's effective forget-gate bias (bias_ih + bias_hh) to `value`.

    With a positive bias the forget gate starts near open, so the cell state (and its gradient)
    survives many steps at the start of training (Gers et al. 2000; Jozefowicz et al. 2015).
    """
    hidden = lstm.hidden_size
    # PyTorch stacks the gates as (input, forget, cell, output): the forget gate is the second quarter.
    forget = slice(hidden, 2 * hidden)
    for layer in range(lstm.num_layers):
        getattr(lstm, f"bias_ih_l{layer}")[forget] = value
        getattr(lstm, f"bias_hh_l{layer}")[forget] = 0.0
