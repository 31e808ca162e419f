"""The translations: every string the code marks has a German translation with the same
placeholders, the catalogs hold nothing the code no longer says, and only literals are
marked (an f-string inside ``_()`` would be translated after it was filled: never)."""

from __future__ import annotations

import ast
import functools
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from kitops import i18n

ROOT = Path(__file__).resolve().parents[2]
METHODS = [
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.j2", "jinja2"),
]
MARKERS = {"_", "gettext", "N_", "ngettext", "pgettext"}


@functools.cache
def _code_messages() -> dict[tuple[str, str | None], tuple[str, ...]]:
    """(msgid, context) → every form (singular, plural) the code marks (read once per run:
    the tests only read it)."""
    found: dict[tuple[str, str | None], tuple[str, ...]] = {}
    for folder in ("kitops", "tui"):
        for _file, _line, message, _comments, context in extract_from_dir(
            ROOT / folder, METHODS, keywords={**_keywords()}
        ):
            forms = message if isinstance(message, tuple) else (message,)
            found[(forms[0], context)] = forms
    return found


def _keywords() -> dict[str, object]:
    from babel.messages.extract import DEFAULT_KEYWORDS

    return dict(DEFAULT_KEYWORDS)


@functools.cache
def _catalog(language: str) -> Catalog:
    """The catalog of ``language``, read once per run (the tests only read it)."""
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / "kitops.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=language)


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def _entries(catalog: Catalog) -> dict[tuple[str, str | None], Message]:
    return {((m.id[0] if isinstance(m.id, tuple) else m.id), m.context): m for m in catalog if m.id}


def test_every_marked_string_has_a_german_translation_with_the_same_placeholders() -> None:
    german = _entries(_catalog("de"))
    problems: list[str] = []
    for key, forms in sorted(_code_messages().items(), key=lambda kv: kv[0][0]):
        entry = german.get(key)
        if entry is None:
            problems.append(f"missing: {key[0]!r}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {key[0]!r}")
        translated = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(translated):
            problems.append(f"untranslated: {key[0]!r}")
            continue
        wanted = set().union(*(_fields(form) for form in forms))
        for text in translated:
            got = _fields(text)
            # a plural's singular may say "one" instead of naming the count
            if got != wanted and not (len(forms) > 1 and got <= wanted):
                problems.append(f"placeholders differ: {key[0]!r} {sorted(wanted)} → {text!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["de", "de_AT"])
def test_the_catalogs_hold_only_what_the_code_says(language: str) -> None:
    code = _code_messages()
    stale = [key[0] for key in _entries(_catalog(language)) if key not in code]
    assert not stale, f"{language} translates strings the code no longer has: {stale[:10]}"


def test_the_compiled_catalog_is_the_current_one() -> None:
    """The .mo kitops reads says what the .po says (`make catalogs` compiles it)."""
    german = i18n.translations("de")
    for entry in _catalog("de"):
        if entry.id and not entry.pluralizable and not entry.context and entry.string:
            assert german.gettext(entry.id) == entry.string, entry.id


def _marked_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in MARKERS
    ]


def _built_here(arg: ast.expr) -> bool:
    """A text made at the call (an f-string, a concatenation, a ``.format`` or ``%``): it
    could never match a catalog entry. A name or attribute is fine: it holds a string
    marked with ``N_`` where it was defined."""
    if isinstance(arg, ast.Constant):
        return not isinstance(arg.value, str)
    return isinstance(arg, (ast.JoinedStr, ast.BinOp, ast.Call))


def test_only_literals_are_marked() -> None:
    problems = []
    for folder in ("kitops", "tui"):
        for path in (ROOT / folder).rglob("*.py"):
            if any(parent.is_symlink() for parent in path.relative_to(ROOT).parents):
                continue
            for call in _marked_calls(ast.parse(path.read_text(encoding="utf-8"))):
                name = call.func.id if isinstance(call.func, ast.Name) else ""
                texts = call.args[: 2 if name in ("ngettext", "pgettext") else 1]
                literal_only = name in ("N_", "ngettext", "pgettext")
                if not texts or any(
                    _built_here(arg) or (literal_only and not isinstance(arg, ast.Constant))
                    for arg in texts
                ):
                    problems.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not problems, "translate a literal or a name holding one: " + ", ".join(problems)


def test_german_falls_back_to_english_and_austrian_to_german() -> None:
    with i18n.use_locale("de_AT"):
        assert i18n.current_locale() == "de_AT"
        assert i18n._("kitops has no such message") == "kitops has no such message"
    assert i18n.normalize_locale("de_AT.UTF-8") == "de_AT"
    assert i18n.normalize_locale("C") == "en"
    assert i18n.locale_from_environment({"LANG": "de_AT.UTF-8"}) == "de_AT"
    assert i18n.locale_from_environment({"LANGUAGE": "de:en", "LANG": "en_GB.UTF-8"}) == "de"
    assert i18n.locale_from_environment({}) == "en"
