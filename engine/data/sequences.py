"""Sequence tasks for recurrent networks: next-value forecasting and long-lag memory.

Both return float32 inputs of shape (n, seq_len, 1), one feature per time step.
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
    """The long-lag memory task: step 0 holds a signal of ±1, the next seq_len - 1 steps gaussian noise.

    The label is 1 when the signal was +1, else 0. A model must carry the first value across all
    the noisy steps: gated cells (LSTM, GRU) learn to, a plain tanh RNN loses it as seq_len grows.
    Returns x (n, seq_len, 1) and int64 labels (n,); the two classes are balanced.
    """
    labels = rng.permutation(np.arange(n) % 2).astype(np.int64)
    x = rng.normal(0.0, noise, size=(n, seq_len, 1))
    x[:, 0, 0] = 2.0 * labels - 1.0
    return x.astype(np.float32), labels
