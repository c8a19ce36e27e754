"""The experiment config: defaults, one-sentence errors for every bad combination, overrides,
TOML round trips, and fuzzing that nothing but ConfigError (or a TOML syntax error) escapes."""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnplay.engine.core.config import ConfigError, ExperimentConfig, nesting_error, validate
from nnplay.engine.core.config_files import apply_overrides, load, parse_override, read_toml
from nnplay.presets import list_presets

PRESETS = [preset.path for preset in list_presets()]  # course.toml is the course, not an experiment


def config_error(data: dict) -> str:
    """The message of the ConfigError that validating `data` raises (fails the test if none)."""
    with pytest.raises(ConfigError) as info:
        validate(data)
    message = str(info.value)
    assert "\n" not in message, f"not one sentence: {message!r}"
    assert "Traceback" not in message and "pydantic" not in message.lower(), message
    return message


def test_defaults_are_a_valid_config():
    config = validate({})
    assert config == ExperimentConfig()
    assert (config.data.dataset, config.model.architecture, config.task) == ("moons", "mlp", "classification")
    assert config.resolved_loss == "cross_entropy"
    assert config.n_classes == 2


def test_tiny_config_fixture_is_valid(tiny_config):
    config = tiny_config(training={"epochs": 2})
    assert config.training.epochs == 2
    assert config.training.batch_size == 32
    assert config.data.n_samples == 200


@pytest.mark.parametrize(
    ("data", "must_contain"),
    [
        pytest.param(
            {"data": {"dataset": "moons"}, "model": {"architecture": "cnn"}},
            ["model.architecture", "'cnn'", "moons", "2-D points", "allowed: perceptron, mlp"],
            id="cnn-on-2d-points",
        ),
        pytest.param(
            {"data": {"dataset": "moons", "n_samples": 200}, "training": {"batch_size": 500}},
            ["training.batch_size", "500", "120 of 200 samples", "1 to 120"],
            id="batch-larger-than-training-split",
        ),
        pytest.param(
            {"data": {"dataset": "iris"}, "training": {"batch_size": 100}},
            ["training.batch_size", "100", "90 of 150 samples"],
            id="batch-larger-than-fixed-size-split",
        ),
        pytest.param(
            {"data": {"train": 0.5, "val": 0.2, "test": 0.2}},
            ["data.train + data.val + data.test", "0.5 + 0.2 + 0.2 = 0.9", "sum to 1"],
            id="fractions-not-summing-to-1",
        ),
        pytest.param(
            {"task": "generation", "data": {"dataset": "digits"}, "model": {"architecture": "mlp"}},
            ["model.architecture", "'mlp'", "generative", "allowed: autoencoder, vae"],
            id="generation-with-non-generative-model",
        ),
        pytest.param(
            {"task": "generation", "data": {"dataset": "moons"}, "model": {"architecture": "vae"}},
            ["data.dataset", "'moons'", "generation", "digits"],
            id="generation-on-points",
        ),
        pytest.param(
            {"data": {"dataset": "digits"}, "model": {"architecture": "vae"}},
            ["model.architecture", "'vae'", "generation"],
            id="vae-for-classification",
        ),
        pytest.param({"optimizer": {"lr": -0.1}}, ["optimizer.lr", "-0.1", "above 0"], id="negative-lr"),
        pytest.param({"optimizer": {"lr": 0}}, ["optimizer.lr", "0", "above 0"], id="zero-lr"),
        pytest.param(
            {"regularization": {"l2": -1e-3}}, ["regularization.l2", "-0.001", "0.0 or more"], id="negative-l2"
        ),
        pytest.param({"training": {"epochs": 0}}, ["training.epochs", "0", "1 or more"], id="zero-epochs"),
        pytest.param(
            {"training": {"epochs": "ten"}}, ["training.epochs", "'ten'", "a whole number"], id="epochs-as-text"
        ),
        pytest.param({"training": {"epochs": 2.5}}, ["training.epochs", "2.5", "a whole number"], id="epochs-as-float"),
        pytest.param({"training": {"epochs": True}}, ["training.epochs", "True"], id="epochs-as-bool"),
        pytest.param({"optimizer": {"lr": True}}, ["optimizer.lr", "True"], id="lr-as-bool"),
        pytest.param(
            {"training": {"batch_size": "big"}}, ["training.batch_size", "'big'", '"full"'], id="batch-as-word"
        ),
        pytest.param({"training": {"batch_size": 0}}, ["training.batch_size", "0", '"full"'], id="batch-zero"),
        pytest.param({"model": {"hidden": "wide"}}, ["model.hidden", "'wide'", "a list"], id="hidden-not-a-list"),
        pytest.param({"model": {"hidden": [16, "x"]}}, ["model.hidden[1]", "'x'", "a whole number"], id="hidden-item"),
        pytest.param({"data": [1, 2]}, ["data", "a table of settings"], id="section-not-a-table"),
        pytest.param(
            {"optimizer": {"kind": "lion"}}, ["optimizer.kind", "'lion'", "'sgd'", "'adam'"], id="unknown-option"
        ),
        pytest.param(
            {"data": {"dataset": "nope"}}, ["data.dataset", "'nope'", "moons", "digits"], id="unknown-dataset"
        ),
    ],
)
def test_invalid_config_names_field_and_value(data, must_contain):
    message = config_error(data)
    for part in must_contain:
        assert part in message, f"{part!r} missing from {message!r}"


def test_unknown_top_level_key_lists_allowed_keys():
    message = config_error({"epochs": 5})
    assert message.startswith("epochs is not a known setting at the top level")
    for allowed in ("name", "task", "data", "model", "regularization", "optimizer", "training"):
        assert allowed in message.split("allowed:")[1]


def test_unknown_key_in_a_section_lists_that_sections_keys():
    message = config_error({"training": {"epoch": 5}})
    assert message.startswith("training.epoch is not a known setting in [training]")
    allowed = [word.strip() for word in message.split("allowed:")[1].split(",")]
    assert {"epochs", "batch_size", "drop_last", "seed"} <= set(allowed)
    assert "lr" not in allowed


def test_k_folds_relaxes_the_fraction_sum_but_not_the_batch_fit():
    assert validate({"data": {"train": 0.5, "val": 0.0, "test": 0.2, "k_folds": 4}}).data.k_folds == 4
    # 200 samples: 160 in the pool, 4 folds of 40 → 120 to train on in each fold.
    message = config_error({"data": {"n_samples": 200, "k_folds": 4}, "training": {"batch_size": 121}})
    assert "training.batch_size = 121" in message and "120 samples" in message


@pytest.mark.parametrize(
    ("sections", "field"),
    [
        ({"data": {"seed": -1}}, "data.seed"),
        ({"data": {"seed": 2**64}}, "data.seed"),
        ({"training": {"seed": 2**64}}, "training.seed"),
    ],
    ids=["negative-data-seed", "huge-data-seed", "huge-training-seed"],
)
def test_a_seed_the_engine_cannot_use_is_a_config_error(tiny_data, tmp_path, sections, field):
    # Whatever validation accepts must run: a seed numpy or torch rejects has to be caught as
    # bad input (one sentence naming the field), not surface as an internal error.
    from nnplay.engine import experiment

    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        config = validate(tiny_data(**{"training": {"epochs": 1}, **sections}))
        experiment.run(config, root=tmp_path / "runs")


@pytest.mark.parametrize(
    ("assignment", "path", "value"),
    [
        ("training.epochs=5", ["training", "epochs"], 5),
        ("optimizer.lr=1e-3", ["optimizer", "lr"], 0.001),
        ("optimizer.lr = 0.5", ["optimizer", "lr"], 0.5),
        ("regularization.batch_norm=true", ["regularization", "batch_norm"], True),
        ("model.hidden=[32, 16]", ["model", "hidden"], [32, 16]),
        ("data.dataset=circles", ["data", "dataset"], "circles"),
        ('name="my run"', ["name"], "my run"),
        ("training.batch_size=full", ["training", "batch_size"], "full"),
        ('training.batch_size="full"', ["training", "batch_size"], "full"),
    ],
)
def test_set_override_reads_toml_values(assignment, path, value):
    got_path, got_value = parse_override(assignment)
    assert got_path == path
    assert got_value == value and type(got_value) is type(value)


def test_overrides_apply_to_a_copy_and_validate():
    base = {"training": {"epochs": 3}}
    data = apply_overrides(base, ["training.epochs=7", "model.hidden=[4]", "training.batch_size=full"])
    assert base == {"training": {"epochs": 3}}
    config = validate(data)
    assert (config.training.epochs, config.model.hidden, config.training.batch_size) == (7, [4], "full")


@pytest.mark.parametrize("assignment", ["training.epochs", "=5", "  =x"])
def test_malformed_override_is_a_config_error(assignment):
    with pytest.raises(ConfigError, match="section.key=value"):
        apply_overrides({}, [assignment])


def test_override_through_a_value_is_a_config_error():
    with pytest.raises(ConfigError, match="name is a value, not a section"):
        apply_overrides({"name": "x"}, ["name.first=1"])


def test_load_prefixes_the_file_name(tmp_path):
    path = tmp_path / "my-lesson.toml"
    path.write_text("[training]\nepochs = 3\nwarmup = 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith("my-lesson.toml: training.warmup is not a known setting in [training]")
    assert "\n" not in message


def test_load_applies_overrides_and_names_the_run_after_the_file(tmp_path):
    path = tmp_path / "lesson.toml"
    path.write_text("[training]\nepochs = 3\n", encoding="utf-8")
    config = load(path, ["training.epochs=9"])
    assert (config.name, config.training.epochs) == ("lesson", 9)
    with pytest.raises(ConfigError, match=r"^lesson\.toml: training\.epochs = 0 is out of range"):
        load(path, ["training.epochs=0"])


def test_read_toml_turns_syntax_errors_and_missing_files_into_config_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[training\nepochs = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        read_toml(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        read_toml(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(ConfigError):
        read_toml(binary)


@pytest.mark.parametrize("preset", PRESETS, ids=[p.stem for p in PRESETS])
def test_every_preset_loads_and_round_trips_through_toml(preset):
    config = load(preset)
    again = validate(tomllib.loads(config.to_toml()))
    assert again == config


@pytest.mark.parametrize(
    "sections",
    [
        {"training": {"batch_size": "full", "drop_last": True}},
        {"data": {"k_folds": 3, "val": 0.0, "train": 0.8}},
        {"task": "regression", "data": {"dataset": "sine", "noise": 0.0}, "loss": "huber"},
        {"regularization": {"l2": 1e-4, "dropout": 0.25, "early_stopping": True, "patience": 3}},
        {"description": 'quotes " and \\ backslashes\nand lines'},
    ],
)
def test_toml_round_trip(tiny_config, sections):
    config = tiny_config(**sections)
    text = config.to_toml()
    assert validate(tomllib.loads(text)) == config


# Fuzzing: whatever the input, validation answers with a config or one ConfigError.

FIELD_KEYS = [
    (section, key)
    for section, info in ExperimentConfig.model_fields.items()
    if hasattr(info.annotation, "model_fields")
    for key in info.annotation.model_fields
]
KNOWN_WORDS = sorted(
    {section for section, _ in FIELD_KEYS} | {key for _, key in FIELD_KEYS} | {"name", "task", "loss", "description"}
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-3, max_value=300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
    st.text(max_size=12),
    st.sampled_from(
        ["full", "moons", "digits", "mnist", "sine", "memory", "cnn", "vae", "lstm", "generation", "regression", "sgd"]
    ),
)
KEYS = st.one_of(st.text(max_size=10), st.sampled_from(KNOWN_WORDS))
TOML_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=5)),
    max_leaves=24,
)


def _validate_or_config_error(data) -> ExperimentConfig | None:
    try:
        return validate(data)
    except ConfigError as exc:
        assert str(exc), "empty error message"
        return None


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, TOML_VALUES, max_size=6))
def test_arbitrary_nested_data_gives_a_config_or_a_config_error(data):
    _validate_or_config_error(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(
            lambda key, value: f"[{key}]\n{value}\n",
            st.sampled_from(["data", "model", "training", "optimizer", "regularization"]),
            st.text(max_size=60),
        ),
    )
)
def test_arbitrary_toml_text_gives_a_config_or_a_config_error(tmp_path, text):
    try:
        # read_toml allows a byte-order mark, and reads line ends as text files are read (a lone \r too)
        data = tomllib.loads(text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))
    except tomllib.TOMLDecodeError:
        data = None
    path = tmp_path / "fuzz.toml"
    path.write_text(text, encoding="utf-8")
    if data is None:
        with pytest.raises(ConfigError, match="fuzz.toml is not valid TOML"):
            read_toml(path)
        return
    if nesting_error(data) is not None:
        with pytest.raises(ConfigError, match="nested too deeply"):
            read_toml(path)
        return
    assert read_toml(path) == data
    _validate_or_config_error(data)


DEFAULT_DATA = ExperimentConfig().model_dump()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FIELD_KEYS), TOML_VALUES), min_size=1, max_size=3))
def test_mutated_default_config_validates_cleanly_and_round_trips(mutations):
    data = copy.deepcopy(DEFAULT_DATA)
    for (section, key), value in mutations:
        data[section][key] = value
    config = _validate_or_config_error(data)
    if config is not None:
        # Anything accepted must survive the TOML it is saved as (NaN never validates).
        for section, key in FIELD_KEYS:
            value = getattr(getattr(config, section), key)
            assert not (isinstance(value, float) and math.isnan(value)), f"{section}.{key} accepted NaN"
        assert validate(tomllib.loads(config.to_toml())) == config


def test_the_readme_config_reference_is_the_schemas():
    """The README's reference is generated from the field docstrings; it must not drift from them."""

    from nnplay.engine.core.config_files import reference_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert reference_markdown() in readme


def test_every_problem_is_listed_with_its_setting():
    data = {"data": {"noise": -2}, "optimizer": {"lr": -1}, "training": {"epochs": 0}}
    with pytest.raises(ConfigError) as info:
        validate(data)
    problems = info.value.problems
    assert [p.setting for p in problems] == ["data.noise", "optimizer.lr", "training.epochs"]
    assert problems[2].message == "training.epochs = 0 is out of range; allowed: 1 or more"
    assert str(info.value).splitlines() == ["3 problems:", *(f"- {p.message}" for p in problems)]


def test_every_rule_the_sections_break_is_listed_once_each_setting_is_valid():
    data = {
        "data": {"dataset": "moons", "train": 0.5},
        "model": {"architecture": "cnn"},
        "optimizer": {"kind": "adam", "nesterov": True},
        "sweep": {"parameter": "l2", "values": [0.1]},
    }
    with pytest.raises(ConfigError) as info:
        validate(data)
    settings_named = [p.setting for p in info.value.problems]
    # The CNN's kernel rules mean nothing on 2-D points, so only that it does not fit is said.
    assert settings_named == ["model.architecture", "data.train", "optimizer.nesterov", "sweep.values"]
    for problem in info.value.problems:
        assert problem.message.startswith(problem.setting.split(".")[0]) and "\n" not in problem.message


def test_one_problem_stays_one_sentence_and_a_file_names_itself_once(tmp_path):
    assert config_error({"training": {"epochs": 0}}) == "training.epochs = 0 is out of range; allowed: 1 or more"
    path = tmp_path / "bad.toml"
    path.write_text("[training]\nepochs = 0\n[optimizer]\nlr = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(info.value).splitlines()[0] == "bad.toml has 2 problems:"
    assert info.value.as_event_fields()["problems"] == [
        {"setting": "optimizer.lr", "message": "optimizer.lr = -1 is out of range; allowed: above 0.0"},
        {"setting": "training.epochs", "message": "training.epochs = 0 is out of range; allowed: 1 or more"},
    ]


def test_every_setting_is_described_by_the_docstring_under_it():
    # The form's help and the documented TOML files show these; they are read from the source once.
    from nnplay.engine.core import config as c

    for section in (c.DataConfig, c.ModelConfig, c.RegularizationConfig, c.OptimizerConfig, c.TrainingConfig):
        for name, field in section.model_fields.items():
            assert field.description and len(field.description) > 10, f"{section.__name__}.{name}"
    assert c.TrainingConfig.model_fields["batch_size"].description.startswith("Samples per update")
