"""Seeded train/val/test splits and k-fold cross-validation folds, as int64 index tensors.

The engine keeps each data set as one tensor; a split is only a set of row indices into it.
"""

from __future__ import annotations

import torch

from nnplay.engine.core.config import split_sizes
from nnplay.engine.core.i18n import _


def _permutation(n: int, seed: int) -> torch.Tensor:
    # A private CPU generator: the split depends on data.seed only, never on the global RNG
    # (which training.seed drives), so changing the model's seed keeps the same split.
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=generator)


def split_indices(
    n: int, train: float, val: float, test: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Shuffle range(n) with `seed` and cut it into train, val and test indices.

    Sizes are exactly `engine.config.split_sizes(n, train, val, test)`. For k-fold cross-validation
    call it with val = 0: the train part is the pool that `kfold_indices` divides.
    """
    n_train, n_val, n_test = split_sizes(n, train, val, test)
    if min(n_train, n_val, n_test) < 0:
        raise ValueError(
            _("fractions train={train:g}, val={val:g}, test={test:g} do not fit {n} samples").format(
                train=train, val=val, test=test, n=n
            )
        )
    permutation = _permutation(n, seed)
    return (
        permutation[:n_train],
        permutation[n_train : n_train + n_val],
        permutation[n_train + n_val :],
    )


def kfold_indices(n_pool: int, k: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """k (train_idx, val_idx) pairs over a pool of n_pool samples; positions index into the pool.

    The val parts are disjoint and together cover the pool; each train part is the rest of the pool.
    Fold sizes differ by at most one, the first folds being the larger (as `engine.config_checks.check_batch_fits` assumes).
    """
    if not 2 <= k <= n_pool:
        raise ValueError(_("k = {k} folds do not fit a pool of {n} samples; allowed: 2 to {n}").format(k=k, n=n_pool))
    folds = torch.tensor_split(_permutation(n_pool, seed), k)
    return [(torch.cat(folds[:i] + folds[i + 1 :]), val_idx) for i, val_idx in enumerate(folds)]
