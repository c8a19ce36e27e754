"""What a learner sees and reaches by keyboard: ghosts only for the run they tweaked or pinned, each
labelled with what changed; runs named after what they are; a dataset change that keeps the closest
architecture and says so; every form field reachable and its state visible."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_app import finish, form_built, make_app, start_run
from textual.widgets import Checkbox, Input, OptionList, Select, TabbedContent, Tabs
from waiting import notifications, until

from nnplay.tui.screens.dashboard import DashboardScreen
from nnplay.tui.widgets import LogPanel, LossChart
from nnplay.tui.widgets.toggle import Toggle


async def choose_lesson(pilot, name: str) -> None:
    setup = pilot.app.setup_screen
    setup.query_one("#form-tabs", TabbedContent).active = "tab-lessons"
    lessons = setup.query_one("#presets", OptionList)
    lessons.focus()
    lessons.highlighted = lessons.get_option_index(name)
    await pilot.press("enter")
    await until(pilot, lambda: setup.preset_name == name, what=f"{name} loaded")


async def test_tweak_opens_the_lessons_setting_and_the_ghost_and_run_name_say_what_changed(tmp_path, fake_run) -> None:
    fake_run(epochs=4)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        await choose_lesson(pilot, "batch-math")  # its variation changes training.batch_size
        await start_run(pilot)
        await finish(pilot)
        first = app.live
        await pilot.press("t")
        setup = app.setup_screen
        await until(pilot, lambda: app.screen is setup, what="the set-up screen")
        field = setup.query_one("#f-training-batch_size", Input)
        await until(pilot, lambda: app.focused is field, what="the batch size field focused")
        assert setup.query_one("#form-tabs", TabbedContent).active == "tab-training"
        field.action_select_all()
        await pilot.press(*"64")
        screen = await start_run(pilot)
        await finish(pilot)
        assert app.ghosts == [first] and first.change == "batch_size 20 → 64"
        assert app.live.name == "batch-math-modified"
        assert (app.live_config or {})["description"] == "batch-math with changes: batch_size 20 → 64."
        chart = screen.query_one(LossChart)
        await until(pilot, lambda: "val (prev)" in chart.drawn, what="the ghost")
        assert "prev: batch_size 20 → 64" in chart.render().plain.splitlines()[0] + chart.render().plain.splitlines()[1]


async def test_a_name_typed_in_the_form_names_the_run(tmp_path, fake_run) -> None:
    fake_run(epochs=2)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        setup = app.setup_screen
        setup.focus_setting("name")
        field = setup.query_one("#f-name", Input)
        await until(pilot, lambda: app.focused is field, what="the name field")
        field.action_select_all()
        await pilot.press(*"wide-net")
        await start_run(pilot)
        await finish(pilot)
        assert app.live.name == "wide-net" and app.live.run_dir.endswith("-wide-net")


async def test_loading_another_lesson_forgets_the_pinned_ghost(tmp_path, fake_run) -> None:
    fake_run(epochs=3)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        screen = await start_run(pilot)
        await finish(pilot)
        await pilot.press("p")
        assert app.ghosts == [app.live]
        await pilot.press("escape")
        await choose_lesson(pilot, "xor-perceptron")
        assert app.ghosts == []
        screen = await start_run(pilot)
        await finish(pilot)
        chart = screen.query_one(LossChart)
        await until(pilot, lambda: "val" in chart.drawn, what="the new run's curves")
        assert set(chart.drawn) == {"train", "val"}


async def test_a_dataset_change_keeps_the_closest_architecture_and_says_so(tmp_path, fake_run) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        await choose_lesson(pilot, "digits-cnn")
        setup = app.setup_screen
        select = setup.query_one("#f-data-dataset", Select)
        select.value = "moons"
        await until(pilot, lambda: setup.data["data"]["dataset"] == "moons", what="the dataset change")
        assert setup.data["model"]["architecture"] == "mlp"
        assert setup.query_one("#f-model-architecture", Select).value == "mlp"
        assert any("model.architecture = cnn does not fit moons" in n and "now mlp" in n for n in notifications(app))


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_tab_from_the_tab_bar_lands_on_the_first_field_and_typing_reaches_it(tmp_path, fake_run, size) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await form_built(pilot)
        setup = app.setup_screen
        setup.query_one("#form-tabs", TabbedContent).active = "tab-training"
        setup.query_one(Tabs).focus()
        await pilot.pause()
        await pilot.press("tab")
        epochs = setup.query_one("#f-training-epochs", Input)
        assert app.focused is epochs
        epochs.action_select_all()
        await pilot.press("7")
        await until(pilot, lambda: setup.data["training"]["epochs"] == 7, what="the typed epochs")


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_on_off_settings_say_their_state_in_words(tmp_path, fake_run, size) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await form_built(pilot)
        setup = app.setup_screen
        setup.focus_setting("training.drop_last")
        toggle = setup.query_one("#f-training-drop_last", Toggle)
        await until(pilot, lambda: app.focused is toggle, what="drop last focused")
        assert "off" in toggle.render().plain and "✓" not in toggle.render().plain
        await pilot.press("space")
        await until(pilot, lambda: setup.data["training"].get("drop_last") is True, what="drop last on")
        assert isinstance(toggle, Checkbox) and "on" in toggle.render().plain and "✓" in toggle.render().plain
        assert toggle.region.height >= 1 and toggle.region.width >= len("[✓] on")


async def test_compact_dashboard_switches_panels_by_number(tmp_path, fake_run) -> None:
    fake_run(epochs=3)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await form_built(pilot)
        screen = await start_run(pilot)
        await finish(pilot)
        assert isinstance(screen, DashboardScreen) and screen.has_class("-compact")
        await pilot.press("3")
        assert screen.query_one("#overfit").has_class("-shown") and not screen.query_one("#loss").has_class("-shown")
        assert "3 overfitting" in str(screen.query_one("#panel-tabs").render())


async def test_the_palettes_screenshot_lands_in_the_runs_directory(tmp_path, fake_run, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no Downloads directory, as on a server
    fake_run(epochs=2)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        await start_run(pilot)
        await finish(pilot)
        app.action_screenshot()
        run_dir = Path(app.live.run_dir)
        await until(pilot, lambda: any(run_dir.glob("*.svg")), what="the screenshot in the run directory")
        await until(pilot, lambda: any("Saved screenshot" in n for n in notifications(app)), what="the toast")
        assert not any("Failed" in n for n in notifications(app))


async def test_a_tiny_terminal_still_shows_the_lessons_and_the_form(tmp_path, fake_run) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(40, 12)) as pilot:
        await form_built(pilot)
        setup = app.setup_screen
        assert setup.query_one("#presets", OptionList).region.height >= 3  # the lessons, not only the plan
        setup.focus_setting("training.epochs")
        epochs = setup.query_one("#f-training-epochs", Input)
        await until(pilot, lambda: app.focused is epochs, what="a form field")
        assert epochs.region.height >= 1 and epochs.region.y < 12


async def test_after_a_resize_the_logs_lines_wrap_to_its_new_width_instead_of_being_cut(tmp_path, fake_run) -> None:
    fake_run(epochs=2)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        screen = await start_run(pilot)
        await finish(pilot)  # the log's lines were wrapped to the wide layout
        await pilot.resize_terminal(80, 24)
        await pilot.press("5")
        log = screen.query_one(LogPanel)
        await until(pilot, lambda: log.region.width > 0 and log.lines, what="the log shown")
        await pilot.pause()
        width = log.scrollable_content_region.width
        assert all(strip.cell_length <= width for strip in log.lines)
        shown = "".join(strip.text.strip() for strip in log.lines)
        assert f"run saved in {app.live.run_dir}".replace(" ", "") in shown.replace(" ", "")


async def test_an_engine_that_refuses_its_runs_directory_is_reported_once_not_restarted(tmp_path) -> None:
    from nnplay.tui.app import NNPlayApp

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    app = NNPlayApp(blocker / "runs")  # the real engine: it refuses before loading torch
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: any("cannot start" in n for n in notifications(app)), what="the refusal")
        await pilot.pause(0.5)
        refusals = [n for n in notifications(app) if "cannot start" in n]
        assert len(refusals) == 1 and "is a file, not a directory" in refusals[0]
        assert not any("stopped unexpectedly" in n for n in notifications(app))
