"""Small real tabular data sets bundled with scikit-learn (nothing is downloaded)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn import datasets


@dataclass
class Table:
    """Rows of named features and their targets, as loaded: no scaling, no shuffling."""

    x: np.ndarray  # float32 (n, n_features)
    y: np.ndarray  # int64 class indices, or float32 targets for regression
    feature_names: list[str]
    class_names: list[str] | None  # None for regression


_LOADERS = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    # Original units (years, mmHg, ...) rather than sklearn's pre-centred copy: the engine scales inputs itself.
    "diabetes": lambda: datasets.load_diabetes(scaled=False),
}


def load_table(name: str) -> Table:
    """Load one of iris, wine, breast_cancer (classification) or diabetes (regression)."""
    bunch = _LOADERS[name]()
    feature_names = [str(f) for f in bunch.feature_names]
    if "target_names" in bunch:
        return Table(
            bunch.data.astype(np.float32),
            bunch.target.astype(np.int64),
            feature_names,
            [str(c) for c in bunch.target_names],
        )
    return Table(bunch.data.astype(np.float32), bunch.target.astype(np.float32), feature_names, None)


TABLES = tuple(_LOADERS)
