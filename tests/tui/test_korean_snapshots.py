"""The explorer in Korean: SVG snapshots of the set-up screen and of a finished dashboard at 120x36 and
80x24, and no English sentence of the app's, the diagnosis's, the config's or the lessons' catalogs on
those screens.

The fake engine runs in the app's language (NNPLAY_LANG), so its plan sentences come from the
catalogs. The dashboard shows the overfitting lesson's recorded run (tests/tui/data), its events in a
run directory of the test's own: the verdict recorded in English is judged again in Korean
(RunState.rediagnose), as after a language switch.
"""

from __future__ import annotations

import io
import re
import shutil
from functools import cache
from pathlib import Path

import pytest
from i18n_catalogs import messages
from rich.console import Console
from test_dashboard_snapshots import events, replayed, show
from test_snapshots import make_app
from textual.app import App
from textual.pilot import Pilot
from waiting import until

from nnplay.engine.core import i18n
from nnplay.engine.core.diagnosis import diagnose
from nnplay.tui.screens.dashboard import DashboardScreen
from nnplay.tui.widgets import OverfitPanel, PlanPanel

DATA = Path(__file__).with_name("data")
PRESETS = Path(__file__).resolve().parents[2] / "presets"
SIZES = {"120x36": (120, 36), "80x24": (80, 24)}
CHECKED_CATALOGS = ("app", "diagnosis", "config", "lessons")
PLACEHOLDER_OR_MARKUP = re.compile(r"\{[^{}]*\}|\[/?[a-z][a-z0-9 #,._-]*\]")
WORD = re.compile(r"[A-Za-z]{2,}")


@pytest.fixture
def korean():
    """The app speaks Korean in this test, English again after it."""
    i18n.set_language("ko")
    yield
    i18n.set_language("en")


@cache
def english_phrases() -> frozenset[str]:
    """Every stretch of two or more English words of the checked catalogs' messages, between their
    placeholders and markup: what a screen in Korean must not show."""
    phrases = set()
    for name in CHECKED_CATALOGS:
        for message in messages(name).values():
            for text in (message.msgid, message.plural or ""):
                for line in text.splitlines():
                    for chunk in PLACEHOLDER_OR_MARKUP.split(line):
                        chunk = " ".join(chunk.split()).strip(" .,:;·—()")
                        if len(WORD.findall(chunk)) >= 2:
                            phrases.add(chunk)
    return frozenset(phrases)


def screen_text(app: App) -> str:
    """The screen as plain text, line by line, as the terminal shows it."""
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), record=True)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def english_on(text: str) -> list[str]:
    """The catalogs' English phrases found on a screen (a phrase wrapped onto the next line too)."""
    flat = " ".join(text.split())
    return sorted(p for p in english_phrases() if p in text or p in flat)


def run_dir_of(fixture: str, tmp_path: Path, preset: str = "overfit-small-data") -> Path:
    """A run directory holding a recorded run's events and its preset as config."""
    run_dir = tmp_path / "runs" / f"20250101-000000-{fixture}"
    run_dir.mkdir(parents=True)
    shutil.copy(DATA / f"{fixture}.events.jsonl", run_dir / "events.jsonl")
    shutil.copy(PRESETS / f"{preset}.toml", run_dir / "config.toml")
    return run_dir


def test_the_phrases_are_found_where_english_shows() -> None:
    """The check below can fail: an English screen shows several of the phrases."""
    assert english_on("loss by epoch: validation ━━, training ┅┅\n  no validation loss yet")
    assert not english_on("에포크별 손실 · batch-math · hidden.0.linear · cross_entropy · 0.693")


@pytest.mark.parametrize("size", SIZES)
def test_setup_screen_in_korean(snap_compare, tmp_path, korean, size) -> None:
    """The lessons, the form's tabs, the plan and the footer in Korean; the plan's sentences come from
    the engine, in the language it was started in."""
    found: dict = {}

    async def run_before(pilot: Pilot) -> None:
        panel = pilot.app.setup_screen.query_one("#plan", PlanPanel)
        await until(pilot, lambda: panel.plan is not None and not panel.has_class("-pending"), "the plan")
        await until(pilot, lambda: pilot.app.setup_screen.form_ready, "the form")
        await pilot.pause()
        found["english"] = english_on(screen_text(pilot.app))
        found["plan"] = panel.plan

    assert snap_compare(make_app(tmp_path / "runs"), terminal_size=SIZES[size], run_before=run_before)
    assert found["plan"]["last_batch"] == i18n._("every batch holds {batch_size} samples").format(batch_size=20)
    assert found["plan"]["last_batch"] != "every batch holds 20 samples"
    assert not found["english"], found["english"]


@pytest.mark.parametrize("size", SIZES)
def test_finished_dashboard_in_korean(snap_compare, tmp_path, korean, size) -> None:
    """The end of the overfitting lesson: header, charts, verdict, advice and footer in Korean; at 80x24,
    which shows one panel at a time, the overfitting panel (3), whose words are the longest."""
    state = replayed("overfit-small-data")
    recorded = dict(state.diagnosis or {})
    state.run_dir = str(run_dir_of("overfit-small-data", tmp_path))
    assert state.rediagnose()
    found: dict = {}

    async def run_before(pilot: Pilot) -> None:
        screen = await show(pilot, DashboardScreen(state=state))
        if size == "80x24":
            await pilot.press("3")
        await pilot.pause()
        found["verdict"] = screen.query_one(OverfitPanel).verdict
        found["english"] = english_on(screen_text(pilot.app))

    assert snap_compare(make_app(tmp_path / "app-runs"), terminal_size=SIZES[size], run_before=run_before)
    assert found["verdict"] == "overfitting" == recorded["verdict"]  # the same judgement, in other words
    assert state.diagnosis["explanation"] != recorded["explanation"]
    assert not found["english"], found["english"]


def test_judging_again_in_english_gives_the_engines_words(tmp_path) -> None:
    """rediagnose() is the engine's diagnosis: in English it says exactly what the engine recorded, for a
    finished run and a sweep, and for a run paused at epoch 60 (the epochs up to its diagnosis)."""
    for fixture in ("overfit-small-data", "overfit-small-data-sweep"):
        state = replayed(fixture)
        recorded = dict(state.diagnosis or {})
        state.run_dir = str(run_dir_of(fixture, tmp_path / fixture))
        assert state.rediagnose()
        assert state.diagnosis == recorded
    paused = replayed("overfit-small-data", epochs=60)
    history = [e for e in events("overfit-small-data") if e["type"] == "epoch" and e["epoch"] <= 60]
    baseline = (paused.plan or {}).get("baseline_loss")
    paused.ingest({"type": "diagnosis", "final": False, "epoch": 60, **diagnose(history, 10, 0.0, baseline)})
    recorded = dict(paused.diagnosis or {})
    paused.run_dir = str(run_dir_of("overfit-small-data", tmp_path / "paused"))  # all 150 epochs recorded
    assert paused.rediagnose()
    assert paused.diagnosis == recorded


def test_korean_names_are_cut_to_terminal_cells() -> None:
    """A Korean character takes two cells: a class name or a run's name is cut by cells, not characters,
    so the confusion matrix's and the runs table's columns stay aligned."""
    from rich.cells import cell_len

    from nnplay.tui.screens.runs import shortened
    from nnplay.tui.widgets.confusion_view import confusion_table, short

    assert short("고양이와 강아지", 6) == "고양…" and short("고양이와 강아지", 7) == "고양이…"
    assert short("T-shirt/top", 5) == "T-sh…" == "T-shirt/top"[:4] + "…"  # English as before: by characters
    assert short("cat", 6) == "cat" and shortened("한국어 실행 이름", 10) == "한국어 실…"
    table = confusion_table([[5, 1], [2, 4]], ["고양이", "강아지"], width=40)
    console = Console(width=40, file=io.StringIO(), record=True)
    console.print(table)
    widths = {cell_len(line.rstrip()) for line in console.export_text().splitlines() if line.strip()}
    assert max(widths) <= 40 and len(widths) == 1, widths  # every row as wide as the header
