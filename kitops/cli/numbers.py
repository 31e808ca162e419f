"""Decimals as people type them on the command line, in the locale in force.

``12.50`` is always read as twelve and a half; ``12,50`` too where the locale writes a
decimal comma (``--locale de_AT``); ``1,250`` is never guessed at (a thousand two hundred
and fifty, or one and a quarter?) and is refused with one line and exit 2. The services
take the canonical text (``12.50``), so the conversion happens here, at the boundary, and
a value with neither a comma nor a comma locale reaches them exactly as typed.
"""

from __future__ import annotations

import re

__all__ = ["decimal_text", "percent_text", "range_text"]


def decimal_text(text: str | None, field: str) -> str | None:
    """``text`` as the canonical decimal the services read (``12,50`` → ``12.50`` in a
    comma locale); None stays None. Refuses an ambiguous or malformed number with
    ``InvalidInput(field, ...)``."""
    if text is None:
        return None
    raw = text.strip()
    from kitops.i18n.formats import decimal_symbol, parse_decimal_input

    if "," not in raw and decimal_symbol() == ".":
        return text  # a plain decimal where none is ambiguous: the services judge it
    return format(parse_decimal_input(raw, field), "f")


def percent_text(text: str, field: str) -> str:
    """A percentage as typed (``5,5``, ``5,5 %``, ``20%``) → its canonical text; the ``%``
    is left to the service, which accepts it."""
    raw = text.strip()
    number = raw.removesuffix("%").strip()
    if number == raw:
        return decimal_text(raw, field) or raw
    return f"{decimal_text(number, field)}%"


_RANGE = re.compile(r"\s*(?P<low>[^-]+?)\s*-\s*(?P<high>[^-]+?)\s*")


def range_text(text: str | None, field: str) -> str | None:
    """A length or a range of lengths (``2``, ``1.2-3``, ``1,2-3`` in de_AT) → canonical."""
    if text is None:
        return None
    found = _RANGE.fullmatch(text)
    if found is None:
        return decimal_text(text, field)
    low = decimal_text(found["low"], field)
    high = decimal_text(found["high"], field)
    return f"{low}-{high}"
