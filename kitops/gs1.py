"""GS1 identifiers through the biip library (check digits, GTIN normalisation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kitops.domain.catalog import MAX_QUANTITY, gtin_shape
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


@dataclass(frozen=True)
class Scan:
    """What a GS1 DataMatrix or GS1-128 label on a box says."""

    gtin: str
    lot: str | None
    expiry: date | None
    serial: str | None
    count: int | None


def parse_scan(data: str, field: str = "scan") -> Scan:
    """Read what a barcode scanner typed: GS1 element strings with or without a
    symbology prefix (``]d2``, ``]C1``, ``]Q3``), FNC1 as the GS character, or the
    human-readable bracket form ``(01)...(17)...(10)...``.

    Expiry day ``00`` means the last day of that month (biip applies the GS1 rule).
    """
    from biip import ParseError, parse
    from biip.gs1_messages import GS1Message

    text = data.strip("\r\n\t ")
    if not text:
        raise InvalidInput(field, data, "is empty")
    try:
        if text.startswith("("):
            message = GS1Message.parse_hri(text)
        else:
            result = parse(text)
            if result.gs1_message is None:
                reason = result.gs1_message_error or "is not a GS1 element string"
                raise InvalidInput(field, data, reason.rstrip("."))
            message = result.gs1_message
    except ParseError as error:
        raise InvalidInput(field, data, str(error).rstrip(".")) from None
    except (IndexError, KeyError, ValueError):
        # biip fails this way on some fragments (a lone "]" symbology marker)
        raise InvalidInput(field, data, "is not a GS1 element string") from None

    values: dict[str, str] = {}
    gtin_error: str | None = None
    expiry: date | None = None
    for element in message.element_strings:
        ai = element.ai.ai
        values[ai] = element.value
        if ai == "01":
            gtin_error = element.gtin_error
        if ai == "17":
            expiry = element.date
    if "01" not in values:
        raise InvalidInput(field, data, "has no GTIN (AI 01)")
    if gtin_error:
        raise InvalidInput(field, data, gtin_error.rstrip("."))
    if "17" in values and expiry is None:
        raise InvalidInput(field, data, f"expiry (AI 17) {values['17']!r} is not a date")
    count = None
    if "30" in values:
        count = int(values["30"])
        if count <= 0:
            raise InvalidInput(field, data, "count (AI 30) must be at least 1")
        if count > MAX_QUANTITY:  # the same cap as --qty, whichever way the count arrives
            raise InvalidInput(
                "qty", values["30"], f"must be at most {MAX_QUANTITY} (the label's count, AI 30)"
            )
    return Scan(
        gtin=values["01"],
        lot=values.get("10"),
        expiry=expiry,
        serial=values.get("21"),
        count=count,
    )
