"""How much memory a run needs, estimated from its config before anything is allocated, and the limit
it must fit in: a share of the memory free on the machine (or on the GPU it trains on), or
$NNPLAY_MEMORY_LIMIT ("8GB", "500MB").

Torch-free (the app formats sizes with `human`): engine.planning.estimate_memory builds the model on
PyTorch's meta device, which records shapes and allocates nothing, and fills in an Estimate here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from nnplay.engine.core.catalog import DATASETS, IMAGE, SEQUENCE
from nnplay.engine.core.config import ConfigError, ExperimentConfig
from nnplay.engine.core.i18n import N_, _

LIMIT_VARIABLE = "NNPLAY_MEMORY_LIMIT"
LIMIT_SHARE = 0.5  # of the memory free now: the machine (and the app) keep the rest
FLOAT_BYTES = 4
# Data: the generator's float64 arrays, the float32 tensor, the normalized copy, the splits' slices.
DATA_COPIES = 4
# Parameters: the weights, their gradients, Adam's two moments, the best and the last good epoch's copies.
PARAMETER_COPIES = 6
# Activations: what autograd keeps for the backward pass, its gradients, and room for temporaries.
ACTIVATION_COPIES = 3
FILE_IMAGES = 70_000  # MNIST and Fashion-MNIST: the training and test files together
UNITS = {"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def human(n_bytes: float) -> str:
    """1.2 GB, 35 MB, 800 KB."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n_bytes >= size:
            return f"{n_bytes / size:.3g} {unit}"
    return _("{size:.0f} bytes").format(size=n_bytes)


def samples_of(config: ExperimentConfig) -> int:
    """The config's sample count, or at most what the data set holds when only its files know."""
    info = DATASETS[config.data.dataset]
    return config.known_sample_count() or info.fixed_size or FILE_IMAGES


def input_shape_of(config: ExperimentConfig) -> tuple[int, ...]:
    """The shape of one sample, as the loaders make it."""
    info = DATASETS[config.data.dataset]
    if info.kind == IMAGE:
        assert info.image_side is not None  # every image data set has one
        return (1, info.image_side, info.image_side)
    if info.kind == SEQUENCE:
        return (config.data.seq_len, 2 if config.data.dataset == "memory" else 1)
    return (info.n_features or 2,)


@dataclass(frozen=True)
class Estimate:
    """Bytes a run needs, by what needs them."""

    data: float
    model: float
    activations: float
    members: int
    batch: int

    @property
    def total(self) -> float:
        """Bytes in all, over every sweep member."""
        return self.members * (self.data + self.model + self.activations)

    def parts(self) -> str:
        """The parts of the total in words, for messages."""
        shown = {
            "data": human(self.data),
            "model": human(self.model),
            "activations": human(self.activations),
            "batch": self.batch,
        }
        if self.members > 1:
            return _(
                "data {data}, model and optimizer {model}, activations {activations} for a batch of {batch:,}, "
                "× {members} sweep members"
            ).format(members=self.members, **shown)
        return _("data {data}, model and optimizer {model}, activations {activations} for a batch of {batch:,}").format(
            **shown
        )

    def setting_to_change(self) -> str:
        """The setting whose part is largest: what to lower first (in English: the first word is the setting
        the form marks; `_()` of it is what a message shows)."""
        largest = max(("data", self.data), ("model", self.model), ("activations", self.activations), key=lambda p: p[1])
        if self.members > 1 and self.total / self.members * 2 < self.total:
            if largest[0] == "data":
                return N_("data.n_samples or sweep.seeds")
            return N_("sweep.seeds (or fewer sweep.values)")
        return {"data": "data.n_samples", "model": "model.hidden", "activations": "training.batch_size"}[largest[0]]


def parse_size(text: str) -> float:
    """'8GB', '500 MB', '2GiB', '1e9' -> bytes; ValueError otherwise."""
    match = re.fullmatch(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([KMGT]?I?B?)\s*", text.upper())
    if not match or match.group(2) not in UNITS:
        raise ValueError(text)
    return float(match.group(1)) * UNITS[match.group(2)]


def free_bytes() -> float | None:
    """The machine's available memory now (None when it cannot be told)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def limit(gpu_free: float | None = None) -> tuple[float | None, str]:
    """The most a run may need, and where that limit comes from (in words); `gpu_free` is the free memory of
    the GPU a CUDA run trains on."""
    given = os.environ.get(LIMIT_VARIABLE, "").strip()
    if given:
        try:
            return parse_size(given), f"${LIMIT_VARIABLE} = {given}"
        except ValueError:
            raise ConfigError(
                _("${variable} = {value} is not a size; allowed: a number with KB, MB, GB or TB").format(
                    variable=LIMIT_VARIABLE, value=repr(given[:40])
                )
            ) from None
    free = gpu_free if gpu_free is not None else free_bytes()
    if free is None:
        return None, _("unknown")
    if gpu_free is not None:
        why = _("half the memory free on the GPU; ${variable} sets another limit")
    else:
        why = _("half the memory free on this machine; ${variable} sets another limit")
    return free * LIMIT_SHARE, why.format(variable=LIMIT_VARIABLE)


def check(needed: Estimate, gpu_free: float | None = None) -> Estimate:
    """The estimate, or ConfigError in one sentence when the run would not fit."""
    allowed, why = limit(gpu_free)
    if allowed is not None and needed.total > allowed:
        setting = needed.setting_to_change()
        message = _(
            "this experiment needs about {needed} of memory ({parts}), more than the {allowed} allowed ({why}); "
            "lower {setting}"
        )
        raise ConfigError(
            message.format(
                needed=human(needed.total), parts=needed.parts(), allowed=human(allowed), why=why, setting=_(setting)
            ),
            setting=setting.split(" ")[0],  # the form marks the first setting it names
        )
    return needed
