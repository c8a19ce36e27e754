"""The languages nnplay speaks: English (the messages as written in the code) and Korean (message
catalogs in engine/core/locale/ko/, gettext .po files, one per part of the program).

Every user-facing sentence goes through `_` (or `ngettext` where a number decides the form) as one
whole message with named placeholders, `_("Best epoch {epoch} of {epochs}.").format(...)`, never
assembled from fragments a translator cannot reorder. Text defined at import time (labels in a
table, say) is marked with `N_` and translated where it is shown, so that switching the language
while the app runs changes it too.

The language is chosen once per process by `set_language`, from the first of: an explicit choice
(`--lang`, the app's language key), `NNPLAY_LANG`, the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`:
`ko_KR.UTF-8` is Korean), else English. The engine is told the app's language in its environment
and by the serve protocol's `language` command.

The .po files are read directly (a small reader for the subset Babel writes; tests/test_i18n.py
checks it against Babel's own): nothing is compiled, nothing to forget to rebuild.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

LANGUAGES = {"en": "English", "ko": "한국어"}
DEFAULT = "en"
LOCALE_DIR = Path(__file__).with_name("locale")
_ENV_ORDER = ("NNPLAY_LANG", "LC_ALL", "LC_MESSAGES", "LANG")

_language = DEFAULT
_catalog: dict[str, str] = {}  # msgid -> translation for the current language (empty for English)
_plurals: dict[str, list[str]] = {}  # msgid -> its plural translations
_loaded: dict[str, tuple[dict[str, str], dict[str, list[str]]]] = {}


class LanguageError(ValueError):
    """A language nnplay does not speak, named where it was asked for."""


def language_code(value: str) -> str | None:
    """The language a setting or locale names ("ko", "ko_KR.UTF-8", "en-US" -> "ko", "en"), or None
    when it names none nnplay speaks ("C" and "POSIX" are English)."""
    value = value.strip()
    if value in ("C", "POSIX", "C.UTF-8", "C.utf8"):
        return DEFAULT
    code = re.split(r"[_.@-]", value, maxsplit=1)[0].lower()
    return code if code in LANGUAGES else None


def resolve_language(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language to speak: an explicit choice (refused with one sentence when nnplay does not speak
    it), else NNPLAY_LANG (likewise), else the first locale variable that is set, else English."""
    allowed = ", ".join(LANGUAGES)
    if explicit is not None:
        code = language_code(explicit)
        if code is None:
            raise LanguageError(
                _("--lang {value} is not a language nnplay speaks; allowed: {allowed}").format(
                    value=repr(explicit[:40]), allowed=allowed
                )
            )
        return code
    env = os.environ if environ is None else environ
    if env.get("NNPLAY_LANG"):
        code = language_code(env["NNPLAY_LANG"])
        if code is None:
            raise LanguageError(
                _("NNPLAY_LANG={value} is not a language nnplay speaks; allowed: {allowed}").format(
                    value=repr(env["NNPLAY_LANG"][:40]), allowed=allowed
                )
            )
        return code
    for name in _ENV_ORDER[1:]:
        if env.get(name):  # the first one set decides, as the C library reads them
            return language_code(env[name]) or DEFAULT
    return DEFAULT


def set_language(code: str) -> None:
    """Speak `code` ("en" or "ko") from now on, in this process."""
    global _language, _catalog, _plurals
    if code not in LANGUAGES:
        raise LanguageError(
            _("{value} is not a language nnplay speaks; allowed: {allowed}").format(
                value=repr(code[:40]), allowed=", ".join(LANGUAGES)
            )
        )
    _language = code
    _catalog, _plurals = ({}, {}) if code == DEFAULT else _load(code)


def current_language() -> str:
    """The language spoken now."""
    return _language


def _(message: str) -> str:
    """The message in the current language (as written when it has no translation)."""
    return _catalog.get(message) or message


def N_(message: str) -> str:
    """Marks a message for translation where it is defined; `_` translates it where it is shown."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message for the count n, in the current language."""
    forms = _plurals.get(singular)
    if forms and forms[0]:
        return forms[0]  # Korean has one form for every count
    return singular if n == 1 else plural


def _load(code: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    if code not in _loaded:
        catalog: dict[str, str] = {}
        plurals: dict[str, list[str]] = {}
        for path in sorted((LOCALE_DIR / code / "LC_MESSAGES").glob("*.po")):
            for entry in read_po(path.read_text(encoding="utf-8")):
                if entry.fuzzy or not entry.msgid:
                    continue
                if entry.plural is not None:
                    if any(entry.translations):
                        plurals[entry.msgid] = entry.translations
                elif entry.translations and entry.translations[0]:
                    catalog[entry.msgid] = entry.translations[0]
        _loaded[code] = (catalog, plurals)
    return _loaded[code]


class Entry:
    """One message of a .po file: its id, plural id, translations, context and flags."""

    __slots__ = ("context", "flags", "msgid", "plural", "translations")

    def __init__(self) -> None:
        self.msgid = ""
        self.plural: str | None = None
        self.context: str | None = None
        self.translations: list[str] = []
        self.flags: set[str] = set()

    @property
    def fuzzy(self) -> bool:
        """Whether the translation is marked as needing review (not used until it is reviewed)."""
        return "fuzzy" in self.flags


def read_po(text: str) -> list[Entry]:
    """The entries of a .po file (msgctxt, msgid, msgid_plural, msgstr and msgstr[n], multi-line
    strings, `#,` flags; obsolete `#~` entries are skipped)."""
    entries: list[Entry] = []
    entry = Entry()
    field: str | None = None

    def finish() -> None:
        nonlocal entry, field
        if field is not None:
            entries.append(entry)
        entry, field = Entry(), None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if field is not None and field.startswith("msgstr"):
                finish()  # a comment after a complete entry starts the next one
            if line.startswith("#,"):
                entry.flags.update(f.strip() for f in line[2:].split(","))
            continue
        keyword, _space, rest = line.partition(" ")
        if line.startswith('"'):
            value, keyword = _unquote(line), ""
        else:
            value = _unquote(rest)
        if keyword == "msgctxt":
            if field is not None and field.startswith("msgstr"):
                finish()
            field, entry.context = "msgctxt", value
        elif keyword == "msgid":
            if field is not None and field.startswith("msgstr"):
                finish()
            field, entry.msgid = "msgid", value
        elif keyword == "msgid_plural":
            field, entry.plural = "msgid_plural", value
        elif keyword.startswith("msgstr"):
            field = keyword
            entry.translations.append(value)
        elif keyword == "" and field is not None:  # a continuation line
            if field == "msgctxt":
                entry.context = (entry.context or "") + value
            elif field == "msgid":
                entry.msgid += value
            elif field == "msgid_plural":
                entry.plural = (entry.plural or "") + value
            else:
                entry.translations[-1] += value
        else:
            raise ValueError(f"unreadable line in a .po file: {raw[:80]!r}")
    finish()
    return entries


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(.)")


def _unquote(text: str) -> str:
    """A .po string literal's value (the C escapes .po files use: \\n \\t \\r \\" \\\\)."""
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"not a quoted string in a .po file: {text[:80]!r}")
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), text[1:-1])
