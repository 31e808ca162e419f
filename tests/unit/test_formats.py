"""Numbers, money and dates per locale (Babel/CLDR), and numbers as people type them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kitops.domain.money import Money
from kitops.errors import InvalidInput
from kitops.i18n import formats, use_locale


@pytest.mark.parametrize(
    ("locale", "amount", "shown"),
    [
        ("en", Money(31500, "GBP"), "315.00 GBP"),
        ("en_GB", Money(31500, "GBP"), "£315.00"),
        ("de_AT", Money(31500, "EUR"), "€\xa0315,00"),
        ("de", Money(31500, "EUR"), "315,00\xa0€"),
        ("de_AT", Money(123456789, "EUR"), "€\xa01.234.567,89"),
        ("de_AT", Money(1500, "JPY"), "¥\xa01.500"),
        ("en_GB", Money(150000, "MGA"), "MGA1,500.00"),
        ("de_AT", Money(1234, "KWD"), "KWD\xa01,234"),
        ("en", Money(-1250, "GBP"), "-12.50 GBP"),
    ],
)
def test_money_in_the_locale_with_the_currency_minor_digits(
    locale: str, amount: Money, shown: str
) -> None:
    assert formats.money(amount, locale) == shown


def test_money_follows_the_locale_in_force() -> None:
    with use_locale("de_AT"):
        assert formats.money(Money(31500, "EUR")) == "€\xa0315,00"
    assert formats.money(Money(31500, "EUR")) == "315.00 EUR"


@pytest.mark.parametrize(
    ("locale", "day", "shown", "long"),
    [
        ("en", dt.date(2026, 12, 4), "2026-12-04", "4 December 2026"),
        ("en_GB", dt.date(2026, 12, 4), "04/12/2026", "4 December 2026"),
        ("de", dt.date(2026, 12, 4), "4.12.2026", "4. Dezember 2026"),
        ("de_AT", dt.date(2027, 1, 4), "4.1.2027", "4. Jänner 2027"),
    ],
)
def test_dates(locale: str, day: dt.date, shown: str, long: str) -> None:
    assert formats.date(day, locale) == shown
    assert formats.date_long(day, locale) == long


def test_numbers_percentages_and_the_week() -> None:
    assert formats.number(1250, "en") == "1250"
    assert formats.number(1250, "de_AT") == "1.250"
    assert formats.number(Decimal("2.5"), "de", decimals=2) == "2,50"
    assert formats.number(Decimal("0.125"), "en_GB", decimals=2) == "0.13"
    assert formats.percent(Decimal("0.125"), "en", decimals=1) == "12.5%"
    assert formats.percent(Decimal("0.125"), "de", decimals=1) == "12,5\xa0%"
    assert formats.first_weekday("de_AT") == 0
    assert formats.first_weekday("en_US") == 6
    assert formats.datetime(dt.datetime(2026, 12, 4, 14, 5), "de") == "4.12.2026, 14:05"


@pytest.mark.parametrize(
    ("text", "locale", "value"),
    [
        ("12.50", "en", Decimal("12.50")),
        ("12.50", "de_AT", Decimal("12.50")),
        ("12,50", "de_AT", Decimal("12.50")),
        ("1.250,50", "de_AT", Decimal("1250.50")),
        ("1250", "de_AT", Decimal("1250")),
        ("-3", "en", Decimal("-3")),
        (" 7 ", "en", Decimal("7")),
    ],
)
def test_numbers_as_typed(text: str, locale: str, value: Decimal) -> None:
    assert formats.parse_decimal_input(text, "price", locale) == value


@pytest.mark.parametrize(
    ("text", "locale", "says"),
    [
        ("1,250", "de_AT", "ambiguous: write 1250 for the whole number or 1.250"),
        ("1.250", "de_AT", "ambiguous"),
        ("1,250", "en", "ambiguous"),
        ("12,50", "en", "uses a decimal comma: write 12.50"),
        ("12,5,0", "de_AT", "is not a number"),
        ("twelve", "en", "is not a number"),
        ("", "en", "is not a number"),
    ],
)
def test_numbers_refused_with_a_line_saying_why(text: str, locale: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        formats.parse_decimal_input(text, "price", locale)
    assert refused.value.field == "price"
    assert says in refused.value.reason


def test_the_refusal_speaks_german_in_german() -> None:
    with use_locale("de_AT"), pytest.raises(InvalidInput) as refused:
        formats.parse_decimal_input("1,250", "price")
    assert "mehrdeutig" in refused.value.reason


def test_a_weekday_in_short():
    monday = dt.date(2026, 12, 7)
    assert formats.weekday(monday, "en") == "Mon"
    assert formats.weekday(monday, "de") == "Mo."
