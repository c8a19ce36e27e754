"""The `nnplay` command in Korean: --lang, NNPLAY_LANG and the locale choose the language; its tables, live
lines, help and the engine it starts speak it; `nnplay web` hands it to every tab."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
import tomli_w
from rich.cells import cell_len
from test_cli import cli, normalized
from test_web import fetch, start_server  # noqa: F401  # start_server: a fixture

from nnplay.engine.core import i18n
from nnplay.engine.core.runs import list_runs, load_run
from nnplay.tui.cli import _aligned, _runs_row, main
from nnplay.tui.web import StartError, app_command, error_page, speaking, tab_language

REPO_ROOT = Path(__file__).resolve().parents[2]
HANGUL = re.compile("[가-힣]")
REFUSAL = "--lang 'fr' is not a language nnplay speaks; allowed: en, ko"
HEADINGS = ("실행", "날짜", "태스크", "데이터 / 모델", "상태", "에포크", "최적 검증", "테스트", "판정")


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """main() sets this process's language: every test here leaves it English, as the others expect."""
    yield
    i18n.set_language("en")


def test_presets_in_korean():
    code, out, err = cli("--lang", "ko", "presets")
    assert code == 0 and err == ""
    assert "퍼셉트론에서 MLP까지" in out  # a course section, from the lessons catalog
    assert "XOR: 직선 하나로는 할 수 없는 일" in out  # a lesson's title
    assert "명령은 레슨과 그 변형을 실행하고 레슨의 주장을 확인합니다" in normalized(out)
    assert "From the perceptron to the MLP" not in out
    assert "runs a lesson and its variation" not in normalized(out)


@pytest.mark.parametrize(
    "argv", [("--lang", "fr", "presets"), ("presets", "--lang", "fr"), ("--lang=fr", "run", "batch-math")]
)
def test_a_language_nnplay_does_not_speak_is_one_sentence_and_exit_2(argv, tmp_path):
    code, out, err = cli(*argv, "--runs", str(tmp_path / "runs"))
    assert code == 2 and out == ""
    assert normalized(err) == f"error: {REFUSAL}"
    assert not (tmp_path / "runs").exists()  # refused before anything starts


def test_the_refusal_speaks_the_language_of_the_environment():
    with mock.patch.dict(os.environ, {"NNPLAY_LANG": "ko"}):
        code, _out, err = cli("--lang", "fr", "presets")
    assert code == 2
    assert normalized(err) == "오류: --lang 'fr'은(는) nnplay가 지원하는 언어가 아닙니다. 허용: en, ko"


def test_the_locale_speaks_korean_when_neither_lang_nor_nnplay_lang_is_given():
    env = {k: v for k, v in os.environ.items() if k not in ("NNPLAY_LANG", "LC_ALL", "LC_MESSAGES")}
    result = subprocess.run(
        [sys.executable, "-m", "nnplay.tui.cli", "presets"],
        cwd=REPO_ROOT,
        env={**env, "LANG": "ko_KR.UTF-8", "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "퍼셉트론에서 MLP까지" in result.stdout and "From the perceptron to the MLP" not in result.stdout


def test_help_is_korean_and_wrapped_by_cells():
    out = io.StringIO()
    with mock.patch.dict(os.environ, {"COLUMNS": "60"}), contextlib.redirect_stdout(out):
        with pytest.raises(SystemExit) as exit_:
            main(["--lang", "ko", "share", "--help"])
    assert exit_.value.code == 0
    text = out.getvalue()
    assert text.startswith("사용법: nnplay share")
    assert "이 도움말을 보여 주고 끝냅니다" in text and "show this help message" not in text
    assert max(cell_len(line) for line in text.splitlines()) <= 60  # a Korean character takes two cells


def test_an_argparse_error_is_korean():
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_:
        main(["--lang", "ko", "rnu"])
    assert exit_.value.code == 2
    assert "nnplay: 오류: 인자 COMMAND: 잘못된 선택: 'rnu'" in err.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_data) -> Path:
    """A tiny run recorded in English (its verdict's sentences are English in summary.json)."""
    tmp = tmp_path_factory.mktemp("korean")
    toml = tmp / "tiny.toml"
    toml.write_text(tomli_w.dumps(tiny_data(training={"epochs": 3})), encoding="utf-8")
    code, _out, err = cli("run", str(toml), "--json", "--runs", str(tmp / "runs"))
    assert code == 0, err
    return tmp / "runs"


def test_a_tiny_run_speaks_korean_and_so_does_its_engine(tmp_path, tiny_data):
    toml = tmp_path / "tiny.toml"
    toml.write_text(tomli_w.dumps(tiny_data(training={"epochs": 2})), encoding="utf-8")
    code, out, err = cli("--lang", "ko", "run", str(toml), "--runs", str(tmp_path / "runs"))
    assert code == 0, err
    text = normalized(out)
    for words in ("계획: tiny", "에포크 2/2", "판정:", "실행 저장 위치"):
        assert words in text, words
    assert "모든 배치에 샘플이" in text or "마지막 배치" in text  # the plan's last batch, in the engine's words
    for words in ("plan: tiny", "run saved in", "verdict:", "What to try"):
        assert words not in text, words


def test_show_writes_an_english_runs_verdict_again_in_korean(runs):
    [run_dir] = list_runs(runs)
    explanation = load_run(run_dir).summary["diagnosis"]["explanation"]
    code, out, err = cli("--lang", "ko", "show", "last", "--runs", str(runs))
    assert code == 0, err
    panel = out[out.index("판정:") :].split("╮", 1)[1]  # the verdict panel's body
    body = normalized(panel.replace("│", " "))
    assert normalized(explanation)[:40] not in body and HANGUL.search(body[:20])
    code, out, _err = cli("show", "last", "--runs", str(runs))
    assert normalized(explanation) in normalized(out.replace("│", " "))  # in English, as recorded


def test_the_runs_table_aligns_korean_cells(runs):
    i18n.set_language("ko")
    [run_dir] = list_runs(runs)
    row = _runs_row(run_dir)
    header, line = _aligned([HEADINGS, row], 200)
    status = row[4]
    assert HANGUL.search(status)  # 완료, not completed
    assert cell_len(header[: header.index("상태")]) == cell_len(line[: line.index(status)])
    code, out, _err = cli("--lang", "ko", "runs", "--runs", str(runs))  # into a pipe: tab-separated
    assert code == 0 and out.splitlines()[0].split("\t") == list(HEADINGS)
    assert out.splitlines()[1].split("\t")[4] == status


def test_a_tab_speaks_the_server_language_or_its_links():
    assert tab_language({}, "ko") == "ko"
    assert tab_language({"lang": "en", "preset": "adam"}, "ko") == "en"
    with pytest.raises(StartError, match=r"\?lang='fr' is not a language nnplay speaks; allowed: en, ko"):
        tab_language({"lang": "fr"}, "en")
    command = app_command(("preset", "adam"), "/tmp/runs", "ko")
    assert command[3:] == ["--lang=ko", "--runs=/tmp/runs", "--preset=adam"]
    with speaking("ko"):
        page = error_page("x")
    assert 'lang="ko"' in page and "이 링크를 열 수 없습니다: x" in page
    assert i18n.current_language() == "en"  # the server's own language again


def test_a_link_names_its_tabs_language(start_server):  # noqa: F811
    server = start_server("--lang", "ko")
    status, page = fetch(f"{server.url}?preset=no-such-lesson")
    assert status == 400 and "이 링크를 열 수 없습니다" in page and "이 nnplay의 프리셋이 아닙니다" in page
    status, page = fetch(f"{server.url}?lang=en&preset=no-such-lesson")
    assert status == 400 and "This link cannot be opened" in page and "is not a preset of this nnplay" in page
    status, page = fetch(f"{server.url}?lang=fr")
    assert status == 400 and "nnplay가 지원하는 언어가 아닙니다" in page
    status, page = fetch(f"{server.url}?lang=en&preset=xor-perceptron")
    assert status == 200 and '/ws/lang/en/preset/xor-perceptron"' in page
    assert fetch(f"{server.url}ws/lang/fr")[0] == 400  # the websocket checks again
    assert fetch(f"{server.url}ws/lang/ko/shell/ls")[0] == 404
    assert server.descendants() == []
    assert server.interrupt() == 0
