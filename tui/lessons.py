"""The lessons list of the set-up screen: the course by section, lessons already run marked, then
other shipped presets and the user's own.

Torch-free and fast: the course is read from the presets' TOML files, the runs from the names of
the run store's directories.
"""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text
from textual.widgets.option_list import Option

from nnplay.engine.core.i18n import N_, _
from nnplay.presets import VARIATION_SUFFIX, Preset, course, list_presets

RUN_NAME = re.compile(r"^\d{8}-\d{6}-(?P<name>.+?)(-\d+)?$")
DONE = "✓"


def names_run(runs_root: Path) -> set[str]:
    """The experiment names of the runs in the store (a lesson's variation counts for its lesson)."""
    if not runs_root.is_dir():
        return set()
    found = set()
    for path in runs_root.iterdir():
        match = RUN_NAME.match(path.name)
        if match:
            found.add(match.group("name").removesuffix(VARIATION_SUFFIX))
    return found


def lesson_options(runs_root: Path) -> list[Option]:
    """Section headings (disabled) and their lessons in teaching order; then shipped presets outside the
    course under MORE PRESETS, then the user's own under YOUR PRESETS (each heading only when it has any).

    Every text is a Text, never markup: a saved preset's description is the user's own words."""
    done = names_run(runs_root)
    options: list[Option] = []
    in_course: set[str] = set()
    for section in course():
        options.append(_heading(_(section.title).upper(), f"section:{section.id}"))
        for lesson in section.lessons:
            in_course.add(lesson.name)
            line = Text()
            line.append(f"{DONE} " if lesson.name in done else "  ", style="green")
            line.append(f"{lesson.number:>2} ", style="dim")
            line.append(lesson.name, style="bold")
            line.append(f"  {_(lesson.title)}")
            options.append(Option(line, id=lesson.name))
    others = [p for p in list_presets() if p.name not in in_course]
    for heading, section_id, group in (
        (N_("MORE PRESETS"), "section:more", [p for p in others if not p.user]),
        (N_("YOUR PRESETS"), "section:user", [p for p in others if p.user]),
    ):
        if group:
            options.append(_heading(_(heading), section_id))
            options.extend(_preset_option(preset, done) for preset in group)
    return options


def _heading(title: str, section_id: str) -> Option:
    return Option(Text(title, style="bold"), id=section_id, disabled=True)


def _preset_option(preset: Preset, done: set[str]) -> Option:
    line = Text()
    line.append(f"{DONE} " if preset.name in done else "  ", style="green")
    line.append(preset.name, style="bold")
    line.append("\n   " + _(preset.description), style="dim")
    return Option(line, id=preset.name)


def lesson_help(name: str) -> Text:
    """What the help panel says of a highlighted lesson: its claim, what to watch, what to try next."""
    from nnplay.presets import find_lesson

    lesson = find_lesson(name)
    if lesson is None:
        preset = next((p for p in list_presets() if p.name == name), None)
        if preset is None:
            return Text("")
        text = Text(_(preset.description))
        if preset.user:
            text.append("\n" + _("Your preset, saved in {path}").format(path=preset.path), style="dim")
        return text
    text = Text()
    text.append(_("Lesson {number}: {title}").format(number=lesson.number, title=_(lesson.title)) + "\n", style="bold")
    text.append(_(lesson.claim) + "\n")
    text.append(_("Watch: {watch}").format(watch=_(lesson.watch)) + "\n", style="italic")
    text.append(_("Try next (n on the dashboard): {try_next}.").format(try_next=_(lesson.try_next)), style="dim")
    return text
