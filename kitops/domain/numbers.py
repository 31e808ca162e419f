"""Exact parsing of the numbers people type: plain ASCII decimals, no surprises.

``Decimal`` arithmetic rounds at 28 digits and ``int()`` accepts ``1_000`` and
non-ASCII digits; a stockroom number is neither, so both are checked by shape first.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal

from kitops.errors import InvalidInput
from kitops.i18n import _

_DECIMAL = re.compile(r"-?[0-9]{1,18}(?:\.[0-9]{1,12})?", re.ASCII)
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)
_EXACT = Context(prec=64)


def parse_decimal(value: object, field: str) -> Decimal:
    """``"0.45"`` → ``Decimal("0.45")``; refuses exponents, separators and long values."""
    text = str(value).strip()
    if not _DECIMAL.fullmatch(text):
        raise InvalidInput(field, value, _("is not a plain decimal number such as 12.50"))
    return Decimal(text)


def scale(value: Decimal, places: int) -> Decimal:
    """``value`` × 10**places, exactly (inputs from ``parse_decimal`` fit the context)."""
    return value.scaleb(places, context=_EXACT)


def parse_int(value: object, field: str) -> int:
    text = str(value).strip()
    if not _INTEGER.fullmatch(text):
        raise InvalidInput(field, value, _("must be a whole number"))
    return int(text)


# Row ids are SQL INTEGER columns (PostgreSQL's 32-bit serial); a larger number names no row
# and, on SQLite beyond 64 bits, could not even be bound as a parameter.
MAX_ID = 2**31 - 1


def parse_id(value: object, field: str, what: str) -> int:
    """A row number people type (a course, an order): 1 to ``MAX_ID``."""
    text = str(value).strip()
    if not _INTEGER.fullmatch(text) or not 0 < int(text) <= MAX_ID:
        raise InvalidInput(
            field,
            value,
            _("must be {what} (a whole number from 1 to {max_id})").format(
                what=what, max_id=MAX_ID
            ),
        )
    return int(text)
