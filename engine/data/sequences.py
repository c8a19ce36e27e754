"""Sequence tasks for recurrent networks: next-value forecasting and long-lag memory.

Both return float32 inputs of shape (n, seq_len, features): one feature for forecasting,
a value and a marker for memory.
"""

from __future__ import annotations

import numpy as np

# Radians per time step: a period of 8π ≈ 25.1 steps, not a whole number, so no two windows repeat exactly.
SINE_STEP = 0.25


def sine_forecast(n: int, seq_len: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One long noisy sine series cut into n overlapping windows of seq_len values, each with the next value.

    Returns x (n, seq_len, 1) and y (n, 1). The target is itself noisy, so the best achievable
    error is the noise: a model that beats it is memorizing.
    """
    phase = rng.uniform(0.0, 2 * np.pi)
    steps = np.arange(n + seq_len)
    series = np.sin(SINE_STEP * steps + phase) + rng.normal(0.0, noise, size=n + seq_len)
    windows = np.lib.stride_tricks.sliding_window_view(series, seq_len + 1)  # (n, seq_len + 1), one per start
    x = windows[:, :seq_len, None]
    y = windows[:, seq_len:]
    return x.astype(np.float32), y.astype(np.float32)


def memory(n: int, seq_len: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The long-lag memory task: remember a ±1 signal seen early, through seq_len noisy steps.

    Two features per step: channel 0 is gaussian noise except at one marked step, where it holds
    the signal ±1; channel 1 is the marker, 1 at that step and 0 elsewhere. The marked step is
    random within the first fifth of the sequence, so noise comes before it as well as after.
    The label is 1 when the signal was +1, else 0 (balanced classes).

    Keeping the signal needs a gate: store the value when the marker says so, then ignore the
    inputs. LSTM and GRU cells have such gates; a plain tanh RNN adds every input into its
    state and, trained by gradients that vanish over the lag, stays near chance.
    Returns x (n, seq_len, 2) and int64 labels (n,).
    """
    labels = rng.permutation(np.arange(n) % 2).astype(np.int64)
    x = np.zeros((n, seq_len, 2))
    x[:, :, 0] = rng.normal(0.0, noise, size=(n, seq_len))
    marked = rng.integers(0, max(1, seq_len // 5), size=n)
    rows = np.arange(n)
    x[rows, marked, 0] = 2.0 * labels - 1.0
    x[rows, marked, 1] = 1.0
    return x.astype(np.float32), labels
