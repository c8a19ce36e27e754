"""The one place for device choice, seeding, threads and precision."""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

from nnplay.engine.core.config import ConfigError, ExperimentConfig
from nnplay.engine.core.i18n import _

# Small models on small data are bound by per-step overhead, where extra threads only add
# synchronisation: measured here, the digits CNN trained 7-20x slower on 2 threads than on 1.
# One thread also leaves a core for the app. training.threads overrides this.
DEFAULT_THREADS = 1


def select_device(preference: str) -> torch.device:
    """auto = cuda, then mps, then cpu; asking for a device that is absent is a config error."""
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if preference == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if preference == "cuda" and not cuda:
        raise ConfigError(
            _("training.device = 'cuda' but no CUDA device is available here; allowed: auto, cpu"),
            setting="training.device",
        )
    if preference == "mps" and not mps:
        raise ConfigError(
            _("training.device = 'mps' but no Apple GPU is available here; allowed: auto, cpu"),
            setting="training.device",
        )
    return torch.device(preference)


def choose_threads(config: ExperimentConfig) -> int:
    """CPU threads for this run: the config's choice, else one."""
    return config.training.threads or DEFAULT_THREADS


def configure(config: ExperimentConfig) -> torch.device:
    """Seed everything, set threads and determinism; return the device to train on."""
    device = select_device(config.training.device)
    torch.set_num_threads(choose_threads(config))
    seed_everything(config.training.seed)
    if config.training.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    return device


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all CUDA devices included)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA; a no-op elsewhere (CPU bf16 is slower than fp32 for these models)."""
    if precision == "bf16" and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def device_info(device: torch.device) -> dict:
    """Name and memory of the device, for the hello event."""
    info: dict = {"device": str(device), "device_name": "CPU", "memory_total_mb": None}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(device_name=props.name, memory_total_mb=round(props.total_memory / 2**20))
    elif device.type == "mps":
        info["device_name"] = "Apple GPU (mps)"
    else:
        info["device_name"] = _("CPU ({cores} cores)").format(cores=os.cpu_count())
        try:  # physical memory, for a CPU the memory the run can use
            info["memory_total_mb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20)
        except (ValueError, OSError, AttributeError):
            pass
    return info


def memory_in_use_mb(device: torch.device) -> float | None:
    """GPU memory held by tensors, for epoch events (None off CUDA)."""
    if device.type == "cuda":
        return round(torch.cuda.memory_allocated(device) / 2**20, 1)
    return None
