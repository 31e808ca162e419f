"""GTINs through the GS1 adapter: shape, check digit and the 14-digit form."""

import pytest

from kitops.errors import InvalidInput
from kitops.gs1 import parse_gtin, parse_scan


@pytest.mark.parametrize(
    ("gtin", "gtin14"),
    [
        ("5060999900014", "05060999900014"),
        ("5012345678900", "05012345678900"),
        (" 5060999900014 ", "05060999900014"),
        ("05060999900014", "05060999900014"),
    ],
)
def test_valid_gtin_becomes_its_fourteen_digit_form(gtin, gtin14):
    assert parse_gtin(gtin) == gtin14


def test_wrong_check_digit_is_refused():
    with pytest.raises(InvalidInput) as err:
        parse_gtin("5012345678901")
    assert (err.value.field, err.value.value) == ("gtin", "5012345678901")
    assert "check digit" in err.value.reason


def test_refusal_names_the_field_the_caller_gave():
    with pytest.raises(InvalidInput) as err:
        parse_gtin("5012345678901", field="component_gtin")
    assert err.value.field == "component_gtin"


@pytest.mark.parametrize("gtin", ["50609999ABCDE", "GTIN5060999900", "", "5060999900"])
def test_letters_and_wrong_lengths_are_refused(gtin):
    with pytest.raises(InvalidInput) as err:
        parse_gtin(gtin)
    assert (err.value.field, err.value.value) == ("gtin", gtin)


@pytest.mark.parametrize("gtin", ["５０６０９９９９０００１４", "٥٠٦٠٩٩٩٩٠٠٠١٤"])
def test_non_ascii_digits_are_refused(gtin):
    with pytest.raises(InvalidInput) as err:
        parse_gtin(gtin)
    assert (err.value.field, err.value.value) == ("gtin", gtin)


# --- a malformed scan says what is wrong in words, never the parser's pattern ---------

GOOD = "(01)05060999900014"


@pytest.mark.parametrize(
    ("scan", "words"),
    [
        ("(17)271231(10)L1", "the scan has no GTIN (01)"),
        (f"{GOOD}(17)271399(10)L1", "the expiry 271399 is not a date (YYMMDD)"),
        ("01050609999000141727023010L1", "the expiry 270230 is not a date (YYMMDD)"),
        ("0105060999900014172712", "the expiry (17) '2712' is not a date: it needs 6 digits"),
        ("(01)05060999900015(17)271231", "GTIN check digit is wrong"),
        ("(01)0506099990001", "the GTIN (01) '0506099990001' is not 14 digits"),
        (f"{GOOD}(23)12", "unknown element (23)"),
        ("01050609999000142312", "unknown element (23)"),
        ("hello", "is not a GS1 label"),
        ("]", "is not a GS1 label"),
    ],
)
def test_a_malformed_scan_says_what_is_wrong_in_words(scan, words):
    with pytest.raises(InvalidInput) as err:
        parse_scan(scan)
    assert (err.value.field, err.value.value) == ("scan", scan)
    assert words in err.value.reason
    for parser_talk in ("pattern", "Failed", "^", "\\d", "Application Identifier"):
        assert parser_talk not in err.value.reason


def test_the_check_digit_refusal_names_the_right_digit():
    with pytest.raises(InvalidInput) as err:
        parse_scan("(01)05060999900015")
    assert err.value.reason == (
        "GTIN check digit is wrong (05060999900015: the last digit should be 4)"
    )
