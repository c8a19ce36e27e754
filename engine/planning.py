"""The plan: everything decided about an experiment before its first step, without training.

Split sizes and the batch arithmetic (⌈n_train / batch⌉ iterations per epoch, total updates),
the model's layers and size, the loss, the device, and for a sweep its members. The engine
sends it as the `plan` event; serve mode answers plan requests with it while the user edits.
"""

from __future__ import annotations

import math

import torch

from nnplay.engine.core import memory
from nnplay.engine.core.batches import iterations_per_epoch, last_batch
from nnplay.engine.core.catalog import DATASETS, IMAGE
from nnplay.engine.core.config import ExperimentConfig, batch_size_of, split_sizes, train_eval_size
from nnplay.engine.core.events import ENGINE_VERSION, PROTOCOL_VERSION
from nnplay.engine.data.load import Dataset, load_dataset, settled
from nnplay.engine.data.split import kfold_indices, split_indices
from nnplay.engine.models import build_model, summarize
from nnplay.engine.runtime import choose_threads, device_info, select_device
from nnplay.engine.training.loop import EVAL_CHUNK
from nnplay.engine.training.losses import Criterion, describe_loss
from nnplay.engine.transfer import apply_transfer


def hello(device: torch.device) -> dict:
    """The fields of the hello event."""
    return {
        "protocol": PROTOCOL_VERSION,
        "engine_version": ENGINE_VERSION,
        "torch_version": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        **device_info(device),
    }


def fold_indices(config: ExperimentConfig, n: int) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(train, val, test) indices: one split, or one per fold with the test part held out of every fold."""
    d = config.data
    if not d.k_folds:
        return [split_indices(n, d.train, d.val, d.test, d.seed)]
    pool, _no_val, test = split_indices(n, 1.0 - d.test, 0.0, d.test, d.seed)
    return [(pool[tr], pool[va], test) for tr, va in kfold_indices(len(pool), d.k_folds, d.seed)]


def n_outputs(config: ExperimentConfig) -> int:
    """Units of the model's last layer: one per class, or one for binary cross-entropy and for the other tasks."""
    if config.task == "classification":
        if config.n_classes is None:  # your own data before it is read: two stands in for the classes found
            assert DATASETS[config.data.dataset].own, "None only for the other tasks and unread own data"
            return 2
        return 1 if config.resolved_loss == "bce" else config.n_classes
    return 1


def estimate_memory(config: ExperimentConfig, dataset: Dataset | None = None) -> memory.Estimate:
    """The run's memory from its config alone (or with the data set once read: its size and sample shape);
    builds the model on the meta device (no allocation)."""
    n, shape = _size_and_shape(config, dataset)
    per_sample = math.prod(shape) + 1
    data = float(n) * per_sample * memory.FLOAT_BYTES * memory.DATA_COPIES
    with torch.device("meta"):
        model = build_model(config, shape, n_outputs(config))
    summary = summarize(model, shape)
    params = float(summary["total_params"])
    outputs = sum(math.prod(layer["output_shape"] or [1]) for layer in summary["layers"])
    n_train = split_sizes(n, config.data.train, config.data.val, config.data.test)[0]
    batch = max(1, min(batch_size_of(config, n_train), n_train))
    train_activations = batch * (outputs + math.prod(shape)) * memory.FLOAT_BYTES * memory.ACTIVATION_COPIES
    widest = max([math.prod(layer["output_shape"] or [1]) for layer in summary["layers"]] or [1])
    eval_activations = min(EVAL_CHUNK, n) * widest * memory.FLOAT_BYTES * 2  # inference keeps no activations
    return memory.Estimate(
        data=data,
        model=params * memory.FLOAT_BYTES * memory.PARAMETER_COPIES,
        activations=float(max(train_activations, eval_activations)),
        members=config.sweep.members,
        batch=batch,
    )


def _size_and_shape(config: ExperimentConfig, dataset: Dataset | None) -> tuple[int, tuple[int, ...]]:
    """Samples and the shape of one, as read or, before that, from the config. Your own data is read before
    it is counted (at most files.MAX_DATA_BYTES of it): until then only the model and a batch are estimated."""
    if dataset is not None:
        return len(dataset), tuple(dataset.input_shape)
    d, info = config.data, DATASETS[config.data.dataset]
    if not info.own:
        return memory.samples_of(config), memory.input_shape_of(config)
    shape = (d.channels, d.image_size, d.image_size) if info.kind == IMAGE else (1,)
    return d.n_samples or 1, shape


def check_memory(config: ExperimentConfig, device: torch.device, dataset: Dataset | None = None) -> memory.Estimate:
    """Before anything is allocated: the run's memory, or ConfigError when it would not fit; with `dataset`
    (your own data, once read) from its real size."""
    gpu_free = float(torch.cuda.mem_get_info(device)[0]) if device.type == "cuda" else None
    return memory.check(estimate_memory(config, dataset), gpu_free)


def make_plan(
    config: ExperimentConfig, dataset: Dataset, device: torch.device, root=None, needed: memory.Estimate | None = None
) -> dict:
    """Everything decided before the first step: split sizes, batch arithmetic, model, loss, device;
    `needed` is the memory estimate check_memory already made (else it is made here).

    Raises ConfigError when model.init_from or model.freeze do not fit the model (`root` is the run store
    init_from may name a run in), or when your own data, now read, would not fit in memory."""
    config = settled(config, dataset)
    if DATASETS[config.data.dataset].own:  # only now is its size known
        needed = check_memory(config, device, dataset)
    folds = fold_indices(config, dataset.x.shape[0])
    train_idx, val_idx, test_idx = folds[0]
    n_train = len(train_idx)
    batch = batch_size_of(config, n_train)
    iterations = iterations_per_epoch(n_train, batch, config.training.drop_last)
    model = build_model(config, dataset.input_shape, n_outputs(config))
    transfer = apply_transfer(model, config, root)
    info = DATASETS[config.data.dataset]
    return {
        "name": config.name,
        "task": config.task,
        "dataset": config.data.dataset,
        "dataset_kind": info.kind,
        "architecture": config.model.architecture,
        "n_samples": dataset.x.shape[0],
        "n_train": n_train,
        "n_val": len(val_idx),
        "n_test": len(test_idx),
        "n_train_eval": train_eval_size(n_train, len(val_idx)),
        "k_folds": config.data.k_folds,
        "input_shape": list(dataset.input_shape),
        "n_classes": dataset.n_classes if config.task == "classification" else None,
        "class_names": dataset.class_names,
        "batch_size": batch,
        "iterations_per_epoch": iterations,
        "last_batch": last_batch(n_train, batch, config.training.drop_last),
        "epochs": config.training.epochs,
        "total_updates": iterations * config.training.epochs * (config.data.k_folds or 1),
        "params": sum(p.numel() for p in model.parameters()),
        "model": summarize(model, dataset.input_shape),
        "loss": config.resolved_loss,
        "loss_description": describe_loss(config),
        "baseline_loss": Criterion(config).baseline(dataset.n_classes),
        "optimizer": config.optimizer.kind,
        "device": str(device),
        "precision": config.training.precision if device.type == "cuda" else "fp32",
        "threads": choose_threads(config),
        "memory_bytes": (needed or estimate_memory(config)).total,
        "sweep": sweep_plan(config),
        "transfer": transfer,
        "data_info": dataset.data_info,
    }


def sweep_plan(config: ExperimentConfig) -> dict | None:
    """Members and how they train, for a sweep; None for a single run. A member whose settings cannot run
    raises ConfigError naming it and the setting."""
    if config.sweep.members < 2:
        return None
    from nnplay.engine.core.sweep_members import member_configs
    from nnplay.engine.sweep import executor_of

    return {
        "members": config.sweep.members,
        "executor": executor_of(config),
        "parameter": config.sweep.parameter,
        "settings": config.sweep.searched,
        "labels": [member.label for member in member_configs(config)],
    }


def plan(
    config: ExperimentConfig, dataset: Dataset | None = None, root=None, needed: memory.Estimate | None = None
) -> dict:
    """The plan for a config, without training (data generated or read, model built on the CPU)."""
    dataset = dataset or load_dataset(config)
    return make_plan(config, dataset, select_device(config.training.device), root, needed)
