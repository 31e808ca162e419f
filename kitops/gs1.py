"""GS1 identifiers through the biip library (check digits, GTIN normalisation)."""

from __future__ import annotations

import re
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
                raise InvalidInput(field, data, in_words(result.gs1_message_error, text))
            message = result.gs1_message
    except ParseError as error:
        raise InvalidInput(field, data, in_words(str(error), text)) from None
    except (IndexError, KeyError, ValueError):
        # biip fails this way on some fragments (a lone "]" symbology marker)
        raise InvalidInput(field, data, NOT_GS1) from None

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
        raise InvalidInput(field, data, "the scan has no GTIN (01)")
    if gtin_error:
        raise InvalidInput(field, data, in_words(gtin_error))
    if "17" in values and expiry is None:
        raise InvalidInput(field, data, f"the expiry {values['17']} is not a date (YYMMDD)")
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


NOT_GS1 = "is not a GS1 label (it should start with (01) and the GTIN)"

# what the elements a supplier's label carries are called
ELEMENT_NAMES = {
    "00": "SSCC",
    "01": "GTIN",
    "02": "GTIN of the contents",
    "10": "lot",
    "11": "production date",
    "15": "best-before date",
    "17": "expiry",
    "21": "serial",
    "30": "count",
    "37": "count",
}
_DATES = {"11", "12", "13", "15", "16", "17"}
_PATTERN = re.compile(r"Failed to match '(?P<data>[^']*)' with GS1 AI \((?P<ai>\d+)\)")
_DATE = re.compile(r"Failed to parse GS1 AI \((?P<ai>\d+)\) date/time from '(?P<value>[^']*)'")
_UNKNOWN = re.compile(r"Unknown GS1 Application Identifier '(?P<ai>[^']*)'")
_NO_AI = re.compile(r"Failed to get GS1 Application Identifier from '(?P<rest>[^']*)'")
_CHECK = re.compile(r"Invalid GTIN check digit for '(?P<gtin>\d+)': Expected (?P<want>\d)")


def in_words(error: str | None, scanned: str = "") -> str:
    """What is wrong with a scan, in words, from the parser's error (never its pattern)."""
    text = (error or "").strip()
    if found := _CHECK.search(text):
        gtin, digit = found["gtin"], found["want"]
        return f"GTIN check digit is wrong ({gtin}: the last digit should be {digit})"
    if found := _DATE.search(text):
        name = ELEMENT_NAMES.get(found["ai"], "date")
        return f"the {name} {found['value']} is not a date (YYMMDD)"
    if found := _PATTERN.search(text):
        ai = found["ai"]
        value = found["data"][len(ai) :]
        name = ELEMENT_NAMES.get(ai, "element")
        if ai in _DATES:
            if len(value) >= 6 and value[:6].isdigit():
                return f"the {name} {value[:6]} is not a date (YYMMDD)"
            return f"the {name} ({ai}) {value!r} is not a date: it needs 6 digits, YYMMDD"
        if ai == "01":
            return f"the GTIN (01) {value!r} is not 14 digits"
        return f"the {name} ({ai}) {value!r} is not in the form GS1 sets for it"
    if found := _UNKNOWN.search(text):
        return f"unknown element ({found['ai']})"
    if found := _NO_AI.search(text):
        rest = found["rest"]
        if len(rest) >= 2 and rest[:2].isdigit():
            return f"unknown element ({rest[:2]}) at {rest!r}"
        if not rest or (scanned.endswith(rest) and len(rest) >= len(scanned) - 3):
            return NOT_GS1  # nothing of it (past a symbology prefix) is an element
        return f"{rest!r} is not a GS1 element (each starts with its number, e.g. 10 for the lot)"
    return NOT_GS1
