"""GS1 identifiers through the biip library (check digits, GTIN normalisation)."""

from __future__ import annotations

from kitops.domain.catalog import gtin_shape
from kitops.errors import InvalidInput


def parse_gtin(value: str, field: str = "gtin") -> str:
    """A valid GTIN-8/12/13/14 as its 14-digit form; a wrong check digit is bad input."""
    from biip import ParseError
    from biip.gtin import Gtin

    digits = gtin_shape(value, field)
    try:
        gtin = Gtin.parse(digits)
    except ParseError as error:
        raise InvalidInput(field, value, str(error).rstrip(".")) from None
    return str(gtin.as_gtin_14())
