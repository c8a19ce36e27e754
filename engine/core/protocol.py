"""The protocol's contract: one typed schema per event, snapshot view and command of engine/PROTOCOL.md.

`check_event(event)` lists, in sentences, how an event departs from what PROTOCOL.md promises: a
field missing, a field it does not document, a value of the wrong type or outside the values it
lists. Readers still ignore fields they do not know (PROTOCOL.md); the contract is stricter, so that
the engine (and the test suite's fake engine) cannot send a field the document does not describe.

Pure Python and pydantic (no torch): the app and the tests import it. tests/test_protocol_contract.py
keeps this module and PROTOCOL.md in agreement and runs the real engine in every mode against it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic_core import ErrorDetails

from nnplay.engine.core.catalog import CURVE, IMAGE, POINTS, SEQUENCE, TABULAR
from nnplay.engine.core.config import Architecture, Loss, OptimizerConfig, SweepConfig, Task
from nnplay.engine.core.control import BadCommand, parse_command
from nnplay.engine.core.diagnosis import VERDICTS
from nnplay.engine.core.events import quoted
from nnplay.engine.core.i18n import LANGUAGES

# A number; null where it was not finite (JSON has no NaN or infinity).
Number = float | None
Count = Annotated[int, Field(ge=0)]
EpochNumber = Annotated[int, Field(ge=1)]
Fold = Annotated[int, Field(ge=0)] | None  # null outside k-fold mode
RequestId = int | float | str | None  # what a request sent as its id, echoed
DoneStatus = Literal[
    "completed", "early_stopped", "stopped", "diverged", "failed"
]  # failed: a sweep whose members all failed
ErrorKind = Literal["config", "internal", "protocol", "record"]
View = Literal[
    "boundary", "surface", "curve", "forecast", "confusion", "samples", "reconstructions", "generated", "layers"
]
ProblemKind = Literal["missing", "undocumented", "invalid", "not JSON"]
if TYPE_CHECKING:  # values listed elsewhere, which mypy cannot read into a Literal; pydantic checks them
    Verdict: TypeAlias = str
    ResolvedLoss: TypeAlias = str
    OptimizerKind: TypeAlias = str
    SweepParameter: TypeAlias = str
    DatasetKind: TypeAlias = str
    Language: TypeAlias = str
else:
    Verdict = Literal[VERDICTS]
    # The loss a run uses: the config's, or its task's own when "auto"; a VAE adds the KL term.
    ResolvedLoss = Literal[(*(v for v in get_args(Loss) if v != "auto"), "bce+kl", "mse+kl")]
    OptimizerKind = OptimizerConfig.model_fields["kind"].annotation
    SweepParameter = SweepConfig.model_fields["parameter"].annotation
    DatasetKind = Literal[POINTS, CURVE, TABULAR, IMAGE, SEQUENCE]
    Language = Literal[tuple(LANGUAGES)]  # the languages the engine speaks: en, ko


def absent() -> Any:
    """The default of a field that may be left out but, when it is there, is never null."""
    return Field(None)


class Strict(BaseModel):
    """Every field typed as JSON carries it; a field PROTOCOL.md does not name is a problem."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Event(Strict):
    """What every event has: its type and when it was written (Unix seconds)."""

    type: str
    time: float


# --- hello, plan -------------------------------------------------------------------------------


class HelloEvent(Event):
    """The engine's first line, once torch is loaded."""

    type: Literal["hello"]
    protocol: Annotated[int, Field(ge=1)]
    engine_version: str
    torch_version: str
    cuda_available: bool
    device: str
    device_name: str
    memory_total_mb: Number
    mode: Literal["serve"] = absent()  # serve mode only


class LayerRow(Strict):
    """One layer of the plan's model summary."""

    name: str
    type: str
    output_shape: list[Count]
    params: Count


class ModelSummary(Strict):
    """The plan's `model`: the layers in the order the input meets them, and the parameter counts."""

    layers: list[LayerRow]
    total_params: Count
    trainable_params: Count


class SweepPlan(Strict):
    """The plan's `sweep`: how many members train, how, and what tells them apart."""

    members: Annotated[int, Field(ge=2)]
    executor: Literal["batched", "processes", "ray"]
    parameter: SweepParameter
    settings: list[str]  # the settings a grid or random search varies (dotted); empty otherwise
    labels: list[str]


class Transfer(Strict):
    """The plan's `transfer`: the weights copied from an earlier run and the layers frozen."""

    init_from: str | None
    copied: Count
    fresh: list[str]
    frozen: list[str]
    frozen_params: Count
    scaling: str = absent()  # with init_from: whose input scaling the run uses


class DataInfo(Strict):
    """The plan's `data_info`: what was read from your own data (csv, numpy, image_folder)."""

    path: str
    format: Literal["csv", "tsv", "npy", "npz", "image_folder"]
    delimiter: str | None
    rows: Count
    used: Count
    columns: list[str] | None
    target: str | None
    task: Task
    task_reason: str
    features: list[str] | None
    encoded: dict[str, list[str]] | None
    unused: list[str] | None
    missing: dict[str, Count] | None
    missing_policy: Literal["refuse", "drop", "mean"] | None
    dropped_rows: Count
    class_counts: dict[str, Count] | None
    image_size: Annotated[int, Field(ge=1)] | None
    channels: Literal[1, 3] | None
    skipped_files: Count | None


class PlanEvent(Event):
    """Everything decided before the first step; the answer to a plan request too."""

    type: Literal["plan"]
    name: str
    task: Task
    dataset: str
    dataset_kind: DatasetKind
    architecture: Architecture
    n_samples: Count
    n_train: Count
    n_val: Count
    n_test: Count
    n_train_eval: Count
    k_folds: Annotated[int, Field(ge=2)] | None
    input_shape: list[Annotated[int, Field(ge=1)]]
    n_classes: Annotated[int, Field(ge=2)] | None
    class_names: list[str] | None
    batch_size: Annotated[int, Field(ge=1)]
    iterations_per_epoch: Count
    last_batch: str
    epochs: EpochNumber
    total_updates: Count
    params: Count
    model: ModelSummary
    loss: ResolvedLoss
    loss_description: str
    baseline_loss: Number
    optimizer: OptimizerKind
    device: str
    precision: Literal["fp32", "bf16"]
    threads: Annotated[int, Field(ge=1)]
    memory_bytes: Annotated[float, Field(ge=0)]
    sweep: SweepPlan | None
    transfer: Transfer | None
    data_info: DataInfo | None = None  # your own data: what was read
    run_dir: str = absent()  # in a run
    id: RequestId = None  # as the answer to a plan request


# --- epochs and members ------------------------------------------------------------------------

TASK_METRICS = ("accuracy", "mae", "r2", "recon_error", "kl")
# The numbers a sweep averages over its members, each with <metric>_min and <metric>_max (the band).
BAND_METRICS = (
    "train_loss_running",
    "train_loss",
    "val_loss",
    "gap",
    *(f"{split}_{metric}" for metric in TASK_METRICS for split in ("train", "val")),
    "penalty",
    "lr",
    "grad_norm",
    "grad_norm_first",
    "grad_norm_last",
    "weight_norm",
    "weight_sparsity",
)


class EpochFields(Event):
    """What one training reports after each epoch (PROTOCOL.md's `epoch` row)."""

    epoch: EpochNumber
    epochs: EpochNumber
    fold: Fold
    iterations: Count
    train_loss_running: Number
    train_loss: Number = None  # absent on epochs skipped by eval_every
    val_loss: Number = None  # absent on epochs skipped by eval_every, and without a validation split
    gap: Number = None  # val_loss - train_loss, where both were measured
    train_accuracy: Number = None
    val_accuracy: Number = None
    train_mae: Number = None
    val_mae: Number = None
    train_r2: Number = None
    val_r2: Number = None
    train_recon_error: Number = None
    val_recon_error: Number = None
    train_kl: Number = None
    val_kl: Number = None
    penalty: Number
    lr: Number
    grad_norm: Number
    grad_norm_first: Number = None  # models with two weight tensors or more
    grad_norm_last: Number = None
    weight_norm: Number
    weight_sparsity: Number = None  # models with weight matrices or kernels
    time_s: Number
    samples_per_s: Number
    elapsed_s: Number
    eta_s: Number
    best_epoch: EpochNumber | None
    best_val_loss: Number
    gpu_memory_mb: Number


_EPOCH: dict[str, Any] = {  # besides the fields of a training's epoch: in a sweep, the members and the band
    "type": (Literal["epoch"], ...),
    "members": (Annotated[int, Field(ge=1)] | None, None),
    **{f"{name}_{end}": (Number, None) for name in BAND_METRICS for end in ("min", "max")},
}
EpochEvent = create_model(
    "EpochEvent",
    __base__=EpochFields,
    __doc__="An epoch of the run; in a sweep the members' mean, with the band and how many members contributed.",
    **_EPOCH,
)


class MemberEvent(EpochFields):
    """One sweep member's own epoch."""

    type: Literal["member"]
    member: Count
    label: str


class StepEvent(Event):
    """Losses of single updates, batched: [epoch, iteration, loss] each."""

    type: Literal["step"]
    fold: Fold
    steps: list[tuple[EpochNumber, Annotated[int, Field(ge=1)], Number]]


# --- snapshots ---------------------------------------------------------------------------------

Image = list[list[Number]]


class SnapshotEvent(Event):
    """The fields every view shares; VIEW_SCHEMAS holds each view's own."""

    type: Literal["snapshot"]
    epoch: EpochNumber
    fold: Fold
    view: View
    member: Count = absent()  # a sweep's snapshots: member 0's


class BoundaryPoints(Strict):
    """Training points drawn under a decision boundary."""

    x: list[Number]
    y: list[Number]
    label: list[Count]


class BoundaryView(SnapshotEvent):
    """Classification of 2-D points: the predicted class and its confidence over a grid."""

    view: Literal["boundary"]
    x: list[Number]
    y: list[Number]
    pred: list[list[Count]]
    confidence: list[list[Number]]
    points: BoundaryPoints
    class_names: list[str] | None


class SurfacePoints(Strict):
    """Training points drawn over a regression surface."""

    x: list[Number]
    y: list[Number]
    value: list[Number]


class SurfaceView(SnapshotEvent):
    """Regression over 2-D points: predictions over a grid, in the target's units."""

    view: Literal["surface"]
    x: list[Number]
    y: list[Number]
    value: list[list[Number]]
    points: SurfacePoints


class CurvePoints(Strict):
    """Training points drawn under a regression curve."""

    x: list[Number]
    y: list[Number]


class CurveView(SnapshotEvent):
    """1-D regression: the predicted curve over the inputs' range."""

    view: Literal["curve"]
    x: list[Number]
    prediction: list[Number]
    points: CurvePoints


class ForecastView(SnapshotEvent):
    """Forecasting and tabular regression: predictions beside the actual values."""

    view: Literal["forecast"]
    actual: list[Number]
    prediction: list[Number]


class ConfusionView(SnapshotEvent):
    """Classification: true class (rows) against predicted class (columns) on the validation split."""

    view: Literal["confusion"]
    matrix: list[list[Count]]
    class_names: list[str]


class SamplesView(SnapshotEvent):
    """Image classification: validation images with their labels, predictions and confidence."""

    view: Literal["samples"]
    images: list[Image]
    label: list[Count]
    pred: list[Count]
    confidence: list[Number]
    class_names: list[str] | None


class ReconstructionsView(SnapshotEvent):
    """Generation: validation images and the model's reconstructions of them."""

    view: Literal["reconstructions"]
    images: list[Image]
    reconstructions: list[Image]


class GeneratedView(SnapshotEvent):
    """A VAE: images decoded from fixed codes."""

    view: Literal["generated"]
    images: list[Image]


class LayersView(SnapshotEvent):
    """Per layer: weight and gradient norms, and the share of weights near zero."""

    view: Literal["layers"]
    layers: list[str]
    weight_norm: list[Number]
    grad_norm: list[Number]
    sparsity: list[Number]
    sparse_below: float


VIEW_SCHEMAS: dict[str, type[SnapshotEvent]] = {
    "boundary": BoundaryView,
    "surface": SurfaceView,
    "curve": CurveView,
    "forecast": ForecastView,
    "confusion": ConfusionView,
    "samples": SamplesView,
    "reconstructions": ReconstructionsView,
    "generated": GeneratedView,
    "layers": LayersView,
}

# --- folds, diagnosis, done, warnings, errors --------------------------------------------------


class Metrics(Strict):
    """One set of weights' metrics on one split; means over folds or members add `*_std`."""

    loss: Number
    loss_std: Number = None
    accuracy: Number = None
    accuracy_std: Number = None
    mae: Number = None
    mae_std: Number = None
    r2: Number = None
    r2_std: Number = None
    recon_error: Number = None
    recon_error_std: Number = None
    kl: Number = None
    kl_std: Number = None


class FoldRow(Strict):
    """One fold of a cross-validation: its kept weights' metrics and its own verdict."""

    fold: Count
    k: Annotated[int, Field(ge=2)]
    status: DoneStatus
    weights_epoch: EpochNumber | None
    best_epoch: EpochNumber | None
    train: Metrics | None
    val: Metrics | None
    test: Metrics | None
    verdict: Verdict
    explanation: str


class FoldEvent(FoldRow, Event):
    """A fold's row, sent as the fold ends."""

    type: Literal["fold"]


class EarlyStopping(Strict):
    """What early stopping with the configured patience would do."""

    stop_epoch: EpochNumber
    best_epoch: EpochNumber | None
    best_val_loss: Number
    note: str = absent()  # when the epoch it would keep is not the best epoch


class DiagnosisEvent(Event):
    """The verdict on the loss curves, live (final false) or after training."""

    type: Literal["diagnosis"]
    final: bool
    epoch: EpochNumber = absent()  # live (final false) only: the last epoch judged
    fold: Fold = None  # live only
    best_epoch: EpochNumber | None
    best_val_loss: Number
    generalization_gap: list[tuple[EpochNumber, Number]]
    final_gap: Number
    overfitting_epoch: EpochNumber | None
    early_stopping: EarlyStopping | None
    patience: Annotated[int, Field(ge=1)] | None
    kept_epoch: EpochNumber | None
    verdict: Verdict
    explanation: str
    advice: str
    notes: list[str]
    fold_verdicts: list[Verdict] = absent()  # after a cross-validation
    member: Count = absent()  # a grid or random search: the best member's own diagnosis
    label: str = absent()


class Kept(Strict):
    """The weights a run keeps, and every metric of those same weights."""

    epoch: EpochNumber | None
    weights: Literal["best", "last", "last finite"] | None
    n_train: Count
    train: Metrics | None
    val: Metrics | None
    test: Metrics | None


class CrossValidation(Strict):
    """The folds' mean and spread of each metric, per split."""

    train: Metrics | None
    val: Metrics | None
    test: Metrics | None


class MemberResult(Strict):
    """How one sweep member ended: its row of the sweep's results."""

    member: Count
    label: str
    settings: dict[str, Any]  # the settings it changes, dotted name -> value
    status: Literal["completed", "early_stopped", "stopped", "diverged", "failed"]
    best_epoch: EpochNumber | None
    best_val_loss: Number
    val: dict[str, Number]  # validation metrics at its best epoch
    test: Metrics | None
    verdict: Verdict | None
    duration_s: Number
    run_dir: str | None  # the member's own run directory (null when it never started)
    error: str | None


class MemberDoneEvent(MemberResult, Event):
    """A sweep member ended: its row of the results, as soon as it is known."""

    type: Literal["member_done"]


class DoneEvent(Event):
    """The last event of a run."""

    type: Literal["done"]
    status: DoneStatus
    run_dir: str
    final: dict[str, Number] | None
    kept: Kept | None  # null after a cross-validation or a sweep
    test: Metrics | None
    best_epoch: EpochNumber | None
    weights_epoch: EpochNumber | None
    verdict: Verdict
    hint: str | None
    folds: list[FoldRow] = absent()  # k-fold
    cv: CrossValidation = absent()  # k-fold
    members: list[MemberResult] = absent()  # a sweep
    best_member: Count | None = absent()  # a sweep: a grid's or random search's best member, chosen on validation


class WarningEvent(Event):
    """Something the user should know."""

    type: Literal["warning"]
    message: str


class ConfigProblem(Strict):
    """One problem of a config: the setting it names and one sentence."""

    setting: str | None  # dotted, e.g. "training.batch_size"; null when it names no single setting
    message: str


class ErrorEvent(Event):
    """A run or a request that failed."""

    type: Literal["error"]
    message: str
    kind: ErrorKind
    traceback: str | None = None
    problems: list[ConfigProblem] = absent()  # a config error: every problem found
    id: RequestId = None  # when answering a request
    run_dir: str = absent()  # when a run directory exists


class LanguageEvent(Event):
    """Serve mode's answer to a language command: the language every later message is in."""

    type: Literal["language"]
    lang: Language
    id: RequestId = None  # as the request sent it


EVENT_SCHEMAS: dict[str, type[Event]] = {
    "hello": HelloEvent,
    "plan": PlanEvent,
    "epoch": EpochEvent,
    "member": MemberEvent,
    "member_done": MemberDoneEvent,
    "step": StepEvent,
    "snapshot": SnapshotEvent,
    "fold": FoldEvent,
    "warning": WarningEvent,
    "diagnosis": DiagnosisEvent,
    "done": DoneEvent,
    "error": ErrorEvent,
    "language": LanguageEvent,
}

# --- commands ----------------------------------------------------------------------------------


class Command(Strict):
    """A line on the engine's stdin."""

    cmd: str
    id: RequestId = None  # echoed by the answers (and by a protocol error)


class RequestCommand(Command):
    """A serve-mode request for a plan or a run."""

    cmd: Literal["plan", "run"]
    config: dict[str, Any] | None = None  # missing or null: the defaults


class ControlCommand(Command):
    """Pause, resume or stop the runs requested and not ended."""

    cmd: Literal["pause", "resume", "stop"]


class LanguageCommand(Command):
    """Speak another language from now on (serve mode)."""

    cmd: Literal["language"]
    lang: Language


class QuitCommand(Command):
    """Stop any run and end the serve engine."""

    cmd: Literal["quit"]


COMMAND_SCHEMAS: dict[str, type[Command]] = {
    "plan": RequestCommand,
    "run": RequestCommand,
    "pause": ControlCommand,
    "resume": ControlCommand,
    "stop": ControlCommand,
    "language": LanguageCommand,
    "quit": QuitCommand,
}

# --- checking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One way an event departs from PROTOCOL.md: where (a dotted path), what kind, and the sentence."""

    path: str
    kind: ProblemKind
    message: str


def check_event(event: dict) -> list[str]:
    """How the event departs from PROTOCOL.md, one sentence each; empty when it conforms."""
    return [problem.message for problem in find_problems(event)]


def check_command(line: str) -> list[str]:
    """How one command line departs from PROTOCOL.md's commands, one sentence each; empty when it conforms."""
    try:
        command = parse_command(line)
    except BadCommand as exc:
        return [str(exc)]
    if command is None:
        return ["a blank line is not a command"]
    schema = COMMAND_SCHEMAS.get(command["cmd"]) if isinstance(command["cmd"], str) else None
    if schema is None:
        return [f"unknown command {quoted(command['cmd'])}; documented: {', '.join(COMMAND_SCHEMAS)}"]
    return [p.message for p in _validate(schema, command, f"command {command['cmd']}")]


def find_problems(event: dict) -> list[Problem]:
    """check_event's problems with where they are and what kind they are."""
    if not isinstance(event, dict):
        return [Problem("", "invalid", f"an event is a JSON object, not {quoted(event)}")]
    type_ = event.get("type")
    schema = EVENT_SCHEMAS.get(type_) if isinstance(type_, str) else None
    if schema is None:
        return [
            Problem("type", "invalid", f"unknown event type {quoted(type_)}; documented: {', '.join(EVENT_SCHEMAS)}")
        ]
    where = f"{type_} event"
    if type_ == "snapshot":
        view = event.get("view")
        if view not in VIEW_SCHEMAS:
            return [
                Problem(
                    "view", "invalid", f"{where}: unknown view {quoted(view)}; documented: {', '.join(VIEW_SCHEMAS)}"
                )
            ]
        schema, where = VIEW_SCHEMAS[view], f"snapshot event (view {view})"
    problems = [
        Problem(path, "not JSON", f"{where}: `{path}` is {value}, which JSON cannot hold; write null instead")
        for path, value in _non_finite(event)
    ]
    problems += _validate(schema, event, where)
    problems += [Problem(path, kind, f"{where}: {text}") for path, kind, text in _rules(event)]
    return problems


def _non_finite(value: Any, path: str = "") -> list[tuple[str, float]]:
    if isinstance(value, float):
        return [] if math.isfinite(value) else [(path, value)]
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in _non_finite(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list | tuple):
        return [found for i, v in enumerate(value) for found in _non_finite(v, f"{path}[{i}]")]
    return []


UNION_TAGS = {"int", "float", "str", "bool", "none"}  # pydantic's names for a union's branches in a location


def _validate(schema: type[BaseModel], data: dict, where: str) -> list[Problem]:
    """Validate as the JSON line the data becomes, so types are JSON's (a list is an array, 1.0 no int)."""
    try:
        schema.model_validate_json(json.dumps(data, default=repr))
    except ValidationError as exc:
        found: dict[str, list[ErrorDetails]] = {}
        for error in exc.errors():
            loc = [part for part in error["loc"] if part not in UNION_TAGS]
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
            found.setdefault(path, []).append(error)
        return [_problem(path, errors, where) for path, errors in found.items()]
    return []


def _problem(path: str, errors: list[ErrorDetails], where: str) -> Problem:
    kind = errors[0]["type"]
    if kind == "missing":
        return Problem(path, "missing", f"{where}: `{path}` is missing")
    if kind == "extra_forbidden":
        return Problem(path, "undocumented", f"{where}: `{path}` is not a field PROTOCOL.md documents")
    wanted = " or ".join(dict.fromkeys(e["msg"].removeprefix("Input should be ") for e in errors))
    return Problem(path, "invalid", f"{where}: `{path}` = {quoted(errors[0]['input'])}; it should be {wanted}")


def _rules(event: dict) -> list[tuple[str, ProblemKind, str]]:
    """What a field's type cannot say: fields that come together, and grids whose sides must agree."""
    found: list[tuple[str, ProblemKind, str]] = []
    type_, has = event.get("type"), event.__contains__
    if type_ in ("epoch", "member"):
        measured = has("train_loss") and has("val_loss")
        if measured and not has("gap"):
            found.append(("gap", "missing", "`gap` is missing (an epoch with train_loss and val_loss has it)"))
        if has("gap") and not measured:
            found.append(("gap", "invalid", "`gap` is there without both train_loss and val_loss"))
        for split in ("train", "val"):  # a split's metrics come from the evaluation that measures its loss
            alone = [f"{split}_{m}" for m in TASK_METRICS if has(f"{split}_{m}") and not has(f"{split}_loss")]
            found += [(key, "invalid", f"`{key}` is there without `{split}_loss`") for key in alone]
        if _ints(event.get("epoch"), event.get("epochs")) and event["epoch"] > event["epochs"]:
            found.append(("epoch", "invalid", f"epoch {event['epoch']} is past epochs ({event['epochs']})"))
    elif type_ == "plan" and has("run_dir") == has("id"):
        found.append(("run_dir", "invalid", "a plan has `run_dir` (in a run) or `id` (an answer), one of them"))
    elif type_ == "diagnosis" and event.get("final") is False:
        found += [
            (k, "missing", f"`{k}` is missing (a live diagnosis has it)") for k in ("epoch", "fold") if not has(k)
        ]
    elif type_ == "diagnosis" and event.get("final") is True and has("epoch"):
        found.append(("epoch", "invalid", "`epoch` belongs to live diagnoses (final false) only"))
    elif type_ == "done" and has("folds") != has("cv"):
        found.append(("cv", "invalid", "`folds` and `cv` come together (k-fold mode)"))
    elif type_ == "error":
        if event.get("kind") == "internal" and not isinstance(event.get("traceback"), str):
            found.append(("traceback", "missing", "`traceback` is missing (an internal error has one)"))
        if has("problems") and event.get("kind") != "config":
            found.append(("problems", "invalid", "`problems` belongs to config errors only"))
    elif type_ == "snapshot":
        found += [(path, "invalid", text) for path, text in _view_shapes(event)]
    return found


def _ints(*values: Any) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def _lengths(event: dict, *paths: str) -> list[tuple[str, int]]:
    """(path, length) of the fields that are lists; nested paths use dots."""
    found = []
    for path in paths:
        value: Any = event
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, list):
            found.append((path, len(value)))
    return found


def _same_length(event: dict, *paths: str) -> list[tuple[str, str]]:
    lengths = _lengths(event, *paths)
    if len({n for _, n in lengths}) > 1:
        listed = ", ".join(f"`{p}` {n}" for p, n in lengths)
        return [(lengths[0][0], f"lists that go together differ in length: {listed}")]
    return []


def _view_shapes(event: dict) -> list[tuple[str, str]]:
    view = event.get("view")
    found: list[tuple[str, str]] = []
    if view in ("boundary", "surface"):
        columns, rows = (len(v) if isinstance(v, list) else None for v in (event.get("x"), event.get("y")))
        for key in ("pred", "confidence") if view == "boundary" else ("value",):
            grid = event.get(key)
            if isinstance(grid, list) and (
                len(grid) != rows or any(len(r) != columns for r in grid if isinstance(r, list))
            ):
                found.append((key, f"`{key}` is not len(y) = {rows} rows of len(x) = {columns} cells"))
        found += _same_length(event, "points.x", "points.y", "points.label" if view == "boundary" else "points.value")
    elif view == "curve":
        found += _same_length(event, "x", "prediction") + _same_length(event, "points.x", "points.y")
    elif view == "forecast":
        found += _same_length(event, "actual", "prediction")
    elif view == "confusion":
        matrix, names = event.get("matrix"), event.get("class_names")
        if isinstance(matrix, list) and any(not isinstance(r, list) or len(r) != len(matrix) for r in matrix):
            found.append(("matrix", "`matrix` is not square"))
        found += _same_length(event, "matrix", "class_names") if isinstance(names, list) else []
    elif view == "samples":
        found += _same_length(event, "images", "label", "pred", "confidence")
    elif view == "reconstructions":
        found += _same_length(event, "images", "reconstructions")
    elif view == "layers":
        found += _same_length(event, "layers", "weight_norm", "grad_norm", "sparsity")
    return found
