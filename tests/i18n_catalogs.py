"""The message catalogs and the messages the sources use: which catalog holds which file's messages,
extraction, and updating the Korean .po files.

    .venv/bin/python tests/i18n_catalogs.py check     # per catalog: missing, stale, untranslated
    .venv/bin/python tests/i18n_catalogs.py update    # add new messages (empty), drop stale ones
    .venv/bin/python tests/i18n_catalogs.py update diagnosis   # only that catalog
    .venv/bin/python tests/i18n_catalogs.py untranslated diagnosis   # its messages still without Korean

Messages are the literal first arguments of `_()` and `N_()`, the two first arguments of
`ngettext()`, the settings' docstrings in engine/core/config.py (the form's help), and the texts of
the presets and the course (descriptions, lesson titles, claims, what to watch, the variation, the
course's section titles). tests/test_i18n.py asserts that every catalog is complete and consistent.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "engine" / "core" / "locale"
LANGUAGES = ("ko",)

# Each catalog and the source files whose messages it holds. Every .py file of engine/ and tui/ is in
# exactly one catalog or in NOT_TRANSLATED (tests/test_i18n.py checks it).
CATALOGS: dict[str, list[str]] = {
    "app": [
        "tui/app.py",
        "tui/changes.py",
        "tui/engine_client.py",
        "tui/engine_process.py",
        "tui/form_schema.py",
        "tui/lessons.py",
        "tui/pacing.py",
        "tui/state.py",
        "tui/screens/*.py",
        "tui/widgets/*.py",
    ],
    "cli": [
        "tui/cli.py",
        "tui/live.py",
        "tui/report.py",
        "tui/web.py",
        "tui/tensorboard.py",
        "tui/charts.py",
        "tui/sweep_view.py",
    ],
    "diagnosis": ["engine/core/diagnosis.py", "engine/core/course.py"],
    "config": [
        "engine/core/config.py",
        "engine/core/config_checks.py",
        "engine/core/config_files.py",
        "engine/core/catalog.py",
        "engine/core/memory.py",
        "engine/core/batches.py",
        "engine/core/runs.py",
        "engine/core/share.py",
        "engine/core/share_dictionary.py",
        "engine/core/sweep_members.py",
        "engine/core/sweep_results.py",
        "engine/core/control.py",
        "engine/core/events.py",
        "engine/core/i18n.py",
    ],
    "engine": ["engine/*.py", "engine/data/*.py", "engine/models/*.py", "engine/training/*.py"],
    "lessons": ["presets/__init__.py"],  # and the texts of presets/*.toml (preset_messages)
}
# Files with no user-facing text to translate: an exported script is Python for the user to read and
# edit (its comments stay English, like the settings' names); the protocol's schemas document fields
# for programs.
NOT_TRANSLATED = ["engine/core/script.py", "engine/core/protocol.py", "engine/core/__init__.py"]
CONFIG_SOURCE = "engine/core/config.py"  # its settings' docstrings are messages too
LESSON_KEYS = ("title", "claim", "watch", "try_next")


@dataclass
class Message:
    """A message and where the sources use it."""

    msgid: str
    plural: str | None = None
    places: list[str] = field(default_factory=list)


class ExtractionError(ValueError):
    """A call whose message is not a literal: it cannot be in a catalog."""


def catalog_files(name: str) -> list[Path]:
    """The source files of one catalog, in a stable order."""
    files: list[Path] = []
    for pattern in CATALOGS[name]:
        files += sorted(p for p in ROOT.glob(pattern) if p.is_file())
    return files


def _add(found: dict[str, Message], msgid: str, place: str, plural: str | None = None) -> None:
    message = found.setdefault(msgid, Message(msgid, plural))
    if place not in message.places:
        message.places.append(place)


def python_messages(path: Path, found: dict[str, Message]) -> None:
    """The messages of one Python file, added to `found`."""
    rel = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        name = node.func.id
        if name not in ("_", "N_", "ngettext"):
            continue
        wanted = 2 if name == "ngettext" else 1
        args = node.args[:wanted]
        if name == "_" and len(args) == 1 and isinstance(args[0], ast.Name | ast.Attribute | ast.Subscript | ast.Call):
            continue  # `_(label)`: a message marked with N_ where it is defined, translated where it is shown
        if len(args) < wanted or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            raise ExtractionError(f"{rel}:{node.lineno}: {name}() needs literal strings, not an expression")
        values = [a.value for a in args]  # type: ignore[attr-defined]
        _add(found, values[0], f"{rel}:{node.lineno}", values[1] if name == "ngettext" else None)
    if rel == CONFIG_SOURCE:
        for cls in tree.body:
            if not isinstance(cls, ast.ClassDef):
                continue
            for statement, after in zip(cls.body, cls.body[1:], strict=False):
                if (
                    isinstance(statement, ast.AnnAssign)
                    and isinstance(after, ast.Expr)
                    and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)
                ):
                    import inspect

                    _add(found, inspect.cleandoc(after.value.value), f"{rel}:{after.lineno}")


def preset_messages(found: dict[str, Message]) -> None:
    """The texts of the shipped presets and of the course."""
    for path in sorted((ROOT / "presets").glob("*.toml")):
        rel = path.relative_to(ROOT).as_posix()
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        if path.name == "course.toml":
            for section in data.get("section", []):
                _add(found, section["title"], rel)
            continue
        if isinstance(data.get("description"), str) and data["description"]:
            _add(found, data["description"], rel)
        for key in LESSON_KEYS:
            value = data.get("lesson", {}).get(key)
            if isinstance(value, str) and value:
                _add(found, value, rel)


def messages(name: str) -> dict[str, Message]:
    """Every message catalog `name` must hold, by msgid, in the order the sources use them."""
    found: dict[str, Message] = {}
    for path in catalog_files(name):
        python_messages(path, found)
    if name == "lessons":
        preset_messages(found)
    return found


def po_path(language: str, name: str) -> Path:
    """Where a catalog's translations into `language` live."""
    return LOCALE / language / "LC_MESSAGES" / f"{name}.po"


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r")
    lines = escaped.split("\n")
    if len(lines) == 1:
        return f'"{escaped}"'
    parts = [line + "\\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return '""\n' + "\n".join(f'"{part}"' for part in parts)


HEADER = """# Korean translations of nnplay's messages: the {name} catalog.
# Terms follow docs/glossary-ko.md. Updated by `python tests/i18n_catalogs.py update`.
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: {language}\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"
"""


def write_po(language: str, name: str, wanted: dict[str, Message]) -> tuple[int, int]:
    """Rewrite one catalog to hold exactly the wanted messages, keeping existing translations; returns
    (messages added, messages dropped)."""
    from nnplay.engine.core.i18n import read_po

    path = po_path(language, name)
    old = {e.msgid: e for e in read_po(path.read_text(encoding="utf-8"))} if path.exists() else {}
    old.pop("", None)
    chunks = [HEADER.format(name=name, language=language)]
    for message in wanted.values():
        entry = old.get(message.msgid)
        refs = " ".join(message.places[:4])
        lines = [f"#: {refs}"]
        if entry is not None and entry.fuzzy:
            lines.append("#, fuzzy")
        lines.append(f"msgid {_quote(message.msgid)}")
        translations = entry.translations if entry is not None else []
        if message.plural is not None:
            lines.append(f"msgid_plural {_quote(message.plural)}")
            lines.append(f"msgstr[0] {_quote(translations[0] if translations else '')}")
        else:
            lines.append(f"msgstr {_quote(translations[0] if translations else '')}")
        chunks.append("\n".join(lines) + "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(chunks), encoding="utf-8")
    return len(set(wanted) - set(old)), len(set(old) - set(wanted))


def report(language: str = "ko") -> list[str]:
    """One line per catalog: messages, missing from the catalog, stale in it, untranslated."""
    from nnplay.engine.core.i18n import read_po

    lines = []
    for name in CATALOGS:
        wanted = messages(name)
        path = po_path(language, name)
        entries = {e.msgid: e for e in read_po(path.read_text(encoding="utf-8"))} if path.exists() else {}
        entries.pop("", None)
        missing = [m for m in wanted if m not in entries]
        stale = [m for m in entries if m not in wanted]
        untranslated = [m for m, e in entries.items() if m in wanted and (e.fuzzy or not any(e.translations))]
        lines.append(
            f"{name:10} {len(wanted):5} messages, {len(missing):4} missing, {len(stale):4} stale, "
            f"{len(untranslated):4} untranslated"
        )
    return lines


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT.parent))  # `nnplay` when run from a checkout without an install
    if argv[:1] == ["update"]:
        names = argv[1:] or list(CATALOGS)
        for language in LANGUAGES:
            for name in names:
                added, dropped = write_po(language, name, messages(name))
                print(f"{language}/{name}.po: {added} added, {dropped} dropped")
        return 0
    if argv[:1] == ["untranslated"] and len(argv) == 2:
        from nnplay.engine.core.i18n import read_po

        for entry in read_po(po_path("ko", argv[1]).read_text(encoding="utf-8")):
            if entry.msgid and (entry.fuzzy or not all(entry.translations)):
                print(repr(entry.msgid))
        return 0
    if argv[:1] == ["check"]:
        for language in LANGUAGES:
            print("\n".join(report(language)))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
