"""Experiment strings (engine/core/share.py) and `nnplay share`: every preset survives the round trip,
damaged strings are refused in one sentence, and a shared run gives back the string it was run from."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import re
import zlib
from typing import Any
from unittest import mock

import pytest
import tomli_w
from rich.console import Console

from nnplay.engine.core.config import ConfigError, validate
from nnplay.engine.core.config_files import load
from nnplay.engine.core.runs import list_runs, load_run
from nnplay.engine.core.share import (
    MAX_SETTINGS_BYTES,
    PREFIX,
    ShareError,
    decode,
    encode,
    looks_like_experiment,
    web_url,
)
from nnplay.engine.core.share_dictionary import FORMAT_1
from nnplay.presets import list_presets
from nnplay.tui.cli import build_parser, cmd_share, main

URL_SAFE = re.compile(r"[A-Za-z0-9._-]+")
SHIPPED = [p for p in list_presets() if not p.user]

# Made by format 1 when it was new: every later nnplay must read it back to these settings.
GOLDEN = (
    "nnp1.ePnIX6V4QypsgAU6MAJ1DTEKG1_Q5Ba4n59YAJm9AXYRgE12aBJTeNQ2CdQj08Na3CCqN6QCx8TAADkrwnMdMIyBOQlrokdKz0Y4YswcNcIgJXJ"
    "tLQAbS0yl"
)
GOLDEN_SETTINGS = {
    "name": "exercise-1",
    "description": "Make the gap close: try dropout → 0.5.",
    "data": {"dataset": "circles", "n_samples": 400},
    "model": {"hidden": [32, 32]},
    "regularization": {"dropout": 0.2},
    "training": {"epochs": 7, "batch_size": "full"},
}
FORMAT_1_DIGEST = "7d47288c63821142ca041730c8ad4ef71f1c331180bdf4beda5c004c46fc2fd7"


def packed(raw: bytes, version: int = 1) -> str:
    """A string holding `raw` as its settings, made the way format 1 makes them (for what encode refuses)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS, 9, zlib.Z_DEFAULT_STRATEGY, FORMAT_1)
    data = packer.compress(raw) + packer.flush()
    return f"nnp{version}." + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def refused(text: Any) -> str:
    with pytest.raises(ShareError) as caught:
        decode(text)
    return str(caught.value)


# The round trip


@pytest.mark.parametrize("preset", SHIPPED, ids=lambda p: p.name)
def test_every_preset_survives_the_round_trip_in_a_short_url_safe_string(preset) -> None:
    config = load(preset.path)
    string = encode(config)
    assert string.startswith(PREFIX) and URL_SAFE.fullmatch(string), string
    assert validate(decode(string)).model_dump() == config.model_dump()
    assert encode(validate(decode(string))) == string  # the same config, the same string
    assert len(string) < 200, f"{preset.name}: {len(string)} characters"


def test_a_string_holds_only_the_settings_that_differ_from_the_defaults() -> None:
    assert decode(encode({})) == {}
    settings = {"name": "x", "training": {"epochs": 7, "batch_size": 32}, "model": {"hidden": [16, 16]}}
    assert decode(encode(settings)) == {"name": "x", "training": {"epochs": 7}}


def test_plain_data_is_validated_before_it_is_encoded() -> None:
    data = {"name": "x", "optimizer": {"lr": 0.5}}
    assert encode(data) == encode(validate(data))
    with pytest.raises(ConfigError, match=r"training\.epochs = 0 is out of range"):
        encode({"training": {"epochs": 0}})


@pytest.mark.parametrize("task", ["classification", "auto", "regression"])
def test_your_own_datas_task_survives_though_its_default_depends_on_the_data(task) -> None:
    # With your own data an unnamed task is "auto", not the plain default "classification".
    config = validate({"task": task, "data": {"dataset": "csv", "path": "marks.csv"}})
    assert validate(decode(encode(config))).model_dump() == config.model_dump()
    with_loss = validate({"task": "classification", "loss": "bce", "data": {"dataset": "csv", "path": "m.csv"}})
    assert validate(decode(encode(with_loss))).model_dump() == with_loss.model_dump()


def test_a_string_made_by_format_1_reads_back_forever() -> None:
    assert hashlib.sha256(FORMAT_1).hexdigest() == FORMAT_1_DIGEST, "format 1's dictionary is frozen"
    assert decode(GOLDEN) == GOLDEN_SETTINGS
    assert encode(GOLDEN_SETTINGS) == GOLDEN


def test_whitespace_a_wrapped_line_and_a_web_address_are_read() -> None:
    string = encode({"name": "x", "training": {"epochs": 3}})
    assert decode(f"  {string}\n") == {"name": "x", "training": {"epochs": 3}}
    assert decode(f"{string[:20]}\n  {string[20:]}") == decode(string)  # a line an e-mail wrapped
    assert web_url(string) == f"http://127.0.0.1:8000/?experiment={string}"
    assert web_url(string, "0.0.0.0", 9000) == f"http://0.0.0.0:9000/?experiment={string}"
    assert decode(web_url(string, "classroom.example", 80)) == decode(string)
    assert decode(f"https://lab.example/nnplay/?lang=ko&experiment={string}#top") == decode(string)


def test_strings_are_told_from_preset_file_and_run_names() -> None:
    string = encode({})
    assert looks_like_experiment(string) and looks_like_experiment(f" {string} ")
    assert looks_like_experiment("nnp2.AAAA")  # a newer format is still a string: its sentence says so
    assert looks_like_experiment(web_url(string))
    for name in ("batch-math", "nnp", "presets/nnp1.toml", "last", "20240101-120000-tiny", ""):
        assert not looks_like_experiment(name), name


# Refusals: one sentence each, quoting at most ~80 characters


def test_a_corrupted_string_is_damaged() -> None:
    string = encode({"name": "x", "training": {"epochs": 3}})
    middle = len(string) // 2
    corrupted = string[:middle] + ("A" if string[middle] != "A" else "B") + string[middle + 1 :]
    assert refused(corrupted) == f"{corrupted!r} is not an experiment string: its data is damaged (copy the whole line)"
    assert "damaged" in refused(string + "!")
    assert "damaged" in refused("nnp1.é")


def test_a_truncated_string_is_damaged() -> None:
    string = encode({"name": "x", "training": {"epochs": 3}})
    for cut in (string[:-4], string[: len(PREFIX) + 3], PREFIX):
        assert refused(cut).endswith("its data is damaged (copy the whole line)"), cut


def test_a_string_of_a_newer_format_says_so() -> None:
    newer = "nnp2." + encode({})[len(PREFIX) :]
    assert refused(newer) == f"{newer!r} was made by a newer nnplay (format 2); this nnplay reads format 1"


def test_a_zip_bomb_is_refused_before_it_is_unpacked_whole() -> None:
    bomb = packed(b'{"description":"' + b" " * (100 * MAX_SETTINGS_BYTES) + b'"}')
    message = refused(bomb)
    assert message.endswith("unpacks to more than 64 KB of settings; allowed: at most 64 KB"), message
    assert len(message) < 200  # the string is quoted cut short, not whole
    assert decode(packed(b'{"description":"' + b" " * (MAX_SETTINGS_BYTES - 20) + b'"}'))  # just under: read


def test_junk_is_not_an_experiment_string() -> None:
    assert refused("hello world") == "'hello world' is not an experiment string; they start with 'nnp1.'"
    assert refused("") == "'' is not an experiment string; they start with 'nnp1.'"
    assert refused(None) == "None is not an experiment string; they are text starting with 'nnp1.'"
    assert refused(42).startswith("42 is not an experiment string")
    long_junk = "x" * 5000
    message = refused(long_junk)
    assert message.startswith("'xxx") and "(5,000 characters)" in message and len(message) < 160
    assert "not an experiment string" in refused("http://127.0.0.1:8000/?lang=ko")


def test_settings_that_are_not_a_table_are_damaged() -> None:
    for raw in (b"[1, 2]", b"not json", b'"text"', b"\xff\xfe", b"[" * 30_000 + b"]" * 30_000):
        assert "its data is damaged" in refused(packed(raw)), raw[:20]


def test_a_bad_value_in_a_string_gets_the_configs_sentence_naming_the_setting() -> None:
    data = decode(packed(json.dumps({"training": {"epochs": 0}}).encode()))
    with pytest.raises(ConfigError) as caught:
        validate(data)
    assert [p.setting for p in caught.value.problems] == ["training.epochs"]
    assert str(caught.value).startswith("training.epochs = 0 is out of range")


# The command line


def cli(*argv: str) -> tuple[int, str, str]:
    """Run `nnplay ARGV...` in this process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_share_prints_the_string_alone_into_a_pipe() -> None:
    code, out, err = cli("share", "batch-math")
    assert (code, err) == (0, "")
    assert out == encode(load(next(p.path for p in SHIPPED if p.name == "batch-math"))) + "\n"
    code, out, _ = cli("share", "batch-math", "--set", "training.epochs=3")
    assert code == 0 and decode(out.strip())["training"]["epochs"] == 3


def test_share_on_a_terminal_adds_the_web_address() -> None:
    args = build_parser().parse_args(["share", "adam"])
    buffer = io.StringIO()
    assert cmd_share(args, Console(file=buffer, force_terminal=True, width=40)) == 0
    string, url = buffer.getvalue().splitlines()  # one line each, however narrow the terminal
    assert url == web_url(string) and "\x1b" not in buffer.getvalue()
    assert validate(decode(string)).name == "adam"


def test_share_of_junk_is_one_sentence_and_exit_2(tmp_path) -> None:
    code, out, err = cli("share", "no-such-thing", "--runs", str(tmp_path / "runs"))
    assert (code, out) == (2, "")
    assert " ".join(err.split()) == (
        f"error: 'no-such-thing' is neither a preset, a TOML file, a run under {tmp_path / 'runs'}/ nor an "
        "experiment string; `nnplay presets` and `nnplay runs` list them"
    )
    code, _, err = cli("share", "nnp1.garbage")
    assert code == 2 and "its data is damaged" in err


def test_run_refuses_a_damaged_string_or_a_bad_override_before_any_run(tmp_path) -> None:
    runs = tmp_path / "runs"
    string = encode({"name": "x"})
    code, _, err = cli("run", string[:-3], "--runs", str(runs))
    assert code == 2 and "its data is damaged" in err
    code, _, err = cli("run", string, "--set", "training.epochs=0", "--runs", str(runs))
    assert code == 2 and "the experiment string: training.epochs = 0 is out of range" in " ".join(err.split())
    assert not list_runs(runs)


def test_a_shared_string_runs_and_its_run_shares_the_same_string(tmp_path, tiny_data) -> None:
    toml = tmp_path / "tiny.toml"
    toml.write_text(tomli_w.dumps(tiny_data(training={"epochs": 2})), encoding="utf-8")
    code, out, _ = cli("share", str(toml), "--set", "training.epochs=1")
    string = out.strip()
    assert code == 0 and decode(string)["training"]["epochs"] == 1

    runs = tmp_path / "runs"
    code, _, err = cli("run", string, "--json", "--runs", str(runs))
    assert code == 0, err
    [run] = list_runs(runs)
    assert load_run(run).status == "completed"
    assert cli("share", "last", "--runs", str(runs))[1] == string + "\n"
    assert cli("share", str(run))[1] == string + "\n"
    assert cli("share", run.name[:12], "--runs", str(runs))[1] == string + "\n"  # a unique part of its id


# The app's start options (the app itself is never started here)


def app_main_called(*argv: str) -> tuple[int, mock.MagicMock, str]:
    with mock.patch("nnplay.tui.app.main", return_value=0) as app_main:
        code, _, err = cli(*argv)
    return code, app_main, err


def test_the_app_opens_with_a_preset_or_an_experiment_string(tmp_path) -> None:
    runs = str(tmp_path / "runs")
    code, app_main, _ = app_main_called("--runs", runs, "--preset", "adam")
    assert code == 0
    app_main.assert_called_once_with(runs, preset="adam", experiment=None)
    string = encode({"name": "x"})
    code, app_main, _ = app_main_called("--runs", runs, "--experiment", string)
    assert code == 0
    app_main.assert_called_once_with(runs, preset=None, experiment=string)


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (["--preset", "nope"], "error: --preset 'nope' is not a preset; presets: "),
        (["--experiment", "nope"], "error: 'nope' is not an experiment string; they start with 'nnp1.'"),
        (["--experiment", "nnp1.AAAA"], "error: 'nnp1.AAAA' is not an experiment string: its data is damaged"),
        (["--preset", "adam", "runs"], "error: --preset opens the app, so it goes with no command"),
    ],
)
def test_a_bad_start_option_is_one_sentence_and_exit_2_before_the_app_starts(tmp_path, argv, sentence) -> None:
    code, app_main, err = app_main_called("--runs", str(tmp_path / "runs"), *argv)
    assert code == 2 and not app_main.called
    assert " ".join(err.split()).startswith(sentence), err
    assert len(err.strip().splitlines()) == 1 or argv[0] == "--preset"  # the presets' names may wrap


def test_a_start_experiment_that_cannot_run_names_its_setting(tmp_path) -> None:
    string = packed(json.dumps({"training": {"epochs": 0}}).encode())
    code, app_main, err = app_main_called("--runs", str(tmp_path / "runs"), "--experiment", string)
    assert code == 2 and not app_main.called
    assert "the experiment string: training.epochs = 0 is out of range" in " ".join(err.split())


def test_share_reads_back_a_string_with_overrides() -> None:
    string = encode({"name": "x"})
    code, out, _ = cli("share", string, "--set", "optimizer.lr=0.5")
    assert code == 0 and decode(out.strip()) == {"name": "x", "optimizer": {"lr": 0.5}}


def test_the_share_command_explains_its_output_in_its_help() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["share", "--help"])
    text = " ".join(out.getvalue().split())
    assert "into a pipe only the string is printed" in text and "nnplay web" in text
