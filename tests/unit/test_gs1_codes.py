"""The codes kitops prints and reads: kit element strings (GS1 order, GS only between
variable-length elements), kitops's own location and course codes, and every form a
scanner or a person may type them in."""

from __future__ import annotations

from datetime import date

import pytest

from kitops.errors import InvalidInput
from kitops.gs1 import (
    GS,
    course_code,
    human_readable,
    kit_element_string,
    location_code,
    parse_gtin,
    read_code,
)

GTIN = "05060999900083"
KIT = f"01{GTIN}17270531" + "10PTT6-A0519" + GS + "21K0000001"


def test_kit_element_string_puts_fixed_length_elements_first_and_gs_only_between_variable_ones():
    code = kit_element_string("K0000001", gtin=GTIN, expiry=date(2027, 5, 31), lot="PTT6-A0519")
    assert code == KIT
    assert not code.endswith(GS)
    assert human_readable(code) == "(01)05060999900083(17)270531(10)PTT6-A0519(21)K0000001"


def test_kit_without_one_lot_or_expiry_leaves_those_elements_out():
    assert kit_element_string("K1", gtin=GTIN) == f"01{GTIN}21K1"
    assert kit_element_string("K1", gtin=GTIN, expiry=date.max, lot=None) == f"01{GTIN}21K1"
    # a lot GS1 cannot carry (a space, 21 characters) is left out, not mangled
    assert kit_element_string("K1", gtin=GTIN, lot="LOT 1") == f"01{GTIN}21K1"
    assert kit_element_string("K1", gtin=GTIN, lot="L" * 21) == f"01{GTIN}21K1"


def test_kit_without_a_gtin_gets_kitops_own_code():
    assert kit_element_string("K0000001", gtin=None, expiry=date(2027, 5, 31)) == "KKIT:K0000001"
    assert kit_element_string("K 1", gtin=GTIN) == "KKIT:K 1"  # no GS1 serial has a space


def test_location_and_course_codes_hold_the_code_and_the_number_only():
    assert location_code("LON-FRIDGE") == "KLOC:LON-FRIDGE"
    assert course_code(12) == "KCRS:12"
    assert human_readable("KLOC:LON-FRIDGE") == "KLOC:LON-FRIDGE"


@pytest.mark.parametrize(
    "typed",
    [
        KIT,
        "]d2" + KIT,  # GS1 DataMatrix
        "]C1" + KIT,  # GS1-128
        "]Q3" + KIT,  # GS1 QR Code
        "]e0" + KIT,  # GS1 DataBar
        GS + KIT,  # libdmtx reports the leading FNC1 as a GS
        "  ]d2" + KIT + "\r\n",  # a scanner's trailing Enter, stray spaces
        "(01)05060999900083(17)270531(10)PTT6-A0519(21)K0000001",
    ],
)
def test_every_form_of_a_kit_code_reads_the_same(typed):
    code = read_code(typed)
    assert code.kind == "gs1"
    assert code.gs1 is not None
    assert (code.gs1.gtin, code.gs1.serial, code.gs1.lot, code.gs1.expiry) == (
        GTIN, "K0000001", "PTT6-A0519", date(2027, 5, 31),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("KLOC:LON-FRIDGE", "location", "LON-FRIDGE"),
        ("]d1kloc:lon-fridge\n", "location", "LON-FRIDGE"),
        ("KCRS:12", "course", "12"),
        (" ]d1KCRS:7 ", "course", "7"),
        ("KKIT:K0000001", "kit", "K0000001"),
        ("K0000001", "text", "K0000001"),
        ("]C0PTT6-A0519", "text", "PTT6-A0519"),  # a supplier's plain Code 128 lot
    ],
)
def test_kitops_own_and_plain_codes(typed, kind, value):
    code = read_code(typed)
    assert (code.kind, code.value) == (kind, value)
    if kind == "course":
        assert code.course == int(value)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "is empty"),
        ("  \r\n", "is empty"),
        ("]d2", "only a symbology identifier"),
        ("(01)05060999900084(21)K1", "GTIN check digit is wrong (05060999900084: the last"),
        ("]d2" + f"01{GTIN}17271331" + "21K1", "the expiry 271331 is not a date"),
        ("KCRS:twelve", "a course card's code is KCRS: and the course number"),
        ("KLOC:", "names no location"),
        ("(21)K0000001", "the scan has no GTIN (01)"),
        ("K0000\x07001", "control characters"),
        ("9" * 401, "is longer than any code (400 characters)"),
    ],
)
def test_a_malformed_scan_says_in_words_what_is_wrong(typed, words):
    with pytest.raises(InvalidInput) as err:
        read_code(typed)
    assert err.value.field == "scan"
    assert words in err.value.reason
    assert "(?P<" not in err.value.reason
    assert "\\d" not in err.value.reason


def test_a_wrong_gtin_check_digit_is_bad_input_in_words():
    with pytest.raises(InvalidInput) as err:
        parse_gtin("05060999900084")
    assert err.value.field == "gtin"
    assert err.value.reason == (
        "GTIN check digit is wrong (05060999900084: the last digit should be 3)"
    )
