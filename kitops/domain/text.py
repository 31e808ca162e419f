"""Text people type and text kitops shows: control characters pass neither way.

Codes and names (SKUs, lot codes, product, location, supplier and user names, purchase
order references) refuse control characters on input (``no_control``). Output escapes them
(``visible``), because rows written before that check, or by plain SQL, may hold them: a
name holding cursor-up and erase codes must not hide lines of a manager's terminal.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kitops.errors import InvalidInput
from kitops.i18n import _

# C0 controls, DEL and the C1 controls (U+0080-U+009F: U+009B is a one-byte CSI to many
# terminals), and the line and paragraph separators
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# shown escaped as well: the bidirectional overrides and isolates, which reorder what a
# reader sees (CVE-2021-42574, "Trojan Source")
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def no_control(value: str, field: str) -> str:
    """``value`` unchanged, or ``InvalidInput`` (exit 2) naming the field when it holds a
    control character (a tab, a line break, an escape, DEL, a C1 control)."""
    if has_control(value):
        raise InvalidInput(
            field, value, _("must not hold control characters (tabs, line breaks, escapes)")
        )
    return value


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character (and bidirectional override) written out as
    a backslash escape (``\\x1b``, ``\\n``, ``\\u202e``), so it shows as what it is and
    never acts on the terminal. ``keep_newlines`` leaves line breaks alone (for messages
    of several lines that kitops itself composes)."""
    if keep_newlines:
        return "\n".join(_HIDDEN.sub(_escape, line) for line in text.split("\n"))
    return _HIDDEN.sub(_escape, text)


# what json.dumps(ensure_ascii=False) leaves raw inside strings and a terminal may act on:
# DEL, the C1 controls, the line separators and the bidirectional overrides
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_text(value: Any, **options: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` holding no character a terminal acts on:
    those it leaves raw are written ``\\u009b``, the same JSON value."""
    dumped = json.dumps(value, ensure_ascii=False, **options)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
