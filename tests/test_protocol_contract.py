"""The protocol's contract: engine/core/protocol.py agrees with engine/PROTOCOL.md, and everything the
real engine writes in every mode conforms to it, as does the fake engine the app's tests use.

Single runs, k-fold and sweeps run in this process (experiment.run with an Emitter collecting events,
each passed through the JSON encoding that stdout uses); a stopped run and config errors go through
`python -m nnplay.engine`, plan answers and runs through `python -m nnplay.engine serve`. Every run is
tiny: the whole file spends most of its time importing torch in the subprocesses.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal, get_args, get_origin

import pytest
import tomli_w

from nnplay.engine import experiment
from nnplay.engine.core.config import ExperimentConfig, validate
from nnplay.engine.core.events import EVENT_TYPES, Emitter, encode
from nnplay.engine.core.protocol import (
    BAND_METRICS,
    COMMAND_SCHEMAS,
    EVENT_SCHEMAS,
    VIEW_SCHEMAS,
    EpochFields,
    SnapshotEvent,
    check_command,
    check_event,
    find_problems,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
PROTOCOL_MD = REPO_ROOT / "engine" / "PROTOCOL.md"
TUI_TESTS = REPO_ROOT / "tests" / "tui"
WAIT_S = 90.0  # a guard against a hang, not a budget: importing torch on a busy 2-core machine


# --- PROTOCOL.md, parsed ------------------------------------------------------------------------


def section(heading: str) -> str:
    """The text under a `## ` or `### ` heading, up to the next heading."""
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#+ |\Z)", text, re.M | re.S)
    assert match, f"PROTOCOL.md has no section {heading!r}"
    return match.group(1)


def table(heading: str) -> dict[str, str]:
    """A section's table: the first column's backticked name -> the text of the other columns."""
    rows = {}
    for line in section(heading).splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) >= 2 and (name := re.fullmatch(r"`([^`]+)`", cells[0])):
            rows[name.group(1)] = " | ".join(cells[1:])
    return rows


def backticked(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def schema_models(schema) -> list[type]:
    """The schema and every model nested in its fields' types."""
    found, todo = [], [schema]
    while todo:
        model = todo.pop()
        if model in found:
            continue
        found.append(model)
        for field in model.model_fields.values():
            todo += [t for t in _types(field.annotation) if isinstance(t, type) and hasattr(t, "model_fields")]
    return found


def _types(annotation) -> list:
    """The annotation and every type inside it (unions, lists, tuples, Annotated, Literal)."""
    found = [annotation]
    for arg in getattr(annotation, "__args__", ()):
        found += _types(arg)
    return found


def field_names(schema) -> set[str]:
    return {name for model in schema_models(schema) for name in model.model_fields}


def allowed_values(schema) -> set[str]:
    """Every value a Literal field of the schema (or of a model nested in it) allows."""
    values = set()
    for model in schema_models(schema):
        for field in model.model_fields.values():
            for t in _types(field.annotation):
                if get_origin(t) is Literal:
                    values |= {v for v in get_args(t) if isinstance(v, str)}
    return values


EVENTS = table("Events")
VIEWS = table("Snapshot views")
SWEEPS = section("Sweeps")

# Backticked words in a row that name no field of its event, and why.
NOT_FIELDS = {
    "hello": {"--runs": "a command-line option", 'kind: "config"': "the error event's field"},
    "epoch": {"eval_every": "the setting training.eval_every", "train_": "a prefix", "val_": "a prefix"},
    "step": {"training.step_every": "a setting", "[epoch, iteration, loss]": "a step's shape"},
    "member": {"seed 3": "a label", "l2=0.001": "a label"},
    "snapshot": {"training.snapshot_every": "a setting"},
    "diagnosis": {"snapshot_every": "the setting training.snapshot_every", "[epoch, val − train]": "a point's shape"},
    "done": {"*_std": "a suffix of the means' metrics"},
    "plan": {"model.init_from": "a setting", "model.freeze": "a setting", "auto": "the setting loss's value"},
}


def documentation_of(event_type: str) -> str:
    """Where PROTOCOL.md describes an event's fields: its row, the Sweeps section, and the rows it refers to."""
    text = EVENTS[event_type] + SWEEPS
    if event_type == "member":  # "and the fields of an `epoch` event"
        text += EVENTS["epoch"]
    if event_type == "done":  # "`folds` (the `fold` events' rows)"
        text += EVENTS["fold"]
    return text


def test_every_documented_event_has_a_schema_and_every_schema_is_documented():
    assert set(EVENTS) == set(EVENT_SCHEMAS) == set(EVENT_TYPES)


def test_every_documented_view_and_command_has_a_schema():
    assert set(VIEWS) == set(VIEW_SCHEMAS)
    commands = section("Commands (stdin)")
    documented = set(re.findall(r'"cmd": "(\w+)"', commands)) | {w for w in backticked(commands) if w.isalpha()}
    assert set(COMMAND_SCHEMAS) <= documented
    assert set(COMMAND_SCHEMAS) == {"plan", "run", "pause", "resume", "stop", "language", "quit"}


@pytest.mark.parametrize("event_type", sorted(EVENT_SCHEMAS))
def test_every_field_an_event_row_names_is_in_its_schema(event_type):
    schema = EVENT_SCHEMAS[event_type]
    names, values = field_names(schema), allowed_values(schema)
    if event_type == "snapshot":
        names |= {n for view in VIEW_SCHEMAS.values() for n in view.model_fields}
    unknown = []
    for token in backticked(EVENTS[event_type]):
        name, _, value = token.partition(": ")
        if token in NOT_FIELDS.get(event_type, {}) or token in EVENT_TYPES or token == "null":
            continue
        if value and name in names and value.strip('"') in values | {"true", "false"}:
            continue
        if name in names or f"train_{name}" in names or token in values:
            continue
        unknown.append(token)
    assert unknown == [], f"PROTOCOL.md's {event_type} row names what its schema lacks"


def is_named(name: str, tokens: set[str]) -> bool:
    """A field PROTOCOL.md names: itself, a task metric with its `train_`/`val_` prefix, or a metric's `*_std`."""
    split, _, metric = name.partition("_")
    if split in ("train", "val") and f"{split}_" in tokens and metric in tokens:
        return True
    if name.endswith("_std") and "*_std" in tokens:
        return is_named(name.removesuffix("_std"), tokens)
    return name in tokens


@pytest.mark.parametrize("event_type", sorted(EVENT_SCHEMAS))
def test_every_field_of_a_schema_is_documented(event_type):
    text = documentation_of(event_type)
    tokens = set(backticked(text))
    # Nested fields may be named without backticks ("`layers`: name, type, ..."); metrics are
    # named in the epoch row ("`train_loss`", "`accuracy`"), so its words count, split at "_" too.
    words = set(re.findall(r"\w+", text + EVENTS["epoch"])) | tokens
    words |= {part for word in words for part in word.split("_")}
    schema = EVENT_SCHEMAS[event_type]
    own = set(schema.model_fields) - {"type", "time"} - {f"{m}_{end}" for m in BAND_METRICS for end in ("min", "max")}
    if event_type == "member":
        own -= set(EpochFields.model_fields)  # "the fields of an `epoch` event", checked there
    assert {name for name in own if not is_named(name, tokens)} == set(), "fields PROTOCOL.md does not name"
    nested = field_names(schema) - set(schema.model_fields)
    assert {name for name in nested if not is_named(name, words)} == set(), "nested fields PROTOCOL.md does not name"


@pytest.mark.parametrize("view", sorted(VIEW_SCHEMAS))
def test_every_view_row_and_view_schema_name_the_same_fields(view):
    schema = VIEW_SCHEMAS[view]
    own = field_names(schema) - set(SnapshotEvent.model_fields)
    named = {token.split(" ")[0] for token in backticked(VIEWS[view])}
    assert own - named == set(), "fields PROTOCOL.md does not name"
    assert named - field_names(schema) == set(), "fields the schema lacks"


def test_the_documented_commands_conform_and_others_do_not():
    documented = [line.replace("{...}", "{}") for line in re.findall(r"`(\{[^`]*\})`", section("Commands (stdin)"))]
    documented += ["pause", "resume", "stop", "STOP"]
    assert len(documented) > 6
    for line in documented:
        assert check_command(line) == [], line
    for line, complaint in [
        ('{"cmd": "frobnicate"}', "unknown command"),
        ('{"cmd": "plan", "config": "moons"}', "config"),
        ('{"cmd": "stop", "force": true}', "not a field"),
        ("[1, 2]", "not a JSON object"),
        ('{"cmd": "run"', "not JSON"),
    ]:
        problems = check_command(line)
        assert problems and complaint in problems[0], (line, problems)


# --- check_event itself ---------------------------------------------------------------------------

HELLO = {
    "type": "hello",
    "time": 1.5,
    "protocol": 1,
    "engine_version": "0.1.0",
    "torch_version": "2.5",
    "cuda_available": False,
    "device": "cpu",
    "device_name": "CPU (2 cores)",
    "memory_total_mb": 1024,
}
EPOCH = {
    "type": "epoch",
    "time": 1.5,
    "epoch": 2,
    "epochs": 3,
    "fold": None,
    "iterations": 8,
    "train_loss_running": 0.5,
    "train_loss": 0.4,
    "val_loss": 0.6,
    "gap": 0.2,
    "penalty": 0.0,
    "lr": 0.01,
    "grad_norm": 1.0,
    "weight_norm": 3.0,
    "time_s": 0.01,
    "samples_per_s": 9000.0,
    "elapsed_s": 0.02,
    "eta_s": 0.01,
    "best_epoch": 2,
    "best_val_loss": 0.6,
    "gpu_memory_mb": None,
}


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"gap": None, "epochs": 3}, None),  # a non-finite gap crosses as null
        ({"members": 2, "val_loss_min": 0.5, "val_loss_max": 0.7}, None),  # a sweep's band
        ({"iterations": None}, "`iterations` = None; it should be a valid integer"),
        ({"epoch": 2.0}, "`epoch` = 2.0"),
        ({"epoch": 4}, "epoch 4 is past epochs (3)"),
        ({"val_loss": float("nan")}, "JSON cannot hold"),
        ({"learning_rate": 0.01}, "`learning_rate` is not a field PROTOCOL.md documents"),
        ({"best_epoch": True}, "`best_epoch` = True"),
        ({"type": "epochs"}, "unknown event type 'epochs'"),
    ],
)
def test_check_event_names_what_is_wrong(change, complaint):
    problems = check_event({**EPOCH, **change})
    if complaint is None:
        assert problems == []
    else:
        assert len(problems) == 1 and complaint in problems[0], problems


def test_check_event_knows_fields_that_come_together():
    assert check_event(HELLO) == [] and check_event({**HELLO, "mode": "serve"}) == []
    assert check_event({**HELLO, "mode": "single"})
    without_gap = {k: v for k, v in EPOCH.items() if k != "gap"}
    assert [p.kind for p in find_problems(without_gap)] == ["missing"]
    skipped = {k: v for k, v in without_gap.items() if k not in ("train_loss", "val_loss")}
    assert check_event(skipped) == []  # eval_every skipped this epoch's measurements
    assert [(p.path, p.kind) for p in find_problems({k: v for k, v in EPOCH.items() if k != "fold"})] == [
        ("fold", "missing")
    ]


def test_check_event_checks_snapshot_grids_and_verdicts():
    grid = [[0, 1], [1, 0]]
    boundary = {
        "type": "snapshot",
        "time": 1.0,
        "epoch": 1,
        "fold": None,
        "view": "boundary",
        "x": [0.0, 1.0],
        "y": [0.0, 1.0],
        "pred": grid,
        "confidence": [[0.5, 0.5], [0.5, 0.5]],
        "points": {"x": [0.1], "y": [0.2], "label": [1]},
        "class_names": ["a", "b"],
    }
    assert check_event(boundary) == []
    assert "rows" in check_event({**boundary, "y": [0.0, 1.0, 2.0]})[0]
    assert "differ in length" in check_event({**boundary, "points": {"x": [0.1], "y": [], "label": [1]}})[0]
    assert "unknown view" in check_event({**boundary, "view": "heatmap"})[0]
    assert "`value` is not a field" in check_event({**boundary, "value": grid})[0]
    fold = {"type": "fold", "time": 1.0, "fold": 0, "k": 2, "status": "completed", "weights_epoch": 1}
    fold |= {"best_epoch": 1, "train": None, "val": None, "test": {"loss": 0.3}, "explanation": "."}
    assert check_event({**fold, "verdict": "good fit"}) == []
    assert "'good fit'" in check_event({**fold, "verdict": "fine"})[0]  # names what is allowed


# --- the real engine ------------------------------------------------------------------------------

TINY = {
    "name": "tiny",
    "data": {"dataset": "moons", "n_samples": 200},
    "model": {"hidden": [8, 8]},
    "training": {"epochs": 2, "batch_size": 32, "snapshot_every": 1, "device": "cpu"},
}


def tiny(**sections) -> dict:
    """TINY with sections merged in."""
    data = json.loads(json.dumps(TINY))
    for key, value in sections.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) and key in data else value
    return data


def in_process(config: dict | ExperimentConfig, root: Path) -> list[dict]:
    """Every event of one run, as the JSON lines on stdout carry them."""
    events: list[dict] = []
    config = config if isinstance(config, ExperimentConfig) else validate(config)
    experiment.run(config, Emitter(callback=events.append), root=root)
    return [json.loads(encode(e)) for e in events]


def brief(event: dict) -> str:
    text = json.dumps(event)
    return text if len(text) < 400 else text[:400] + "…"


def assert_conform(events: Iterable[dict]) -> None:
    """No event departs from PROTOCOL.md."""
    events = list(events)
    assert events
    found = []
    for event in events:
        for problem in find_problems(event):
            found.append(f"{problem.message}\n    in {brief(event)}")
    assert not found, f"{len(found)} problems:\n" + "\n".join(found[:15])


def kinds(events: list[dict]) -> set[str]:
    """Event types, snapshot views as `snapshot:view` and how runs ended as `done:status`."""
    detail = {"snapshot": "view", "done": "status"}
    return {e["type"] for e in events} | {f"{e['type']}:{e[detail[e['type']]]}" for e in events if e["type"] in detail}


SINGLE_RUNS = {
    "classification, steps and skipped evaluations": (
        tiny(training={"epochs": 3, "step_every": 2, "eval_every": 2}),
        {"step", "snapshot:boundary", "snapshot:confusion", "snapshot:layers"},
    ),
    "curve regression": (tiny(task="regression", data={"dataset": "sine"}), {"snapshot:curve"}),
    "surface regression": (tiny(task="regression", data={"dataset": "plane"}), {"snapshot:surface"}),
    "tabular regression": (tiny(task="regression", data={"dataset": "diabetes"}), {"snapshot:forecast"}),
    "forecasting": (
        tiny(task="forecasting", data={"dataset": "sine_forecast"}, model={"architecture": "gru", "rnn_hidden": 4}),
        {"snapshot:forecast"},
    ),
    "cnn on digits": (
        tiny(data={"dataset": "digits"}, model={"architecture": "cnn", "conv_channels": [2, 4]}),
        {"snapshot:samples", "snapshot:confusion"},
    ),
    "autoencoder": (
        tiny(task="generation", data={"dataset": "digits"}, model={"architecture": "autoencoder", "latent": 2}),
        {"snapshot:reconstructions"},
    ),
    "vae": (
        tiny(task="generation", data={"dataset": "digits"}, model={"architecture": "vae", "latent": 2}),
        {"snapshot:reconstructions", "snapshot:generated"},
    ),
    "perceptron without a validation split": (
        tiny(data={"train": 0.8, "val": 0.0, "test": 0.2}, model={"architecture": "perceptron"}),
        {"diagnosis", "snapshot:boundary"},
    ),
    "early stopping": (
        tiny(training={"epochs": 8}, regularization={"early_stopping": True, "patience": 1, "min_delta": 1.0}),
        {"done:early_stopped"},
    ),
    "diverged": (
        tiny(
            task="regression",
            data={"dataset": "sine"},
            optimizer={"kind": "sgd", "lr": 10.0, "momentum": 0.9},
            training={"epochs": 20},
        ),
        {"done:diverged"},
    ),
}


@pytest.mark.parametrize("name", SINGLE_RUNS)
def test_single_runs_conform(name, tmp_path):
    config, expected = SINGLE_RUNS[name]
    events = in_process(config, tmp_path)
    assert_conform(events)
    assert expected | {"plan", "epoch", "diagnosis", "done"} <= kinds(events)


def test_k_fold_and_transfer_runs_conform(tmp_path):
    folds = in_process(tiny(data={"k_folds": 2}), tmp_path)
    assert_conform(folds)
    assert [e["fold"] for e in folds if e["type"] == "fold"] == [0, 1]
    source = next(e["run_dir"] for e in folds if e["type"] == "done")
    # k-fold keeps the last fold's weights: a run can start from them and freeze a layer.
    transfer = in_process(tiny(model={"init_from": source, "freeze": ["hidden.0"]}), tmp_path)
    assert_conform(transfer)
    assert transfer[0]["type"] == "plan" and transfer[0]["transfer"]["frozen_params"] > 0


SWEEP_MODES = ("batched", "processes", "ray")  # ray: a local Ray the sweep starts and stops (ray_address = "")


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory) -> Callable[[str], tuple[list[dict], Path]]:
    """Each sweep mode's events and runs directory, each run once for the tests below."""
    done: dict[str, tuple[list[dict], Path]] = {}

    def get(mode: str) -> tuple[list[dict], Path]:
        if mode not in done:
            root = tmp_path_factory.mktemp(f"sweep-{mode}")
            with pytest.MonkeyPatch.context() as env:  # a Ray of the test's own: no token kept in ~/.ray
                env.setenv("RAY_AUTH_MODE", "disabled")
                env.setenv("RAY_USAGE_STATS_ENABLED", "0")
                done[mode] = (in_process(tiny(sweep={"seeds": 2, "executor": mode}), root), root)
        return done[mode]

    return get


@pytest.mark.parametrize("mode", SWEEP_MODES)
def test_sweeps_conform(sweeps, mode):
    events, root = sweeps(mode)
    assert_conform(events)
    assert {"plan", "epoch", "member", "member_done", "snapshot:layers", "diagnosis", "done"} <= kinds(events)
    assert next(e for e in events if e["type"] == "plan")["sweep"]["executor"] == mode
    # Every member runs through the training loop and its hooks, as a single run does: real clocks, progress.
    epochs = [e for e in events if e["type"] in ("epoch", "member")]
    assert all(e["elapsed_s"] > 0 and e["iterations"] > 0 for e in epochs)
    assert all(e["member"] == 0 for e in events if e["type"] == "snapshot")  # member 0's, and they say so
    assert any(e["type"] == "diagnosis" and not e["final"] for e in events)  # the band's diagnosis so far
    assert events[-1]["type"] == "done" and events[-1]["kept"] is None  # no one set of weights: each member's own
    # Whichever executor trained it, each member is a single run of its own: its record conforms whole.
    records = sorted(root.glob("*/members/*/events.jsonl"))
    assert len(records) == 2
    for record in records:
        assert_conform(json.loads(line) for line in record.read_text(encoding="utf-8").splitlines())


def write_toml(path: Path, data: dict) -> str:
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return str(path)


def test_a_run_stopped_through_the_cli_conforms(start_engine, tmp_path):
    endless = tiny(training={"epochs": 100_000, "step_every": 3})
    engine = start_engine(write_toml(tmp_path / "endless.toml", endless))
    engine.wait_for(lambda e: e["type"] == "snapshot" and e["view"] == "layers", timeout=WAIT_S)
    engine.send("stop")
    engine.drain()
    assert engine.wait() == 0
    assert_conform(engine.events)
    assert {"hello", "plan", "epoch", "step", "diagnosis"} <= kinds(engine.events)
    done = engine.events[-1]
    assert done["type"] == "done" and done["status"] == "stopped"
    recorded = (Path(done["run_dir"]) / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert_conform(json.loads(line) for line in recorded)


def test_config_errors_through_the_cli_conform(run_engine, tmp_path):
    results = [
        run_engine(write_toml(tmp_path / "bad.toml", tiny(training={"epochs": 0, "batch_size": 0}))),
        run_engine(write_toml(tmp_path / "unknown.toml", {"name": "x", "trainning": {}})),
        run_engine(stdin="not json\n"),
        run_engine(write_toml(tmp_path / "ok.toml", TINY), "--runs", write_toml(tmp_path / "a-file", {})),
    ]
    for result in results:
        assert result.returncode == 2, result.stderr
        assert [e["type"] for e in result.events] == ["error"]
        assert result.events[0]["kind"] == "config"
        assert_conform(result.events)


def test_serve_answers_and_runs_conform(start_engine):
    engine = start_engine("serve")
    engine.wait_for("hello", timeout=WAIT_S)

    def answer(request: dict | str) -> dict:
        """The answer to a request: plan requests and bad lines are answered at once, in order."""
        engine.send(request)
        return engine.wait_for(lambda e: e["type"] in ("plan", "error"))

    assert answer({"cmd": "plan", "id": 1, "config": tiny(sweep={"seeds": 3})})["sweep"]["members"] == 3
    assert answer({"cmd": "plan", "id": "two", "config": tiny(model={"architecture": "cnn"})})["kind"] == "config"
    assert answer({"cmd": "plan", "id": True, "config": TINY})["id"] is None  # a boolean is no id to echo
    assert answer({"cmd": "frobnicate", "id": 3})["kind"] == "protocol"
    assert answer("not json {")["kind"] == "protocol"
    assert answer({"cmd": "run", "id": 4, "config": "moons"})["kind"] == "config"
    engine.send({"cmd": "run", "id": 5, "config": tiny(training={"step_every": 2})})
    assert engine.wait_for("done")["status"] == "completed"
    engine.send({"cmd": "run", "id": 6, "config": tiny(training={"epochs": 100_000})})
    engine.wait_for("epoch")
    engine.send("stop")
    assert engine.wait_for("done")["status"] == "stopped"
    engine.send({"cmd": "quit"})
    engine.drain()
    assert engine.wait() == 0
    assert_conform(engine.events)
    assert {"hello", "plan", "error", "epoch", "step", "snapshot:boundary", "diagnosis", "done"} <= kinds(engine.events)


# --- the fake engine of the app's tests -----------------------------------------------------------


def load_tui_module(name: str):
    """A module of tests/tui (its tests import it by its bare name, with tests/tui on sys.path)."""
    spec = importlib.util.spec_from_file_location(f"tui_tests_{name}", TUI_TESTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def strict_json(line: str) -> dict:
    """One line as strict JSON: NaN and Infinity are not JSON."""

    def refuse(name: str):
        raise ValueError(f"{name} in {line[:80]!r}")

    return json.loads(line, parse_constant=refuse)


class FakeEngine:
    """tests/tui/fake_engine.py as the app starts it, read line by line (strict JSON)."""

    def __init__(self, scenario: str, runs_dir: Path, epochs: int) -> None:
        env = {**os.environ, "FAKE_EPOCHS": str(epochs), "FAKE_DELAY": "0.01"}
        self.proc = subprocess.Popen(
            [sys.executable, str(TUI_TESTS / "fake_engine.py"), scenario, "--runs", str(runs_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.guard = threading.Timer(WAIT_S, self.proc.kill)  # a hang ends the output, failing the test
        self.guard.start()
        self.events: list[dict] = []

    def send(self, line: dict | str) -> None:
        self.proc.stdin.write((json.dumps(line) if isinstance(line, dict) else line) + "\n")
        self.proc.stdin.flush()

    def wait_for(self, predicate) -> dict:
        for line in self.proc.stdout:
            self.events.append(strict_json(line))
            if predicate(self.events[-1]):
                return self.events[-1]
        raise AssertionError(f"the fake engine's output ended; got {[e['type'] for e in self.events]}")

    def close(self) -> None:
        self.proc.stdin.close()
        self.events += [strict_json(line) for line in self.proc.stdout]
        self.proc.wait(timeout=WAIT_S)
        self.guard.cancel()


def test_the_fake_engine_conforms(tmp_path):
    fake = FakeEngine("normal", tmp_path / "runs", epochs=4)
    try:
        fake.wait_for(lambda e: e["type"] == "hello")
        fake.send({"cmd": "plan", "id": 1, "config": tiny(sweep={"seeds": 2})})
        fake.send({"cmd": "plan", "id": 2, "config": tiny(training={"batch_size": 0})})
        fake.send({"cmd": "frobnicate", "id": 3})
        fake.send("not json {")
        fake.send({"cmd": "run", "id": 4, "config": tiny(training={"snapshot_every": 2, "step_every": 1})})
        fake.wait_for(lambda e: e["type"] == "done")
        fake.send({"cmd": "run", "id": 5, "config": TINY})
        fake.wait_for(lambda e: e["type"] == "epoch")
        fake.send("stop")
        fake.wait_for(lambda e: e["type"] == "done")
    finally:
        fake.close()
    assert_conform(fake.events)
    assert {"hello", "plan", "error", "epoch", "step", "snapshot:boundary", "diagnosis", "done"} <= kinds(fake.events)


def test_the_app_tests_synthetic_events_conform():
    events = load_tui_module("events")
    made = {
        "hello": [events.hello()],
        "plan": [events.plan(), events.plan(k_folds=3)],
        "epoch": [events.epoch(1), events.epoch(3, val_loss=None), events.epoch(2, omit=("train_loss", "val_loss"))],
        "boundary_snapshot": [events.boundary_snapshot(), events.boundary_snapshot(grid=5)],
        "surface_snapshot": [events.surface_snapshot()],
        "curve_snapshot": [events.curve_snapshot()],
        "forecast_snapshot": [events.forecast_snapshot()],
        "confusion_snapshot": [events.confusion_snapshot()],
        "samples_snapshot": [events.samples_snapshot()],
        "reconstructions_snapshot": [events.reconstructions_snapshot()],
        "generated_snapshot": [events.generated_snapshot()],
        "layers_snapshot": [events.layers_snapshot(), events.layers_snapshot(grad_norm=[1e-3, 1.0])],
        "diagnosis": [events.diagnosis(), events.diagnosis(final=True, verdict="good fit")],
        "warning": [events.warning("careful")],
        "error": [events.error("the engine crashed"), events.error("bad value", kind="config")],
        "done": [events.done(), events.done("diverged", hint="lower the learning rate")],
    }
    builders = {
        name
        for name, function in inspect.getmembers(events, inspect.isfunction)
        if function.__module__ == events.__name__ and not name.startswith("_")
    }
    assert builders - {"run_state", "training_run", "digit"} == set(made), "check every event builder here"
    assert_conform(e for built in made.values() for e in built)
