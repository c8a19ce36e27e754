"""The app shows the user's text as text, never as markup: a field's error that quotes a typed value,
and a user preset's name in the toast that loads it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from test_app import form_built, make_app
from test_dashboard_and_form import choose_lesson
from textual.widgets import Input, Static
from waiting import notifications, until

MARKUP = "[/oops]"  # a closing tag with nothing open: parsed as markup, it raises or vanishes


async def test_a_field_error_that_quotes_markup_shows_it_as_typed(tmp_path, fake_run) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        setup = app.setup_screen
        setup.focus_setting("name")
        field = setup.query_one("#f-name", Input)
        await until(pilot, lambda: app.focused is field, what="the name field")
        field.value = MARKUP + "n" * 120  # too long: the error quotes it
        row = setup.query_one("#row-f-name")
        await until(pilot, lambda: row.has_class("-invalid"), what="the name's error")
        shown = str(row.query_one(".field-error", Static).render())
        assert shown.startswith(f"name = '{MARKUP}nnn") and "allowed: 1 to 100 characters" in shown


async def test_a_user_preset_named_with_markup_loads_and_says_so_as_typed(tmp_path, fake_run, user_presets) -> None:
    (user_presets / "[b]mine.toml").write_text('description = "[/d]"\n', encoding="utf-8")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        await choose_lesson(pilot, "[b]mine")
        await until(pilot, lambda: any("[b]mine loaded" in n for n in notifications(app)), what="the toast")
        [toast] = [n for n in app._notifications if "[b]mine loaded" in str(n.message)]
        assert not toast.markup  # as markup, "[b]" would vanish and embolden the rest


async def test_the_runs_screen_shows_a_run_named_with_markup_as_typed(tmp_path, monkeypatch) -> None:
    from test_runs_screen import DATA, make_app, open_runs

    shutil.copytree(DATA / "run-store", tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    runs = Path("runs")
    summary_path = next(runs.glob("*batch-math/summary.json"))
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    summary["name"], summary["verdict"] = MARKUP, "[/verdict]"
    summary_path.write_text(json.dumps(summary), encoding="utf-8")
    app = make_app(runs)
    async with app.run_test(size=(120, 36)) as pilot:
        _, table = await open_runs(pilot)
        cells = [str(cell) for row in range(table.row_count) for cell in table.get_row_at(row)]
        assert MARKUP in cells and "[/verdict]" in cells
