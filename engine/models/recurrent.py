"""Recurrent networks (vanilla RNN, LSTM, GRU) that read a sequence and predict from its last step."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from nnplay.engine.core.i18n import _

RECURRENT_LAYERS: dict[str, type[nn.RNN | nn.LSTM | nn.GRU]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


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
            raise ValueError(
                _("recurrent kind {kind} is not known; allowed: {allowed}").format(
                    kind=repr(kind), allowed=", ".join(RECURRENT_LAYERS)
                )
            )
        if len(input_shape) != 2:
            raise ValueError(
                _("a {kind} reads sequences shaped (time steps, features), not samples shaped {shape}").format(
                    kind=kind, shape=tuple(input_shape)
                )
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
        if isinstance(self.rnn, nn.LSTM | nn.GRU):
            chrono_init(self.rnn, steps=input_shape[0])

    def forward(self, x: Tensor) -> Tensor:
        """The head's outputs on the stack's last time step (after batch norm and dropout when set)."""
        outputs, _state = self.rnn(x)
        last_step = outputs[:, -1]
        if self.batch_norm is not None:
            last_step = self.batch_norm(last_step)
        if self.dropout is not None:
            last_step = self.dropout(last_step)
        return self.head(last_step)


@torch.no_grad()
def chrono_init(rnn: nn.LSTM | nn.GRU, steps: int) -> None:
    """Gate biases that let the cell keep its state over about `steps` steps from the start.

    Chrono initialization (Tallec & Ollivier 2018): each unit's forget gate (an LSTM's) or update
    gate (a GRU's) gets a bias log(u), u uniform in [1, steps - 1], so units start out remembering
    over time scales up to the sequence's length, and the gradient through the cell survives the
    whole lag. An LSTM's input gate gets the opposite bias, so it starts out writing little. A
    plain RNN has no gate to set: that is the difference the memory lesson shows.
    """
    hidden = rnn.hidden_size
    # Gates are stacked in the biases: LSTM (input, forget, cell, output), GRU (reset, update, new).
    keep = slice(hidden, 2 * hidden)
    for layer in range(rnn.num_layers):
        bias_ih, bias_hh = getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}")
        timescale = torch.log(torch.empty(hidden).uniform_(1.0, max(2.0, steps - 1.0)))
        bias_ih[keep], bias_hh[keep] = timescale, 0.0
        if isinstance(rnn, nn.LSTM):
            bias_ih[:hidden], bias_hh[:hidden] = -timescale, 0.0
