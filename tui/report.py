"""A run as a report: its summary (rebuilt from events when the run never finished) and its
exports as JSON, CSV and Markdown. Shared by the CLI and the app; never imports torch."""

from __future__ import annotations

import csv
import io
import json
import math
import shlex
from pathlib import Path

from nnplay.engine.core.batches import batch_arithmetic, last_batch
from nnplay.engine.core.catalog import data_info_summary
from nnplay.engine.core.diagnosis import HEADLINE_METRICS, diagnose, format_value, verdict_name
from nnplay.engine.core.i18n import N_, _
from nnplay.engine.core.runs import RunRecord, UnreadableRun, load_run, read_listing, record_crash

# The formats `export` writes as text; "py" is a standalone training script (engine/core/script.py). The CLI
# also writes "tensorboard", a directory of event files (tui/tensorboard.py).
EXPORT_FORMATS = ("json", "csv", "md", "py")
HEADLINE_ORDER = tuple(key for key, _label in HEADLINE_METRICS)  # the metric a learner looks at first, by task
# Metrics' names, marked here and translated where they are shown (metric_name, metric_short).
METRIC_SHORT = {"accuracy": N_("acc"), "r2": "R²", "recon_error": N_("recon"), "loss": N_("loss")}  # narrow cells
METRIC_NAMES = {
    "loss": N_("loss"),
    "accuracy": N_("accuracy"),
    "mae": "MAE",
    "r2": "R²",
    "recon_error": N_("reconstruction error"),
    "kl": N_("KL divergence"),
}


def metric_name(key: str) -> str:
    """A metric's name in the current language ('accuracy', 'reconstruction error')."""
    return _(METRIC_NAMES[key]) if key in METRIC_NAMES else key


def metric_short(key: str) -> str:
    """A metric's name for a narrow cell, in the current language ('acc', 'R²')."""
    return _(METRIC_SHORT[key]) if key in METRIC_SHORT else key


UNREADABLE = "unreadable"  # the status a listing gives a run whose files cannot be read
# A run's status is a value in its files, which programs compare; people read it translated (status_name).
STATUS_NAMES = {
    "running": N_("running"),
    "completed": N_("completed"),
    "early_stopped": N_("early_stopped"),
    "stopped": N_("stopped"),
    "diverged": N_("diverged"),
    "crashed": N_("crashed"),
    "failed": N_("failed"),
    UNREADABLE: N_("unreadable"),
}
# What reading one run can raise when its files are damaged or were edited by hand (a summary.json with
# a string where a number belongs): a listing shows that run as unreadable, with the reason, and the
# others as usual.
RUN_READ_ERRORS = (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError)


def status_name(status: object, names: dict[str, str] = STATUS_NAMES) -> str:
    """A run's status as people read it, in the current language ('completed'; a status this nnplay does
    not know, as it is), from `names` (the app's table adds its own states: tui.state.STATUS_NAMES)."""
    return _(names[status]) if isinstance(status, str) and status in names else str(status)


def unreadable_reason(exc: BaseException) -> str:
    """Why a run cannot be listed, as a phrase naming the file at fault where it is known."""
    if isinstance(exc, UnreadableRun):
        return exc.reason
    if isinstance(exc, OSError) and exc.filename:
        return _("{name} cannot be read ({reason})").format(name=Path(exc.filename).name, reason=exc.strerror)
    return _("its files do not read as a run ({kind}: {error})").format(kind=type(exc).__name__, error=exc)


def config_of(record: RunRecord) -> dict:
    """The run's config as a dict ({} when config.toml is not TOML)."""
    return record.config


def summary_of(record: RunRecord) -> dict:
    """The run's summary.json, or one rebuilt from its events (a crashed or running run)."""
    if record.summary and record.summary.get("status") != "failed":
        summary = dict(record.summary)
        summary["status"] = record.status
        return summary
    config = config_of(record)
    epochs = record.epochs
    plan = record.last("plan") or {}
    diagnosis = record.last("diagnosis")
    if not diagnosis or not diagnosis.get("final"):  # a run that never finished: judge the epochs it left
        diagnosis = judge(record, epochs)
    done = record.last("done") or {}
    error = record.last("error")
    return {
        "id": record.id,
        "run_dir": str(record.path),
        "name": config.get("name", record.id),
        "status": record.status,
        "task": config.get("task"),
        "dataset": config.get("data", {}).get("dataset"),
        "architecture": config.get("model", {}).get("architecture"),
        "started": record.events[0].get("time") if record.events else None,
        "epochs_run": len(epochs),
        "final": epochs[-1] if epochs else None,
        "best_epoch": diagnosis.get("best_epoch"),
        "best_val_loss": diagnosis.get("best_val_loss"),
        "test": done.get("test"),
        "verdict": diagnosis.get("verdict"),
        "diagnosis": diagnosis,
        "plan": {k: v for k, v in plan.items() if k not in ("model", "type", "time")},
        "error": error.get("message") if error else (record.summary or {}).get("error"),
    }


def listed_summary(path: Path) -> dict:
    """What a listing shows of a run (its status and the LISTING_KEYS of its summary_of): from the listing
    in its status.json when it has one that still matches its files, else from its files as summary_of
    reads them. A run found crashed is then recorded as such, with its listing, so that its events are
    read once, not at every listing. Raises what load_run and summary_of raise for a damaged run."""
    status, listing = read_listing(path)
    if listing is not None:
        return listing | {"status": status}
    summary = summary_of(load_run(path))
    if summary["status"] == "crashed":
        record_crash(path, summary)
    return summary


def judge(
    record: RunRecord,
    epochs: list[dict],
    status: str | None = None,
    kept_epoch: int | None = None,
    planned_epochs: int | None = None,
) -> dict:
    """The diagnosis of these epochs of the run, with the run's patience and min_delta (as the engine judges)."""
    reg = config_of(record).get("regularization", {})
    baseline = (record.last("plan") or {}).get("baseline_loss")  # the loss of a model that learned nothing
    return diagnose(
        epochs,
        reg.get("patience", 10),
        reg.get("min_delta", 0.0),
        baseline,
        status=status,
        kept_epoch=kept_epoch,
        epochs=planned_epochs,
    )


def readable_diagnosis(record: RunRecord, summary: dict) -> dict:
    """The run's diagnosis in the current language. Its sentences were written in the language the run
    spoke; a single run's are written again from its epochs, as the engine judged them, and used when they
    reach the verdict, best epoch and onset of overfitting it recorded (the same in every language); so is a
    grid's or random search's, its best member's, from that member's run. A cross-validation's (judged fold by
    fold) and a seed or strength sweep's (judged on the members' mean) stay as recorded, and so does a run
    that never finished (summary_of judged it just now, in the current language)."""
    recorded = summary.get("diagnosis") or {}
    status = (record.summary or {}).get("status")  # how the engine said the run ended
    if summary.get("members") and recorded.get("label") is not None:
        return best_members_diagnosis(summary, recorded)
    if status in (None, "failed") or not recorded.get("verdict") or summary.get("folds") or summary.get("members"):
        return recorded
    if not record.epochs:
        return recorded
    planned = (config_of(record).get("training") or {}).get("epochs")
    try:
        again = judge(
            record,
            record.epochs,
            status=status,
            kept_epoch=recorded.get("kept_epoch"),
            planned_epochs=planned if isinstance(planned, int) else None,
        )
    except RUN_READ_ERRORS:  # epochs edited by hand: the recorded words stand
        return recorded
    if any(again.get(key) != recorded.get(key) for key in ("verdict", "best_epoch", "overfitting_epoch")):
        return recorded
    return again


def best_members_diagnosis(summary: dict, recorded: dict) -> dict:
    """A grid's or random search's diagnosis (its best member's own) in the current language: written again
    from the best member's run, as a single run's is, when that run can be read and reaches the same verdict;
    else as recorded."""
    row = next((m for m in summary.get("members") or [] if m.get("member") == recorded.get("member")), None)
    run_dir = (row or {}).get("run_dir")
    if not run_dir:
        return recorded
    try:
        member = load_run(Path(run_dir))
        again = readable_diagnosis(member, summary_of(member))
    except RUN_READ_ERRORS:  # the member's files are gone or damaged: the recorded words stand
        return recorded
    if again.get("verdict") != recorded.get("verdict"):
        return recorded
    return {**again, "member": recorded.get("member"), "label": recorded.get("label")}


def readable_last_batch(plan: dict, config: dict) -> str:
    """The plan's words for the last batch of an epoch, written again in the current language from the
    plan's numbers and the config's drop_last (as the engine wrote them); as recorded when those are missing."""
    n_train, batch = plan.get("n_train"), plan.get("batch_size")
    drop_last = (config.get("training") or {}).get("drop_last")
    if isinstance(n_train, int) and isinstance(batch, int) and batch > 0 and isinstance(drop_last, bool):
        return last_batch(n_train, batch, drop_last)
    return str(plan.get("last_batch"))


def duration(seconds) -> str:
    """'4.2 s' under ten seconds (a quick run is not '0:00'), else m:ss, or XhYYm past an hour; '—' unknown."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not math.isfinite(seconds) or seconds < 0:
        return "—"
    if seconds < 10:
        return f"{seconds:.1f} s"
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}" if s < 3600 else f"{s // 3600}h{s % 3600 // 60:02d}m"


def format_metric(name: str, value) -> str:
    """A metric as every table shows it; a dash when it was not measured."""
    return "—" if value is None else format_value(name, value)


def train_subset(plan: dict | None) -> bool:
    """Whether the per-epoch train metrics are measured on a fixed subset of the training split."""
    plan = plan or {}
    n_eval, n_train = plan.get("n_train_eval"), plan.get("n_train")
    return isinstance(n_eval, int) and isinstance(n_train, int) and n_eval < n_train


def train_label(plan: dict | None) -> str:
    """'train', or 'train (256 of 1000)' when the per-epoch train metrics are measured on a fixed
    subset of the training split."""
    plan = plan or {}
    if train_subset(plan):
        return _("train ({n_eval} of {n_train})").format(n_eval=plan["n_train_eval"], n_train=plan["n_train"])
    return _("train")


WEIGHTS_WORDS = {
    "best": N_("the best validation epoch, restored"),
    "last": N_("the last finished epoch"),
    "last finite": N_("the last epoch with finite values"),
}


def weights_title(kept: dict) -> str:
    """Which weights the final table describes: 'the weights of epoch 35 (the best validation epoch, restored)'."""
    if kept.get("epoch") is None:
        return _("no weights kept: no epoch finished with finite values")
    why = WEIGHTS_WORDS.get(kept.get("weights") or "")
    if why:
        return _("the weights of epoch {epoch} ({why})").format(epoch=kept["epoch"], why=_(why))
    return _("the weights of epoch {epoch}").format(epoch=kept["epoch"])


def final_table(summary: dict) -> tuple[str, list[str], list[list[str]]]:
    """The final table of a run or a `done` event: (title, columns, rows), every number of the same weights.

    Runs recorded before the kept weights were measured show the last epoch beside the test metrics,
    and say so."""
    kept = summary.get("kept")
    if kept:
        parts, title = (kept.get("train"), kept.get("val"), kept.get("test")), weights_title(kept)
        train = _("train ({n})").format(n=kept["n_train"]) if kept.get("n_train") else _("train")
        columns = [_("metric"), train, _("validation"), _("test")]
    else:
        final, test = summary.get("final") or {}, summary.get("test") or {}
        parts = (
            {k.removeprefix("train_"): v for k, v in final.items() if k.startswith("train_")},
            {k.removeprefix("val_"): v for k, v in final.items() if k.startswith("val_")},
            test,
        )
        epoch = final.get("epoch")
        members = summary.get("members") or []
        best = next((m.get("label") for m in members if m.get("member") == summary.get("best_member")), None)
        if members and best is not None:  # a grid or random search: its test is its best member's
            title = _(
                "train and validation: the members' mean at epoch {epoch}; test: the best member's ({label}), "
                "chosen on validation"
            ).format(epoch=epoch, label=best)
        elif members:
            title = _("the members' mean: train and validation at epoch {epoch}, test at the end").format(epoch=epoch)
        elif epoch:
            title = _("train and validation at epoch {epoch}, test at the kept weights").format(epoch=epoch)
        else:
            title = _("test metrics")
        columns = [_("metric"), _("train"), _("validation"), _("test")]
    rows = []
    for key in METRIC_NAMES:
        values = [(part or {}).get(key) for part in parts]
        if any(v is not None for v in values):
            rows.append([metric_name(key), *(format_metric(key, v) for v in values)])
    return title, columns, rows


def headline_key(metrics: dict | None) -> str | None:
    """The metric a learner looks at first among those measured: accuracy, R², reconstruction error, loss."""
    metrics = metrics or {}
    return next((k for k in HEADLINE_ORDER if metrics.get(k) is not None), None)


def mean_pm_std(part: dict | None, key: str) -> str:
    """'93.3% ± 2.1%' from {key: mean, key_std: std}; the mean alone when the spread is unknown."""
    part = part or {}
    if part.get(key) is None:
        return "—"
    std = part.get(f"{key}_std")
    return format_metric(key, part[key]) + (f" ± {format_metric(key, std)}" if std is not None else "")


def folds_table(summary: dict) -> tuple[list[str], list[list[str]]]:
    """Cross-validation, one row per fold and a mean ± std row: the validation loss and headline metric
    of each fold's kept weights, scored on the part of the data that fold did not train on, and the
    fold's test score when there is a test split."""
    folds, cv = summary.get("folds") or [], summary.get("cv") or {}
    key = headline_key(next((f.get("val") for f in folds if f.get("val")), None))
    keys = ["loss"] + ([key] if key and key != "loss" else [])
    has_test = any(f.get("test") for f in folds)
    columns = [_("fold"), _("epoch"), *(_("val {metric}").format(metric=metric_name(k)) for k in keys)]
    columns += [_("test {metric}").format(metric=metric_name(keys[-1]))] if has_test else []
    columns.append(_("verdict"))
    rows = []
    for f in folds:
        row = [f"{f['fold'] + 1}/{f['k']}", str(f.get("weights_epoch") or "—")]
        row += [format_metric(k, (f.get("val") or {}).get(k)) for k in keys]
        row += [format_metric(keys[-1], (f.get("test") or {}).get(keys[-1]))] if has_test else []
        rows.append([*row, verdict_name(f["verdict"]) if f.get("verdict") else "—"])

    if folds:
        row = [_("mean ± std"), ""] + [mean_pm_std(cv.get("val"), k) for k in keys]
        row += [mean_pm_std(cv.get("test"), keys[-1])] if has_test else []
        rows.append([*row, ""])
    return columns, rows


def fold_line(e: dict) -> str:
    """One fold of a cross-validation in a line: 'fold 2/5: val accuracy 93.3% · test accuracy 96.7%
    (weights of epoch 48) · good fit'."""
    scores = []
    for part, words in (("val", N_("val {metric} {value}")), ("test", N_("test {metric} {value}"))):
        metrics = e.get(part) or {}
        key = headline_key(metrics)
        if key:
            scores.append(_(words).format(metric=metric_name(key), value=format_metric(key, metrics[key])))
    verdict = verdict_name(e["verdict"]) if e.get("verdict") else status_name(e.get("status"))
    shown = {
        "fold": e.get("fold", 0) + 1,
        "k": e.get("k"),
        "scores": " · ".join(scores) or status_name(e.get("status")),
        "verdict": verdict,
    }
    if e.get("weights_epoch"):
        return _("fold {fold}/{k}: {scores} (weights of epoch {epoch}) · {verdict}").format(
            epoch=e["weights_epoch"], **shown
        )
    return _("fold {fold}/{k}: {scores} · {verdict}").format(**shown)


def member_rows(record: RunRecord, summary: dict) -> list[dict]:
    """A sweep's rows of results (summary.json's `members`). A run recorded before the rows carried each
    member's validation metrics at its best epoch and its verdict has them judged here from the member's own
    epochs in the record, as the engine judges them."""
    from nnplay.engine.core.sweep_results import at_best_epoch

    members = summary.get("members") or []
    if all("val" in m and "verdict" in m for m in members):
        return members
    epochs: dict[int | None, list[dict]] = {}
    for event in record.of_type("member"):
        epochs.setdefault(event.get("member"), []).append(event)
    rows = []
    for m in members:
        own = epochs.get(m.get("member"), [])
        diag = judge(record, own, status=m.get("status")) if own else {}
        rows.append(
            {
                "settings": {},
                "best_epoch": diag.get("best_epoch"),
                "best_val_loss": diag.get("best_val_loss"),
                "val": at_best_epoch(own, diag.get("best_epoch")),
                "verdict": diag.get("verdict"),
                "duration_s": None,
                **m,
            }
        )
    return rows


def members_table(record: RunRecord, summary: dict) -> tuple[list[str], list[list[str]]]:
    """A sweep, one row per member (tui.sweep_view.results_table): the settings it changes, its status, its
    headline validation metric at its best epoch, its test score, verdict and time, best first, the best
    member of a grid or random search marked; a seed or strength sweep ends with the test's mean ± std row."""
    from nnplay.tui.sweep_view import results_table, searched_in

    rows = member_rows(record, summary)
    searched = searched_in(summary.get("plan"))
    table = results_table(rows, best=summary.get("best_member"), search=bool(searched))
    columns = [column.title for column in table.columns]
    cells = [list(row) for row in table.rows]
    key = headline_metric(summary)[0] if summary.get("test") else None
    if not searched and key is not None and "test" in [column.key for column in table.columns]:
        mean = [""] * len(columns)
        mean[0] = _("mean ± std")
        mean[[column.key for column in table.columns].index("test")] = mean_pm_std(summary.get("test"), key)
        cells.append(mean)
    return columns, cells


def sweep_sections(record: RunRecord, summary: dict) -> list[str]:
    """A sweep's Metrics and Members sections of the Markdown report: the final table (the members' mean; a
    grid's or random search's test is its best member's, a seed sweep's the mean ± std), then one row per
    member, and for a search the heatmap or the metric against its settings and the best member in a line."""
    from nnplay.tui.sweep_view import best_member_line, figures, searched_in

    members = summary.get("members") or []
    searched = searched_in(summary.get("plan"))
    _title, columns, rows = final_table(summary)
    epoch = (summary.get("final") or {}).get("epoch")
    best = next((m.get("label") for m in members if m.get("member") == summary.get("best_member")), None)
    if searched and best is not None:
        words = _(
            "This run is a search over {settings}: {count} members, listed under Members. Train and validation "
            "below are the mean over the {count} members at epoch {epoch}; test is the best member's ({label}), "
            "chosen on validation."
        ).format(settings=", ".join(searched), count=len(members), epoch=epoch, label=best)
        test_column = _("test (best member)")
    else:
        keys = {metric_name(key): key for key in METRIC_NAMES}
        for row in rows:  # the test's spread across the members is recorded; train and validation's is not
            row[-1] = mean_pm_std(summary.get("test"), keys[row[0]])
        words = _(
            "This run is a sweep of {count} members, listed under Members. Every number below is "
            "the mean over the {count} members: train and validation at epoch {epoch}, and test at the "
            "end, ± its standard deviation across the members."
        ).format(count=len(members), epoch=epoch)
        test_column = _("test (mean ± std)")
    lines = ["## " + _("Metrics"), "", words, "", *_markdown_table([*columns[:-1], test_column], rows), ""]
    lines += [
        "## " + _("Members"),
        "",
        _(
            "Each member is a run of its own: its validation score at its best epoch, its test score of the "
            "weights it kept, and its verdict, judged from its own epochs."
        ),
        "",
        *_markdown_table(*members_table(record, summary)),
    ]
    if searched:
        rows_of = member_rows(record, summary)
        for block in figures(rows_of, searched, width=72, best=summary.get("best_member")):
            lines += ["", "```", block, "```"]
        line = best_member_line(rows_of, summary.get("best_member"))
        if line:
            lines += ["", line]
    return lines


def diagnosis_facts(diag: dict) -> list[str]:
    """The diagnosis's dates as sentences: best epoch, onset of overfitting, what early stopping would do."""
    lines = []
    if diag.get("best_epoch"):
        lines.append(
            _("Best validation epoch: {epoch} (loss {loss}).").format(
                epoch=diag["best_epoch"], loss=format_metric("loss", diag.get("best_val_loss"))
            )
        )
    if diag.get("overfitting_epoch"):
        lines.append(_("Overfitting began at epoch {epoch}.").format(epoch=diag["overfitting_epoch"]))
    stop = diag.get("early_stopping")
    if stop:
        would = _("Early stopping with patience {patience} would stop at epoch {stop} and keep epoch {kept}.").format(
            patience=diag.get("patience"), stop=stop["stop_epoch"], kept=stop["best_epoch"]
        )
        lines.append(f"{would} {stop['note']}" if stop.get("note") else would)  # two sentences
    return lines


def _markdown_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def flatten(data: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}} -> {"a.b": 1}."""
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def headline_metric(summary: dict) -> tuple[str, float | None]:
    """The test metric a learner looks at first for this task."""
    test = summary.get("test") or {}
    for key in HEADLINE_ORDER:
        if key in test:
            return key, test[key]
    return "loss", None


def rerun_command(record: RunRecord) -> str:
    """The shell command that runs this run's config again."""
    return f"nnplay run {shlex.quote(str(record.path / 'config.toml'))}"


def to_json(record: RunRecord) -> str:
    """The run as JSON: its summary, config and epoch events."""
    data = {"summary": summary_of(record), "config": config_of(record), "epochs": record.epochs}
    return json.dumps(data, indent=2, default=str)


def to_csv(record: RunRecord) -> str:
    """One row per epoch, one column per number the engine measured."""
    rows = [
        {k: v for k, v in e.items() if k not in ("type", "time") and not isinstance(v, dict | list)}
        for e in record.epochs
    ]
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns or ["epoch"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def to_markdown(record: RunRecord) -> str:
    """A self-contained report: config, plan, metrics, verdict, loss chart, the command to re-run. Written for
    people, in the current language; the settings' names and values stay as the TOML file has them."""
    s = summary_of(record)
    config = config_of(record)
    plan = s.get("plan") or {}
    lines = [f"# {s['name']} — {status_name(s['status'])}", ""]
    if config.get("description"):
        lines += [" ".join(_(config["description"]).split()), ""]
    lines += [
        _("Run `{id}`: {task} on **{dataset}** with a **{architecture}**, {epochs} epochs run.").format(
            id=record.id,
            task=s.get("task"),
            dataset=s.get("dataset"),
            architecture=s.get("architecture"),
            epochs=s.get("epochs_run", 0),
        ),
        "",
    ]
    if plan:
        lines += [
            "## " + _("Plan"),
            "",
            "- "
            + _("split: {train} train / {val} validation / {test} test samples").format(
                train=plan.get("n_train"), val=plan.get("n_val"), test=plan.get("n_test")
            ),
            "- "
            + _("batch {batch_size}: {arithmetic} ({last_batch})").format(
                batch_size=plan.get("batch_size"),
                arithmetic=batch_arithmetic(plan),
                last_batch=readable_last_batch(plan, config),
            ),
            "- "
            + _("{params} parameters; loss: {loss}; device: {device}").format(
                params=plan.get("params"),
                loss=plan.get("loss_description", plan.get("loss")),
                device=plan.get("device"),
            ),
            "",
        ]
        if plan.get("data_info"):  # your own data: what was read
            lines[-1:-1] = ["- " + _("read: {summary}").format(summary=data_info_summary(plan["data_info"]))]
    members = s.get("members") or []
    if s.get("folds"):
        columns, rows = folds_table(s)
        lines += ["## " + _("Cross-validation"), ""] + _markdown_table(columns, rows) + [""]
    elif members:
        lines += sweep_sections(record, s)
    else:
        title, columns, rows = final_table(s)
        lines += ["## " + _("Metrics"), "", _("Every number below is of {title}.").format(title=title), ""]
        lines += _markdown_table(columns, rows)
    diag = readable_diagnosis(record, s)
    lines += ["", "## " + _("Verdict"), ""]
    best = diag.get("label") if members else None  # a grid or random search: its best member's own verdict
    if best is not None:
        lines += [_("Judged on the best member's own epochs, as a single run's are."), ""]
        heading = _("verdict of the best member ({label}): {verdict}").format(
            label=best, verdict=verdict_name(s.get("verdict") or "unknown")
        )
    else:
        if members:
            lines += [_("Judged on the mean over the {count} members, epoch by epoch.").format(count=len(members)), ""]
        heading = verdict_name(s.get("verdict") or "unknown")
    lines += [f"**{heading}** — {diag.get('explanation', '')}", ""]
    if diag.get("advice"):
        lines += [_("What to try: {advice}").format(advice=diag["advice"]), ""]
    for note in diag.get("notes") or []:
        lines += [_("Note: {note}").format(note=note), ""]
    lines += diagnosis_facts(diag)
    if record.epochs:
        from nnplay.tui.charts import loss_chart  # plotext: only when a report draws

        searched = bool(members) and diag.get("label") is not None  # its best epoch is a member's, not the mean's
        chart = loss_chart(
            record.epochs,
            width=72,
            height=16,
            color=False,
            best_epoch=None if searched else diag.get("best_epoch"),
            train=train_label(plan),
        )
        lines += ["", "## " + _("Loss"), "", "```", chart.rstrip(), "```"]
    lines += ["", "## " + _("Config"), "", f"| {_('setting')} | {_('value')} |", "|---|---|"]
    for key, value in flatten({k: v for k, v in config.items() if k != "description"}).items():
        lines.append(f"| {key} | `{json.dumps(value)}` |")
    lines += ["", "## " + _("Re-run"), "", "```", rerun_command(record), "```", ""]
    return "\n".join(lines)


def export(record: RunRecord, fmt: str) -> str:
    """The run in an export format (json, csv, md, or py: the script that reproduces it); ValueError names
    the formats allowed, and ScriptNotPossible or DataMissing (both ValueErrors) why a run has no script."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(
            _("--format {value} is not a format; allowed: {allowed}").format(
                value=repr(fmt), allowed=", ".join(EXPORT_FORMATS)
            )
        )
    if fmt == "py":
        from nnplay.engine.core.script import script_of_run

        return script_of_run(record)
    return {"json": to_json, "csv": to_csv, "md": to_markdown}[fmt](record)


def default_export_path(record: RunRecord, fmt: str) -> Path:
    """Where an export of the run goes by default, in its directory: report.<format>, train.py for the
    script, tensorboard/ for TensorBoard's event files."""
    if fmt == "py":
        from nnplay.engine.core.script import SCRIPT_NAME

        return record.path / SCRIPT_NAME
    return record.path / ("tensorboard" if fmt == "tensorboard" else f"report.{fmt}")


def exported_message(written: list[Path]) -> str:
    """What an export wrote, in one line: 'exported report.json, report.md to runs/a', or for
    several runs 'exported report.json, report.md for 2 runs: runs/a, runs/b'."""
    names = list(dict.fromkeys(path.name for path in written))
    dirs = list(dict.fromkeys(str(path.parent) for path in written))
    if len(dirs) == 1:
        return _("exported {names} to {directory}").format(names=", ".join(names), directory=dirs[0])
    return _("exported {names} for {count} runs: {directories}").format(
        names=", ".join(names), count=len(dirs), directories=", ".join(dirs)
    )
