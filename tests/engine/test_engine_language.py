"""The engine speaks the language of its environment (NNPLAY_LANG, then the locale), and serve mode switches
language on the `language` command: the refusals it writes itself and the sentences of its plan come out in
that language; field names and values stay as PROTOCOL.md lists them."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from nnplay.engine.core import i18n
from nnplay.engine.core.protocol import check_event


def in_korean(message: str) -> str:
    """A message as the Korean catalog has it (this process itself stays English)."""
    try:
        i18n.set_language("ko")
        return i18n._(message)
    finally:
        i18n.set_language("en")


MISSING_FILE = "{shown} does not exist{looked}; allowed: {allowed}"
CSV_ALLOWED = "the path of a .csv, .tsv or .txt file"
CROSS_ENTROPY = "cross-entropy over the class logits (softmax inside)"
NO_CONFIG = "no config given: pass a TOML path, or send the config as one JSON line on stdin"


def missing_csv_refusal(path: Path, translate=lambda message: message) -> str:
    """What the engine says of a csv data set whose (absolute) file is absent, in one language."""
    return translate(MISSING_FILE).format(shown=f"data.path = {str(path)!r}", looked="", allowed=translate(CSV_ALLOWED))


def test_the_catalog_translates_what_these_tests_read():
    for message in (MISSING_FILE, CSV_ALLOWED, CROSS_ENTROPY, NO_CONFIG):
        assert in_korean(message) != message, message


def test_serve_speaks_its_environments_language_and_switches_on_request(start_engine, tiny_data, tmp_path, monkeypatch):
    monkeypatch.setenv("NNPLAY_LANG", "ko")
    engine = start_engine("serve")
    engine.wait_for("hello")
    absent = Path(tempfile.mkdtemp(prefix="nnp")) / "absent.csv"  # short: the refusal quotes it whole
    own_data = {"name": "own", "task": "auto", "data": {"dataset": "csv", "path": str(absent)}}

    def answer(request: dict) -> dict:
        engine.send(request)
        return engine.wait_for(lambda e: e["type"] in ("plan", "error", "language"))

    refusal = answer({"cmd": "plan", "id": 1, "config": own_data})
    assert refusal["kind"] == "config" and refusal["message"] == missing_csv_refusal(absent, in_korean)
    assert answer({"cmd": "plan", "id": 2, "config": tiny_data()})["loss_description"] == in_korean(CROSS_ENTROPY)

    switched = answer({"cmd": "language", "id": 3, "lang": "en"})
    assert (switched["type"], switched["lang"], switched["id"]) == ("language", "en", 3)
    assert check_event(switched) == []
    assert answer({"cmd": "plan", "id": 4, "config": own_data})["message"] == missing_csv_refusal(absent)
    assert answer({"cmd": "plan", "id": 5, "config": tiny_data()})["loss_description"] == CROSS_ENTROPY

    for bad in ({"cmd": "language", "id": 6, "lang": "fr"}, {"cmd": "language", "id": 7}):
        error = answer(bad)
        assert (error["type"], error["kind"], error["id"]) == ("error", "protocol", bad["id"])
        assert "allowed: en, ko" in error["message"]
    assert answer({"cmd": "plan", "id": 8, "config": own_data})["message"] == missing_csv_refusal(
        absent
    )  # still English

    assert answer({"cmd": "language", "id": 9, "lang": "ko"})["lang"] == "ko"
    assert answer({"cmd": "plan", "id": 10, "config": own_data})["message"] == missing_csv_refusal(absent, in_korean)
    engine.send({"cmd": "quit"})
    engine.drain()
    assert engine.wait() == 0


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"NNPLAY_LANG": "ko"}, in_korean(NO_CONFIG)),
        ({"NNPLAY_LANG": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "ko_KR.UTF-8"}, in_korean(NO_CONFIG)),
        ({"NNPLAY_LANG": "klingon"}, NO_CONFIG),  # a language it does not speak: English, not a crash
    ],
)
def test_a_single_run_speaks_its_environments_language(run_engine, monkeypatch, environment, expected):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    result = run_engine(stdin="")
    assert result.returncode == 2, result.stderr
    assert [(e["type"], e["kind"], e["message"]) for e in result.events] == [("error", "config", expected)]
