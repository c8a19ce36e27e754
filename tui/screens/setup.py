"""The set-up screen: lessons, the experiment form, and the live plan from the warm engine."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    OptionList,
    Select,
    SelectionList,
    Static,
    TabbedContent,
    TabPane,
)

from nnplay.engine.core.i18n import N_, _
from nnplay.presets import LESSON_TABLE, list_presets
from nnplay.tui.lessons import lesson_help, lesson_options
from nnplay.tui.widgets.footer import Footer
from nnplay.tui.widgets.plan_panel import PlanPanel
from nnplay.tui.widgets.toggle import Toggle

if TYPE_CHECKING:
    from nnplay.engine.core.config import ExperimentConfig
    from nnplay.tui.app import NNPlayApp
    from nnplay.tui.form_schema import FieldSpec

# The config schema (pydantic) and the form built from it are imported after the first frame,
# inside the methods that need them: the lessons list appears without waiting for them.

TAB_TITLES = {  # each group's tab (its id is the English title's); translated where shown
    "Task & data": N_("Data"),
    "Model": N_("Model"),
    "Regularization": N_("Regularize"),
    "Optimizer": N_("Optimizer"),
    "Training": N_("Training"),
    "Sweep": N_("Sweep"),
}
LESSONS_TAB = N_("Lessons")
COMPACT_WIDTH = 110
FIRST_PRESET = "batch-math"
FORM_DELAY_S = 0.2  # the form tabs are built this long after the screen mounts


def option_label(option: str) -> str:
    """What a select shows for one of its options: the option itself (a value of the config), but the
    target's "(last column)" in the current language."""
    from nnplay.tui.form_schema import LAST_COLUMN

    return _(LAST_COLUMN) if option == LAST_COLUMN else option


class SetupScreen(Screen):
    """Choose a lesson or build an experiment; every change is validated and planned at once."""

    app: NNPlayApp  # Textual types it as any App; this screen runs only in nnplay's

    BINDINGS = [  # descriptions translated by the footer
        Binding("ctrl+r", "start", N_("Start run"), priority=True),
        Binding("ctrl+s", "save", N_("Save preset"), priority=True),
        Binding("f1", "explain", N_("Explain")),
        Binding("f2", "app.runs", N_("Runs")),
        Binding("f9", "app.switch_language", N_("Language")),  # the footer names the other language
        Binding("ctrl+q", "app.quit", N_("Quit"), priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}
        self.config: ExperimentConfig | None = None  # validated, or None while the form has an error
        self.preset_name: str | None = None
        self.preset_data: dict[str, Any] = {}  # the loaded preset's settings, to tell what the user changed
        self._options: dict[str, tuple[str, ...]] = {}  # what each select offers now
        self.unparsed: dict[str, str] = {}  # fields whose text is not a value: path -> the sentence why
        self.columns: tuple[str, ...] = ()  # the columns of the user's table, as the engine's plan read them
        self.form_ready = False  # the form's tabs are built after the first frame
        self.last_changed: str | None = None  # the setting the user changed last, where a tweak starts
        self.defaults: dict[str, Any] = {}  # the config's defaults, read with the schema when the form is built
        presets = list_presets()
        first = next((p for p in presets if p.name == FIRST_PRESET), presets[0] if presets else None)
        if first is not None:
            data = tomllib.loads(first.path.read_text(encoding="utf-8"))
            data.pop(LESSON_TABLE, None)  # the lesson's words, not the experiment's settings
            self.data = {"name": first.name, **data}
            self.preset_name = first.name
        self.preset_data = copy.deepcopy(self.data)  # as loaded: a run that differs is no longer the preset

    # Layout

    def compose(self) -> ComposeResult:
        """The lessons and the plan; the form's tabs follow right after the first frame."""
        # Only the lessons and the plan are built for the first frame; the form's five tabs (some
        # 500 widgets) are added right after it, so the app appears at once.
        with Horizontal(id="setup-body"):
            with TabbedContent(id="form-tabs", initial="tab-lessons"):
                with TabPane(_(LESSONS_TAB), id="tab-lessons"):
                    yield OptionList(*lesson_options(self.app.runs_root), id="presets")
            with Vertical(id="side"):
                yield PlanPanel(id="plan")
                yield Static("", id="help")
                yield Button(_("Start run (ctrl+r)"), id="start", variant="success")
        yield Footer()

    async def _build_form(self) -> None:
        from nnplay.engine.core.config import validate
        from nnplay.tui.form_schema import FIELDS, GROUPS

        self.defaults = validate({}).model_dump()
        tabs = self.query_one("#form-tabs", TabbedContent)
        for group, paths in GROUPS:
            rows = [self._field_row(FIELDS[path]) for path in paths]
            # The scroll container is no focus stop of its own: tab from the tab bar lands on the first field.
            fields = VerticalScroll(*rows, can_focus=False)
            await tabs.add_pane(TabPane(_(TAB_TITLES[group]), fields, id=f"tab-{TAB_TITLES[group].lower()}"))
        self.form_ready = True
        self.refresh_form()

    def _field_row(self, spec: FieldSpec) -> Vertical:
        from nnplay.tui.form_schema import SETTINGS_EXAMPLES, options_for, show, typed_option

        # Controls start with the form's values: what they announce on mount is then an echo.
        value = self._shown_value(spec.path)
        if spec.kind == "select":
            options = options_for(spec.path, self.data, self.columns) or spec.options
            self._options[spec.path] = options
            values = [typed_option(spec, o) for o in options]
            if spec.path == "data.target" and value is not None:
                value = show(value)  # a column by number is offered as its text
            initial = value if value in values else values[0]
            choices = list(zip(map(option_label, options), values, strict=True))
            control: Widget = Select(choices, value=initial, id=spec.widget_id, allow_blank=False)
        elif spec.kind == "switch":
            control = Toggle(bool(value), id=spec.widget_id)
        elif spec.kind == "column_list":  # ticked columns, offered once the engine has read the table
            control = SelectionList[str](id=spec.widget_id, classes="columns")
            control.border_title = _("read the table first")
        else:
            placeholder = SETTINGS_EXAMPLES.get(spec.path) or (_("default") if spec.optional else "")
            control = Input(show(value), placeholder=placeholder, id=spec.widget_id)
        line = Horizontal(Label(spec.label, classes="field-label"), control, classes="field-line")
        return Vertical(line, Static("", classes="field-error"), classes="field", id=f"row-{spec.widget_id}")

    def _shown_value(self, path: str) -> Any:
        from nnplay.tui.form_schema import FIELDS, get_value, implied_default

        value = get_value(self.data, path)
        return implied_default(path, self.data, self.defaults) if value is None and not FIELDS[path].optional else value

    def on_mount(self) -> None:
        """Build the form once the first frame is out; the lessons list takes the keys."""
        self.on_resize()
        self.query_one(PlanPanel).show_pending()
        self.set_timer(FORM_DELAY_S, self._build_form)  # once the first frame has reached the terminal
        lessons = self.query_one("#presets", OptionList)
        if self.preset_name is not None:
            lessons.highlighted = lessons.get_option_index(self.preset_name)  # the lesson the form holds
        lessons.focus()  # arrows and enter pick a lesson straight away

    def on_resize(self, event=None) -> None:
        """Switch to the compact layout on narrow terminals (the footer's keys too, so that all of them fit
        in 80 columns)."""
        compact = self.app.size.width < COMPACT_WIDTH
        self.set_class(compact, "-compact")
        self.query_one(Footer).compact = compact

    # Filling the form

    def load_preset(self, name: str) -> None:
        """Fill the form with preset `name` (a lesson or the user's own)."""
        from nnplay.engine.core.config import ConfigError
        from nnplay.engine.core.config_files import read_experiment

        preset = next((p for p in list_presets() if p.name == name), None)
        if preset is None:
            return
        try:
            self.data = read_experiment(preset.path)
        except ConfigError as exc:
            self.query_one(PlanPanel).show_error(str(exc))
            return
        self.data.setdefault("name", name)
        self._load(name)

    def load_experiment(self, data: dict[str, Any]) -> None:
        """Fill the form with an experiment string's settings (decoded, not changed: the form shows
        exactly them). Like a preset's, once a setting is changed the run is `<its name>-modified`."""
        self.data = copy.deepcopy(data)
        name = self.data.get("name")
        self._load(name if isinstance(name, str) else None)

    def _load(self, name: str | None) -> None:
        """self.data is a new experiment, loaded under `name`: show it."""
        from nnplay.tui.form_schema import current_names

        current_names(self.data)
        self.preset_name = name
        self.preset_data = copy.deepcopy(self.data)
        self.app.forget_ghosts()  # another experiment: earlier runs no longer compare
        self.fill()

    def focus_setting(self, path: str) -> None:
        """Bring forward the tab that holds a setting and focus its control (the tab alone if the
        setting does not apply to this experiment)."""
        from nnplay.tui.form_schema import FIELDS

        if not self.form_ready or path not in FIELDS:
            return
        control = self.query_one(f"#{FIELDS[path].widget_id}")
        pane = next(a for a in control.ancestors if isinstance(a, TabPane))
        if pane.id is not None:
            self.query_one("#form-tabs", TabbedContent).active = pane.id
        if self.query_one(f"#row-{FIELDS[path].widget_id}").display:
            self.call_after_refresh(control.focus)

    def fill(self) -> None:
        """Show self.data in every control (defaults where data says nothing)."""
        from nnplay.tui.form_schema import FIELDS, show

        if not self.form_ready:  # the form is being built from self.data already
            return
        self.unparsed.clear()
        # Programmatic changes must not come back as the user's: their Changed messages are not sent.
        with self.prevent(Input.Changed, Select.Changed, Checkbox.Changed):
            for path, spec in FIELDS.items():
                value = self._shown_value(path)
                widget = self.query_one(f"#{spec.widget_id}")
                if isinstance(widget, Select):
                    self._set_select(widget, path, value)
                elif isinstance(widget, Toggle):
                    widget.value = bool(value)
                elif isinstance(widget, Input):
                    widget.value = show(value)
        self._offer_columns()
        self.refresh_form()

    def _set_select(self, widget: Select, path: str, value: Any) -> None:
        """Offer only the options that fit the rest of the form; keep the value if it still fits, else
        take the closest that does (an MLP for a CNN on points) and say so."""
        from nnplay.tui.form_schema import (
            FIELDS,
            closest_option,
            get_value,
            options_for,
            set_value,
            show,
            typed_option,
        )

        options = options_for(path, self.data, self.columns) or FIELDS[path].options
        if self._options.get(path) != options:
            widget.set_options([(option_label(o), typed_option(FIELDS[path], o)) for o in options])
            self._options[path] = options
        if path == "data.target" and value is not None:
            value = show(value)  # a column by number is offered as its text
        if value not in [typed_option(FIELDS[path], o) for o in options] and options:
            old, value = value, closest_option(path, value, options)
            if get_value(self.data, path) is not None:  # the old choice no longer fits: the closest that does
                set_value(self.data, path, value)
                dataset, task = get_value(self.data, "data.dataset"), get_value(self.data, "task")
                self.notify(
                    _("{setting} = {old} does not fit {dataset} for {task}: it is now {value}.").format(
                        setting=path, old=old, dataset=dataset, task=task or "classification", value=value
                    ),
                    title=_("setting changed"),
                    markup=False,
                )
        if widget.value != value:
            widget.value = value

    def refresh_form(self) -> None:
        """Hide fields that do not apply, narrow the selects, validate, ask for a plan."""
        from nnplay.tui.form_schema import FIELDS, applies, get_value, implied_default

        if not self.form_ready:
            return
        for path, spec in FIELDS.items():
            row = self.query_one(f"#row-{spec.widget_id}")
            row.display = applies(path, self.data)
        with self.prevent(Select.Changed):
            for path in ("task", "data.dataset", "model.architecture", "loss"):
                widget = self.query_one(f"#{FIELDS[path].widget_id}", Select)
                current = get_value(self.data, path) or implied_default(path, self.data, self.defaults)
                self._set_select(widget, path, current)
        self.validate_form()

    def validate_form(self) -> None:
        """Validate the form: mark every problem, or ask the engine for the plan."""
        from nnplay.engine.core.config import ConfigError, validate

        problems: list[tuple[str | None, str]] = list(self.unparsed.items())  # text that is not a value yet
        try:
            self.config = validate(copy.deepcopy(self.data))
        except ConfigError as exc:
            problems += [p for p in exc.problems if p.setting not in self.unparsed]
        if problems:  # the form stays invalid until every one is fixed
            self.config = None
            self.show_problems(problems)
            return
        self.clear_problems()
        assert self.config is not None
        self.app.request_plan(self.config.model_dump(exclude_none=True))
        self.query_one(PlanPanel).show_pending()

    def clear_problems(self) -> None:
        """No field marked as wrong any more."""
        for row in self.query(".field.-invalid"):
            row.remove_class("-invalid")
            row.query_one(".field-error", Static).update("")

    def show_problems(self, problems: Sequence[tuple[str | None, str]]) -> None:
        """Every problem in the plan panel, and each under the field it names (by its setting, as the
        config's validation or the engine reported it)."""
        from nnplay.engine.core.config import problems_text
        from nnplay.tui.form_schema import FIELDS

        self.clear_problems()
        self.query_one(PlanPanel).show_error(problems_text([message for _setting, message in problems]))
        if not self.form_ready:
            return
        marked: dict[str, list[str]] = {}
        for setting, message in problems:
            if setting in FIELDS:
                marked.setdefault(setting, []).append(message)
        for setting, found in marked.items():
            row = self.query_one(f"#row-{FIELDS[setting].widget_id}")
            row.add_class("-invalid")
            row.query_one(".field-error", Static).update(Text("\n".join(found)))  # quotes the user's value: no markup

    def show_error(self, message: str) -> None:
        """One sentence that names no field of the form (the engine cannot start, a file cannot be read)."""
        self.show_problems([(None, message)])

    def show_plan(self, plan: dict) -> None:
        """Show the engine's plan, unless the form has changed into an error since; the columns of the
        user's table it read become the target's choices and the features' hint."""
        if self.config is not None:
            self.query_one(PlanPanel).show_plan(plan)
        info = plan["data_info"] if isinstance(plan.get("data_info"), dict) else {}
        columns = tuple(str(c) for c in (info.get("columns") or []))
        if columns != self.columns and self.form_ready:
            self.columns = columns
            self._offer_columns()

    def _offer_columns(self) -> None:
        """The target select and the features' checklist offer the table's columns: the features
        ticked are those set, else every column but the target."""
        from nnplay.tui.form_schema import FIELDS, get_value, learned_columns

        if not self.form_ready:
            return
        target = self.query_one(f"#{FIELDS['data.target'].widget_id}", Select)
        with self.prevent(Select.Changed):
            self._set_select(target, "data.target", get_value(self.data, "data.target"))
        features = self.query_one(f"#{FIELDS['data.features'].widget_id}", SelectionList)
        ticked = learned_columns(self.data, self.columns)
        with self.prevent(SelectionList.SelectedChanged):
            features.clear_options()
            features.add_options([(name, name, name in ticked) for name in self.columns])
        if self.columns:
            features.highlighted = 0  # space ticks or unticks at once
        features.border_title = "" if self.columns else _("read the table first")

    # Reacting to the user

    def _changed(self, widget_id: str | None, raw: Any) -> None:
        from nnplay.tui.form_schema import FIELDS, chosen_value, get_value, implied_default, parse, set_value

        if not widget_id:
            return
        spec = next((s for s in FIELDS.values() if s.widget_id == widget_id), None)
        if spec is None:
            return
        try:
            value = parse(spec, raw) if isinstance(raw, str) and spec.kind not in ("select", "text") else raw
        except ValueError as exc:
            self.unparsed[spec.path] = str(exc)
            self.validate_form()
            return
        if self.unparsed.pop(spec.path, None) is not None:
            self.validate_form()  # the field parses again: show what else is wrong, or the plan
        if spec.kind == "text" and value == "":
            value = None
        if spec.kind == "select":
            value = chosen_value(spec, value, self.columns)
        current = get_value(self.data, spec.path)
        if value == (current if current is not None else implied_default(spec.path, self.data, self.defaults)):
            return  # the control echoes what the form already holds: keep the preset's keys as they are
        set_value(self.data, spec.path, value)
        if spec.path == "data.target":
            self._offer_columns()  # the features not set follow the target: all the other columns
        self.last_changed = spec.path
        self.refresh_form()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        self._changed(event.input.id, event.value)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK:
            self._changed(event.select.id, event.value)

    @on(Checkbox.Changed)
    def _toggle_changed(self, event: Checkbox.Changed) -> None:
        self._changed(event.checkbox.id, event.value)

    @on(SelectionList.SelectedChanged)
    def _columns_ticked(self, event: SelectionList.SelectedChanged) -> None:
        from nnplay.tui.form_schema import features_setting

        ticked = event.selection_list.selected
        self._changed(event.selection_list.id, features_setting(ticked, self.data, self.columns))

    @on(OptionList.OptionSelected, "#presets")
    def _preset_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is None:
            return
        self.load_preset(event.option.id)
        self.notify(
            _("{name} loaded: press ctrl+r to start, or change any setting first").format(name=event.option.id),
            markup=False,
        )

    @on(OptionList.OptionHighlighted, "#presets")
    def _preset_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and not event.option.disabled:
            self.query_one("#help", Static).update(lesson_help(event.option.id))

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    def on_descendant_focus(self, event) -> None:
        """Explain the focused setting in the help line."""
        if not self.form_ready:  # no field to explain yet, and the schema's import must not delay the first frame
            return
        from nnplay.tui.form_schema import FIELDS

        widget_id = getattr(event.widget, "id", None) or ""
        spec = next((s for s in FIELDS.values() if s.widget_id == widget_id), None)
        if spec is not None:
            self._explain(spec)

    def _explain(self, spec: FieldSpec) -> None:
        """The help line: the setting's name and what it means."""
        self.query_one("#help", Static).update(Text.assemble((spec.path, "bold"), f": {spec.explanation()}"))

    # Actions

    def action_start(self) -> None:
        """Start the form's experiment, once it is valid."""
        if not self.form_ready:  # started before the form was built: the chosen lesson as it is
            from nnplay.engine.core.config import ConfigError, validate

            try:
                self.config = validate(copy.deepcopy(self.data))
            except ConfigError as exc:
                self.show_problems(exc.problems)
                return
        if self.config is None:
            self.notify(_("Fix the setting shown in red first."), severity="error")
            return
        self.app.start_run(self.run_config())

    def run_config(self) -> dict:
        """The form's config as it will run. Once a setting differs from the loaded preset the run is no
        longer that preset: it is named `<preset>-modified` (unless the user named it) and described
        by what changed, not by the preset's description."""
        from nnplay.engine.core.config import ConfigError, validate
        from nnplay.tui.changes import MODIFIED_SUFFIX, config_changes, describe

        assert self.config is not None  # asked for only once the form is valid
        config = self.config.model_dump(exclude_none=True)
        try:
            preset = validate(copy.deepcopy(self.preset_data)).model_dump(exclude_none=True)
        except ConfigError:
            return config
        changes = config_changes(preset, config)
        if changes and self.preset_name:
            if config.get("name") == self.preset_name:
                config["name"] = self.preset_name + MODIFIED_SUFFIX
            config["description"] = _("{preset} with changes: {changes}.").format(
                preset=self.preset_name, changes=describe(changes, limit=None)
            )
        return config

    def action_explain(self) -> None:
        """F1: the focused setting's explanation, in full."""
        from nnplay.tui.form_schema import FIELDS

        focused = self.focused
        spec = next((s for s in FIELDS.values() if s.widget_id == getattr(focused, "id", None)), None)
        if spec is not None:
            self.notify(spec.explanation(), title=spec.path, timeout=12, markup=False)

    def action_save(self) -> None:
        """Save the form as one of the user's own presets."""
        from nnplay.tui.screens.save_preset import SavePresetScreen

        if self.config is None:
            self.notify(_("Fix the setting shown in red before saving."), severity="error")
            return
        self.app.push_screen(SavePresetScreen(self.data), self._saved)

    def _saved(self, path: str | None) -> None:
        if not path:
            return
        self.refresh_lessons()
        self.notify(_("saved your preset in {path}").format(path=path), markup=False)

    def refresh_lessons(self) -> None:
        """Rebuild the lessons list (a new preset, a lesson just run), keeping the highlighted one."""
        option_list = self.query_one("#presets", OptionList)
        current = option_list.highlighted_option.id if option_list.highlighted_option else None
        option_list.clear_options()
        option_list.add_options(lesson_options(self.app.runs_root))
        if current is not None:
            option_list.highlighted = option_list.get_option_index(current)

    def relabel(self) -> None:
        """Every word of the screen in the language spoken now (after a language switch), in place: the
        form keeps every value, the tab and the focus; the plan is asked for again, in the new language."""
        from nnplay.tui.form_schema import FIELDS, parse

        tabs = self.query_one("#form-tabs", TabbedContent)
        tabs.get_tab("tab-lessons").label = _(LESSONS_TAB)
        self.query_one("#start", Button).label = _("Start run (ctrl+r)")
        self.refresh_lessons()
        if not self.form_ready:  # the form is built with the new words
            return
        for title in TAB_TITLES.values():
            tabs.get_tab(f"tab-{title.lower()}").label = _(title)
        self._options.pop("data.target", None)  # offered again, its "(last column)" in the new words
        self._offer_columns()
        for path, spec in FIELDS.items():
            widget = self.query_one(f"#{spec.widget_id}")
            if isinstance(widget, Toggle):
                widget.label = Toggle.word(widget.value)
            elif isinstance(widget, Input) and spec.optional:
                widget.placeholder = _("default")
            if path in self.unparsed and isinstance(widget, Input):  # its sentence in the new words
                try:
                    parse(spec, widget.value)
                except ValueError as exc:
                    self.unparsed[path] = str(exc)
        focused = next((s for s in FIELDS.values() if s.widget_id == getattr(self.focused, "id", None)), None)
        if focused is not None:
            self._explain(focused)
        else:
            highlighted = self.query_one("#presets", OptionList).highlighted_option
            if highlighted is not None and highlighted.id and not highlighted.disabled:
                self.query_one("#help", Static).update(lesson_help(highlighted.id))
        self.validate_form()

    def on_screen_resume(self) -> None:
        """Back from a run: mark the lessons run since."""
        self.refresh_lessons()  # lessons run since are marked
