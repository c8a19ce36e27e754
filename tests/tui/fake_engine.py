"""A scripted stand-in for `python -m nnplay.engine serve`: the serve protocol of engine/PROTOCOL.md, no torch.

    python tests/tui/fake_engine.py SCENARIO [--runs DIR]

Scenarios (every one answers plan requests like `normal`):
  normal      hello; plans computed from the request's config; runs send plan, epochs with falling
              losses, snapshots (boundary, confusion, layers), diagnosis (final false, then true), done;
              pause, resume, stop and quit behave as in the engine. A sweep (seeds, values or a grid)
              also sends each member's row of results (member_done) spread over the epochs, and
              done's members; a grid its best member, whose verdict the final diagnosis is.
  crash       a run dies with exit code 1 after 3 epochs, a traceback on stderr.
  malformed   a run writes a non-JSON line and a JSON line without "type" after epoch 1, then goes on.
  nan         a run writes NaN and Infinity literals (as json.dumps does by default), then null losses,
              then ends with status "diverged".
  flood       a run writes FAKE_STEPS single-step events as fast as it can, spread over its epochs
              (FAKE_STEPS=0: without end, until a stop).
  slow_start  sleeps 2 s before hello.

Environment: FAKE_EPOCHS (default 20) epochs per run, whatever the config says, so tests stay
short; FAKE_DELAY (default 0.02) seconds per epoch; FAKE_STEPS (default 5000) for flood;
FAKE_COMMAND_LOG: a file each command line received is appended to; FAKE_GATE: a file holding how many
of a sweep's members may end (member_done) so far, so that a test sees the sweep part way. NNPLAY_LANG is the language
spoken, as by the engine (the `language` command switches it): the plan's sentences and, in Korean,
the verdicts (then the real diagnosis's, of the fake's epochs) come from the message catalogs. Plan
*answers* report the config's own epochs, as the engine does. Runs are recorded like the engine's
(config.toml, events.jsonl, status.json, summary.json) under --runs DIR, else $NNPLAY_RUNS, else
a fresh temporary directory (never ./runs, so tests leave nothing behind).

Standard library and the engine's torch-free shared modules only: this must start in milliseconds.
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from nnplay.engine.core.batches import last_batch as last_batch_phrase
from nnplay.engine.core.control import (  # the engine's own reading of a line (torch-free)
    BadCommand,
    Control,
    parse_command,
)
from nnplay.engine.core.i18n import LANGUAGES, _, current_language, resolve_language, set_language

SCENARIOS = ("normal", "crash", "malformed", "nan", "flood", "slow_start")
GRID = 40
DIVERGED_HINT = (
    "The loss became NaN or infinite: lower the learning rate (try 10x smaller), or turn on gradient clipping."
)


class ConfigError(ValueError):
    """The request's config cannot be run (answered as an error event with kind "config")."""


# --- output ---------------------------------------------------------------------------------


class Emitter:
    """Writes events to stdout and to the current run's events.jsonl, one line each, flushed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # plan answers come from the reader thread, runs from the main one
        self.files: list[Any] = []
        self.stdout_open = True

    def emit(self, type_: str, **fields: Any) -> dict:
        event = {"type": type_, "time": round(time.time(), 3), **fields}
        # json.dumps allows NaN and Infinity by default: the nan scenario relies on it.
        self.raw(json.dumps(event, separators=(",", ":")))
        return event

    def raw(self, line: str) -> None:
        with self.lock:
            for file in self.files:
                file.write(line + "\n")
                file.flush()
            if self.stdout_open:
                try:
                    sys.stdout.write(line + "\n")
                    sys.stdout.flush()
                except (BrokenPipeError, ValueError, OSError):  # the app went away; keep recording
                    self.stdout_open = False


# --- config and plan ------------------------------------------------------------------------


def _section(config: dict, name: str) -> dict:
    value = config.get(name) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{name} must be a table of settings; got {value!r}")
    return value


def plan_for(config: dict) -> dict:
    """The plan event's fields for a config, with the engine's batch arithmetic and defaults."""
    data, model, training = _section(config, "data"), _section(config, "model"), _section(config, "training")
    n = data.get("n_samples") or 1000
    if not isinstance(n, int) or n < 10:
        raise ConfigError(f"data.n_samples = {n!r} is not valid; allowed: a whole number from 10 up")
    n_test = round(n * data.get("test", 0.2))
    n_val = round(n * data.get("val", 0.2))
    n_train = n - n_val - n_test
    batch = training.get("batch_size", 32)
    if batch == "full":
        batch = n_train
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ConfigError(f'training.batch_size = {batch!r} is not valid; allowed: a whole number from 1 up, or "full"')
    if batch > n_train:
        raise ConfigError(
            f"training.batch_size = {batch} is larger than the training split ({n_train} of {n} samples); "
            f'allowed: 1 to {n_train}, or "full"'
        )
    epochs = training.get("epochs", 50)
    if not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"training.epochs = {epochs!r} is not valid; allowed: a whole number from 1 to 100000")
    remainder = n_train % batch
    drop = bool(training.get("drop_last")) and remainder
    iterations = n_train // batch if drop else math.ceil(n_train / batch)
    last_batch = last_batch_phrase(n_train, batch, bool(drop))  # the engine's phrase, in the language spoken
    k_folds = data.get("k_folds")
    sweep = _section(config, "sweep")
    settings = sweep_settings(config)
    labels = [member_label(one) for one in settings]
    parameter = sweep.get("parameter", "none")
    summary = mlp_summary(2, list(model.get("hidden", [16, 16])), 2)
    return {
        "name": config.get("name", "experiment"),
        "task": config.get("task", "classification"),
        "dataset": data.get("dataset", "moons"),
        "dataset_kind": "points",
        "architecture": model.get("architecture", "mlp"),
        "n_samples": n,
        "n_train": n_train,
        "n_val": n_val,
        "n_test": n_test,
        "n_train_eval": min(n_train, max(256, n_val)),
        "k_folds": k_folds,
        "input_shape": [2],
        "n_classes": 2,
        "class_names": ["0", "1"],
        "batch_size": batch,
        "iterations_per_epoch": iterations,
        "last_batch": last_batch,
        "epochs": epochs,
        "total_updates": iterations * epochs * (k_folds or 1),
        "params": summary["total_params"],
        "model": summary,
        "loss": "cross_entropy",
        "loss_description": _("cross-entropy over the class logits (softmax inside)"),
        "baseline_loss": math.log(2),
        "optimizer": _section(config, "optimizer").get("kind", "adam"),
        "device": "cpu",
        "precision": "fp32",
        "threads": 1,
        "memory_bytes": 1000.0 * n,
        "sweep": {
            "members": len(labels),
            "executor": "processes" if sweep.get("grid") else "batched",
            "parameter": parameter,
            "settings": list(sweep.get("grid") or {}),
            "labels": labels,
        }
        if len(labels) > 1
        else None,
        "transfer": None,
    }


def sweep_settings(config: dict) -> list[dict]:
    """Each member's changed settings, as engine/core/sweep_members.py makes them: a grid's combinations (the
    first setting slowest) crossed with the seeds, a strength sweep's values, or the seeds; [{}] for a run."""
    sweep, seed = _section(config, "sweep"), _section(config, "training").get("seed", 0)
    seeds = [seed + k for k in range(sweep.get("seeds", 1))]
    if sweep.get("parameter", "none") != "none":
        return [{f"regularization.{sweep['parameter']}": v} for v in sweep.get("values") or []]
    combinations: list[dict] = [{}]
    for name, values in (sweep.get("grid") or {}).items():
        combinations = [{**c, name: v} for c in combinations for v in values]
    rows = [{**c, "training.seed": s} if len(seeds) > 1 or not c else c for c in combinations for s in seeds]
    return rows if len(rows) > 1 else [{}]


def member_label(settings: dict) -> str:
    """'lr=0.1, batch_size=16', 'seed 1'."""
    parts = []
    for name, value in settings.items():
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f"seed {value}" if name == "training.seed" else f"{name.rpartition('.')[2]}={shown}")
    return ", ".join(parts)


def member_row(k: int, settings: dict, n: int) -> dict:
    """A member's row of the results, as member_done and done carry it: scores that differ by member, not in
    member order (member 1 of 4 is best)."""
    accuracy = round(0.78 + 0.19 * ((k * 7) % n) / max(1, n - 1), 3)
    return {
        "member": k,
        "label": member_label(settings),
        "settings": settings,
        "status": "completed",
        "best_epoch": 3,
        "best_val_loss": round(1 - accuracy, 3),
        "val": {"loss": round(1 - accuracy, 3), "accuracy": accuracy},
        "test": {"loss": round(1.02 - accuracy, 3), "accuracy": round(accuracy - 0.01, 3)},
        "verdict": "good fit" if accuracy > 0.9 else "still improving",
        "duration_s": 1.5 * (k + 1),
        "run_dir": None,
        "error": None,
    }


def mlp_summary(n_in: int, hidden: list[int], n_out: int) -> dict:
    """The plan's `model` field for an MLP, with the engine's layer names."""
    layers = [{"name": "flatten", "type": "Flatten", "output_shape": [n_in], "params": 0}]
    width = n_in
    for i, size in enumerate(hidden):
        layers.append(
            {"name": f"hidden.{i}.linear", "type": "Linear", "output_shape": [size], "params": width * size + size}
        )
        layers.append({"name": f"hidden.{i}.activation", "type": "ReLU", "output_shape": [size], "params": 0})
        width = size
    layers.append({"name": "head", "type": "Linear", "output_shape": [n_out], "params": width * n_out + n_out})
    total = sum(layer["params"] for layer in layers)
    return {"layers": layers, "total_params": total, "trainable_params": total}


def to_toml(config: dict) -> str:
    """A plain config as TOML (scalars, lists, one level of tables): enough for load_run to read."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, int | float):
            return repr(v)
        return json.dumps(str(v))

    lines = [f"{k} = {value(v)}" for k, v in config.items() if not isinstance(v, dict) and v is not None]
    for key, table in config.items():
        if isinstance(table, dict):
            lines += ["", f"[{key}]"] + [
                f"{k} = {value(v)}" for k, v in table.items() if v is not None and not isinstance(v, dict)
            ]
    return "\n".join(lines) + "\n"


# --- runs -----------------------------------------------------------------------------------


class RunDir:
    """The run directory, as engine.runs.RunWriter lays it out."""

    def __init__(self, root: Path, name: str, config: dict) -> None:
        root.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "run"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for n in range(1000):
            self.path = root / (f"{stamp}-{slug}" + (f"-{n}" if n else ""))
            try:
                self.path.mkdir()
                break
            except FileExistsError:
                continue
        (self.path / "config.toml").write_text(to_toml(config), encoding="utf-8")
        self.events = open(self.path / "events.jsonl", "a", encoding="utf-8")
        self.status("running")

    def status(self, status: str) -> None:
        info = {"status": status, "pid": os.getpid(), "host": os.uname().nodename, "updated": time.time()}
        (self.path / "status.json").write_text(json.dumps(info), encoding="utf-8")

    def finish(self, status: str, summary: dict) -> None:
        (self.path / "summary.json").write_text(json.dumps(summary, allow_nan=False, default=str), encoding="utf-8")
        self.status(status)
        self.events.close()


def epoch_metrics(epoch: int, epochs: int, iterations: int, started: float) -> dict:
    """Plausible numbers for one epoch: losses fall, accuracy rises, validation trails training."""
    train_loss = 0.05 + 0.65 * math.exp(-epoch / 6)
    val_loss = train_loss * 1.08 + 0.01
    elapsed = time.time() - started
    return {
        "epoch": epoch,
        "epochs": epochs,
        "iterations": iterations * epoch,
        "train_loss_running": train_loss * 1.05,
        "train_loss": train_loss,
        "val_loss": val_loss,
        "gap": val_loss - train_loss,
        "train_accuracy": min(0.99, 0.5 + 0.48 * (1 - math.exp(-epoch / 5))),
        "val_accuracy": min(0.98, 0.5 + 0.45 * (1 - math.exp(-epoch / 5))),
        "penalty": 0.0,
        "lr": 0.01,
        "grad_norm": 0.5 * math.exp(-epoch / 10),
        "weight_norm": 2.5 + 0.05 * epoch,
        "time_s": 0.002,
        "samples_per_s": 60000.0,
        "elapsed_s": elapsed,
        "eta_s": elapsed / epoch * (epochs - epoch),
        "best_epoch": epoch,
        "best_val_loss": val_loss,
        "gpu_memory_mb": None,
    }


def snapshots(emitter: Emitter, epoch: int, fold: int | None) -> None:
    """boundary, confusion and layers views of a two-class, two-feature model."""
    axis = [round(-2 + 4 * i / (GRID - 1), 3) for i in range(GRID)]
    sharp = 1 + epoch / 4
    confidence = [[round(1 / (1 + math.exp(-sharp * abs(x - y))), 2) for x in axis] for y in axis]
    pred = [[int(x > y) for x in axis] for y in axis]
    points = {"x": [axis[i % GRID] for i in range(0, 300, 3)], "y": [axis[(i * 7) % GRID] for i in range(0, 300, 3)]}
    points["label"] = [int(x > y) for x, y in zip(points["x"], points["y"], strict=True)]
    common = {"epoch": epoch, "fold": fold}
    emitter.emit(
        "snapshot",
        **common,
        view="boundary",
        x=axis,
        y=axis,
        pred=pred,
        confidence=confidence,
        points=points,
        class_names=["0", "1"],
    )
    emitter.emit("snapshot", **common, view="confusion", matrix=[[18, 2], [3, 17]], class_names=["0", "1"])
    emitter.emit(
        "snapshot",
        **common,
        view="layers",
        layers=["hidden.0.linear", "hidden.1.linear", "head"],
        weight_norm=[1.8, 1.9, 1.0],
        grad_norm=[0.1, 0.12, 0.09],
        sparsity=[0.0, 0.01, 0.0],
        sparse_below=1e-3,
    )


def diagnosis(history: list[dict], final: bool, verdict: str | None = None) -> dict:
    gap = [[e["epoch"], e["gap"]] for e in history if isinstance(e.get("gap"), float) and math.isfinite(e["gap"])]
    finite = [e for e in history if isinstance(e.get("val_loss"), float) and math.isfinite(e["val_loss"])]
    best = min(finite, key=lambda e: e["val_loss"]) if finite else None
    fields = {
        "final": final,
        "best_epoch": best["epoch"] if best else None,
        "best_val_loss": best["val_loss"] if best else None,
        "generalization_gap": gap,
        "final_gap": gap[-1][1] if gap else None,
        "overfitting_epoch": None,
        "early_stopping": None,
        "patience": 10,
        "verdict": verdict or ("good fit" if best else "unknown"),
        "explanation": "Training and validation loss fell together and stayed close.",
        "advice": "Nothing to fix; try a harder data set.",
        "kept_epoch": (history[-1]["epoch"] if history else None) if final else None,
        "notes": [],
    }
    if current_language() != "en" and finite:  # the words of the engine's own diagnosis, translated
        from nnplay.engine.core.diagnosis import diagnose

        judged = diagnose(history, 10, 0.0, math.log(2), status="diverged" if verdict == "diverged" else None)
        fields.update({k: judged[k] for k in ("verdict", "explanation", "advice", "notes")})
    if not final:
        fields["epoch"] = history[-1]["epoch"] if history else 0
        fields["fold"] = None
    return fields


class FakeServer:
    def __init__(self, scenario: str, runs_root: Path, emitter: Emitter) -> None:
        self.scenario = scenario
        self.runs_root = runs_root
        self.emitter = emitter
        self.control = Control()
        self.jobs: queue.Queue[dict | None] = queue.Queue()
        self.quitting = False
        self.epochs = int(os.environ.get("FAKE_EPOCHS", "20"))
        self.delay = float(os.environ.get("FAKE_DELAY", "0.02"))
        self.flood_steps = int(os.environ.get("FAKE_STEPS", "5000"))

    def wait_at_gate(self, member: int) -> None:
        """With FAKE_GATE set, a member ends only once that file holds a number above its index (or on a
        stop): a test sees the sweep with no member, then one, finished, for as long as it needs."""
        gate = os.environ.get("FAKE_GATE")
        while gate and not self.control.stop_requested:
            try:
                allowed = int(Path(gate).read_text(encoding="utf-8") or 0)
            except (OSError, ValueError):
                allowed = 0
            if member < allowed:
                return
            time.sleep(0.01)

    # requests (reader thread)

    def read_requests(self) -> None:
        for line in sys.stdin:
            try:
                command = parse_command(line)
            except BadCommand as exc:  # answered as the engine answers it
                self.emitter.emit("error", id=None, kind="protocol", message=str(exc), traceback=None)
                continue
            if command is not None:
                self.on_command(command)
        self.quit()  # end of input: the app is gone

    def on_command(self, command: dict) -> None:
        cmd = command.get("cmd")
        if os.environ.get("FAKE_COMMAND_LOG"):  # what the app sent, for tests to read
            with open(os.environ["FAKE_COMMAND_LOG"], "a", encoding="utf-8") as log:
                log.write(json.dumps(command) + "\n")
        if cmd == "language" and command.get("lang") in LANGUAGES:
            set_language(command["lang"])
            self.emitter.emit("language", id=command.get("id"), lang=command["lang"])
        elif cmd == "pause":
            self.control.pause()
        elif cmd == "resume":
            self.control.resume()
        elif cmd == "stop":
            self.control.stop()
        elif cmd == "plan":
            try:
                self.emitter.emit("plan", id=command.get("id"), **plan_for(command.get("config") or {}))
            except ConfigError as exc:
                self.emitter.emit("error", id=command.get("id"), kind="config", message=str(exc), traceback=None)
        elif cmd == "run":
            self.jobs.put(command)
        elif cmd == "quit":
            self.quit()
        else:
            self.emitter.emit(
                "error",
                id=command.get("id"),
                kind="protocol",
                traceback=None,
                message=f"unknown command {cmd!r}; allowed: plan, run, pause, resume, stop, language, quit",
            )

    def quit(self) -> None:
        self.quitting = True  # runs still queued are dropped, not started
        self.control.stop()
        self.jobs.put(None)

    # runs (main thread)

    def run_jobs(self) -> None:
        while (request := self.jobs.get()) is not None and not self.quitting:
            self.control.reset()
            config = request.get("config") or {}
            try:
                plan = plan_for(config)
            except ConfigError as exc:
                self.emitter.emit("error", id=request.get("id"), kind="config", message=str(exc), traceback=None)
                continue
            self.run(config, plan)

    def run(self, config: dict, plan: dict) -> None:
        training = config.get("training") or {}
        snapshot_every = int(training.get("snapshot_every", 5))
        step_every = int(training.get("step_every", 0))
        epochs, iterations = self.epochs, plan["iterations_per_epoch"]
        plan = {**plan, "epochs": epochs, "total_updates": iterations * epochs * (plan["k_folds"] or 1)}
        run_dir = RunDir(self.runs_root, plan["name"], config)
        self.emitter.files.append(run_dir.events)
        started = time.time()
        self.emitter.emit("plan", run_dir=str(run_dir.path), **plan)
        history: list[dict] = []
        status = "completed"
        sweep = sweep_settings(config) if plan.get("sweep") else []
        members = [member_row(k, one, len(sweep)) for k, one in enumerate(sweep)]
        ended: list[dict] = []
        for epoch in range(1, epochs + 1):
            self.control.wait_if_paused()  # paused: no events until resume or stop
            if self.control.stop_requested:
                status = "stopped"
                break
            if self.scenario == "flood" and not self.flood_steps:  # FAKE_STEPS=0: flood until told to stop
                i = 0
                while not self.control.stop_requested:
                    i += 1
                    self.emitter.emit("step", fold=None, steps=[[epoch, i, 0.5]])
            elif self.scenario == "flood":
                per_epoch = self.flood_steps // epochs
                for i in range(per_epoch):
                    self.emitter.emit("step", fold=None, steps=[[epoch, (epoch - 1) * per_epoch + i + 1, 0.5]])
            elif step_every:
                steps = [
                    [epoch, (epoch - 1) * iterations + i + 1, 0.7 * math.exp(-epoch / 6)] for i in range(iterations)
                ]
                self.emitter.emit("step", fold=None, steps=steps)
            if self.delay:
                time.sleep(self.delay)
            record = {**epoch_metrics(epoch, epochs, iterations, started), "fold": None}
            if self.scenario == "nan" and epoch == 3:
                record.update(
                    train_loss_running=math.nan,
                    train_loss=math.nan,
                    val_loss=math.inf,
                    gap=math.nan,
                    grad_norm=math.inf,
                )
            elif self.scenario == "nan" and epoch == 4:
                record.update(train_loss_running=None, train_loss=None, val_loss=None, gap=None, grad_norm=None)
            self.emitter.emit("epoch", **record)
            history.append(record)
            for row in members:  # members end one by one, spread over the epochs
                if row not in ended and math.ceil((row["member"] + 1) * epochs / len(members)) <= epoch:
                    self.wait_at_gate(row["member"])
                    self.emitter.emit("member_done", **row)
                    ended.append(row)
            if self.scenario == "malformed" and epoch == 1:
                self.emitter.raw("this line is not JSON")
                self.emitter.raw(json.dumps({"epoch": 1, "note": "a JSON object without type"}))
            if self.scenario == "crash" and epoch == 3:
                try:
                    raise RuntimeError("fake engine crashed on purpose")
                except RuntimeError:
                    traceback.print_exc()
                sys.stderr.flush()
                os._exit(1)
            if self.scenario == "nan" and epoch == 4:
                status = "diverged"
                break
            if epoch % snapshot_every == 0:
                snapshots(self.emitter, epoch, None)
                self.emitter.emit("diagnosis", **diagnosis(history, final=False))
        if history:  # as the engine: no views of a model that finished no epoch
            snapshots(self.emitter, history[-1]["epoch"], None)
        verdict = "diverged" if status == "diverged" else None
        final_diagnosis = diagnosis(history, final=True, verdict=verdict)
        best_member = None
        if members and plan["sweep"]["settings"]:  # a grid: its verdict is its best member's
            from nnplay.engine.core.sweep_results import best_member as choose

            best_member = choose(members)
            label = next(row["label"] for row in members if row["member"] == best_member)
            final_diagnosis.update(member=best_member, label=label)
        self.emitter.emit("diagnosis", **final_diagnosis)
        final = {k: v for k, v in history[-1].items() if k not in ("epochs", "fold", "iterations")} if history else None
        if final and status == "diverged":
            final = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in final.items()}
        test = {"loss": 0.12, "accuracy": 0.95} if status != "diverged" else {"loss": None, "accuracy": 0.5}
        best = final_diagnosis["best_epoch"]
        hint = DIVERGED_HINT if status == "diverged" else None
        measured = best is not None
        kept = {
            "epoch": best,
            "weights": ("last finite" if status == "diverged" else "best") if measured else None,
            "n_train": plan["n_train"],
            "train": {"loss": 0.1, "accuracy": 0.97} if measured else None,
            "val": {"loss": 0.11, "accuracy": 0.96} if measured else None,
            "test": test if measured else None,
        }
        done = self.emitter.emit(
            "done",
            status=status,
            run_dir=str(run_dir.path),
            final=final,
            kept=kept,
            test=test,
            best_epoch=best,
            weights_epoch=best,
            verdict=final_diagnosis["verdict"],
            hint=hint,
            **({"members": members, "best_member": best_member} if members else {}),
        )
        self.emitter.files.remove(run_dir.events)
        summary = {
            "id": run_dir.path.name,
            "run_dir": str(run_dir.path),
            "name": plan["name"],
            "status": status,
            "task": plan["task"],
            "dataset": plan["dataset"],
            "architecture": plan["architecture"],
            "started": started,
            "duration_s": time.time() - started,
            "epochs_run": len(history),
            "final": final,
            "best_epoch": best,
            "best_val_loss": final_diagnosis["best_val_loss"],
            "weights_epoch": best,
            "kept": kept,
            "test": test,
            "folds": None,
            "verdict": done["verdict"],
            "diagnosis": final_diagnosis,
            "plan": {k: v for k, v in plan.items() if k != "model"},
            "hint": hint,
            **({"members": members, "best_member": best_member} if members else {}),
        }
        run_dir.finish(status, summary)


def main(argv: list[str]) -> int:
    args = argv[1:]
    scenario = args[0] if args and not args[0].startswith("-") else "normal"
    if scenario not in SCENARIOS:
        print(f"unknown scenario {scenario!r}; allowed: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    root = args[args.index("--runs") + 1] if "--runs" in args else os.environ.get("NNPLAY_RUNS")
    runs_root = Path(root) if root else Path(tempfile.mkdtemp(prefix="fake-engine-runs-"))
    set_language(resolve_language())  # NNPLAY_LANG, as the app starts its engine
    if scenario == "slow_start":
        time.sleep(2.0)  # the real engine takes seconds to import torch
    emitter = Emitter()
    emitter.emit(
        "hello",
        mode="serve",
        protocol=1,
        engine_version="0.1.0-fake",
        torch_version="fake",
        cuda_available=False,
        device="cpu",
        device_name="fake CPU",
        memory_total_mb=1024,
    )
    server = FakeServer(scenario, runs_root, emitter)
    threading.Thread(target=server.read_requests, name="requests", daemon=True).start()
    server.run_jobs()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
