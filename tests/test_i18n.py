"""English and Korean: the catalogs hold every message the sources use, translated, with the same
placeholders and markup; the .po reader agrees with Babel's; terms follow the glossary; the language
is chosen from --lang, NNPLAY_LANG and the locale."""

from __future__ import annotations

import re

import pytest
from i18n_catalogs import (
    CATALOGS,
    NOT_TRANSLATED,
    ROOT,
    catalog_files,
    messages,
    po_path,
)

from nnplay.engine.core import i18n

GLOSSARY = ROOT / "docs" / "glossary-ko.md"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
SETTING_OR_CODE = re.compile(r"`[^`]*`|\b[a-z_]+\.[a-z_][a-z_0-9]*\b")
MARKUP = re.compile(r"\[/?[a-z][a-z0-9 #,._-]*\]")  # Rich markup tags such as [bold] and [/]


def entries(name: str) -> dict[str, i18n.Entry]:
    path = po_path("ko", name)
    found = {e.msgid: e for e in i18n.read_po(path.read_text(encoding="utf-8"))} if path.exists() else {}
    found.pop("", None)
    return found


def test_every_source_file_belongs_to_one_catalog():
    owners: dict[str, list[str]] = {}
    for name in CATALOGS:
        for path in catalog_files(name):
            owners.setdefault(path.relative_to(ROOT).as_posix(), []).append(name)
    sources = sorted(
        p.relative_to(ROOT).as_posix() for folder in ("engine", "tui") for p in (ROOT / folder).rglob("*.py")
    )
    unowned = [s for s in sources if s not in owners and s not in NOT_TRANSLATED and not s.endswith("__init__.py")]
    assert not unowned, f"add these files to a catalog in tests/i18n_catalogs.py: {unowned}"
    assert not {s: n for s, n in owners.items() if len(n) > 1}


@pytest.mark.parametrize("name", list(CATALOGS))
def test_the_korean_catalog_holds_every_message_translated(name):
    wanted = messages(name)
    have = entries(name)
    missing = [m for m in wanted if m not in have]
    stale = [m for m in have if m not in wanted]
    untranslated = [m for m in wanted if m in have and (have[m].fuzzy or not all(have[m].translations))]
    assert not missing and not stale, (
        f"{name}.po: {len(missing)} missing, {len(stale)} stale: run `python tests/i18n_catalogs.py update`; "
        f"first missing: {missing[:3]}, first stale: {stale[:3]}"
    )
    assert not untranslated, f"{name}.po: {len(untranslated)} untranslated, first: {untranslated[:3]}"


@pytest.mark.parametrize("name", list(CATALOGS))
def test_translations_keep_placeholders_and_markup(name):
    for msgid, entry in entries(name).items():
        for translation in entry.translations:
            if not translation:
                continue
            assert sorted(PLACEHOLDER.findall(translation)) == sorted(PLACEHOLDER.findall(msgid)), msgid
            assert sorted(MARKUP.findall(translation)) == sorted(MARKUP.findall(msgid)), msgid


def test_a_message_has_one_translation_in_every_catalog():
    seen: dict[str, tuple[str, list[str]]] = {}
    for name in CATALOGS:
        for msgid, entry in entries(name).items():
            if msgid in seen and all(entry.translations) and all(seen[msgid][1]):
                assert entry.translations == seen[msgid][1], f"{msgid!r}: {name}.po and {seen[msgid][0]}.po differ"
            seen.setdefault(msgid, (name, entry.translations))


def glossary() -> list[tuple[str, str]]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] and not set(cells[0]) <= set("-: ") and cells[0] != "English":
            rows.append((cells[0], cells[1]))
    return rows


def glossary_terms_in(text: str, terms: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The glossary's terms that occur in an English text, the longest first; a term inside a longer
    one's occurrence ("gradient" in "gradient descent") does not count."""
    # Setting names (`optimizer.lr`, regularization.l2) and code in backticks stay English: not terms.
    text = SETTING_OR_CODE.sub(lambda m: " " * len(m.group()), text)
    taken: list[tuple[int, int]] = []
    found = []
    for english, korean in sorted(terms, key=lambda t: -len(t[0])):
        for match in re.finditer(rf"\b{re.escape(english)}\b", text, re.IGNORECASE):
            if not any(a <= match.start() and match.end() <= b for a, b in taken):
                found.append((english, korean))
                taken.append(match.span())
    return list(dict.fromkeys(found))


def test_longer_glossary_terms_take_precedence_and_setting_names_are_not_terms():
    terms = [("gradient", "기울기"), ("gradient descent", "경사 하강법"), ("optimizer", "옵티마이저")]
    assert glossary_terms_in("lower optimizer.lr or `optimizer`", terms) == []
    assert glossary_terms_in("full-batch gradient descent", terms) == [("gradient descent", "경사 하강법")]
    assert glossary_terms_in("gradient descent with a small gradient", terms) == [
        ("gradient descent", "경사 하강법"),
        ("gradient", "기울기"),
    ]


def test_the_glossarys_terms_are_used_for_its_english_terms():
    terms = glossary()
    assert len(terms) >= 20
    misses = []
    for name in CATALOGS:
        for msgid, entry in entries(name).items():
            translation = " ".join(entry.translations)
            if not translation:
                continue
            for english, korean in glossary_terms_in(msgid, terms):
                if not any(k.strip() in translation for k in korean.split("/")):
                    misses.append(f"{name}.po: {english!r} -> {korean!r} not in {translation[:60]!r}")
    assert not misses, "\n".join(misses[:20])


def test_the_po_reader_agrees_with_babels():
    pofile = pytest.importorskip("babel.messages.pofile")
    for name in CATALOGS:
        path = po_path("ko", name)
        with path.open("rb") as f:
            babel = {m.id: m for m in pofile.read_po(f) if m.id}
        ours = entries(name)
        assert set(ours) == {m if isinstance(m, str) else m[0] for m in babel}
        for message in babel.values():
            key = message.id if isinstance(message.id, str) else message.id[0]
            strings = list(message.string) if isinstance(message.string, tuple) else [message.string]
            assert ours[key].translations == strings


def test_reading_escapes_and_continuations():
    text = (
        'msgid ""\nmsgstr ""\n"Language: ko\\n"\n\n'
        '#, python-brace-format\nmsgid "a \\"quoted\\" {x}\\n"\n"second line"\nmsgstr "가 {x}\\t끝"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "여럿"\n'
    )
    header, quoted, plural = i18n.read_po(text)
    assert header.msgid == "" and quoted.msgid == 'a "quoted" {x}\nsecond line'
    assert quoted.translations == ["가 {x}\t끝"] and "python-brace-format" in quoted.flags
    assert plural.plural == "many" and plural.translations == ["여럿"]


@pytest.mark.parametrize(
    ("explicit", "environ", "expected"),
    [
        (None, {}, "en"),
        (None, {"LANG": "ko_KR.UTF-8"}, "ko"),
        (None, {"LANG": "en_US.UTF-8", "LC_ALL": "ko_KR.UTF-8"}, "ko"),
        (None, {"LC_MESSAGES": "C", "LANG": "ko_KR.UTF-8"}, "en"),
        (None, {"LANG": "fr_FR.UTF-8"}, "en"),  # a locale nnplay does not speak: English
        (None, {"NNPLAY_LANG": "ko", "LANG": "en_US.UTF-8"}, "ko"),
        ("en", {"NNPLAY_LANG": "ko"}, "en"),
        ("ko", {}, "ko"),
    ],
)
def test_the_language_comes_from_the_choice_then_nnplay_lang_then_the_locale(explicit, environ, expected):
    assert i18n.resolve_language(explicit, environ) == expected


@pytest.mark.parametrize(("explicit", "environ"), [("fr", {}), (None, {"NNPLAY_LANG": "klingon"})])
def test_a_language_nnplay_does_not_speak_is_one_sentence(explicit, environ):
    with pytest.raises(i18n.LanguageError, match=r"is not a language nnplay speaks; allowed: en, ko"):
        i18n.resolve_language(explicit, environ)


def test_switching_the_language_switches_the_messages():
    sample = next(iter(entries("lessons").values()), None)
    if sample is None or not sample.translations[0]:
        pytest.skip("the lessons catalog has no translation yet")
    try:
        i18n.set_language("ko")
        assert i18n._(sample.msgid) == sample.translations[0]
        assert i18n._("a message no catalog holds") == "a message no catalog holds"
        i18n.set_language("en")
        assert i18n._(sample.msgid) == sample.msgid
    finally:
        i18n.set_language("en")
