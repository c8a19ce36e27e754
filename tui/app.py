"""The nnplay explorer: set up an experiment, watch it train, compare runs, export.

The app composes screens and routes the engine's messages; it never imports torch. One
engine process (`python -m nnplay.engine serve`) is started at launch so that torch loads while
the user is still choosing, answers plans as the form changes, and trains on request.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from nnplay.engine.core.runs import load_run, runs_root
from nnplay.presets import find_lesson, lesson_of_run, list_presets
from nnplay.tui.engine_client import EngineClient
from nnplay.tui.screens.setup import SetupScreen
from nnplay.tui.state import RunState

MAX_GHOSTS = 1


class NNPlayCommands(Provider):
    """Command palette: presets, export, runs (themes come with Textual's own commands)."""

    def _commands(self):
        app: NNPlayApp = self.app  # type: ignore[assignment]
        for preset in list_presets():
            yield f"Preset: {preset.name}", preset.description, lambda name=preset.name: app.choose_preset(name)
        yield "Runs: past runs", "Table of recorded runs; compare, open, export", app.action_runs
        yield (
            "Export the current run",
            "JSON, CSV, Markdown and an SVG screenshot into the run directory",
            app.action_export,
        )
        yield "Set-up: new experiment", "Back to the form", app.action_setup

    async def discover(self) -> Hits:
        """Every command (presets, runs, export, set-up), offered before anything is typed."""
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """The commands whose name matches what is typed."""
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class NNPlayApp(App):
    """The explorer: the set-up screen, the live dashboard, past runs; one warm engine process behind them."""

    CSS_PATH = "app.tcss"
    TITLE = "nnplay"
    SUB_TITLE = "a neural-network playground"
    COMMANDS = App.COMMANDS | {NNPlayCommands}
    BINDINGS = [Binding("f2", "runs", "Runs", show=False)]

    def __init__(self, runs_dir: str | Path | None = None, engine_command: list[str] | None = None) -> None:
        super().__init__()
        self.runs_root = runs_root(runs_dir)
        self.engine = EngineClient(self.runs_root, command=engine_command, id="engine")
        self.setup_screen = SetupScreen()
        self.live = RunState()
        self.live_config: dict | None = None  # the config the live run was started with
        self.ghosts: list[RunState] = []
        self.paused = False
        self.hello: dict | None = None

    def compose(self) -> ComposeResult:
        """Nothing of its own: the screens hold the widgets."""
        yield self.engine

    def on_mount(self) -> None:
        """Show the set-up screen and start the engine, so torch loads while the user reads."""
        self.push_screen(self.setup_screen)

    # Engine messages

    @on(EngineClient.Ready)
    def _engine_ready(self, message: EngineClient.Ready) -> None:
        self.hello = message.hello
        if self.live.hello is None:
            self.live.hello = message.hello
            self.live.version += 1

    @on(EngineClient.PlanReady)
    def _plan_ready(self, message: EngineClient.PlanReady) -> None:
        self.setup_screen.show_plan(message.plan)

    @on(EngineClient.PlanFailed)
    def _plan_failed(self, message: EngineClient.PlanFailed) -> None:
        self.setup_screen.show_problems(message.problems or [(None, message.message)])

    @on(EngineClient.Event)
    def _engine_event(self, message: EngineClient.Event) -> None:
        self.live.ingest(message.event)
        if self.live.finished:
            self.paused = False
        if message.event.get("type") == "done":
            self._judge_lesson()

    @on(EngineClient.Malformed)
    def _engine_malformed(self, message: EngineClient.Malformed) -> None:
        self.live.note(f"warning: the engine wrote a line that is not an event, skipped: {message.line[:120]!r}")

    @on(EngineClient.Crashed)
    def _engine_crashed(self, message: EngineClient.Crashed) -> None:
        if self.engine.hello is None and message.returncode == 2:  # refused to start: a retry cannot help
            why = self.engine.start_error or message.stderr_tail.strip() or "the engine refused to start"
            self.setup_screen.show_error(why)
            self.notify(f"The engine cannot start: {why}", severity="error", timeout=30, markup=False)
            return
        was_running = self.live.status in ("starting", "running")
        code = "could not start" if message.returncode is None else f"exit code {message.returncode}"
        if was_running:
            self.live.status = "crashed"
            kept = f" Finished epochs are kept in {self.live.run_dir}." if self.live.run_dir else ""
            self.live.note(f"error: the engine stopped unexpectedly ({code}).{kept}")
        tail = message.stderr_tail.strip().splitlines()[-3:]
        for line in tail:
            self.live.note(f"engine: {line}")
        self.paused = False
        self.notify(f"The engine stopped unexpectedly ({code}); a new one is starting.", severity="error", timeout=8)
        self.engine.restart()

    # What screens ask for

    def request_plan(self, config: dict) -> None:
        """Ask the engine for the plan of `config`; the newest request is answered, stale ones are dropped."""
        self.engine.request_plan(config)

    def _on_dashboard(self, live_only: bool = False) -> bool:
        from nnplay.tui.screens.dashboard import DashboardScreen

        return isinstance(self.screen, DashboardScreen) and (self.screen.live or not live_only)

    def _dashboard_state(self) -> RunState | None:
        """The run the dashboard shows, when the dashboard is the screen on top."""
        from nnplay.tui.screens.dashboard import DashboardScreen

        return self.screen.state if isinstance(self.screen, DashboardScreen) else None

    def start_run(self, config: dict) -> None:
        """Start a run of `config` and show its dashboard."""
        from nnplay.tui.screens.dashboard import DashboardScreen  # charts load when the first run starts

        if self.engine.running:
            self.notify("A run is in progress: stop it (s) before starting another.", severity="warning")
            return
        self._label_ghosts(config)
        self.live = RunState(name=config.get("name", ""), status="starting", hello=self.hello)
        self.live_config = config
        self.live.note(
            f"starting {config.get('name', 'experiment')}"
            + ("" if self.hello else " (the engine is still loading torch)")
        )
        lesson = find_lesson(config.get("name", ""))
        if lesson is not None:
            self.live.note(f"lesson {lesson.number}: {lesson.claim}")
            self.live.note(f"watch: {lesson.watch} When it ends, n tries next: {lesson.try_next}.")
        self.paused = False
        self.engine.start_run(config)
        if not self._on_dashboard(live_only=True):
            self.push_screen(DashboardScreen())

    def _label_ghosts(self, config: dict) -> None:
        """Each ghost says what the new run changed since it ("dropout 0 → 0.5")."""
        from nnplay.engine.core.config import ConfigError, validate
        from nnplay.tui.changes import config_changes, describe

        for ghost in self.ghosts:
            before = self._config_of(ghost)
            try:
                changes = config_changes(validate(before).model_dump(), validate(dict(config)).model_dump())
                ghost.change = describe(changes) if before else ""
            except ConfigError:
                ghost.change = ""
            ghost.version += 1

    def _config_of(self, state: RunState) -> dict:
        """The config a run was started with: the live one's, else its run directory's config.toml."""
        from nnplay.engine.core.config import ConfigError
        from nnplay.engine.core.config_files import read_experiment

        if state is self.live and self.live_config is not None:
            return dict(self.live_config)
        recorded = Path(state.run_dir) / "config.toml" if state.run_dir else None
        try:
            return read_experiment(recorded) if recorded and recorded.is_file() else {}
        except ConfigError:
            return {}

    def forget_ghosts(self) -> None:
        """Another experiment was loaded: earlier runs no longer compare with what comes next."""
        self.ghosts = []

    def pin_ghost(self, state: RunState) -> None:
        """Keep this run on the charts of the next run, to compare."""
        if not (state.series["val_loss"] or state.series["train_loss"]):
            self.notify("This run has no epochs to compare against yet.", severity="warning")
            return
        self.ghosts = [state]
        self.notify(f"{state.name} is pinned: the next run draws it as a dim ghost.", markup=False)

    def toggle_pause(self) -> None:
        """Pause the live run, or resume it."""
        if self.paused:
            self.engine.resume()
        else:
            self.engine.pause()
        self.paused = not self.paused
        self.live.note("paused" if self.paused else "resumed")

    def stop_run(self) -> None:
        """Stop the live run cleanly: its test metrics are still measured."""
        self.engine.stop()
        self.paused = False
        self.live.note("stopping: the run finishes its bookkeeping and keeps every finished epoch")

    def try_next(self, state: RunState) -> None:
        """Run the lesson's variation ("try next") with this run as the ghost to compare against."""
        from nnplay.engine.core.config import ConfigError

        if self.engine.running:
            self.notify("A run is in progress: stop it (s) or let it finish first.", severity="warning")
            return
        lesson, is_variation = lesson_of_run(state.name)
        if lesson is None or is_variation:
            why = (
                f"This run is already the variation of lesson {lesson.number} ({lesson.name})."
                if lesson
                else "This run is not a lesson of the course: n runs a lesson's variation."
            )
            self.notify(why, severity="warning")
            return
        try:
            base = self._config_of(state)
            config = variation_config(base, lesson.variation_overrides)
        except ConfigError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.ghosts = [state][:MAX_GHOSTS]
        self.start_run(config)
        self.live.note(f"try next: {lesson.try_next} (the lesson's run stays on the charts as the ghost)")

    def _judge_lesson(self) -> None:
        """After a lesson's variation, whether the lesson's claim held, from both runs' records."""
        from nnplay.engine.core.course import Run, judge

        lesson, is_variation = lesson_of_run(self.live.name)
        if lesson is None or not is_variation:
            return
        first = next((g for g in self.ghosts if g.name == lesson.name and g.run_dir), None)
        if first is None or not first.run_dir or not self.live.run_dir:
            return
        try:
            runs = [Run.of(load_run(Path(run_dir))) for run_dir in (first.run_dir, self.live.run_dir)]
        except FileNotFoundError:
            return
        outcome = judge(lesson.name, *runs)
        mark = "✓ the claim held" if outcome.held else "✗ the claim did not hold on this run"
        self.live.note(f"lesson {lesson.number}: {mark}. {outcome.comparison}")

    def tweak_and_rerun(self, state: RunState) -> None:
        """Back to the form with the same values, on the setting to change (the one the lesson varies, else
        the one changed last); this run stays on the charts as a ghost."""
        if state.series["val_loss"] or state.series["train_loss"]:
            self.ghosts = [state, *self.ghosts][:MAX_GHOSTS]
        self.action_setup()
        lesson, _ = lesson_of_run(state.name)
        varied = lesson.variation[0].split("=", 1)[0].strip() if lesson and lesson.variation else None
        self.setup_screen.focus_setting(varied or self.setup_screen.last_changed or "model.architecture")
        self.notify("Change one setting and press ctrl+r: this run stays on the charts as a ghost.")

    def choose_preset(self, name: str) -> None:
        """Load preset `name` into the set-up screen and show it."""
        self.action_setup()
        self.setup_screen.load_preset(name)

    def open_recorded(self, path: Path) -> None:
        """Show the run recorded in `path` on a dashboard of its own."""
        from nnplay.tui.screens.compare import replay
        from nnplay.tui.screens.dashboard import DashboardScreen

        state, _ = replay(path)
        self.push_screen(DashboardScreen(state=state))

    def export_files(self, *run_dirs: Path, notify: bool = True) -> list[Path]:
        """JSON, CSV and Markdown reports and the training script (train.py) into each run directory, as
        `nnplay export` writes them; one notification names every file and directory written."""
        from nnplay.engine.core.script import DataMissing, ScriptNotPossible
        from nnplay.tui.report import EXPORT_FORMATS, default_export_path, export, exported_message

        written = []
        for run_dir in run_dirs:
            try:
                record = load_run(run_dir)
                for fmt in EXPORT_FORMATS:
                    try:
                        text = export(record, fmt)
                    except (ScriptNotPossible, DataMissing) as exc:  # a run without a script keeps its reports
                        self.notify(f"{run_dir} has no training script: {exc}", severity="information", markup=False)
                        continue
                    path = default_export_path(record, fmt)
                    path.write_text(text, encoding="utf-8")
                    written.append(path)
            except (OSError, ValueError) as exc:
                self.notify(f"{run_dir} cannot be exported: {exc}", severity="warning", markup=False)
        if notify and written:
            self.notify(exported_message(written), markup=False)
        return written

    def export_run(self, state: RunState) -> None:
        """The reports and a screenshot of the dashboard (dashboard.svg) into the run directory."""
        from nnplay.tui.report import exported_message

        if not state.run_dir or not Path(state.run_dir).is_dir():
            self.notify("This run has no run directory yet.", severity="warning")
            return
        run_dir = Path(state.run_dir)
        written = self.export_files(run_dir, notify=False)
        written.append(Path(self.save_screenshot(filename="dashboard.svg", path=str(run_dir))))
        self.notify(exported_message(written), markup=False)

    # Actions

    def action_runs(self) -> None:
        """Show the table of past runs."""
        from nnplay.tui.screens.runs import RunsScreen

        self.push_screen(RunsScreen())

    def action_setup(self) -> None:
        """Back to the set-up screen."""
        while self.screen is not self.setup_screen and len(self.screen_stack) > 2:
            self.pop_screen()

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """The palette's Screenshot: an SVG into the shown run's directory, else the runs directory; not
        into a Downloads directory, which a server reached over SSH usually lacks (the save then fails)."""
        if path is None:
            state = self._dashboard_state()
            shown = Path(state.run_dir) if state is not None and state.run_dir else None
            target = shown if shown is not None and shown.is_dir() else self.runs_root
            try:
                target.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self.notify(
                    f"No screenshot: {target} cannot be created ({exc.strerror}).", severity="error", markup=False
                )
                return
            path = str(target)
        self.deliver_screenshot(filename, path)

    def action_export(self) -> None:
        """Export the run on screen (else the live one) as report files."""
        shown = self._dashboard_state()
        self.export_run(shown if shown is not None else self.live)


def variation_config(base: dict, overrides: list[str]) -> dict:
    """A lesson's config with its variation's overrides, validated (raises ConfigError)."""
    from nnplay.engine.core.config import validate
    from nnplay.engine.core.config_files import apply_overrides

    return validate(apply_overrides(base, overrides)).model_dump(exclude_none=True)


def main(runs_dir: str | None = None) -> int:
    """Run the app on the terminal; returns the exit code."""
    NNPlayApp(runs_dir).run()
    return 0
