"""Money: integer minor units plus an ISO 4217 code, parsed from what people type."""

from decimal import Decimal

import pytest

from kitops.domain.money import Money, currency_code, exponent
from kitops.errors import InvalidInput
from kitops.services.dto import as_json
from kitops.services.dto.payments import PaymentsLine


def test_pounds_and_pence_are_stored_as_whole_pence():
    assert Money.parse("315.00", "GBP") == Money(31500, "GBP")


def test_an_amount_without_decimals_is_whole_pounds():
    assert Money.parse("42", "GBP") == Money(4200, "GBP")


def test_one_decimal_place_is_tens_of_pence():
    assert Money.parse("0.5", "GBP") == Money(50, "GBP")


def test_surrounding_spaces_in_the_amount_are_ignored():
    assert Money.parse("  12.34 ", "GBP") == Money(1234, "GBP")


def test_yen_has_no_minor_unit():
    assert exponent("JPY") == 0
    assert Money.parse("1500", "JPY") == Money(1500, "JPY")


def test_yen_with_decimals_is_refused():
    with pytest.raises(InvalidInput) as err:
        Money.parse("1500.5", "JPY")
    assert (err.value.field, err.value.value) == ("amount", "1500.5")


def test_yen_with_zero_decimals_is_the_same_whole_amount():
    assert Money.parse("1500.00", "JPY") == Money(1500, "JPY")


def test_dinar_has_three_decimals():
    assert exponent("KWD") == 3
    assert Money.parse("1.234", "KWD") == Money(1234, "KWD")


def test_euro_and_franc_have_two_decimals():
    assert exponent("EUR") == 2
    assert exponent("CHF") == 2


@pytest.mark.parametrize(
    ("code", "digits"),
    # the ISO 4217 table's minor units: a hand-written table had CLF and UYW at 2
    [("CLF", 4), ("UYW", 4), ("MGA", 2), ("IQD", 3), ("UYI", 0), ("ISK", 0), ("HUF", 2)],
)
def test_minor_units_come_from_the_iso_4217_table(code, digits):
    assert exponent(code) == digits


def test_a_unit_of_account_takes_its_four_decimals():
    assert Money.parse("1.2345", "CLF") == Money(12345, "CLF")
    assert str(Money(12345, "CLF")) == "1.2345 CLF"


def test_malagasy_ariary_is_a_currency():
    assert currency_code("mga") == "MGA"
    assert Money.parse("1000.50", "MGA") == Money(100050, "MGA")


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("GPB", "not an ISO 4217"),  # a typo for GBP
        ("ABC", "not an ISO 4217"),
        ("HRK", "not an ISO 4217"),  # withdrawn (the euro since 2023)
        ("XXX", "no currency"),
        ("XTS", "testing"),
        ("XAU", "Gold"),
        ("XDR", "no minor unit"),
    ],
)
def test_codes_that_are_no_currency_kitops_can_hold_are_refused(code, why):
    with pytest.raises(InvalidInput) as err:
        currency_code(code)
    assert (err.value.field, err.value.value) == ("currency", code)
    assert why in err.value.reason


def test_a_bad_currency_in_a_cost_names_the_cost():
    with pytest.raises(InvalidInput) as err:
        Money.parse("35", "GPB", "cost")
    assert (err.value.field, err.value.value) == ("cost currency", "GPB")
    assert str(err.value).startswith("cost currency 'GPB': ")


def test_fractions_of_a_penny_are_refused():
    with pytest.raises(InvalidInput) as err:
        Money.parse("1.234", "GBP")
    assert (err.value.field, err.value.value) == ("amount", "1.234")
    assert "GBP" in err.value.reason


def test_trailing_zeros_beyond_the_minor_unit_are_accepted():
    assert Money.parse("1.2300", "GBP") == Money(123, "GBP")


def test_refusal_names_the_field_the_caller_gave():
    with pytest.raises(InvalidInput) as err:
        Money.parse("1.234", "GBP", field="unit_cost")
    assert err.value.field == "unit_cost"


def test_negative_amount_is_refused():
    with pytest.raises(InvalidInput) as err:
        Money.parse("-1.00", "GBP")
    assert (err.value.field, err.value.value) == ("amount", "-1.00")
    assert "negative" in err.value.reason


def test_zero_is_a_valid_amount():
    assert Money.parse("0", "GBP") == Money(0, "GBP")


@pytest.mark.parametrize("text", ["abc", "", "   ", "1,000.00", "£5", "12.3.4"])
def test_text_that_is_not_a_number_is_refused(text):
    with pytest.raises(InvalidInput) as err:
        Money.parse(text, "GBP")
    assert (err.value.field, err.value.value) == ("amount", text)


@pytest.mark.parametrize("text", ["NaN", "nan", "sNaN", "inf", "Infinity", "-inf"])
def test_not_a_number_and_infinity_are_refused(text):
    with pytest.raises(InvalidInput) as err:
        Money.parse(text, "GBP")
    assert (err.value.field, err.value.value) == ("amount", text)


def test_lower_case_currency_is_normalised_to_upper_case():
    assert Money.parse("315.00", "gbp") == Money(31500, "GBP")
    assert currency_code(" eur ") == "EUR"


def test_lower_case_yen_still_has_no_decimals():
    assert Money.parse("1500", "jpy") == Money(1500, "JPY")


@pytest.mark.parametrize("code", ["", "GB", "GBPP", "G1P", "£££", "GB P", "US$"])
def test_currency_codes_that_are_not_three_letters_are_refused(code):
    with pytest.raises(InvalidInput) as err:
        currency_code(code)
    assert (err.value.field, err.value.value) == ("currency", code)


def test_parse_refuses_a_bad_currency_before_looking_at_the_amount():
    with pytest.raises(InvalidInput) as err:
        Money.parse("abc", "pounds")
    assert (err.value.field, err.value.value) == ("currency", "pounds")


def test_constructing_money_with_a_bad_currency_is_refused():
    with pytest.raises(InvalidInput) as err:
        Money(100, "XX")
    assert (err.value.field, err.value.value) == ("currency", "XX")


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(31500, "GBP"), "315.00 GBP"),
        (Money(5, "GBP"), "0.05 GBP"),
        (Money(0, "GBP"), "0.00 GBP"),
        (Money(1500, "JPY"), "1500 JPY"),
        (Money(1234, "KWD"), "1.234 KWD"),
        (Money(7, "KWD"), "0.007 KWD"),
    ],
)
def test_money_prints_with_the_currency_minor_unit(money, text):
    assert str(money) == text


def test_money_orders_by_amount_within_a_currency():
    assert Money(100, "GBP") < Money(250, "GBP")


def test_a_negative_amount_prints_its_true_value():
    assert str(Money(-5, "GBP")) == "-0.05 GBP"


def test_constructing_money_with_a_lower_case_code_behaves_like_upper_case():
    assert Money(1500, "jpy") == Money(1500, "JPY")
    assert str(Money(1500, "jpy")) == "1500 JPY"


def test_sub_penny_digits_hidden_past_28_significant_digits_are_still_refused():
    with pytest.raises(InvalidInput):
        Money.parse("10.000000000000000000000000000001", "GBP")


def test_a_very_long_amount_is_kept_exactly_or_refused():
    typed = "12345678901234567890123456789"
    try:
        money = Money.parse(typed, "GBP")
    except InvalidInput:
        return
    assert money.amount_minor == int(typed) * 100


def test_an_absurdly_large_exponent_is_refused_as_bad_input():
    with pytest.raises(InvalidInput) as err:
        Money.parse("1e999999", "GBP")
    assert err.value.field == "amount"


def test_the_amount_in_whole_units_is_the_number_people_see():
    assert Money(1250, "GBP").amount == Decimal("12.50")
    assert str(Money(0, "EUR").amount) == "0.00"
    assert str(Money(1250, "JPY").amount) == "1250"  # no minor unit
    assert str(Money(1250, "BHD").amount) == "1.250"  # three decimals


def test_money_in_json_is_minor_units_and_currency_wherever_it_sits():
    order = PaymentsLine("LON", "GBP", 1, 1, Money(1250, "GBP"), Money(0, "GBP"),
                         Money(1250, "GBP"), 0, Money(0, "GBP"))  # fmt: skip

    assert as_json(Money(1250, "GBP")) == {"amount_minor": 1250, "currency": "GBP"}
    assert as_json(order)["net"] == {"amount_minor": 1250, "currency": "GBP"}
    assert as_json([Money(5, "EUR")]) == [{"amount_minor": 5, "currency": "EUR"}]
