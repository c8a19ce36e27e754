"""A config too large for memory is refused before anything is allocated, in one sentence that
names the estimate, the limit and the setting to lower."""

from __future__ import annotations

import pytest

from nnplay.engine import experiment
from nnplay.engine.core import memory
from nnplay.engine.core.config import ConfigError
from nnplay.engine.core.events import Emitter
from nnplay.engine.planning import estimate_memory


def test_the_estimate_counts_data_model_and_activations_without_allocating(tiny_config) -> None:
    small = estimate_memory(tiny_config())
    wide = estimate_memory(tiny_config(model={"hidden": [512, 512]}))
    more = estimate_memory(tiny_config(data={"n_samples": 100_000}))
    assert 0 < small.total < wide.total and small.data < more.data
    assert wide.model >= 512 * 512 * memory.FLOAT_BYTES  # at least the weights of the middle layer


def test_too_many_samples_are_refused_naming_the_estimate_and_the_setting(tiny_config, runs_dir, monkeypatch) -> None:
    monkeypatch.setenv(memory.LIMIT_VARIABLE, "100MB")
    config = tiny_config(data={"n_samples": 10_000_000})
    with pytest.raises(ConfigError) as caught:
        experiment.run(config, Emitter(), root=runs_dir)
    message = str(caught.value)
    assert message.startswith("this experiment needs about ") and " MB of memory (data " in message
    assert "lower data.n_samples" in message and "$NNPLAY_MEMORY_LIMIT = 100MB" in message
    assert not runs_dir.exists() or not any(runs_dir.iterdir()), "no run directory for a refused config"


def test_wide_layers_in_many_sweep_members_name_the_sweep(tiny_config, monkeypatch) -> None:
    monkeypatch.setenv(memory.LIMIT_VARIABLE, "2GB")
    config = tiny_config(model={"hidden": [4096, 4096]}, sweep={"seeds": 32})
    with pytest.raises(ConfigError, match=r"× 32 sweep members.*lower sweep.seeds"):
        memory.check(estimate_memory(config))


def test_the_limit_can_be_set_and_a_bad_limit_is_one_sentence(tiny_config, monkeypatch) -> None:
    monkeypatch.setenv(memory.LIMIT_VARIABLE, "1KB")
    with pytest.raises(ConfigError, match=r"more than the 1 KB allowed \(\$NNPLAY_MEMORY_LIMIT = 1KB\)"):
        memory.check(estimate_memory(tiny_config()))
    monkeypatch.setenv(memory.LIMIT_VARIABLE, "lots")
    with pytest.raises(ConfigError, match=r"\$NNPLAY_MEMORY_LIMIT = 'lots' is not a size"):
        memory.check(estimate_memory(tiny_config()))
    monkeypatch.setenv(memory.LIMIT_VARIABLE, "64GB")
    assert memory.check(estimate_memory(tiny_config(data={"n_samples": 100_000}))).total < 64e9


def test_the_warm_engine_answers_a_plan_too_large_for_memory_before_building_it(tiny_data, monkeypatch) -> None:
    from nnplay.engine.core.events import Emitter
    from nnplay.engine.serve import Server

    monkeypatch.setenv(memory.LIMIT_VARIABLE, "1MB")
    answers: list[dict] = []
    server = Server(None, Emitter(callback=answers.append))
    monkeypatch.setattr(server.cache, "get", lambda config: pytest.fail("the data set was built before the check"))
    server.answer_plan({"cmd": "plan", "id": 7, "config": tiny_data(data={"n_samples": 1_000_000})})
    (answer,) = answers
    assert answer["type"] == "error" and answer["kind"] == "config" and answer["id"] == 7
    assert "lower data.n_samples" in answer["message"]
    assert answer["problems"] == [{"setting": "data.n_samples", "message": answer["message"]}]  # the form marks it
