"""The nnplay explorer: set up an experiment, watch it train, compare runs, export.

The app composes screens and routes the engine's messages; it never imports torch. One
engine process (`python -m nnplay.engine serve`) is started at launch so that torch loads while
the user is still choosing, answers plans as the form changes, and trains on request.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from nnplay.engine.core.i18n import LANGUAGES, N_, _, set_language
from nnplay.engine.core.runs import load_run, runs_root
from nnplay.presets import find_lesson, lesson_of_run, list_presets
from nnplay.tui.engine_client import EngineClient
from nnplay.tui.screens.setup import SetupScreen
from nnplay.tui.state import RunState
from nnplay.tui.widgets.footer import Footer, other_language

MAX_GHOSTS = 1
# Textual's own commands in the palette, translated where shown (the palette's help texts too).
SYSTEM_COMMANDS = (
    N_("Theme"),
    N_("Change the current theme"),
    N_("Quit"),
    N_("Quit the application as soon as possible"),
    N_("Keys"),
    N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Minimize"),
    N_("Minimize the widget and restore to normal size"),
    N_("Maximize"),
    N_("Maximize the focused widget"),
    N_("Screenshot"),
    N_("Save an SVG 'screenshot' of the current screen"),
)


class NNPlayCommands(Provider):
    """Command palette: presets, export, runs (themes come with Textual's own commands)."""

    def _commands(self):
        app: NNPlayApp = self.app  # type: ignore[assignment]
        for preset in list_presets():
            yield (
                _("Preset: {name}").format(name=preset.name),
                _(preset.description),
                lambda name=preset.name: app.choose_preset(name),
            )
        yield (
            _("Open experiment string"),
            _("Paste an experiment string (nnplay share) to load its settings into the form"),
            app.action_open_experiment,
        )
        yield _("Runs: past runs"), _("Table of recorded runs; compare, open, export"), app.action_runs
        yield (
            _("Export the current run"),
            _("JSON, CSV, Markdown and an SVG screenshot into the run directory"),
            app.action_export,
        )
        yield _("Set-up: new experiment"), _("Back to the form"), app.action_setup
        language = LANGUAGES[other_language()]
        yield (
            _("Language: {language}").format(language=language),
            _("Every label, explanation and message in {language} (F9)").format(language=language),
            app.action_switch_language,
        )

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
    SUB_TITLE = N_("a neural-network playground")
    COMMANDS = App.COMMANDS | {NNPlayCommands}
    BINDINGS = [
        Binding("f2", "runs", N_("Runs"), show=False),
        # Every screen: F9 switches the language (the set-up screen shows the key in its footer).
        Binding("f9", "switch_language", N_("Language"), show=False),
    ]

    def __init__(
        self,
        runs_dir: str | Path | None = None,
        engine_command: list[str] | None = None,
        preset: str | None = None,
        experiment: str | None = None,
    ) -> None:
        super().__init__()
        self.sub_title = _(self.SUB_TITLE)
        self.start_preset = preset  # what the form opens with: a preset's name, or an experiment string
        self.start_experiment = experiment
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

    async def on_mount(self) -> None:
        """Show the set-up screen and start the engine, so torch loads while the user reads; the preset or
        experiment string the app was started with goes into the form."""
        if self.start_preset is None and self.start_experiment is None:
            self.push_screen(self.setup_screen)
            return
        await self.push_screen(self.setup_screen)  # mounted: a problem can be shown in its plan panel
        if self.start_preset is not None:
            self.choose_preset(self.start_preset)
        elif self.start_experiment is not None:
            self.open_experiment_string(self.start_experiment)

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
        self.live.note(
            _("warning: the engine wrote a line that is not an event, skipped: {line}").format(
                line=repr(message.line[:120])
            ),
            kind="warning",
        )

    @on(EngineClient.Crashed)
    def _engine_crashed(self, message: EngineClient.Crashed) -> None:
        if self.engine.hello is None and message.returncode == 2:  # refused to start: a retry cannot help
            why = self.engine.start_error or message.stderr_tail.strip() or _("the engine refused to start")
            self.setup_screen.show_error(why)
            self.notify(_("The engine cannot start: {why}").format(why=why), severity="error", timeout=30, markup=False)
            return
        was_running = self.live.status in ("starting", "running")
        if message.returncode is None:
            code = _("could not start")
        else:
            code = _("exit code {code}").format(code=message.returncode)
        if was_running:
            self.live.status = "crashed"
            line = _("error: the engine stopped unexpectedly ({code}).").format(code=code)
            if self.live.run_dir:
                line = _("error: the engine stopped unexpectedly ({code}). Finished epochs are kept in {path}.").format(
                    code=code, path=self.live.run_dir
                )
            self.live.note(line, kind="error")
        tail = message.stderr_tail.strip().splitlines()[-3:]
        for line in tail:
            self.live.note(_("engine: {line}").format(line=line))  # the engine's own words follow
        self.paused = False
        self.notify(
            _("The engine stopped unexpectedly ({code}); a new one is starting.").format(code=code),
            severity="error",
            timeout=8,
        )
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
            self.notify(_("A run is in progress: stop it (s) before starting another."), severity="warning")
            return
        self._label_ghosts(config)
        self.live = RunState(name=config.get("name", ""), status="starting", hello=self.hello)
        self.live_config = config
        name = config.get("name") or _("experiment")
        if self.hello:
            self.live.note(_("starting {name}").format(name=name))
        else:
            self.live.note(_("starting {name} (the engine is still loading torch)").format(name=name))
        lesson = find_lesson(config.get("name", ""))
        if lesson is not None:
            self.live.note(_("lesson {number}: {claim}").format(number=lesson.number, claim=_(lesson.claim)))
            self.live.note(
                _("watch: {watch} When it ends, n tries next: {try_next}.").format(
                    watch=_(lesson.watch), try_next=_(lesson.try_next)
                )
            )
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
            self.notify(_("This run has no epochs to compare against yet."), severity="warning")
            return
        self.ghosts = [state]
        self.notify(_("{name} is pinned: the next run draws it as a dim ghost.").format(name=state.name), markup=False)

    def toggle_pause(self) -> None:
        """Pause the live run, or resume it."""
        if self.paused:
            self.engine.resume()
        else:
            self.engine.pause()
        self.paused = not self.paused
        self.live.note(_("paused") if self.paused else _("resumed"))

    def stop_run(self) -> None:
        """Stop the live run cleanly: its test metrics are still measured."""
        self.engine.stop()
        self.paused = False
        self.live.note(_("stopping: the run finishes its bookkeeping and keeps every finished epoch"))

    def try_next(self, state: RunState) -> None:
        """Run the lesson's variation ("try next") with this run as the ghost to compare against."""
        from nnplay.engine.core.config import ConfigError

        if self.engine.running:
            self.notify(_("A run is in progress: stop it (s) or let it finish first."), severity="warning")
            return
        lesson, is_variation = lesson_of_run(state.name)
        if lesson is None or is_variation:
            why = (
                _("This run is already the variation of lesson {number} ({name}).").format(
                    number=lesson.number, name=lesson.name
                )
                if lesson
                else _("This run is not a lesson of the course: n runs a lesson's variation.")
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
        self.live.note(
            _("try next: {try_next} (the lesson's run stays on the charts as the ghost)").format(
                try_next=_(lesson.try_next)
            )
        )

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
        if outcome.held:
            line = _("lesson {number}: ✓ the claim held. {comparison}")
        else:
            line = _("lesson {number}: ✗ the claim did not hold on this run. {comparison}")
        self.live.note(line.format(number=lesson.number, comparison=outcome.comparison))

    def tweak_and_rerun(self, state: RunState) -> None:
        """Back to the form with the same values, on the setting to change (the one the lesson varies, else
        the one changed last); this run stays on the charts as a ghost."""
        if state.series["val_loss"] or state.series["train_loss"]:
            self.ghosts = [state, *self.ghosts][:MAX_GHOSTS]
        self.action_setup()
        lesson, _is_variation = lesson_of_run(state.name)
        varied = lesson.variation[0].split("=", 1)[0].strip() if lesson and lesson.variation else None
        self.setup_screen.focus_setting(varied or self.setup_screen.last_changed or "model.architecture")
        self.notify(_("Change one setting and press ctrl+r: this run stays on the charts as a ghost."))

    def choose_preset(self, name: str) -> None:
        """Load preset `name` into the set-up screen and show it."""
        self.action_setup()
        self.setup_screen.load_preset(name)

    def open_experiment(self, data: dict | None) -> None:
        """Load an experiment string's settings (decoded) into the set-up screen and show it."""
        if data is None:  # the dialog was cancelled
            return
        self.action_setup()
        self.setup_screen.load_experiment(data)
        self.notify(_("The experiment string is in the form: press ctrl+r to start, or change any setting first."))

    def open_experiment_string(self, string: str) -> None:
        """Decode an experiment string into the set-up screen; one sentence in a notification when it
        cannot be read or run."""
        from nnplay.engine.core.config import ConfigError, validate
        from nnplay.engine.core.share import ShareError, decode

        try:
            data = decode(string)
            validate(dict(data))
        except (ShareError, ConfigError) as exc:
            self.notify(str(exc), severity="error", timeout=30, markup=False)
            return
        self.open_experiment(data)

    def open_recorded(self, path: Path) -> None:
        """Show the run recorded in `path` on a dashboard of its own."""
        from nnplay.tui.screens.compare import replay
        from nnplay.tui.screens.dashboard import DashboardScreen

        state, _config = replay(path)
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
                        self.notify(
                            _("{path} has no training script: {reason}").format(path=run_dir, reason=exc),
                            severity="information",
                            markup=False,
                        )
                        continue
                    path = default_export_path(record, fmt)
                    path.write_text(text, encoding="utf-8")
                    written.append(path)
            except (OSError, ValueError) as exc:
                self.notify(
                    _("{path} cannot be exported: {reason}").format(path=run_dir, reason=exc),
                    severity="warning",
                    markup=False,
                )
        if notify and written:
            self.notify(exported_message(written), markup=False)
        return written

    def export_run(self, state: RunState) -> None:
        """The reports and a screenshot of the dashboard (dashboard.svg) into the run directory."""
        from nnplay.tui.report import exported_message

        if not state.run_dir or not Path(state.run_dir).is_dir():
            self.notify(_("This run has no run directory yet."), severity="warning")
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

    def action_open_experiment(self) -> None:
        """Ask for an experiment string and load it into the set-up form."""
        from nnplay.tui.screens.open_experiment import OpenExperimentScreen

        self.push_screen(OpenExperimentScreen(), self.open_experiment)

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
                    _("No screenshot: {path} cannot be created ({reason}).").format(path=target, reason=exc.strerror),
                    severity="error",
                    markup=False,
                )
                return
            path = str(target)
        self.deliver_screenshot(filename, path)

    def action_export(self) -> None:
        """Export the run on screen (else the live one) as report files."""
        shown = self._dashboard_state()
        self.export_run(shown if shown is not None else self.live)

    # Language

    def action_switch_language(self) -> None:
        """F9 or the palette: speak the other language."""
        self.switch_language(other_language())

    def switch_language(self, code: str) -> None:
        """Speak `code` ("en" or "ko") from now on: the engine too, and every screen says everything again
        in it. Nothing else changes: the form keeps its values, the live run and its charts go on."""
        set_language(code)
        self.engine.set_language(code)
        self.sub_title = _(self.SUB_TITLE)
        states = [self.live, *(s.state for s in self.screen_stack if hasattr(s, "state") and s.state is not self.live)]
        for state in states:
            state.rediagnose()  # the verdict's words (a cross-validation's stay as they were made)
        for screen in self.screen_stack:
            relabel = getattr(screen, "relabel", None)
            if relabel is not None:
                relabel()
            for footer in screen.query(Footer):
                footer.refresh(recompose=True)  # composed again in its own time: its keys' new words
        self.notify(_("nnplay speaks English now."))

    def action_command_palette(self) -> None:
        """The command palette (ctrl+p), its search line in the language spoken now."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder=_("Search for commands…")))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands (theme, keys, screenshot, quit), in the language spoken now."""
        for command in super().get_system_commands(screen):
            yield SystemCommand(_(command.title), _(command.help), command.callback, command.discover)


def variation_config(base: dict, overrides: list[str]) -> dict:
    """A lesson's config with its variation's overrides, validated (raises ConfigError)."""
    from nnplay.engine.core.config import validate
    from nnplay.engine.core.config_files import apply_overrides

    return validate(apply_overrides(base, overrides)).model_dump(exclude_none=True)


def main(
    runs_dir: str | None = None, preset: str | None = None, experiment: str | None = None, lang: str | None = None
) -> int:
    """Run the app on the terminal, its form holding `preset` or `experiment` (a string) when given, in
    the language `lang` ("en" or "ko") when given, else the language already chosen (set_language);
    returns the exit code."""
    if lang is not None:
        set_language(lang)
    NNPlayApp(runs_dir, preset=preset, experiment=experiment).run()
    return 0
