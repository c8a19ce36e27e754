"""The explorer app driven through Textual's Pilot: the scripted fake engine for every case, the real
engine for two end-to-end runs.

Nothing sleeps to wait for the UI: `until` polls a condition with `pilot.pause()` and fails the test
at a deadline. The fake engine runs FAKE_EPOCHS epochs of FAKE_DELAY seconds whatever the config
says, so each test picks how long its run lasts.
"""

from __future__ import annotations

import copy
import math
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import tomli_w
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input, OptionList, Select, SelectionList, Static, TabbedContent
from waiting import POLL_S, WAIT_S, notifications, until

from nnplay import presets
from nnplay.engine.core.catalog import architectures_for
from nnplay.engine.core.config import validate
from nnplay.engine.core.runs import list_runs, load_run
from nnplay.tui.app import NNPlayApp
from nnplay.tui.engine_client import EngineClient
from nnplay.tui.screens.compare import CompareScreen
from nnplay.tui.screens.dashboard import PANELS, DashboardScreen
from nnplay.tui.screens.runs import RunsScreen
from nnplay.tui.screens.save_preset import SavePresetScreen
from nnplay.tui.widgets import LogPanel, LossChart, MetricChart, PlanPanel, RunHeader
from nnplay.tui.widgets.compare_chart import CompareChart
from nnplay.tui.widgets.loss_chart import ghost_label

FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")
SIZES = [(120, 36), (80, 24)]
REAL_ENGINE_WAIT_S = 90.0  # importing torch on a busy 2-core machine, then training


def fake(scenario: str = "normal") -> list[str]:
    """The command that replaces `python -m nnplay.engine serve` (the client appends --runs DIR)."""
    return [sys.executable, str(FAKE_ENGINE), scenario]


def make_app(tmp_path: Path, scenario: str = "normal") -> NNPlayApp:
    return NNPlayApp(tmp_path / "runs", engine_command=fake(scenario))


async def during(pilot: Pilot, seconds: float, measure: Callable[[], object]) -> set:
    """Every value measure() takes while the app runs for `seconds` (a bounded observation window)."""
    seen = {measure()}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await pilot.pause(POLL_S)
        seen.add(measure())
    return seen


def text_of(widget: Widget) -> str:
    """What the widget and its displayed descendants show, as one line of plain text."""
    shown = [w for w in (widget, *widget.query("*")) if w.display]
    lines = [strip.text for w in shown for strip in w.render_lines(Region(0, 0, *w.outer_size))]
    return " ".join(" ".join(lines).split())


def log_text(screen: DashboardScreen) -> str:
    return " ".join(" ".join(strip.text for strip in screen.query_one(LogPanel).lines).split())


def epochs_seen(app: NNPlayApp) -> int:
    """Epochs of the live run the app has taken in."""
    return len(app.live.series["train_loss"])


def recorded_epochs(app: NNPlayApp) -> int:
    """Epochs the engine has written to the live run's events.jsonl (flushed line by line)."""
    events = Path(app.live.run_dir) / "events.jsonl"
    return sum('"type":"epoch"' in line for line in events.read_text(encoding="utf-8").splitlines())


async def focus_field(pilot: Pilot, widget_id: str, kind: type[Widget]) -> Widget:
    """Bring the form field's tab forward and focus the field."""
    screen = pilot.app.screen
    await form_built(pilot)
    field = screen.query_one(f"#{widget_id}", kind)
    pane = next(a for a in field.ancestors if getattr(a, "id", None) and str(a.id).startswith("tab-"))
    screen.query_one("#form-tabs", TabbedContent).active = pane.id
    await pilot.pause()
    field.focus()
    return field


async def type_into(pilot: Pilot, widget_id: str, text: str) -> None:
    """Focus the input and replace its text by typing."""
    field = await focus_field(pilot, widget_id, Input)
    field.action_select_all()  # typing replaces the selection, as after a click into a filled field
    await pilot.press(*text)


async def choose(pilot: Pilot, widget_id: str, option: str) -> None:
    """Open the select and pick `option` with the keyboard."""
    select = await focus_field(pilot, widget_id, Select)
    await pilot.press("enter")
    overlay = select.query_one(OptionList)
    offered = [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]
    overlay.highlighted = offered.index(option)
    await pilot.press("enter")
    await until(pilot, lambda: select.value == option, what=f"{widget_id} to read {option}")


async def form_built(pilot: Pilot) -> None:
    """The form's tabs are built just after the first frame (the lessons list comes first)."""
    await until(pilot, lambda: pilot.app.setup_screen.form_ready, what="the form to be built")


async def wait_for_plan(pilot: Pilot, timeout: float = WAIT_S) -> PlanPanel:
    panel = pilot.app.setup_screen.query_one("#plan", PlanPanel)
    await until(pilot, lambda: panel.plan is not None, "the engine's plan in the plan panel", timeout)
    return panel


async def start_run(pilot: Pilot) -> DashboardScreen:
    app: NNPlayApp = pilot.app
    await pilot.press("ctrl+r")
    await until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="the dashboard")
    return app.screen


async def finish(pilot: Pilot, status: str = "completed") -> None:
    app: NNPlayApp = pilot.app
    await until(pilot, lambda: app.live.finished, what=f"the run to end ({status})")
    assert app.live.status == status


# 1-2. The set-up screen, its plan, and the lessons


@pytest.mark.parametrize("size", SIZES)
async def test_setup_shows_the_engines_plan_and_lessons_fill_the_form(tmp_path, fake_run, size) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        setup = app.setup_screen
        assert app.screen is setup and setup.preset_name == "batch-math"
        assert setup.has_class("-compact") == (size[0] < 110)
        panel = await wait_for_plan(pilot)
        # batch-math: 1250 samples, 0.8/0.1/0.1 -> 1000 train; batch 20 -> 50 iterations; 10 epochs.
        assert (panel.plan["n_train"], panel.plan["n_val"], panel.plan["n_test"]) == (1000, 125, 125)
        text = text_of(panel)
        assert "50 iterations per epoch" in text and "500 updates" in text, text
        assert not panel.has_class("-error") and not panel.has_class("-pending")

        lessons = setup.query_one("#presets", OptionList)
        names = [lessons.get_option_at_index(i).id for i in range(lessons.option_count)]
        lessons.focus()
        lessons.highlighted = names.index("digits-cnn")
        await pilot.press("enter")
        await until(pilot, lambda: setup.preset_name == "digits-cnn", what="digits-cnn to load")
        architecture = setup.query_one("#f-model-architecture", Select)
        overlay = architecture.query_one(OptionList)  # the drop-down the select opens
        offered = [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]
        assert architecture.value == "cnn"
        assert set(offered) == {"perceptron", "mlp", "cnn"} == set(architectures_for("digits", "classification"))
        assert setup.query_one("#f-data-dataset", Select).value == "digits"
        assert setup.query_one("#f-training-epochs", Input).value == "25"
        assert setup.query_one("#f-model-conv_channels", Input).value == "16, 32"
        assert setup.query_one("#row-f-model-conv_channels").display
        assert not setup.query_one("#row-f-model-rnn_hidden").display
        assert not setup.query_one("#row-f-model-latent").display
        await until(pilot, lambda: panel.plan is not None and panel.plan["name"] == "digits-cnn", what="its plan")
        assert panel.plan["dataset"] == "digits"


async def test_the_lessons_list_is_the_course_with_claims_and_marks_lessons_already_run(tmp_path, fake_run) -> None:
    fake_run(epochs=2, delay=0.01)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        setup = app.setup_screen
        lessons = setup.query_one("#presets", OptionList)
        options = [lessons.get_option_at_index(i) for i in range(lessons.option_count)]
        course_lessons = [lesson for section in presets.course() for lesson in section.lessons]
        assert [o.id for o in options if not o.disabled][: len(course_lessons)] == [
            lesson.name for lesson in course_lessons
        ]
        assert options[0].disabled and str(options[0].prompt) == presets.course()[0].title.upper()
        assert lessons.highlighted_option.id == "batch-math"  # the lesson the form holds
        help_text = " ".join(text_of(setup.query_one("#help")).split())
        assert presets.find_lesson("batch-math").claim[:40] in help_text and "Try next" in help_text
        assert not str(lessons.get_option("batch-math").prompt).startswith("✓")

        await start_run(pilot)
        await finish(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is setup, what="the set-up screen")
        await until(pilot, lambda: str(lessons.get_option("batch-math").prompt).startswith("✓"), what="the mark")
        assert not str(lessons.get_option("drop-last").prompt).startswith("✓")


async def test_try_next_runs_the_lessons_variation_with_the_lesson_as_ghost(tmp_path, fake_run) -> None:
    fake_run(epochs=3, delay=0.01)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await start_run(pilot)  # batch-math
        assert any("lesson 4:" in line for line in app.live.log)  # its claim is in the log
        await finish(pilot)
        first = app.live
        await pilot.press("n")
        await until(pilot, lambda: app.live is not first and app.live.finished, what="the variation")
        assert app.live.name == "batch-math-try-next" and app.live_config["training"]["batch_size"] == 64
        assert app.ghosts == [first]
        await until(pilot, lambda: any(line.startswith("lesson 4: ") and "claim" in line for line in app.live.log))
        await pilot.press("n")  # the variation has no variation of its own
        await until(pilot, lambda: any("already the variation of lesson 4" in n for n in notifications(app)))


# 3. Inline validation


async def test_the_sweep_tab_sets_seeds_or_a_strength_and_the_plan_names_the_copies(tmp_path, fake_run) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        setup = app.setup_screen
        panel = await wait_for_plan(pilot)
        names = ("seeds", "parameter", "values", "executor", "grid", "random", "samples", "ray_address")
        rows = {name: setup.query_one(f"#row-f-sweep-{name}") for name in names}
        assert rows["seeds"].display and rows["parameter"].display
        assert rows["grid"].display and rows["random"].display  # where a search begins
        assert not rows["values"].display and not rows["executor"].display  # one copy: nothing to list or batch
        assert not rows["samples"].display and not rows["ray_address"].display

        await type_into(pilot, "f-sweep-seeds", "4")
        await until(pilot, lambda: setup.config is not None and setup.config.sweep.seeds == 4, what="4 seeds")
        assert rows["executor"].display and not rows["values"].display
        await until(pilot, lambda: panel.plan is not None and panel.plan.get("sweep"), what="a sweep plan")
        assert "sweep: 4 copies (seed 0, seed 1, seed 2, seed 3), trained together" in text_of(panel)

        # A strength instead: the seeds stay in view while they conflict, so the sentence can be acted on.
        await choose(pilot, "f-sweep-parameter", "l2")
        await until(pilot, lambda: rows["seeds"].has_class("-invalid"), what="the seeds row to turn invalid")
        assert "sweep.seeds = 4 with sweep.parameter = 'l2'" in text_of(rows["seeds"])
        await type_into(pilot, "f-sweep-seeds", "1")
        await until(pilot, lambda: rows["values"].has_class("-invalid"), what="the values row to ask for values")
        assert not rows["seeds"].display
        assert "sweep.values = [] for l2; allowed: 2 to 32 values" in text_of(rows["values"])

        await type_into(pilot, "f-sweep-values", "0, 0.001, 1e-2")
        await until(pilot, lambda: setup.config is not None, what="a valid strength sweep")
        assert setup.config.sweep.values == [0.0, 0.001, 0.01] and setup.config.sweep.parameter == "l2"
        await until(pilot, lambda: panel.plan is not None and panel.plan.get("sweep"), what="its plan")
        assert "sweep: 3 copies (l2=0, l2=0.001, l2=0.01)" in " ".join(text_of(panel).split())

        await type_into(pilot, "f-sweep-values", "0, x")
        await until(pilot, lambda: setup.config is None, what="the form to refuse 'x'")
        assert text_of(rows["values"].query_one(".field-error")) == (
            "sweep.values = '0, x' is not valid; allowed: numbers separated by commas, e.g. 0, 0.001, 0.01"
        )


async def test_invalid_input_shows_the_configs_sentence_and_blocks_the_start(tmp_path, fake_run) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:  # compact: one-line fields, the sentence under its row
        setup = app.setup_screen
        panel = await wait_for_plan(pilot)
        await type_into(pilot, "f-training-batch_size", "5000")
        row = setup.query_one("#row-f-training-batch_size")
        await until(pilot, lambda: row.has_class("-invalid"), what="the batch size row to turn invalid")
        expected = (
            "training.batch_size = 5000 is larger than the training split (1000 of 1250 samples); "
            'allowed: 1 to 1000, or "full"'
        )
        assert text_of(row.query_one(".field-error")) == expected
        assert panel.has_class("-error") and expected in text_of(panel)
        assert setup.config is None

        await pilot.press("ctrl+r")
        assert app.screen is setup and app.live.status == "idle"
        assert not app.engine.running and list_runs(tmp_path / "runs") == []

        # Fixing the value clears the sentence and brings the plan back.
        await type_into(pilot, "f-training-batch_size", "25")
        await until(pilot, lambda: panel.plan is not None and panel.plan["batch_size"] == 25, what="the new plan")
        assert not row.has_class("-invalid") and not panel.has_class("-error")
        assert "40 iterations per epoch" in text_of(panel)

        # A value that is not a number at all names the field and what it takes.
        await type_into(pilot, "f-training-epochs", "abc")
        epochs_row = setup.query_one("#row-f-training-epochs")
        await until(pilot, lambda: epochs_row.has_class("-invalid"), what="the epochs row to turn invalid")
        assert text_of(epochs_row.query_one(".field-error")) == (
            "training.epochs = 'abc' is not valid; allowed: a whole number"
        )
        assert panel.has_class("-error") and setup.config is None

        # Changing another field must not make the form forget that epochs still reads "abc".
        await type_into(pilot, "f-training-batch_size", "50")
        assert epochs_row.has_class("-invalid"), "epochs shows 'abc' but the form no longer says it is wrong"
        await pilot.press("ctrl+r")
        assert app.screen is setup, "a run started while the epochs field shows 'abc'"


# 4-6 and 9. Start, pause, stop, export


@pytest.mark.parametrize("size", SIZES)
async def test_start_opens_the_dashboard_and_epochs_arrive(tmp_path, fake_run, size) -> None:
    fake_run(epochs=3000, delay=0.02)  # long enough that s stops it, however slow the machine
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = await start_run(pilot)
        assert screen.live and screen.recorded is None
        await until(pilot, lambda: epochs_seen(app) >= 3, what="three epochs")
        chart = screen.query_one(LossChart)
        await until(pilot, lambda: {"train", "val"} <= set(chart.drawn), what="the 4 Hz redraw of the loss chart")
        header = screen.query_one("#header", RunHeader)
        await until(pilot, lambda: header.status == "running", what="the header to say running")
        assert header.has_class("-running") and "● running" in text_of(header)
        assert "batch-math" in text_of(header)
        await pilot.press("s")
        await finish(pilot, "stopped")


async def test_pause_holds_the_epochs_and_resume_continues(tmp_path, fake_run) -> None:
    fake_run(epochs=3000, delay=0.02)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await start_run(pilot)
        await until(pilot, lambda: epochs_seen(app) >= 2, what="two epochs")
        await pilot.press("space")
        assert app.paused and app.engine.paused
        header = screen.query_one(RunHeader)
        await until(pilot, lambda: header.status == "paused", what="the header to say paused")
        # The epoch under way when the command arrived may still finish; after that, nothing: neither
        # in the engine's record nor on the screen.
        await during(pilot, 0.15, lambda: epochs_seen(app))
        await until(pilot, lambda: epochs_seen(app) == recorded_epochs(app), what="the app to catch up")
        held = epochs_seen(app)
        assert await during(pilot, 0.6, lambda: (epochs_seen(app), recorded_epochs(app))) == {(held, held)}
        assert app.live.status == "running"

        await pilot.press("space")
        assert not app.paused
        await until(pilot, lambda: epochs_seen(app) >= held + 3, what="epochs after resuming")
        await until(pilot, lambda: header.status == "running", what="the header to say running again")
        await pilot.press("s")
        await finish(pilot, "stopped")


async def test_stop_ends_the_run_keeps_the_dashboard_and_export_writes_reports(tmp_path, fake_run) -> None:
    fake_run(epochs=3000, delay=0.02)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await start_run(pilot)
        await until(pilot, lambda: epochs_seen(app) >= 2, what="two epochs")
        await pilot.press("s")
        await finish(pilot, "stopped")
        assert app.screen is screen and not app.engine.running
        assert epochs_seen(app) < 300
        header = screen.query_one(RunHeader)
        await until(pilot, lambda: header.status == "stopped", what="the header to say stopped")
        run_dir = Path(app.live.run_dir)
        assert load_run(run_dir).summary["status"] == "stopped"
        # Pause and stop do nothing once the run has ended.
        await pilot.press("space", "s")
        assert not app.paused and app.live.status == "stopped"

        # Export, from the dashboard of the finished run.
        await pilot.press("e")
        names = ("report.md", "report.csv", "report.json", "dashboard.svg")
        await until(pilot, lambda: all((run_dir / n).is_file() for n in names), what="the exported files")
        markdown = (run_dir / "report.md").read_text(encoding="utf-8")
        assert markdown.startswith("# batch-math — stopped")
        assert "## Verdict" in markdown and "**good fit**" in markdown
        assert (run_dir / "dashboard.svg").read_text(encoding="utf-8").startswith("<svg")


# 7. Tweak and rerun


async def test_tweak_and_rerun_keeps_the_form_and_draws_the_last_run_as_a_ghost(tmp_path, fake_run) -> None:
    fake_run(epochs=5, delay=0.01)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        setup = app.setup_screen
        data_before = copy.deepcopy(setup.data)
        await start_run(pilot)
        await finish(pilot)
        first = app.live

        await pilot.press("t")
        await until(pilot, lambda: app.screen is setup, what="the set-up screen")
        assert setup.data == data_before
        assert setup.query_one("#f-training-batch_size", Input).value == "20"
        assert app.ghosts == [first] and app.ghosts[0] is first

        screen = await start_run(pilot)
        assert app.live is not first
        await finish(pilot)
        chart = screen.query_one(LossChart)
        train_ghost, val_ghost = ghost_label("train", 0, 1), ghost_label("val", 0, 1)
        await until(pilot, lambda: {train_ghost, val_ghost, "train", "val"} <= set(chart.drawn), what="ghost curves")
        assert (train_ghost, val_ghost) == ("train (prev)", "val (prev)")
        assert chart.drawn[val_ghost] == tuple(first.series["val_loss"].points())
        assert len(app.screen_stack) == 3  # the first dashboard went when the form came back


# 8. Runs and comparison


async def test_runs_screen_compares_marked_runs_and_opens_one(tmp_path, fake_run) -> None:
    fake_run(epochs=4, delay=0.01)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await start_run(pilot)
        await finish(pilot)
        await pilot.press("t")
        await until(pilot, lambda: app.screen is app.setup_screen, what="the set-up screen")
        await type_into(pilot, "f-training-epochs", "12")
        await until(
            pilot, lambda: app.setup_screen.config is not None and app.setup_screen.config.training.epochs == 12
        )
        await start_run(pilot)
        await finish(pilot)
        recorded = list_runs(tmp_path / "runs")
        assert len(recorded) == 2

        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, RunsScreen), what="the runs screen")
        runs = app.screen
        table = runs.query_one("#runs", DataTable)
        await until(pilot, lambda: table.row_count == 2, what="two rows")
        await pilot.press("space", "down", "space")
        assert runs.marked == {p.name for p in recorded}
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen), what="the compare screen")
        compare = app.screen
        chart = compare.query_one(CompareChart)
        await until(pilot, lambda: len(chart.drawn) == 4, what="both runs' curves")
        assert {label.split(":", 1)[0] for label in chart.drawn} == {"1", "2"}
        assert all(xs == [1, 2, 3, 4] for xs, _ in chart.drawn.values())
        config = compare.query_one("#compare-config", DataTable)
        rows = [list(config.get_row_at(i)) for i in range(config.row_count)]
        assert [str(row[0]) for row in rows] == ["training.epochs"]
        assert sorted(str(cell) for cell in rows[0][1:]) == ["10", "12"]
        assert all("bold" in str(cell.style) for cell in rows[0])

        await pilot.press("escape")
        await until(pilot, lambda: app.screen is runs, what="back to the runs screen")
        depth = len(app.screen_stack)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), what="a recorded dashboard")
        opened = app.screen
        assert opened.recorded is not None and opened.recorded.status == "completed"
        assert len(app.screen_stack) == depth + 1, "enter opened the run more than once"
        chart = opened.query_one(LossChart)
        await until(pilot, lambda: "val" in chart.drawn, what="the recorded loss chart")
        assert chart.drawn["val"][0] == [1, 2, 3, 4]


# 10-13. An engine that misbehaves


async def test_a_crashed_engine_is_reported_and_replaced(tmp_path, fake_run) -> None:
    fake_run(epochs=10, delay=0.01)
    app = make_app(tmp_path, "crash")
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.hello is not None, what="the first engine's hello")
        first_hello = app.hello
        screen = await start_run(pilot)
        await until(pilot, lambda: app.live.status == "crashed", what="the crash")
        assert epochs_seen(app) == 3
        header = screen.query_one(RunHeader)
        await until(pilot, lambda: header.status == "crashed", what="the header to say crashed")
        await until(pilot, lambda: "stopped unexpectedly" in log_text(screen), what="the crash in the log")
        assert "exit code 1" in log_text(screen)
        assert any(app.live.run_dir in line for line in app.live.log), "where the finished epochs are kept"
        assert any("fake engine crashed on purpose" in line for line in app.live.log)
        # A new engine starts and says hello; the app answers keys all along.
        await until(pilot, lambda: app.engine.alive and app.hello is not first_hello, what="a new engine")
        await pilot.press("l")
        assert screen.query_one(LossChart).log_scale
        await pilot.press("t")
        await until(pilot, lambda: app.screen is app.setup_screen, what="the set-up screen")
        await start_run(pilot)
        await until(pilot, lambda: epochs_seen(app) >= 1, what="the new engine's first epoch")


async def test_malformed_lines_are_logged_and_the_run_completes(tmp_path, fake_run) -> None:
    fake_run(epochs=5, delay=0.01)
    app = make_app(tmp_path, "malformed")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await start_run(pilot)
        await finish(pilot)
        assert epochs_seen(app) == 5
        await until(pilot, lambda: "not an event" in log_text(screen), what="the warning in the log")
        text = log_text(screen)
        assert "warning: the engine wrote a line that is not an event" in text
        assert "this line is not JSON" in text and "a JSON object without type" in text


async def test_nan_and_inf_end_as_diverged_with_only_finite_points_drawn(tmp_path, fake_run) -> None:
    fake_run(epochs=10, delay=0.01)
    app = make_app(tmp_path, "nan")
    async with app.run_test(size=(80, 24)) as pilot:  # compact: the loss chart at its smallest
        screen = await start_run(pilot)
        await finish(pilot, "diverged")
        header = screen.query_one(RunHeader)
        loss, metric = screen.query_one(LossChart), screen.query_one(MetricChart)
        await until(pilot, lambda: header.status == "diverged", what="the header to say diverged")
        assert loss.drawn["train"][0] == [1, 2], "epochs 3 (nan/inf) and 4 (null) must not be drawn"
        for chart in (loss, metric):
            for xs, ys in chart.drawn.values():
                assert all(math.isfinite(v) for v in [*xs, *ys])
        assert any("lower the learning rate" in line for line in app.live.log)
        await pilot.press("l")  # a redraw on a log axis after inf must not crash plotext either
        await pilot.pause()
        assert app.is_running


async def test_a_flood_of_steps_keeps_the_app_responsive_and_bounded(tmp_path, fake_run) -> None:
    fake_run(epochs=4, delay=0.01, FAKE_STEPS="20000")
    app = make_app(tmp_path, "flood")
    async with app.run_test(size=(120, 36)) as pilot:
        await start_run(pilot)
        await finish(pilot)
        steps = app.live.steps
        assert len(steps.xs) <= steps.capacity
        assert steps.last == (20000, 0.5), "the newest step was lost"


async def test_keys_are_handled_while_the_engine_floods_the_app(tmp_path, fake_run) -> None:
    fake_run(epochs=4, FAKE_STEPS="0")  # steps without end, until the stop
    app = make_app(tmp_path, "flood")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await start_run(pilot)
        await until(pilot, lambda: len(app.live.steps) > 0, what="the first steps")
        chart = screen.query_one(LossChart)
        await pilot.press("l")
        await until(pilot, lambda: chart.log_scale, what="the key press during the flood")
        await pilot.press("s")  # the flood ends only when the stop gets through
        await finish(pilot, "stopped")
        assert len(app.live.steps.xs) <= app.live.steps.capacity


# 14. The real engine


async def test_real_engine_runs_batch_math_end_to_end(tmp_path) -> None:
    app = NNPlayApp(tmp_path / "runs", engine_command=None)
    async with app.run_test(size=(120, 36)) as pilot:
        panel = await wait_for_plan(pilot, REAL_ENGINE_WAIT_S)
        assert "50 iterations per epoch" in text_of(panel) and "500 updates" in text_of(panel)
        assert app.hello is not None and app.hello["torch_version"] != "fake"
        await type_into(pilot, "f-training-epochs", "3")
        await until(pilot, lambda: panel.plan is not None and panel.plan["epochs"] == 3, what="the 3-epoch plan")
        assert "150 updates" in text_of(panel)
        screen = await start_run(pilot)
        await until(pilot, lambda: app.live.finished, "the real run to end", REAL_ENGINE_WAIT_S)
        assert app.live.status == "completed" and app.live.done["status"] == "completed"
        chart = screen.query_one(LossChart)
        await until(pilot, lambda: len(chart.drawn.get("val", ([], []))[0]) == 3, what="three epochs drawn")
        assert chart.drawn["train"][0] == [1, 2, 3]
        assert load_run(Path(app.live.run_dir)).status == "completed"


async def test_quitting_mid_run_leaves_a_stopped_run_with_its_summary(tmp_path) -> None:
    app = NNPlayApp(tmp_path / "runs", engine_command=None)
    async with app.run_test(size=(120, 36)) as pilot:
        await type_into(pilot, "f-training-epochs", "3000")
        await until(
            pilot, lambda: app.setup_screen.config is not None and app.setup_screen.config.training.epochs == 3000
        )
        await start_run(pilot)
        await until(pilot, lambda: epochs_seen(app) >= 1, "the first real epoch", REAL_ENGINE_WAIT_S)
        run_dir = Path(app.live.run_dir)
        await pilot.press("q")
    assert not app.is_running
    record = load_run(run_dir)
    assert record.summary is not None, "the app exited before the engine wrote summary.json"
    assert record.summary["status"] == "stopped" and record.status == "stopped"
    assert 1 <= record.summary["epochs_run"] < 3000


# 15. Save as preset


async def open_save_dialog(pilot: Pilot) -> SavePresetScreen:
    await until(pilot, lambda: pilot.app.setup_screen.config is not None, what="a valid form to save")
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(pilot.app.screen, SavePresetScreen), what="the save dialog")
    dialog = pilot.app.screen
    dialog.query_one("#preset-name", Input).focus()
    return dialog


def option_ids(option_list: OptionList) -> list[str]:
    return [option_list.get_option_at_index(i).id for i in range(option_list.option_count)]


async def test_save_preset_writes_only_the_keys_set_into_the_users_presets(tmp_path, fake_run, user_presets) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        setup = app.setup_screen
        await type_into(pilot, "f-training-epochs", "12")
        await until(pilot, lambda: setup.config is not None and setup.data["training"]["epochs"] == 12)
        dialog = await open_save_dialog(pilot)
        assert f"saved in {user_presets}" in text_of(dialog.query_one("#dialog-where"))
        await pilot.press(*"A b", "enter")
        assert isinstance(app.screen, SavePresetScreen)
        assert "is not valid; allowed: lower-case letters, digits and dashes" in text_of(
            dialog.query_one("#dialog-error")
        )
        dialog.query_one("#preset-name", Input).action_select_all()
        await pilot.press(*"mine", "tab", *"Mine.", "enter")
        await until(pilot, lambda: app.screen is setup, what="the dialog to close")

        saved_path = user_presets / "mine.toml"
        assert saved_path.is_file()
        saved = tomllib.loads(saved_path.read_text(encoding="utf-8"))
        original = tomllib.loads((presets.PRESETS_DIR / "batch-math.toml").read_text(encoding="utf-8"))
        expected = {
            k: v for k, v in original.items() if k not in ("description", "lesson")
        }  # a new experiment, not the lesson
        expected["training"] = {**expected["training"], "epochs": 12}
        assert saved == {"description": "Mine.", **expected}
        validate(saved)
        assert f"saved your preset in {saved_path}" in notifications(app)
        assert option_ids(setup.query_one("#presets", OptionList))[-2:] == ["section:user", "mine"]
    assert not list(presets.PRESETS_DIR.glob("mine*"))


async def test_saving_refuses_a_lessons_name_and_replaces_a_users_preset_on_a_second_enter(
    tmp_path, fake_run, user_presets
) -> None:
    lesson = presets.PRESETS_DIR / "xor-perceptron.toml"
    shipped = lesson.read_text(encoding="utf-8")
    (user_presets / "mine.toml").write_text('description = "The old one."\n', encoding="utf-8")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        dialog = await open_save_dialog(pilot)
        await pilot.press(*"xor-perceptron", "enter")
        assert isinstance(app.screen, SavePresetScreen)
        assert text_of(dialog.query_one("#dialog-error")) == (
            "name = 'xor-perceptron' is a lesson of the course; choose another name"
        )
        assert lesson.read_text(encoding="utf-8") == shipped
        assert not (user_presets / "xor-perceptron.toml").exists()

        dialog.query_one("#preset-name", Input).action_select_all()
        await pilot.press(*"mine", "tab", *"The new one.", "enter")
        assert isinstance(app.screen, SavePresetScreen)
        assert text_of(dialog.query_one("#dialog-error")) == (
            "name = 'mine' is already one of your presets; press enter again to replace it"
        )
        assert "The old one." in (user_presets / "mine.toml").read_text(encoding="utf-8")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is app.setup_screen, what="the dialog to close")
    assert tomllib.loads((user_presets / "mine.toml").read_text(encoding="utf-8"))["description"] == "The new one."


async def test_a_users_preset_is_listed_apart_and_fills_the_form(tmp_path, fake_run, user_presets, tiny_data) -> None:
    data = tiny_data(training={"epochs": 7})
    del data["name"]
    (user_presets / "my-moons.toml").write_text(tomli_w.dumps({"description": "My moons.", **data}), encoding="utf-8")
    (user_presets / "broken.toml").write_text("x = [", encoding="utf-8")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        setup = app.setup_screen
        lessons = setup.query_one("#presets", OptionList)
        assert option_ids(lessons)[-3:] == ["section:user", "broken", "my-moons"]
        assert "(this preset is not valid TOML)" in str(lessons.get_option("broken").prompt)
        await form_built(pilot)
        lessons.focus()
        lessons.highlighted = lessons.get_option_index("my-moons")
        await pilot.press("enter")
        await until(pilot, lambda: setup.preset_name == "my-moons", what="the user's preset in the form")
        await until(pilot, lambda: setup.config is not None and setup.config.training.epochs == 7)


# 16. Resizing


async def test_resizing_mid_run_toggles_the_compact_dashboard(tmp_path, fake_run) -> None:
    fake_run(epochs=100, delay=0.1)  # slow epochs: resizes, not redraws, are under test
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await start_run(pilot)
        await until(pilot, lambda: epochs_seen(app) >= 2, what="two epochs")
        assert not screen.has_class("-compact")

        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: screen.has_class("-compact"), what="the compact layout")
        shown = lambda: [name for name in PANELS if screen.query_one(f"#{name}").display]  # noqa: E731
        assert shown() == ["loss"]
        await pilot.press("tab")
        assert screen.panel == 1 and shown() == ["metric"]
        await pilot.press("tab", "tab", "tab", "tab")
        assert screen.panel == 0 and shown() == ["loss"]

        await pilot.resize_terminal(160, 50)
        await until(pilot, lambda: not screen.has_class("-compact"), what="the full layout")
        assert shown() == list(PANELS)

        await pilot.resize_terminal(40, 12)
        await until(pilot, lambda: screen.has_class("-compact"), what="the compact layout again")
        before = epochs_seen(app)
        await until(pilot, lambda: epochs_seen(app) >= before + 2, what="epochs at 40x12")
        chart = screen.query_one(LossChart)
        await until(pilot, lambda: chart.drawn.get("train", ([], []))[0][-1:] != [before], what="a redraw")
        await pilot.press("s")
        await finish(pilot, "stopped")
        assert app.is_running


async def test_the_form_marks_every_problem_under_its_own_field(tmp_path, fake_run) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        setup = app.setup_screen
        panel = await wait_for_plan(pilot)
        rows = {name: setup.query_one(f"#row-f-training-{name}") for name in ("epochs", "batch_size")}
        await type_into(pilot, "f-training-epochs", "abc")  # text that is not a value
        await type_into(pilot, "f-training-batch_size", "5000")  # a value the config refuses
        await until(pilot, lambda: all(row.has_class("-invalid") for row in rows.values()), what="both rows marked")
        assert text_of(rows["epochs"].query_one(".field-error")) == (
            "training.epochs = 'abc' is not valid; allowed: a whole number"
        )
        assert text_of(rows["batch_size"].query_one(".field-error")).startswith("training.batch_size = 5000 is larger")
        assert "2 problems: - training.epochs = 'abc'" in text_of(panel) and "- training.batch_size = 5000" in text_of(
            panel
        )

        # Fixing one leaves the other marked, with its own sentence only.
        await type_into(pilot, "f-training-epochs", "7")
        await until(pilot, lambda: not rows["epochs"].has_class("-invalid"), what="epochs fixed")
        assert rows["batch_size"].has_class("-invalid") and setup.config is None
        assert "problems" not in text_of(panel) and "training.batch_size = 5000" in text_of(panel)

        # A refusal from the engine (here: the memory limit) marks the setting it names.
        await type_into(pilot, "f-training-batch_size", "50")
        await until(pilot, lambda: panel.plan is not None and panel.plan["batch_size"] == 50, what="a plan again")
        sentence = "this experiment needs about 9 GB of memory (...), more than the 4 GB allowed; lower model.hidden"
        app.post_message(EngineClient.PlanFailed(0, sentence, [("model.hidden", sentence)]))
        hidden = setup.query_one("#row-f-model-hidden")
        await until(pilot, lambda: hidden.has_class("-invalid"), what="the hidden row marked by the engine's answer")
        assert str(hidden.query_one(".field-error", Static).render()) == sentence  # (on the Model tab)
        assert not rows["batch_size"].has_class("-invalid")


async def test_your_own_table_in_the_form_offers_its_columns_from_the_engines_reading(tmp_path) -> None:
    from sklearn.datasets import load_iris

    iris = load_iris()
    table = tmp_path / "flowers.csv"
    rows = ["sepal_length,sepal_width,petal_length,petal_width,species"]
    rows += [
        ",".join([*(f"{v:g}" for v in x), iris.target_names[y]]) for x, y in zip(iris.data, iris.target, strict=True)
    ]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")

    app = NNPlayApp(tmp_path / "runs", engine_command=None)
    async with app.run_test(size=(120, 36)) as pilot:
        setup = app.setup_screen
        panel = await wait_for_plan(pilot, REAL_ENGINE_WAIT_S)
        await choose(pilot, "f-data-dataset", "csv")
        path_row = setup.query_one("#row-f-data-path")
        await until(pilot, lambda: path_row.has_class("-invalid"), what="the path asked for")
        field = await focus_field(pilot, "f-data-path", Input)
        field.value = str(table)  # pasted, as a long path usually is: one change, not one plan per character
        # The lesson's 1,250 samples are more than the table has: the engine says so under that field.
        n_samples = setup.query_one("#row-f-data-n_samples")
        await until(
            pilot, lambda: n_samples.has_class("-invalid"), what="n_samples refused", timeout=REAL_ENGINE_WAIT_S
        )
        assert "exceeds the 150 usable rows" in text_of(n_samples)
        await type_into(pilot, "f-data-n_samples", "")
        await pilot.press("backspace")  # empty: all of them

        def read() -> dict:
            return (panel.plan or {}).get("data_info") or {}

        await until(
            pilot,
            lambda: read().get("rows") == 150,
            what="the engine's reading of the table",
            timeout=REAL_ENGINE_WAIT_S,
        )
        assert read()["target"] == "species" and "read: flowers.csv: 150 of 150 rows" in text_of(panel)
        target = setup.query_one("#f-data-target", Select)
        offered = [str(option[0]) for option in target._options]
        assert offered[-5:] == ["(last column)", "sepal_length", "sepal_width", "petal_length", "petal_width"][:0] + [
            "sepal_length",
            "sepal_width",
            "petal_length",
            "petal_width",
            "species",
        ]
        features = setup.query_one("#f-data-features", SelectionList)
        offered = [str(features.get_option_at_index(i).prompt) for i in range(features.option_count)]
        assert offered == ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
        assert features.selected == ["sepal_length", "sepal_width", "petal_length", "petal_width"]  # all but target

        # Unticking two columns: the model learns from the other two.
        await focus_field(pilot, "f-data-features", SelectionList)
        await until(pilot, lambda: app.focused is features, what="the checklist focused")
        await pilot.press("space", "down", "space")
        await until(pilot, lambda: read().get("features") == ["petal_length", "petal_width"], what="two features read")
        assert setup.config is not None and setup.config.data.features == ["petal_length", "petal_width"]
        await choose(pilot, "f-data-target", "species")
        await until(pilot, lambda: setup.config is not None and setup.config.data.target == "species", what="target")
        # Ticking every column but the target again is the default: no features setting.
        await focus_field(pilot, "f-data-features", SelectionList)
        await until(pilot, lambda: app.focused is features, what="the checklist focused")
        await pilot.press("space", "down", "space")  # the list starts at its first column
        await until(pilot, lambda: setup.config is not None and setup.config.data.features is None, what="default")
