"""User text is shown as text, never parsed as Rich markup, and hostile input is one sentence with exit
code 2: preset and lesson names, --set values, run names and descriptions, user presets, and what the
engine sends back that quotes them."""

from __future__ import annotations

import io

import pytest
import tomli_w
from rich.console import Console
from test_cli import cli, normalized

from nnplay.engine.core.runs import list_runs, load_run
from nnplay.tui.live import RunRenderer, final_metrics, members_table, plan_panel, verdict_panel

MARKUP = "[/oops]"  # a closing tag with nothing open: Rich raises MarkupError if it parses it


def one_error(code: int, out: str, err: str) -> str:
    assert code == 2, (out, err)
    assert "Traceback" not in err and err.count("error:") == 1, err
    return normalized(err)


def test_an_unknown_preset_with_markup_is_named_as_typed():
    message = one_error(*cli("run", "nope[/b]"))
    assert message.startswith("error: 'nope[/b]' is neither a preset nor a TOML file")


def test_a_set_value_with_markup_is_quoted_as_typed(tmp_path):
    message = one_error(*cli("run", "batch-math", "--set", 'training.device="[/x]"', "--runs", str(tmp_path / "runs")))
    assert "training.device = '[/x]' is not an option" in message


def test_a_lesson_name_with_markup_is_named_as_typed():
    message = one_error(*cli("lesson", "[bold]x[/bold]"))
    assert "'[bold]x[/bold]' is not a lesson of the course" in message


@pytest.mark.parametrize("command", ["run", "lesson"])
def test_a_5000_character_preset_name_is_one_short_sentence(command):
    message = one_error(*cli(command, "x" * 5000))
    assert "'xxxx" in message and "…" in message
    assert max(len(word) for word in message.split()) <= 82


def test_a_5000_character_run_name_is_refused_before_the_run(tmp_path):
    message = one_error(*cli("run", "batch-math", "--set", f'name="{"n" * 5000}"', "--runs", str(tmp_path / "runs")))
    assert "name = 'nnn" in message and "allowed: 1 to 100 characters" in message
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("assignment", "words"),
    [
        ("regularization.min_delta=inf", "regularization.min_delta = inf is not a finite number"),
        ("data.noise=nan", "data.noise = nan is not a finite number"),
        ("training.epochs=" + "9" * 5000, "is a number of 5000 digits"),
        ("training.device=" + "d" * 10_000, "training.device = 'ddd"),
    ],
    ids=["inf", "nan", "5000-digits", "10000-characters"],
)
def test_a_hostile_set_value_is_one_sentence_naming_the_setting(tmp_path, assignment, words):
    message = one_error(*cli("run", "batch-math", "--set", assignment, "--runs", str(tmp_path / "runs")))
    assert words in message and len(message) < 400, message


def test_a_deeply_nested_toml_file_is_one_sentence_naming_it(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    message = one_error(*cli("run", str(path), "--runs", str(tmp_path / "runs")))
    assert f"{path} is nested too deeply" in message


def test_a_toml_file_with_a_byte_order_mark_runs(tmp_path, tiny_data):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + tomli_w.dumps(tiny_data(training={"epochs": 1})).encode())
    code, _, err = cli("run", str(path), "--json", "--runs", str(tmp_path / "runs"))
    assert code == 0, err


def test_a_run_named_and_described_with_markup_shows_as_typed(tmp_path, tiny_data):
    path = tmp_path / "tiny.toml"
    data = tiny_data(training={"epochs": 2})
    data["name"], data["description"] = MARKUP, "[bold]a[/bold] [/desc]"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    runs = tmp_path / "runs"
    code, out, err = cli("run", str(path), "--runs", str(runs))
    assert code == 0, err
    assert f"plan: {MARKUP}" in normalized(out)
    [run_dir] = list_runs(runs)
    assert load_run(run_dir).summary["name"] == MARKUP
    for command in (["show", "last"], ["export", "last", "--format", "md"], ["runs"]):
        code, out, err = cli(*command, "--runs", str(runs))
        assert code == 0 and "Traceback" not in err, (command, err)
    code, out, _ = cli("show", "last", "--runs", str(runs))
    assert normalized(out).startswith(f"{MARKUP} · {run_dir.name} · completed")


def test_a_user_preset_with_markup_in_its_name_and_description_is_listed_as_typed(user_presets):
    (user_presets / "[x].toml").write_text('description = "[/desc] and [bold]b[/bold]"\n', encoding="utf-8")
    code, out, err = cli("presets")
    assert code == 0, err
    assert "[x] [/desc] and [bold]b[/bold]" in normalized(out)


def test_a_user_preset_too_deep_to_read_is_listed_as_not_valid(user_presets):
    (user_presets / "deep.toml").write_text("x = " + "[" * 3000 + "]" * 3000 + "\n", encoding="utf-8")
    code, out, err = cli("presets")
    assert code == 0, err
    assert "deep (this preset is not valid TOML)" in normalized(out)


def rendered(*renderables) -> str:
    console = Console(file=io.StringIO(), width=160, color_system=None)
    for renderable in renderables:
        console.print(renderable)
    return normalized(console.file.getvalue())


PLAN = {
    "name": MARKUP,
    "dataset": "[/dataset]",
    "n_samples": 200,
    "input_shape": [2],
    "n_train": 120,
    "n_val": 40,
    "n_test": 40,
    "batch_size": 32,
    "iterations_per_epoch": 4,
    "epochs": 2,
    "total_updates": 8,
    "last_batch": "[/last]",
    "n_train_eval": 120,
    "architecture": "[/arch]",
    "params": 10,
    "loss_description": "[/loss]",
    "device": "[/dev]",
    "precision": "fp32",
    "threads": 1,
}


def test_the_run_renderer_shows_the_engines_words_as_text():
    text = rendered(
        plan_panel(PLAN),
        verdict_panel({"verdict": "[/v]", "explanation": "[/e]", "advice": "[/a]", "notes": ["[/n]"]}),
        members_table([{"label": "[/m]", "status": "[/s]", "test": {"accuracy": 0.5}}]),
        final_metrics({"kept": {"epoch": 1}, "train": {"loss": 0.1}, "val": {"loss": 0.2}, "test": {"loss": 0.3}}),
    )
    for words in ("[/dataset]", "[/arch]", "[/loss]", "[/dev]", "verdict: [/v]", "[/e]", "[/m]", "[/s]"):
        assert words in text, words
    renderer = RunRenderer(Console(file=io.StringIO(), width=160))
    renderer.handle({"type": "plan", **PLAN})
    renderer.handle({"type": "warning", "message": "[/w]"})
    renderer.handle({"type": "error", "message": "[/err]"})
    assert "[/w]" in renderer.console.file.getvalue() and "[/err]" in renderer.console.file.getvalue()


def test_a_5000_character_run_reference_is_a_usage_error_not_a_traceback(tmp_path):
    code, out, err = cli("show", "x" * 5000, "--runs", str(tmp_path / "runs"))
    one_error(code, out, err)
