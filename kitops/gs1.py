"""GS1 identifiers through the biip library (check digits, GTIN normalisation), the
element strings kitops prints on its labels, and what a scanner typed.

Codes kitops prints (README, Scanning):

- a kit: a GS1 element string, ``(01)`` the kit product's GTIN-14, ``(17)`` the kit's
  expiry, ``(10)`` its serum lot when it holds exactly one, ``(21)`` its serial. The
  fixed-length elements come first; a GS (``\x1d``, FNC1 in the symbol) follows each
  variable-length element but the last. A kit product without a GTIN (or a serial GS1
  cannot carry) gets the internal code ``KKIT:<serial>`` instead.
- a location: ``KLOC:<code>``; a course card: ``KCRS:<number>``. kitops's own prefixes
  in a plain (not GS1) symbol: the clinics have no GLN for (414), and GS1's company
  internal elements (91)-(99) mean whatever the company printing them says, so a
  supplier's carton with a (91) would read as one of our places.
"""

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
        raise InvalidInput(field, value, in_words(str(error))) from None
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


GS = "\x1d"
KIT_PREFIX = "KKIT:"
LOCATION_PREFIX = "KLOC:"
COURSE_PREFIX = "KCRS:"
# GS1 character set 82 (AIs 10 and 21), up to 20 characters, less the brackets that the
# human-readable form uses to delimit the elements
_GS1_VALUE = re.compile(r"[!\"%&'*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
# a symbology identifier: "]", the symbology's letter, a modifier (ISO/IEC 15424);
# ]d2 GS1 DataMatrix, ]C1 GS1-128, ]Q3 GS1 QR Code, ]e0 GS1 DataBar; ]d1 a plain DataMatrix
_SYMBOLOGY = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_GS1_SYMBOLOGIES = frozenset({"]d2", "]C1", "]Q3", "]e0", "]J1"})
_WHITESPACE = " \t\r\n"
MAX_SCAN = 400  # characters: far more than any label kitops reads carries


def gs1_value(text: str | None) -> bool:
    """Whether ``text`` can be the value of AI 10 or 21 (set 82, 1-20 characters)."""
    return bool(text) and _GS1_VALUE.fullmatch(text or "") is not None


def kit_element_string(
    serial: str, *, gtin: str | None, expiry: date | None = None, lot: str | None = None
) -> str:
    """What a kit's label encodes: ``01<GTIN>17<YYMMDD>10<lot><GS>21<serial>`` (fixed
    length first, a GS after each variable-length element but the last); no (17) without
    a real expiry, no (10) unless ``lot`` is one GS1 can carry. A kit without a GTIN-14
    or with a serial GS1 cannot carry: ``KKIT:<serial>``."""
    if not (gtin and len(gtin) == 14 and gtin.isdigit()) or not gs1_value(serial):
        return f"{KIT_PREFIX}{serial}"
    fixed = f"01{gtin}"
    if expiry is not None and expiry != date.max:
        fixed += f"17{expiry:%y%m%d}"
    variable = [f"10{lot}"] if lot and gs1_value(lot) else []
    variable.append(f"21{serial}")
    return fixed + GS.join(variable)


def location_code(code: str) -> str:
    """The code on a location's label: ``KLOC:<location code>``."""
    return f"{LOCATION_PREFIX}{code}"


def course_code(number: int) -> str:
    """The code on a course card: ``KCRS:<course number>`` (never the patient)."""
    return f"{COURSE_PREFIX}{number}"


_FIXED = {"01": 14, "17": 6, "11": 6, "15": 6, "12": 6, "13": 6, "16": 6, "02": 14, "00": 18}


def human_readable(element_string: str) -> str:
    """The bracketed form printed under a code: ``(01)...(17)...(10)...(21)...``; an
    internal code (``KLOC:...``) is printed as it is."""
    if element_string.startswith((KIT_PREFIX, LOCATION_PREFIX, COURSE_PREFIX)):
        return element_string
    out = []
    for part in element_string.split(GS):
        while part:
            ai = part[:2]
            length = _FIXED.get(ai)
            if length is None:  # a variable-length element runs to the GS
                out.append(f"({ai}){part[2:]}")
                break
            out.append(f"({ai}){part[2 : 2 + length]}")
            part = part[2 + length :]
    return "".join(out)


@dataclass(frozen=True)
class Code:
    """What a scan is, before the database says what it names.

    ``kind``: ``gs1`` (``gs1`` holds its elements), ``kit`` (``KKIT:``, ``value`` the
    serial), ``location`` (``KLOC:``, the code), ``course`` (``KCRS:``, ``course`` the
    number), or ``text`` (anything else: a kit serial, a lot or location code typed or
    scanned from a plain barcode)."""

    kind: str
    value: str
    gs1: Scan | None = None
    course: int | None = None


def read_code(data: str, field: str = "scan") -> Code:
    """What a scanner (or a person) typed, in any of the forms kitops accepts: leading
    and trailing whitespace, a symbology identifier (``]d2``, ``]C1``, ``]Q3``,
    ``]e0``, ``]d1``...), GS characters, a leading GS (some decoders report the first
    FNC1 so), or the bracketed human-readable form."""
    text = data.strip(_WHITESPACE)
    if not text:
        raise InvalidInput(field, data, "is empty")
    if len(text) > MAX_SCAN:
        raise InvalidInput(
            field, f"{text[:40]}...", f"is longer than any code ({MAX_SCAN} characters)"
        )
    symbology = ""
    if found := _SYMBOLOGY.match(text):
        symbology = found.group(0)
        text = text[len(symbology) :].strip(_WHITESPACE)
    if not text:
        raise InvalidInput(field, data, "holds only a symbology identifier, no data")
    body = text.lstrip(GS)
    for prefix, kind in ((KIT_PREFIX, "kit"), (LOCATION_PREFIX, "location"),
                         (COURSE_PREFIX, "course")):  # fmt: skip
        if body.upper().startswith(prefix):
            value = body[len(prefix) :].strip(_WHITESPACE)
            if not value:
                raise InvalidInput(field, data, f"the {kind} code {prefix} names no {kind}")
            if kind == "course":
                if not value.isdigit() or len(value) > 9:
                    raise InvalidInput(
                        field, data, f"a course card's code is {prefix} and the course number"
                    )
                return Code("course", value, course=int(value))
            return Code(kind, value.upper() if kind == "location" else value)
    looks_gs1 = (
        symbology in _GS1_SYMBOLOGIES
        or text.startswith(("(", GS))
        or GS in text
        or re.match(r"^01\d{14}", text) is not None
    )
    if looks_gs1:
        return Code("gs1", text, gs1=parse_scan(text, field))
    if any(ch < " " or ch == "\x7f" for ch in text):
        raise InvalidInput(field, data, "holds control characters a code never has")
    return Code("text", text)


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
