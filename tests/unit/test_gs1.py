"""GTINs through the GS1 adapter: shape, check digit and the 14-digit form."""

import pytest

from kitops.errors import InvalidInput
from kitops.gs1 import parse_gtin


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
