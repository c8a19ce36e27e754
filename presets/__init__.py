"""Preset experiments ("lessons"): TOML files beside this module, each holding only the keys it changes,
and the course that puts them in teaching order (course.toml). The user's own presets (saved with
ctrl+s on the set-up screen) live apart, in user_presets_dir(), and never shadow a shipped one.

A lesson's preset carries a `[lesson]` table beside its settings: the claim it makes, what to watch,
and its variation ("try next": `--set` overrides of the same experiment that show the point). The
table is the lesson's, not the experiment's: it is left out when the preset is run.
"""

from __future__ import annotations

import copy
import functools
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from nnplay.engine.core.i18n import N_, _

PRESETS_DIR = Path(__file__).resolve().parent
COURSE_FILE = PRESETS_DIR / "course.toml"
LESSON_TABLE = "lesson"  # the lesson's words in a preset, left out when it runs
VARIATION_SUFFIX = "-try-next"  # a lesson's variation runs under the lesson's name with this suffix
USER_PRESETS_VARIABLE = "NNPLAY_PRESETS"  # a directory that replaces the user's presets directory
INVALID_DESCRIPTION = N_("(this preset is not valid TOML)")  # translated where descriptions are shown


@dataclass(frozen=True)
class Preset:
    """An experiment preset: its name, its description and the TOML file it lives in."""

    name: str
    description: str
    path: Path
    user: bool = False  # one of the user's own presets, not shipped with nnplay


@dataclass(frozen=True)
class Lesson:
    """One lesson of the course: a preset with a claim, what to watch, and its variation."""

    name: str
    title: str
    claim: str
    watch: str
    try_next: str  # the variation in words: "the same points with an MLP"
    variation: tuple[str, ...]  # `--set` overrides that turn the lesson into its variation
    requires: str | None  # a lesson whose run this one starts from (transfer learning)
    section: str
    number: int  # 1, 2, ... in teaching order
    path: Path

    @property
    def variation_overrides(self) -> list[str]:
        """The variation's overrides, naming its runs apart from the lesson's ("xor-perceptron-try-next")."""
        return [*self.variation, f'name="{self.name}{VARIATION_SUFFIX}"']


@dataclass(frozen=True)
class Section:
    """A section of the course and its lessons in teaching order."""

    id: str
    title: str
    lessons: tuple[Lesson, ...] = field(default_factory=tuple)


def _read(path: Path) -> dict:
    """A preset file's data ({} when it cannot be read). The course and the lists read every preset, several
    times while the app starts: a file is parsed once for each version of it (its size and time of change)."""
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return {}
    return copy.deepcopy(_parsed(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=512)
def _parsed(path: str, _mtime_ns: int, _size: int) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))  # -sig: a byte-order mark is allowed
    except (ValueError, RecursionError, OSError):  # not TOML (ValueError covers decoding), too deep, unreadable
        return {}


def _is_file(path: Path) -> bool:
    """Whether a file is there; False for a name the system refuses (too long, a NUL byte in it)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def user_presets_dir() -> Path:
    """Where the user's own presets live: $NNPLAY_PRESETS, else the user's config directory's nnplay/presets."""
    override = os.environ.get(USER_PRESETS_VARIABLE, "").strip()
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_dir  # only when asked: a few imports the app's first frame skips

    return Path(user_config_dir("nnplay")) / "presets"


def user_preset_path(name: str) -> Path:
    """The file a user preset of this name is saved in."""
    return user_presets_dir() / f"{name}.toml"


def _shipped_path(name: str) -> Path | None:
    path = PRESETS_DIR / f"{name}.toml"
    return path if _is_file(path) and path.name != COURSE_FILE.name else None


def _presets_in(directory: Path, user: bool) -> list[Preset]:
    if not directory.is_dir():  # no user preset saved yet
        return []
    found = []
    for path in directory.glob("*.toml"):
        if not user and path.name == COURSE_FILE.name:
            continue
        data = _read(path)
        description = str(data.get("description", "")) if data else INVALID_DESCRIPTION
        found.append(Preset(path.stem, " ".join(description.split()), path, user))
    return found


def list_presets() -> list[Preset]:
    """Every preset: the course's lessons in teaching order, then other shipped presets by name, then the
    user's own by name. A user file named like a shipped preset is left out: the shipped one wins."""
    order = {lesson.name: lesson.number for section in course() for lesson in section.lessons}
    shipped = sorted(_presets_in(PRESETS_DIR, user=False), key=lambda p: (order.get(p.name, len(order) + 1), p.name))
    names = {p.name for p in shipped}
    users = sorted((p for p in _presets_in(user_presets_dir(), user=True) if p.name not in names), key=lambda p: p.name)
    return shipped + users


def find_preset(name_or_path: str) -> Path | None:
    """A TOML file by path, or a preset by name (shipped first, then the user's own); None when none exists."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and _is_file(path):
        return path
    shipped = _shipped_path(name_or_path)
    if shipped is not None:
        return shipped
    candidate = user_preset_path(name_or_path)
    return candidate if _is_file(candidate) else None


def reserved_name_reason(name: str) -> str | None:
    """Why a user preset may not be saved as `name` (a shipped preset has it), in one sentence; None if it may."""
    if find_lesson(name) is not None:
        return _("name = {name!r} is a lesson of the course; choose another name").format(name=name)
    if _shipped_path(name) is not None:
        return _("name = {name!r} is a preset shipped with nnplay; choose another name").format(name=name)
    return None


def course() -> list[Section]:
    """The course: sections in teaching order, each with its lessons in order (numbered across the course)."""
    sections, number = [], 0
    for entry in _read(PRESETS_DIR / COURSE_FILE.name).get("section", []):
        lessons = []
        for name in entry.get("lessons", []):
            path = PRESETS_DIR / f"{name}.toml"
            table = _read(path).get("lesson") or {}
            number += 1
            lessons.append(
                Lesson(
                    name=name,
                    title=" ".join(str(table.get("title", name)).split()),
                    claim=" ".join(str(table.get("claim", "")).split()),
                    watch=" ".join(str(table.get("watch", "")).split()),
                    try_next=" ".join(str(table.get("try_next", "")).split()),
                    variation=tuple(str(v) for v in table.get("variation", [])),
                    requires=table.get("requires"),
                    section=entry["id"],
                    number=number,
                    path=path,
                )
            )
        sections.append(Section(entry["id"], entry["title"], tuple(lessons)))
    return sections


def find_lesson(name: str) -> Lesson | None:
    """A lesson of the course by its preset's name."""
    return next((lesson for section in course() for lesson in section.lessons if lesson.name == name), None)


def lesson_of_run(run_name: str) -> tuple[Lesson | None, bool]:
    """The lesson a run belongs to, by the run's name, and whether the run is that lesson's variation."""
    if run_name.endswith(VARIATION_SUFFIX):
        return find_lesson(run_name.removesuffix(VARIATION_SUFFIX)), True
    return find_lesson(run_name), False


def course_markdown() -> str:
    """The README's table of the course: every lesson in order, by section, with its claim."""
    lines = ["| # | lesson | what it shows |", "|---|---|---|"]
    for section in course():
        lines.append(f"| | **{section.title}** | |")
        for lesson in section.lessons:
            lines.append(f"| {lesson.number} | `{lesson.name}` | {lesson.claim} |")
    return "\n".join(lines) + "\n"
