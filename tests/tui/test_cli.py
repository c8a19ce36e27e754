"""The `nnplay` command, driven in-process through nnplay.tui.cli.main; its engine runs as a real subprocess."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
import tomli_w
from rich.console import Console

from nnplay.engine.core.diagnosis import VERDICTS, format_value
from nnplay.engine.core.events import EVENT_TYPES, decode
from nnplay.engine.core.runs import list_runs, load_run
from nnplay.presets import course, find_lesson, list_presets
from nnplay.tui.cli import cmd_runs, main
from nnplay.tui.live import RunRenderer

EPOCHS = 3


def normalized(text: str) -> str:
    """Rich wraps long lines at the console width; compare text with whitespace collapsed."""
    return " ".join(text.split())


def cli(*argv: str) -> tuple[int, str, str]:
    """Run `nnplay ARGV...` in this process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    # A fixed, wide console, so tables keep whole run ids (Rich reads COLUMNS when not on a terminal).
    with (
        mock.patch.dict(os.environ, {"COLUMNS": "160"}),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@dataclass
class FinishedRun:
    code: int
    out: str
    err: str
    runs: Path
    run_dir: Path


@pytest.fixture(scope="module")
def finished(tmp_path_factory, tiny_data) -> FinishedRun:
    """One real headless run of a tiny TOML experiment (events as JSON lines), shared by the
    commands that read runs."""
    tmp = tmp_path_factory.mktemp("cli")
    toml = tmp / "tiny-lesson.toml"
    data = tiny_data(training={"epochs": EPOCHS, "snapshot_every": 1})
    del data["name"]  # named after the file, as presets are
    toml.write_text(tomli_w.dumps(data), encoding="utf-8")
    runs = tmp / "runs"
    code, out, err = cli("run", str(toml), "--json", "--runs", str(runs))
    found = list_runs(runs)
    return FinishedRun(code, out, err, runs, found[0] if found else runs / "missing")


def test_presets_lists_every_preset():
    code, out, err = cli("presets")
    assert code == 0 and err == ""
    names = [p.name for p in list_presets()]
    assert {"batch-math", "overfit-small-data", "digits-cnn"} <= set(names)
    for name in names:
        assert name in out


def test_presets_lists_the_course_in_teaching_order_by_section():
    code, out, _ = cli("presets")
    assert code == 0
    positions = [out.index(section.title) for section in course()]
    assert positions == sorted(positions)  # sections in order
    lessons = [lesson for section in course() for lesson in section.lessons]
    at = [out.index(f" {lesson.name} ") for lesson in lessons]
    assert at == sorted(at)  # lessons in order, not alphabetically
    first = lessons[0]
    assert f"{first.number} {first.name} {first.title}" in normalized(out)


def test_presets_lists_the_users_presets_apart_with_their_directory(user_presets):
    code, out, _ = cli("presets")
    assert code == 0
    assert f"Your presets: none yet; ctrl+s on the set-up screen saves the form into {user_presets}." in normalized(out)
    (user_presets / "my-moons.toml").write_text('description = "My moons."\n', encoding="utf-8")
    (user_presets / "broken.toml").write_text("x = [", encoding="utf-8")
    code, out, _ = cli("presets")
    text = normalized(out)
    assert code == 0 and f"Your presets (in {user_presets})" in text
    assert "broken (this preset is not valid TOML)" in text and "my-moons My moons." in text
    assert text.index("Your presets") > text.index(course()[-1].lessons[-1].name)


def test_run_runs_a_users_preset_by_name(tmp_path, tiny_data, user_presets):
    data = tiny_data()
    del data["name"]  # named after the file, as presets are
    (user_presets / "my-tiny.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    runs = tmp_path / "runs"
    code, _, err = cli("run", "my-tiny", "--set", "training.epochs=1", "--json", "--runs", str(runs))
    assert code == 0, err
    [run_dir] = list_runs(runs)
    record = load_run(run_dir)
    assert record.summary["name"] == "my-tiny" and len(record.epochs) == 1


def test_lesson_runs_the_lesson_and_its_variation_and_says_whether_the_claim_held(tmp_path):
    runs = tmp_path / "runs"
    code, out, err = cli("lesson", "drop-last", "--set", "training.epochs=1", "--runs", str(runs))
    assert code == 0, err
    text = normalized(out.replace("│", " "))  # the claim and the outcome are in panels
    lesson = find_lesson("drop-last")
    assert lesson.claim in text and f"lesson {lesson.number}: {lesson.title}" in text
    assert "run 1 of 2: the lesson" in text and f"run 2 of 2: try next: {lesson.try_next}" in text
    assert "✓ the claim held" in text
    assert "With drop_last: 15 iterations per epoch" in text and "without: 16" in text
    names = sorted(load_run(path).summary["name"] for path in list_runs(runs))
    assert names == ["drop-last", "drop-last-try-next"]  # the variation's run is named apart


def test_lesson_that_is_not_in_the_course_is_a_usage_error():
    code, out, err = cli("lesson", "no-such-lesson")
    assert code == 2 and out == ""
    assert normalized(err).startswith(
        "error: 'no-such-lesson' is not a lesson of the course; lessons: train-test-split"
    )


def test_user_text_in_an_error_is_shown_as_text_not_markup():
    code, _, err = cli("lesson", "[/red]")
    assert code == 2 and "'[/red]' is not a lesson of the course" in err


def test_a_bad_override_fails_the_lesson_before_any_run(tmp_path):
    code, _, err = cli("lesson", "drop-last", "--set", "training.epochs=0", "--runs", str(tmp_path / "runs"))
    assert code == 2 and "training.epochs = 0 is out of range" in normalized(err)
    assert not (tmp_path / "runs").exists()


def test_run_with_unknown_preset_is_a_usage_error():
    code, out, err = cli("run", "no-such-lesson")
    assert code == 2
    message = normalized(err)
    assert message.startswith("error: 'no-such-lesson' is neither a preset nor a TOML file; presets: ")
    assert "batch-math" in message
    assert message.count("error:") == 1 and "Traceback" not in err
    assert out == ""


def test_run_with_bad_override_names_the_field(tmp_path):
    code, out, err = cli("run", "batch-math", "--set", "training.epochs=0", "--runs", str(tmp_path / "runs"))
    assert code == 2
    message = normalized(err)
    assert "training.epochs = 0" in message and "batch-math.toml" in message
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # nothing was started


def test_headless_run_finishes_and_keeps_a_run_directory(finished):
    assert finished.code == 0, finished.err
    assert finished.run_dir.is_dir()
    assert finished.run_dir.name.endswith("-tiny-lesson")
    record = load_run(finished.run_dir)
    assert record.status == "completed"
    assert [e["epoch"] for e in record.epochs] == list(range(1, EPOCHS + 1))


def test_run_json_streams_the_engines_json_lines(finished):
    events = [json.loads(line) for line in finished.out.splitlines()]
    assert events and all(e["type"] in EVENT_TYPES for e in events)
    assert events[0]["type"] == "hello"
    assert events[-1]["type"] == "done" and events[-1]["status"] == "completed"
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == list(range(1, EPOCHS + 1))
    # The same events the run recorded, after hello.
    assert events[1:] == load_run(finished.run_dir).events


def test_run_without_json_renders_plan_progress_and_result(finished):
    # What `nnplay run` prints for the same event stream when --json is not given.
    out = io.StringIO()
    renderer = RunRenderer(Console(file=out, width=160, highlight=False))
    for line in finished.out.splitlines():
        renderer.handle(decode(line))
    text = normalized(out.getvalue())
    assert "plan: tiny-lesson" in text
    assert "120 train / 40 validation / 40 test" in text
    assert f"= 4 iterations per epoch × {EPOCHS} epochs = {4 * EPOCHS} updates" in text
    assert f"epoch {EPOCHS}/{EPOCHS}" in text
    assert "verdict:" in text
    assert f"the weights of epoch {EPOCHS} (the last finished epoch)" in text  # the final table names its weights
    assert f"completed, weights of epoch {EPOCHS} · run saved in {finished.run_dir}" in text


def test_runs_lists_the_run(finished):
    code, out, err = cli("runs", "--runs", str(finished.runs))
    assert code == 0, err
    assert finished.run_dir.name in out
    assert "completed" in out and "moons / mlp" in out


RUN_STORE = Path(__file__).with_name("data") / "run-store"  # four fixed runs, one of them crashed
RUNS_COLUMNS = ["run", "date", "task", "data / model", "status", "epochs", "best val", "test", "verdict"]


def test_runs_into_a_pipe_prints_every_column_tab_separated():
    """`nnplay runs | grep crashed`: a pipe gets every column in full, one line per run, no styles."""
    command = "import sys; from nnplay.tui.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")} | {"TZ": "UTC"}
    done = subprocess.run(
        [sys.executable, "-c", command, "runs", "--runs", str(RUN_STORE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split("\t") == RUNS_COLUMNS
    assert len(lines) == 1 + 4 and all(line.count("\t") == len(RUNS_COLUMNS) - 1 for line in lines)
    crashed = [line for line in lines if "crashed" in line]
    assert crashed == [
        "20250101-094500-xor-perceptron\t2025-01-01 09:45\tclassification\txor / perceptron\tcrashed\t12\t0.7093\t—\tgood fit"
    ]
    assert lines[3].split("\t")[-2:] == ["acc 91.7%", "overfitting"]
    assert "\x1b" not in done.stdout


def test_runs_on_a_terminal_is_a_table():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, highlight=False)
    assert cmd_runs(argparse.Namespace(runs=str(RUN_STORE)), console) == 0
    text = out.getvalue()
    assert "\t" not in text and "xor / perceptron" in text and "crashed" in text


def test_runs_on_an_empty_directory_says_so(tmp_path):
    code, out, _ = cli("runs", "--runs", str(tmp_path / "none"))
    assert code == 0
    assert "No runs" in out


def test_show_last(finished):
    code, out, err = cli("show", "last", "--runs", str(finished.runs))
    assert code == 0, err
    text = normalized(out)
    assert f"tiny-lesson · {finished.run_dir.name} · completed · {EPOCHS} epochs" in text
    assert "120 train / 40 val / 40 test" in text
    assert "batch 32 → 4 iterations per epoch" in text
    assert "verdict:" in text


def test_show_unknown_run_is_a_usage_error(finished):
    code, _, err = cli("show", "nothing-like-this", "--runs", str(finished.runs))
    assert code == 2
    assert "no run 'nothing-like-this'" in normalized(err)


def export(finished: FinishedRun, fmt: str) -> str:
    code, out, err = cli("export", "last", "--format", fmt, "--runs", str(finished.runs))
    assert code == 0, err
    path = finished.run_dir / f"report.{fmt}"
    assert f"wrote {path}" in normalized(out)
    return path.read_text(encoding="utf-8")


def test_export_markdown(finished):
    text = export(finished, "md")
    summary = json.loads((finished.run_dir / "summary.json").read_text())
    assert text.startswith("# tiny-lesson — completed")
    assert f"**{summary['verdict']}**" in text
    chart = text.split("## Loss", 1)[1].split("```")[1]  # the ASCII chart in a code block
    assert "loss" in chart and len(chart.splitlines()) >= 10
    assert "| setting | value |" in text
    assert f"| training.epochs | `{EPOCHS}` |" in text
    assert '| data.dataset | `"moons"` |' in text
    assert f"nnplay run {finished.run_dir / 'config.toml'}" in text
    assert "4 iterations per epoch" in text


def test_export_markdown_of_a_sweep_lists_its_members_and_says_its_numbers_are_means(tmp_path, tiny_data):
    toml = tmp_path / "seeds.toml"
    toml.write_text(tomli_w.dumps(tiny_data(sweep={"seeds": 2})), encoding="utf-8")
    runs = tmp_path / "runs"
    code, _, err = cli("run", str(toml), "--runs", str(runs))
    assert code == 0, err
    code, text, err = cli("export", "last", "--format", "md", "-o", "-", "--runs", str(runs))
    assert code == 0, err
    record = load_run(list_runs(runs)[0])
    summary = record.summary
    assert "Every number below is the mean over the 2 members" in normalized(text)
    test = summary["test"]
    spread = f"{format_value('accuracy', test['accuracy'])} ± {format_value('accuracy', test['accuracy_std'])}"
    assert f"| accuracy | {format_value('accuracy', summary['final']['train_accuracy'])} |" in text
    assert text.count(spread) == 2  # the metrics table, and the members table's mean row
    table = text.split("## Members", 1)[1].split("## Verdict", 1)[0]
    assert "| seed | val acc | test acc | status | verdict | time |" in table
    for member in summary["members"]:
        seed = member["settings"]["training.seed"]
        cells = next(line for line in table.splitlines() if line.startswith(f"| {seed} |")).split(" | ")
        own = [e for e in record.of_type("member") if e["member"] == member["member"]]
        best = min(own, key=lambda e: e["val_loss"])  # its own epochs, not the mean's
        assert cells[1:4] == [
            format_value("accuracy", best["val_accuracy"]),
            format_value("accuracy", member["test"]["accuracy"]),
            member["status"],
        ]
        assert cells[4] in VERDICTS
    assert [m["label"] for m in summary["members"]] == ["seed 0", "seed 1"]
    assert "★" not in table  # copies that differ only in seed: none is the best


def test_export_csv(finished):
    rows = list(csv.DictReader(io.StringIO(export(finished, "csv"))))
    header = list(rows[0].keys())
    assert header[0] == "epoch"
    assert {"train_loss", "val_loss", "train_accuracy", "val_accuracy"} <= set(header)
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))
    record = load_run(finished.run_dir)
    assert [float(r["val_loss"]) for r in rows] == pytest.approx([e["val_loss"] for e in record.epochs])


def test_export_json(finished):
    data = json.loads(export(finished, "json"))
    assert set(data) == {"summary", "config", "epochs"}
    assert data["summary"]["status"] == "completed"
    assert data["config"]["training"]["epochs"] == EPOCHS
    assert data["config"] == tomllib.loads((finished.run_dir / "config.toml").read_text())
    assert [e["epoch"] for e in data["epochs"]] == list(range(1, EPOCHS + 1))


def test_export_to_stdout(finished):
    code, out, _ = cli("export", "last", "--format", "csv", "-o", "-", "--runs", str(finished.runs))
    assert code == 0
    assert out.splitlines()[0].startswith("epoch,")
    assert len(out.splitlines()) == EPOCHS + 1


def test_a_config_with_several_problems_prints_each_and_exits_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[training]\nepochs = 0\n[optimizer]\nlr = -1\n", encoding="utf-8")
    code, out, err = cli("--runs", str(tmp_path / "runs"), "run", str(path))
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "error: bad.toml has 2 problems:",
        "- optimizer.lr = -1 is out of range; allowed: above 0.0",
        "- training.epochs = 0 is out of range; allowed: 1 or more",
    ]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
