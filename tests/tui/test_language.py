"""The live language switch: F9 (or the palette's command) makes the app speak the other language, tells
the warm engine (the fake engine records every command it gets) and keeps what the user did: the form's
values, the live run and its charts. The engine starts in the app's language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_app import form_built, make_app, start_run, text_of, type_into, wait_for_plan
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Button, Input, TabbedContent
from waiting import until

from nnplay.engine.core import i18n
from nnplay.tui.app import NNPlayApp
from nnplay.tui.widgets import LossChart, OverfitPanel, PlanPanel, RunHeader
from nnplay.tui.widgets.footer import Footer


@pytest.fixture
def command_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The file the fake engine writes each command it receives to; English again after the test."""
    log = tmp_path / "commands.jsonl"
    monkeypatch.setenv("FAKE_COMMAND_LOG", str(log))
    yield log
    i18n.set_language("en")


def commands(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def language_commands(log: Path) -> list[str]:
    return [c["lang"] for c in commands(log) if c.get("cmd") == "language"]


def korean_last_batch() -> str:
    """The plan's phrase for batch-math's batches (1,000 samples in batches of 20), in Korean."""
    i18n.set_language("ko")
    try:
        return i18n._("every batch holds {batch_size} samples").format(batch_size=20)
    finally:
        i18n.set_language("en")


def tab_label(app: NNPlayApp, pane_id: str) -> str:
    return str(app.setup_screen.query_one("#form-tabs", TabbedContent).get_tab(pane_id).label)


def footer_text(pilot: Pilot) -> str:
    return text_of(pilot.app.screen.query_one(Footer))


async def test_f9_speaks_korean_keeps_the_form_and_tells_the_engine(tmp_path, fake_run, command_log) -> None:
    korean = korean_last_batch()
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        setup = app.setup_screen
        await form_built(pilot)
        await type_into(pilot, "f-training-epochs", "7")
        await until(pilot, lambda: setup.data["training"]["epochs"] == 7, "the typed epochs in the form")
        panel = await wait_for_plan(pilot)
        await until(pilot, lambda: panel.plan["epochs"] == 7, "the plan of 7 epochs")
        assert tab_label(app, "tab-data") == "Data" and "한국어" in footer_text(pilot)

        await pilot.press("f9")
        assert i18n.current_language() == "ko"
        assert tab_label(app, "tab-data") == "데이터" and tab_label(app, "tab-lessons") == "레슨"
        assert str(setup.query_one("#start", Button).label) == "실행 시작 (ctrl+r)"
        await until(pilot, lambda: "English" in footer_text(pilot), "the footer naming English")
        assert "실행 시작" in footer_text(pilot)
        # What the user typed is kept, and the engine answers a fresh plan in Korean.
        assert setup.query_one("#f-training-epochs", Input).value == "7" and setup.data["training"]["epochs"] == 7
        await until(pilot, lambda: language_commands(command_log) == ["ko"], "the engine told to speak Korean")
        await until(pilot, lambda: panel.plan is not None and panel.plan["last_batch"] == korean, "a plan in Korean")
        assert panel.plan["epochs"] == 7 and "배치" in text_of(setup.query_one("#plan", PlanPanel))

        await pilot.press("f9")
        assert i18n.current_language() == "en" and tab_label(app, "tab-data") == "Data"
        await until(pilot, lambda: language_commands(command_log) == ["ko", "en"], "the engine told English")
        await until(pilot, lambda: "한국어" in footer_text(pilot), "the footer naming Korean")


async def test_a_switch_keeps_the_run_and_says_its_verdict_again(tmp_path, fake_run, command_log) -> None:
    """A finished run's dashboard after a switch: the same curves, the header and the verdict in the new
    language (the verdict judged again from the run's recorded epochs)."""
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_plan(pilot)
        dashboard = await start_run(pilot)
        await until(pilot, lambda: app.live.finished and app.live.diagnosis.get("final"), "the run's verdict")
        chart = dashboard.query_one(LossChart)
        await until(pilot, lambda: len(chart.drawn.get("val", ([], []))[0]) == 8, "eight epochs on the chart")
        drawn = dict(chart.drawn)
        explanation = app.live.diagnosis["explanation"]  # the fake engine's, in English

        await pilot.press("f9")
        await until(pilot, lambda: "완료" in dashboard.query_one(RunHeader).render_text, "the header in Korean")
        assert chart.drawn == drawn  # the same curves, drawn again
        assert app.live.diagnosis["explanation"] != explanation
        assert any("가" <= c <= "힣" for c in app.live.diagnosis["explanation"])  # judged again, in Korean
        words = text_of(dashboard.query_one(OverfitPanel))
        assert "판정" in words and "verdict" not in words, words
        await until(pilot, lambda: "종료" in footer_text(pilot), "the footer in Korean")


async def test_the_engine_starts_in_the_apps_language(tmp_path, fake_run, command_log) -> None:
    korean = korean_last_batch()
    i18n.set_language("ko")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await wait_for_plan(pilot)
        assert panel.plan["last_batch"] == korean != "every batch holds 20 samples"
        assert language_commands(command_log) == []  # started in Korean: no command needed


async def test_the_palettes_language_command_switches_too(tmp_path, fake_run, command_log) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        app.action_command_palette()
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "the command palette")
        await pilot.press(*"language")
        hits = app.screen.query_one(CommandList)
        await until(
            pilot,
            lambda: hits.highlighted_option is not None and "Language: 한국어" in str(hits.highlighted_option.prompt),
            "the language command as the first hit",
        )
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is app.setup_screen, "the set-up screen again")
        assert i18n.current_language() == "ko" and tab_label(app, "tab-data") == "데이터"
        await until(pilot, lambda: language_commands(command_log) == ["ko"], "the engine told to speak Korean")
