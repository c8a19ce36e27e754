"""Experiment strings in the app: the palette's "Open experiment string" loads one into the set-up form
(pasted whole), a bad one is refused in one sentence inside the dialog, and the app can start with one."""

from __future__ import annotations

from test_app import fake, form_built, make_app, text_of
from textual import events
from textual.command import CommandList, CommandPalette
from textual.widgets import Input, Select
from waiting import notifications, until

from nnplay.engine.core.config import validate
from nnplay.engine.core.share import decode, encode, web_url
from nnplay.tui.app import NNPlayApp
from nnplay.tui.screens.open_experiment import OpenExperimentScreen

EXERCISE = {
    "name": "exercise-1",
    "data": {"dataset": "circles", "n_samples": 400},
    "model": {"hidden": [32, 32], "activation": "tanh"},
    "training": {"epochs": 7, "batch_size": "full"},
}
STRING = encode(EXERCISE)


async def open_dialog(pilot) -> OpenExperimentScreen:
    """The palette's command, chosen by typing its name as a user does."""
    app = pilot.app
    app.action_command_palette()
    await until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the command palette")
    await pilot.press(*"open experiment")
    hits = app.screen.query_one(CommandList)

    def first_hit() -> str:
        option = hits.highlighted_option
        return str(option.prompt) if option is not None else ""

    await until(pilot, lambda: "Open experiment string" in first_hit(), what="the command as the first hit")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, OpenExperimentScreen), what="the experiment string dialog")
    return app.screen


def form_shows_the_exercise(app: NNPlayApp) -> bool:
    setup = app.setup_screen
    return setup.config is not None and setup.config.model_dump() == validate(decode(STRING)).model_dump()


async def test_the_palettes_command_loads_a_pasted_string_into_the_form(tmp_path, fake_run) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        setup = app.setup_screen
        dialog = await open_dialog(pilot)
        field = dialog.query_one("#experiment-string", Input)
        assert app.focused is field
        field.post_message(events.Paste(f"  {web_url(STRING)}\n"))  # pasted whole: an address, a line break
        await until(pilot, lambda: STRING in field.value, what="the pasted address in the input")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is setup, what="the dialog to close on the form")

        assert setup.data == EXERCISE  # exactly what the string holds, nothing filled in
        await until(pilot, lambda: form_shows_the_exercise(app), what="the form to hold the exercise")
        assert setup.query_one("#f-data-dataset", Select).value == "circles"
        assert setup.query_one("#f-model-activation", Select).value == "tanh"
        assert setup.query_one("#f-training-epochs", Input).value == "7"
        assert setup.query_one("#f-model-hidden", Input).value == "32, 32"
        assert setup.query_one("#f-data-n_samples", Input).value == "400"
        assert setup.query_one("#f-training-batch_size", Input).value == "full"
        assert setup.run_config()["name"] == "exercise-1"
        assert any("experiment string is in the form" in n for n in notifications(app))


async def test_a_bad_string_is_refused_in_the_dialog_as_text_and_the_form_is_kept(tmp_path, fake_run) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        setup = app.setup_screen
        before = dict(setup.data)
        dialog = await open_dialog(pilot)
        error = dialog.query_one("#dialog-error")

        await pilot.press(*"nnp1.[/oops]", "enter")  # markup in the user's text: shown, never parsed
        expected = "'nnp1.[/oops]' is not an experiment string: its data is damaged (copy the whole line)"
        await until(pilot, lambda: text_of(error) == expected, what="the damaged string's sentence")

        dialog.query_one("#experiment-string", Input).value = "nnp2." + STRING[len("nnp1.") :]
        await pilot.press("enter")
        await until(pilot, lambda: "was made by a newer nnplay (format 2)" in text_of(error), what="the newer one")

        dialog.query_one("#experiment-string", Input).value = STRING[:-6]
        await pilot.press("enter")
        await until(pilot, lambda: "its data is damaged" in text_of(error), what="the truncated one")
        assert isinstance(app.screen, OpenExperimentScreen)

        await pilot.press("escape")
        await until(pilot, lambda: app.screen is setup, what="the dialog to close")
        assert setup.data == before and setup.preset_name == "batch-math"


async def test_the_app_starts_with_an_experiment_string_or_a_preset_in_the_form(tmp_path, fake_run) -> None:
    app = NNPlayApp(tmp_path / "runs", engine_command=fake(), experiment=STRING)
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        assert app.setup_screen.data == EXERCISE
        await until(pilot, lambda: form_shows_the_exercise(app), what="the form to hold the exercise")
        assert app.setup_screen.query_one("#f-training-epochs", Input).value == "7"

    app = NNPlayApp(tmp_path / "runs", engine_command=fake(), preset="adam")
    async with app.run_test(size=(120, 36)) as pilot:
        await form_built(pilot)
        await until(pilot, lambda: app.setup_screen.config is not None, what="a valid form")
        assert app.setup_screen.preset_name == "adam" and app.setup_screen.config.name == "adam"
