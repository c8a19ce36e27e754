"""Synthetic 2-D and 1-D data sets in the spirit of the TensorFlow Playground, drawn with numpy.

Every generator takes the number of samples, the noise (a standard deviation in the data's own
units, so noise = 0.2 on moons gives the familiar picture) and a seeded `numpy.random.Generator`,
and returns float32 inputs with int64 class labels or float32 (n, 1) regression targets.
All point clouds live roughly in [-2, 2]², so one noise value means much the same on each.
"""

from __future__ import annotations

import numpy as np

PLANE_SLOPES = (1.0, -0.5)  # y = a·x1 + b·x2: a fixed, known tilt the user can read back from a perceptron
BUMP_WIDTH = 0.5  # standard deviation of the gaussian bump over [-1, 1]²
SPIRAL_RADIUS = 2.0
# Neighbouring arms lie 0.8 apart (1.25 turns for two arms), so noise 0.2 blurs but does not merge them;
# more arms wind less to keep that gap, down to half a turn so they still read as a spiral.
SPIRAL_ARM_GAP = 0.8
SPIRAL_MIN_TURNS = 0.5
BLOB_RING_RADIUS = 1.5  # blob centres sit evenly on a ring, so no two clusters ever coincide
CIRCLES_INNER = 0.4  # radius of the inner circle; the outer ring has radius 1, leaving a clear gap at noise 0.2


def _class_sizes(n: int, n_classes: int) -> list[int]:
    """Split n samples into n_classes nearly equal groups, so classes stay balanced."""
    return [n // n_classes + (c < n % n_classes) for c in range(n_classes)]


def _labels(n: int, n_classes: int) -> np.ndarray:
    return np.repeat(np.arange(n_classes), _class_sizes(n, n_classes)).astype(np.int64)


def _shuffled(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # Generators build class by class; shuffle so that any prefix of the data is a fair sample.
    order = rng.permutation(len(x))
    return x[order].astype(np.float32), y[order]


def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as sklearn's make_moons), gaussian noise on each point."""
    y = _labels(n, 2)
    angle = rng.uniform(0.0, np.pi, size=n)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    x = np.where(y[:, None] == 0, upper, lower) + rng.normal(0.0, noise, size=(n, 2))
    return _shuffled(x, y, rng)


def circles(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A circle of radius 0.4 (class 1) inside a ring of radius 1 (class 0)."""
    y = _labels(n, 2)
    angle = rng.uniform(0.0, 2 * np.pi, size=n)
    radius = np.where(y == 0, 1.0, CIRCLES_INNER)
    x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1) + rng.normal(0.0, noise, size=(n, 2))
    return _shuffled(x, y, rng)


def xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points in [-1, 1]², class 1 where x1·x2 > 0 (the noise-free position decides the class)."""
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    # Keep clean points off the axes, as the Playground does, so noise 0 leaves a visible margin.
    x += 0.05 * np.sign(x)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    return _shuffled(x + rng.normal(0.0, noise, size=(n, 2)), y, rng)


def spiral(n: int, noise: float, rng: np.random.Generator, n_classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """n_classes interleaved spiral arms from the centre outwards, one class per arm."""
    y = _labels(n, n_classes)
    turns = max(SPIRAL_MIN_TURNS, SPIRAL_RADIUS / (SPIRAL_ARM_GAP * n_classes))
    progress = rng.uniform(0.0, 1.0, size=n)  # 0 at the centre, 1 at the tip of the arm
    angle = 2 * np.pi * (turns * progress + y / n_classes)
    radius = SPIRAL_RADIUS * progress
    x = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1) + rng.normal(0.0, noise, size=(n, 2))
    return _shuffled(x, y, rng)


def blobs(n: int, noise: float, rng: np.random.Generator, n_classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """n_classes gaussian clusters of standard deviation `noise`, centres on a ring at a seeded rotation."""
    y = _labels(n, n_classes)
    angle = rng.uniform(0.0, 2 * np.pi) + 2 * np.pi * np.arange(n_classes) / n_classes
    centres = BLOB_RING_RADIUS * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x = centres[y] + rng.normal(0.0, noise, size=(n, 2))
    return _shuffled(x, y, rng)


def sine(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """x uniform in [0, 1], y = sin(2πx) + noise: one period, the classic overfitting curve."""
    x = rng.uniform(0.0, 1.0, size=(n, 1))
    y = np.sin(2 * np.pi * x) + rng.normal(0.0, noise, size=(n, 1))
    return x.astype(np.float32), y.astype(np.float32)


def plane(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """x uniform in [-1, 1]², y = 1.0·x1 - 0.5·x2 + noise: a linear model fits it exactly."""
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = x @ np.array(PLANE_SLOPES)[:, None] + rng.normal(0.0, noise, size=(n, 1))
    return x.astype(np.float32), y.astype(np.float32)


def bump(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """x uniform in [-1, 1]², y = exp(-|x|² / (2·0.5²)) + noise: a hill no linear model can fit."""
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    height = np.exp(-(x**2).sum(axis=1, keepdims=True) / (2 * BUMP_WIDTH**2))
    y = height + rng.normal(0.0, noise, size=(n, 1))
    return x.astype(np.float32), y.astype(np.float32)


CLASSIFIERS = {"moons": moons, "circles": circles, "xor": xor}
CLASSIFIERS_WITH_K = {"spiral": spiral, "blobs": blobs}
REGRESSIONS = {"sine": sine, "plane": plane, "bump": bump}
