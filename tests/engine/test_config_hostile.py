"""Hostile and odd input to the config: deep nesting, non-finite numbers, huge numbers, long text,
a byte-order mark. Each gets one sentence naming the setting (or the file) and what is allowed,
as a ConfigError, never another exception."""

from __future__ import annotations

import math
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnplay.engine.core.config import QUOTE_LIMIT, ConfigError, ExperimentConfig, Section, validate
from nnplay.engine.core.config_files import apply_overrides, load, parse_override, read_toml

DEPTH = 3000  # well past Python's recursion limit


def one_sentence(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message and "Traceback" not in message, message
    return message


# Deep nesting.

DEEP_TOML = {
    "arrays": "x = " + "[" * DEPTH + "]" * DEPTH + "\n",
    "inline-tables": "x = " + "{a = " * DEPTH + "1" + "}" * DEPTH + "\n",
    "table-headers": "[" + ".".join(["a"] * DEPTH) + "]\nx = 1\n",
    "dotted-keys": ".".join(["a"] * DEPTH) + " = 1\n",
}


@pytest.mark.parametrize("text", DEEP_TOML.values(), ids=DEEP_TOML.keys())
def test_deeply_nested_toml_is_one_sentence_naming_the_file(tmp_path, text):
    path = tmp_path / "deep.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(path)
    message = one_sentence(info)
    assert "deep.toml" in message and "nested too deeply" in message


@pytest.mark.parametrize("depth", [200, 400, 600, 800, 990])
def test_nesting_that_reads_but_is_still_deep_is_a_config_error(tmp_path, depth):
    """Nesting shallow enough for the TOML reader must not overflow copying, validating or quoting it."""
    path = tmp_path / "deep.toml"
    path.write_text("[model]\nhidden = " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert "deep.toml" in one_sentence(info)


def test_deeply_nested_override_value_names_the_setting():
    with pytest.raises(ConfigError) as info:
        apply_overrides({}, ["model.hidden=" + "[" * DEPTH + "]" * DEPTH])
    message = one_sentence(info)
    assert "model.hidden" in message and "nested too deeply" in message


def test_deeply_nested_plain_data_is_a_config_error():
    value: list = []
    for _ in range(DEPTH):
        value = [value]
    with pytest.raises(ConfigError) as info:
        validate({"model": {"hidden": value}})
    assert "model.hidden" in one_sentence(info)
    with pytest.raises(ConfigError):
        apply_overrides({"model": {"hidden": value}}, ["training.epochs=1"])


# Non-finite floats.


def float_settings() -> list[str]:
    """Every setting that holds a float or a list of floats, as section.key."""
    found = []
    for section, info in ExperimentConfig.model_fields.items():
        if isinstance(info.annotation, type) and issubclass(info.annotation, Section):
            for key, field in info.annotation.model_fields.items():
                if "float" in str(field.annotation):
                    found.append(f"{section}.{key}")
    return found


FLOAT_SETTINGS = float_settings()


def test_the_float_settings_are_found():
    assert {"regularization.min_delta", "data.noise", "regularization.l2", "sweep.values"} <= set(FLOAT_SETTINGS)


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "+inf", "-nan"])
@pytest.mark.parametrize("setting", FLOAT_SETTINGS)
def test_non_finite_numbers_are_refused_for_every_float_setting(setting, value):
    sweep = ["sweep.parameter='l2'"] if setting == "sweep.values" else []
    shown = f"[0, {value}]" if setting == "sweep.values" else value
    with pytest.raises(ConfigError) as info:
        validate(apply_overrides({}, [*sweep, f"{setting}={shown}"]))
    message = one_sentence(info)
    assert message.startswith(setting) and "allowed: a finite number" in message


def test_non_finite_message_says_the_range_too():
    with pytest.raises(ConfigError) as info:
        validate({"regularization": {"min_delta": math.inf}})
    assert one_sentence(info) == (
        "regularization.min_delta = inf is not a finite number; allowed: a finite number, 0 or more"
    )


def test_a_sweep_value_of_nan_is_refused_naming_the_value():
    with pytest.raises(ConfigError) as info:
        validate({"sweep": {"parameter": "l2", "values": [0.0, math.nan]}})
    assert one_sentence(info).startswith("sweep.values[1] = nan is not a finite number")


# Names, long values, huge numbers.


def test_a_5000_character_name_is_refused():
    with pytest.raises(ConfigError) as info:
        validate({"name": "x" * 5000})
    message = one_sentence(info)
    assert message.startswith("name = 'xxx") and "5000 characters" in message and "1 to 100 characters" in message
    assert len(message) < 250


def test_an_empty_name_is_refused():
    with pytest.raises(ConfigError) as info:
        validate({"name": ""})
    assert one_sentence(info) == "name = '' is empty; allowed: 1 to 100 characters"


def test_a_100_character_name_is_fine():
    assert validate({"name": "n" * 100}).name == "n" * 100


def test_a_number_of_5000_digits_in_an_override_names_the_setting():
    with pytest.raises(ConfigError) as info:
        apply_overrides({}, ["training.epochs=" + "9" * 5000])
    message = one_sentence(info)
    assert message.startswith("training.epochs = 999") and "5000 digits" in message
    assert "allowed: 1 or more and at most 100000" in message
    assert "sys.set_int_max_str_digits" not in message and len(message) < 250


def test_a_number_of_5000_digits_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text("[training]\nepochs = " + "9" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(path)
    message = one_sentence(info)
    assert "huge.toml" in message and "4300 digits" in message and "sys.set_int_max_str_digits" not in message


def test_a_huge_integer_in_plain_data_is_a_config_error():
    for data in (
        {"model": {"hidden": [10**5000]}},
        {"training": {"batch_size": 10**5000}},
        {"data": {"n_samples": 10**400}},
        {"regularization": {"l2": 10**400}},
    ):
        with pytest.raises(ConfigError) as info:
            validate(data)
        message = one_sentence(info)
        assert "sys.set_int_max_str_digits" not in message and len(message) < 300, message


@pytest.mark.parametrize(
    "assignment",
    [
        "training.device=" + "x" * 10_000,
        "data.dataset=" + "x" * 10_000,
        "model.init_from=" + "x" * 10_000 + "|sweep.seeds=2",
        "training." + "k" * 10_000 + "=1",
        "x" * 10_000,
        "sweep.values=[" + "0.5, " * 5_000 + "0.5]",
    ],
    ids=["literal", "dataset", "combination", "unknown-key", "no-equals", "long-list"],
)
def test_error_messages_quote_at_most_80_characters_of_a_value(assignment):
    overrides = assignment.split("|")
    with pytest.raises(ConfigError) as info:
        validate(apply_overrides({}, overrides))
    message = one_sentence(info)
    assert "…" in message
    longest_run = max(len(word.strip(",:;")) for word in message.split())
    assert longest_run <= QUOTE_LIMIT, message
    assert len(message) < 400, message


# Byte-order mark.


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b'name = "with-bom"\n[training]\nepochs = 3\n')
    config = load(path)
    assert config.name == "with-bom" and config.training.epochs == 3
    assert read_toml(path) == {"name": "with-bom", "training": {"epochs": 3}}


# Fuzz: nothing but ConfigError.

HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.printable, max_size=40),
    st.sampled_from(
        [
            "inf",
            "-inf",
            "nan",
            "[/x]",
            '"[/b]"',
            "\ufeff1",
            "9" * 5000,
            "1e999",
            "[" * 1500 + "]" * 1500,
            "{a = " * 600 + "1" + "}" * 600,
            '"' + "x" * 300 + '"',
            "[0, nan]",
            "[1, [2, [3]]]",
            "{}",
            "true",
            '"full"',
            "1979-05-27",
        ]
    ),
)
KEY_PARTS = st.one_of(
    st.sampled_from(
        ["", "name", "data", "model", "training", "sweep", "values", "epochs", "hidden", "noise", "batch_size", "x"]
    ),
    st.text(max_size=8),
)
ASSIGNMENTS = st.builds(
    lambda parts, sep, value: ".".join(parts) + sep + value,
    st.lists(KEY_PARTS, min_size=0, max_size=4),
    st.sampled_from(["=", " = ", "", "=="]),
    HOSTILE_TEXT,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ASSIGNMENTS, min_size=1, max_size=4))
def test_arbitrary_overrides_give_a_config_or_a_config_error(overrides):
    try:
        validate(apply_overrides({}, overrides))
    except ConfigError as exc:
        for problem in exc.problems:  # every problem one sentence, each quoting at most a short piece
            assert problem.message and "\n" not in problem.message, problem.message
            assert len(problem.message) < 1000, problem.message


def test_parse_override_keeps_ordinary_values():
    assert parse_override("training.epochs=12") == (["training", "epochs"], 12)
    assert parse_override("name=plain words") == (["name"], "plain words")


def test_a_model_of_200000_layers_is_refused_before_it_is_built() -> None:
    with pytest.raises(ConfigError, match=r"model.hidden = \[16, 16, .*has 200,000 layers; allowed: 1 to 64 widths"):
        validate({"model": {"hidden": [16] * 200_000}})
