"""A pseudo-locale for layout tests: every string the code marks, accented and 40 % longer,
so a screen that holds it holds German (whose words run about a third longer than
English) too; a string that comes out unaccented in a screenshot was never translated.

The catalog is built from the messages the code marks (extracted as ``make messages``
and tests/unit/test_catalogs.py extract them), compiled in memory and installed with
``kitops.i18n.install_translations`` under the tag ``pseudo``."""

from __future__ import annotations

import gettext
import io
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo

from kitops.i18n import install_translations, set_default_locale

ROOT = Path(__file__).resolve().parents[2]
TAG = "pseudo"
METHODS = [
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.j2", "jinja2"),
]
ACCENTS = str.maketrans(
    "aceinouyACEINOUYsSzZgGkKlLrRtT",
    "áçéïñöüýÁÇÉÏÑÖÜÝšŠžŽğĞķĶļĻŕŔţŢ",
)
PLACEHOLDER = re.compile(r"(\{[^{}]*\})")
PAD = "~"  # not "[", which Rich's markup (notifications) would read as a tag


def pseudo(text: str) -> str:
    """``text`` accented outside its ``{placeholders}`` and lengthened by 40 % (rounded
    up) of its visible letters, at the end of each line."""
    lines = []
    for line in text.split("\n"):
        parts = PLACEHOLDER.split(line)
        shown = "".join(p if PLACEHOLDER.fullmatch(p) else p.translate(ACCENTS) for p in parts)
        visible = sum(len(p) for p in parts if not PLACEHOLDER.fullmatch(p))
        lines.append(shown + PAD * math.ceil(visible * 0.4) if visible else shown)
    return "\n".join(lines)


@cache
def catalog() -> gettext.GNUTranslations:
    """Every marked message of kitops and its terminal UI, in pseudo."""
    found = Catalog(locale="en", domain="kitops")
    for folder in ("kitops", "tui"):
        for _file, _line, message, _comments, context in extract_from_dir(
            ROOT / folder, METHODS, keywords=dict(DEFAULT_KEYWORDS)
        ):
            if isinstance(message, tuple):
                forms = tuple(m for m in message if m)
                found.add(forms, tuple(pseudo(m) for m in forms), context=context)
            else:
                found.add(message, pseudo(message), context=context)
    buffer = io.BytesIO()
    write_mo(buffer, found)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@contextmanager
def speaking_pseudo() -> Iterator[None]:
    """The process speaks the pseudo-locale within the block (English after it)."""
    install_translations(TAG, catalog())
    set_default_locale(TAG)
    try:
        yield
    finally:
        set_default_locale("en")
