"""The workloads and the ways of training them that bench/run.py compares.

Every style trains the same model (same layers and sizes) on the same data sizes with Adam,
learning rate 1e-2, for the same number of epochs, and returns seconds per epoch measured
between the end of its first epoch and the end of its last, so start-up and the first,
warming-up epoch are left out alike:

  ref            plain idiomatic PyTorch: DataLoader(TensorDataset), torch.optim.Adam,
                 loss.item() every step, a validation pass with .item() every epoch
  tight          hand-written and tensor-resident: randperm index slices, the loss summed on the
                 device, one host sync per epoch, torch.optim.Adam with its defaults
  tight+fused    tight with torch.optim.Adam(fused=True) (foreach=True where the device has no
                 fused kernel): the best a user could write
  engine         nnplay's engine in this process (experiment.run): metrics, diagnosis,
                 snapshots and the run directory on, events to an Emitter without a stream
  engine+stream  `python -m nnplay.engine` as a subprocess read as the app reads it, while the
                 reader also redraws charts (bench/stream_reader.py)
  lightning      a LightningModule and Trainer with the ref's DataLoaders, where lightning is
                 installed (the `bench` extra)
"""

from __future__ import annotations

import logging
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import stream_reader
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from nnplay.engine import experiment, planning
from nnplay.engine.core.config import validate
from nnplay.engine.core.events import Emitter
from nnplay.engine.data.load import load_dataset
from nnplay.engine.data.split import split_indices

LR = 1e-2
SPLIT = {"train": 0.8, "val": 0.1, "test": 0.1}
# Where every style trains: bench/run.py's --device (auto: CUDA when there is a GPU, else the CPU).
DEVICE = torch.device("cpu")


def set_device(name: str) -> torch.device:
    """Train every style on `name` (cpu, cuda or auto) from now on; returns the device chosen."""
    global DEVICE
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    DEVICE = torch.device(name)
    return DEVICE


@dataclass(frozen=True)
class Workload:
    """One model on one data set at one batch size, trained for `epochs` timed epochs."""

    name: str
    title: str
    config: dict  # the engine's config, as plain data (training.epochs is set per measurement)
    epochs: int
    make_model: Callable[[], nn.Module]  # the same layers, written in plain PyTorch for ref and tight

    @property
    def batch_size(self) -> int:
        return self.config["training"]["batch_size"]

    @property
    def task(self) -> str:
        return self.config.get("task", "classification")

    def engine_config(self, epochs: int) -> dict:
        training = {**self.config["training"], "epochs": epochs, "device": DEVICE.type}
        return {**self.config, "training": training}


class LastStep(nn.Module):
    """An LSTM over (batch, time, features) whose last step's output feeds a linear head."""

    def __init__(self, features: int, hidden: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )


def lstm() -> nn.Module:
    return LastStep(1, 32)


def _moons(batch: int) -> dict:
    return {
        "name": f"bench-moons-b{batch}",
        "data": {"dataset": "moons", "n_samples": 1250, **SPLIT},  # 1,000 training samples
        "model": {"architecture": "mlp", "hidden": [64, 64]},
        "optimizer": {"kind": "adam", "lr": LR},
        "training": {"batch_size": batch, "device": "cpu"},
    }


# Epochs are chosen so that one style's measurement takes a second or two here.
WORKLOADS = [
    Workload("moons-b16", "moons MLP 2-64-64-2, batch 16", _moons(16), 40, mlp),
    Workload("moons-b64", "moons MLP 2-64-64-2, batch 64", _moons(64), 120, mlp),
    Workload("moons-b256", "moons MLP 2-64-64-2, batch 256", _moons(256), 300, mlp),
    Workload(
        "digits-cnn",
        "digits CNN conv16-conv32-linear, batch 64",
        {
            "name": "bench-digits-cnn",
            "data": {"dataset": "digits", **SPLIT},
            "model": {"architecture": "cnn", "conv_channels": [16, 32], "kernel_size": 3},
            "optimizer": {"kind": "adam", "lr": LR},
            "training": {"batch_size": 64, "device": "cpu"},
        },
        40,
        cnn,
    ),
    Workload(
        "sine-lstm",
        "sine forecasting LSTM(32), seq 20, batch 64",
        {
            "name": "bench-sine-lstm",
            "task": "forecasting",
            "data": {"dataset": "sine_forecast", "n_samples": 1250, "seq_len": 20, **SPLIT},
            "model": {"architecture": "lstm", "rnn_hidden": 32},
            "optimizer": {"kind": "adam", "lr": LR},
            "training": {"batch_size": 64, "device": "cpu"},
        },
        30,
        lstm,
    ),
]


@dataclass
class Data:
    """The workload's training and validation tensors, standardized, in this process's memory
    (each style moves them to DEVICE its own way)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor

    @property
    def n_train(self) -> int:
        return len(self.x_train)


def prepare(workload: Workload) -> Data:
    """The engine's own data set and split for the workload, so every style sees the same sizes."""
    config = validate(workload.engine_config(1))
    dataset = load_dataset(config)
    d = config.data
    train, val, _ = split_indices(len(dataset.x), d.train, d.val, d.test, d.seed)
    x = dataset.x
    x = (x - x[train].mean()) / x[train].std()
    y = dataset.y
    if workload.task != "classification":
        y = (y - y[train].mean()) / y[train].std()
    return Data(x[train].contiguous(), y[train].contiguous(), x[val].contiguous(), y[val].contiguous())


def check_same_model(workload: Workload) -> tuple[int, int]:
    """Parameter counts of the plain model and of the engine's plan (they must agree)."""
    plain = sum(p.numel() for p in workload.make_model().parameters())
    planned = planning.plan(validate(workload.engine_config(1)))["params"]
    return plain, planned


def loss_function(workload: Workload):
    return F.cross_entropy if workload.task == "classification" else F.mse_loss


# --- the styles ---------------------------------------------------------------------------
# Each returns {"s_per_epoch": ..., ...}: seconds per epoch over `epochs` epochs after a first one.


def run_ref(workload: Workload, data: Data, epochs: int) -> dict:
    torch.manual_seed(0)
    model = workload.make_model().to(DEVICE)
    loss_fn = loss_function(workload)
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    pin = DEVICE.type == "cuda"  # as the PyTorch tutorials do for a GPU
    train_loader = DataLoader(
        TensorDataset(data.x_train, data.y_train), batch_size=workload.batch_size, shuffle=True, pin_memory=pin
    )
    val_loader = DataLoader(TensorDataset(data.x_val, data.y_val), batch_size=workload.batch_size, pin_memory=pin)
    marks = []
    for _ in range(epochs + 1):
        model.train()
        losses = []
        for xb, yb in train_loader:
            xb, yb = xb.to(DEVICE, non_blocking=True), yb.to(DEVICE, non_blocking=True)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for xb, yb in val_loader:
                xb, yb = xb.to(DEVICE, non_blocking=True), yb.to(DEVICE, non_blocking=True)
                total += loss_fn(model(xb), yb).item() * len(xb)
                count += len(xb)
        _history = (sum(losses) / len(losses), total / count)
        marks.append(time.perf_counter())
    return {"s_per_epoch": (marks[-1] - marks[0]) / epochs}


def fused_adam(params) -> tuple[torch.optim.Optimizer, str]:
    """torch.optim.Adam with its fused kernel where torch has one for DEVICE (CUDA, and the CPU for
    float32 since torch 2.4), else its foreach (multi-tensor) kernel; and which one it is."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=LR, fused=True), "fused"
    except RuntimeError:  # "`fused=True` requires all the params to be ... on a supported device"
        return torch.optim.Adam(params, lr=LR, foreach=True), "foreach"


def run_tight(workload: Workload, data: Data, epochs: int) -> dict:
    # torch.optim.Adam as one writes it (its default, unfused implementation on the CPU): the fused
    # kernel the engine chooses is one of the things it does better than the hand-written loop.
    return _tight(workload, data, epochs, lambda params: (torch.optim.Adam(params, lr=LR), "default"))


def run_tight_fused(workload: Workload, data: Data, epochs: int) -> dict:
    """The hand-written loop with the fastest Adam torch offers on the device."""
    return _tight(workload, data, epochs, fused_adam)


def _tight(workload: Workload, data: Data, epochs: int, make_optimizer) -> dict:
    torch.manual_seed(0)
    model = workload.make_model().to(DEVICE)
    x_train, y_train, x_val, y_val = (t.to(DEVICE) for t in (data.x_train, data.y_train, data.x_val, data.y_val))
    loss_fn = loss_function(workload)
    optimizer, kind = make_optimizer(model.parameters())
    generator = torch.Generator(device=DEVICE).manual_seed(0)
    n, batch = data.n_train, workload.batch_size
    marks = []
    for _ in range(epochs + 1):
        model.train()
        order = torch.randperm(n, generator=generator, device=DEVICE)
        loss_sum = torch.zeros((), device=DEVICE)
        for start in range(0, n, batch):
            idx = order[start : start + batch]
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * idx.shape[0]
        model.eval()
        with torch.no_grad():
            val_loss = loss_fn(model(x_val), y_val)
        _history = torch.stack([loss_sum / n, val_loss]).tolist()  # the one host sync per epoch
        marks.append(time.perf_counter())
    return {"s_per_epoch": (marks[-1] - marks[0]) / epochs, "adam": kind}


def thread_schedule() -> tuple[float, float] | None:
    """This thread's seconds on a CPU and seconds runnable but waiting for one (Linux's schedstat)."""
    try:
        on_cpu, waiting, _ = Path("/proc/thread-self/schedstat").read_text().split()
    except (OSError, ValueError):
        return None
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def run_engine(workload: Workload, epochs: int, runs_root: Path) -> dict:
    config = validate(workload.engine_config(epochs + 1))
    marks: list[tuple[float, float]] = []
    schedule: list[tuple[float, float] | None] = []  # the training thread's, at the first and the last epoch

    def on_event(event: dict) -> None:
        if event["type"] == "epoch":
            marks.append((time.perf_counter(), event["time_s"]))
            if len(marks) in (1, epochs + 1):
                schedule.append(thread_schedule())

    started = time.perf_counter()
    summary = experiment.run(config, emitter=Emitter(callback=on_event), root=runs_root)
    ended = time.perf_counter()
    if summary["status"] != "completed" or len(marks) != epochs + 1:
        raise RuntimeError(f"engine run of {workload.name} ended {summary['status']} after {len(marks)} epochs")
    window = marks[-1][0] - marks[0][0]
    first, last = schedule
    return {
        "s_per_epoch": window / epochs,
        "waiting_for_a_core": None if first is None or last is None else (last[1] - first[1]) / window,
        "cpu_s_per_epoch": None if first is None or last is None else (last[0] - first[0]) / epochs,
        "time_s_per_epoch": statistics.fmean(t for _, t in marks[1:]),
        "whole_run_s_per_epoch": (ended - started) / (epochs + 1),
        "start_s": marks[0][0] - started,
    }


def run_stream(workload: Workload, epochs: int, runs_root: Path, frame_s: float | None) -> dict:
    """`python -m nnplay.engine` with the config as the first stdin line, read as the app reads it
    while the reader redraws charts every `frame_s` seconds (None: reads only)."""
    return stream_reader.run(workload.engine_config(epochs + 1), epochs, runs_root, frame_s, workload.name)


def lightning_module():
    """lightning.pytorch, or None with the reason when it does not import (the `bench` extra installs
    it); pytorch_lightning, the older name of the same package, is tried second."""
    reasons = []
    for name in ("lightning.pytorch", "pytorch_lightning"):
        try:
            module = __import__(name, fromlist=["Trainer"])
        except ImportError as exc:
            reasons.append(str(exc))
            continue
        # Its start-up chatter ("GPU available: False", "Trainer(...) was configured ...") would fill
        # the bench's log, once per run.
        for logger in ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning", "lightning_fabric"):
            logging.getLogger(logger).setLevel(logging.ERROR)
        return module, None
    return None, f"skipped: lightning does not import ({'; '.join(reasons)}); `pip install -e .[bench]` installs it"


def run_lightning(workload: Workload, data: Data, epochs: int, pl) -> dict:
    """Idiomatic Lightning: a LightningModule that logs its epoch losses, Adam, a Trainer on DEVICE with
    logging, checkpoints, the progress bar, the summary and the sanity check off (none of which the
    other styles do), fed the ref's DataLoaders. Timed like the others: end of the first epoch (its
    validation included) to the end of the last."""
    loss_fn = loss_function(workload)

    class Module(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.model = workload.make_model()

        def training_step(self, batch, _index):
            xb, yb = batch
            loss = loss_fn(self.model(xb), yb)
            self.log("train_loss", loss, on_step=False, on_epoch=True)
            return loss

        def validation_step(self, batch, _index):
            xb, yb = batch
            self.log("val_loss", loss_fn(self.model(xb), yb), on_epoch=True)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=LR)

    marks: list[float] = []

    class Marks(pl.Callback):
        # Lightning validates at the end of the training epoch, before this hook.
        def on_train_epoch_end(self, trainer, module) -> None:
            marks.append(time.perf_counter())

    torch.manual_seed(0)
    pin = DEVICE.type == "cuda"
    trainer = pl.Trainer(
        max_epochs=epochs + 1,
        accelerator="gpu" if DEVICE.type == "cuda" else "cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[Marks()],
    )
    with warnings.catch_warnings():
        # "The 'train_dataloader' does not have many workers": the ref's loaders, on purpose.
        warnings.simplefilter("ignore")
        trainer.fit(
            Module(),
            DataLoader(
                TensorDataset(data.x_train, data.y_train), batch_size=workload.batch_size, shuffle=True, pin_memory=pin
            ),
            DataLoader(TensorDataset(data.x_val, data.y_val), batch_size=workload.batch_size, pin_memory=pin),
        )
    if len(marks) != epochs + 1:
        raise RuntimeError(f"lightning run of {workload.name} ended after {len(marks)} epochs")
    return {"s_per_epoch": (marks[-1] - marks[0]) / epochs}
