"""Numbers, money and dates as the locale in force writes them, and numbers as people type
them, from Babel's copy of the Unicode CLDR.

The neutral locale ``en`` (what a machine with ``LANG=C`` gets) keeps kitops' plain
forms, which scripts and the tests read: ISO dates (``2026-12-04``), amounts with the
currency code after them (``315.00 GBP``), numbers without grouping. Every other locale
gets CLDR's: ``€ 315,00`` and ``4.12.2026`` in de_AT, ``£315.00`` and ``04/12/2026`` in
en_GB.

Babel is imported on first use, so commands that show no number start without it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING, Protocol

from kitops.errors import InvalidInput
from kitops.i18n import DEFAULT_LOCALE, _, current_locale, normalize_locale

if TYPE_CHECKING:
    from babel import Locale

__all__ = [
    "date",
    "date_long",
    "datetime",
    "day_month",
    "decimal_symbol",
    "first_weekday",
    "money",
    "number",
    "parse_decimal_input",
    "percent",
    "weekday",
]


class MoneyLike(Protocol):
    """What ``money`` needs of an amount (``kitops.domain.money.Money`` has both)."""

    @property
    def amount(self) -> Decimal: ...

    @property
    def currency(self) -> str: ...


def _tag(locale: str | None) -> str:
    return normalize_locale(locale) if locale else current_locale()


def _neutral(tag: str) -> bool:
    return tag == DEFAULT_LOCALE


@cache
def _babel(tag: str) -> Locale:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(tag)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def money(value: MoneyLike, locale: str | None = None) -> str:
    """``315.00 GBP`` (neutral), ``£315.00`` (en_GB), ``€ 315,00`` (de_AT): the currency's own
    minor digits (ISO 4217), never rounded further."""
    tag = _tag(locale)
    amount = value.amount
    if _neutral(tag):
        return f"{amount} {value.currency}"
    from babel.numbers import format_currency

    # the amount's own places (its currency's ISO 4217 minor unit, as Money keeps it), not
    # CLDR's idea of the currency's digits: an amount is never rounded for display
    places = max(0, -int(amount.as_tuple().exponent))
    loc = _babel(tag)
    pattern = re.sub(
        r"0\.0+",
        "0" + ("." + "0" * places if places else ""),
        loc.currency_formats["standard"].pattern,
    )
    return format_currency(
        amount,
        value.currency,
        format=pattern,
        locale=loc,
        currency_digits=False,
        decimal_quantization=False,
    )


def number(
    value: int | Decimal | float, locale: str | None = None, *, decimals: int | None = None
) -> str:
    """``1250`` (neutral), ``1,250`` (en_GB), ``1.250`` (de); ``decimals`` fixes the places."""
    tag = _tag(locale)
    if decimals is not None:
        value = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    if _neutral(tag):
        return str(value)
    from babel.numbers import format_decimal

    pattern = None
    if decimals is not None:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=_babel(tag), decimal_quantization=False)


def percent(value: Decimal | float, locale: str | None = None, *, decimals: int = 0) -> str:
    """A fraction as a percentage: ``0.125`` → ``12.5%`` (neutral with ``decimals=1``),
    ``12,5 %`` (de)."""
    tag = _tag(locale)
    if _neutral(tag):
        shown = Decimal(str(value)) * 100
        return f"{shown.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)}%"
    from babel.numbers import format_percent

    loc = _babel(tag)
    standard = loc.percent_formats[None].pattern  # "#,##0%", "#,##0 %" (de)
    pattern = re.sub(r"0(?!.*0)", "0" + ("." + "0" * decimals if decimals else ""), standard)
    return format_percent(value, format=pattern, locale=loc, decimal_quantization=True)


def date(value: dt.date, locale: str | None = None) -> str:
    """A day in figures: ``2026-12-04`` (neutral), ``04/12/2026`` (en_GB), ``4.12.2026``
    (de, de_AT)."""
    tag = _tag(locale)
    if _neutral(tag):
        return value.isoformat()
    from babel.dates import format_skeleton

    return format_skeleton("yMd", value, locale=_babel(tag))


def day_month(value: dt.date, locale: str | None = None) -> str:
    """A day and its month's abbreviation, for a chart's axis: ``07 Dec`` (neutral),
    ``7 Dec`` (en_GB), ``7. Dez.`` (de, de_AT), ``4. Jän.`` (de_AT: CLDR's Austrian)."""
    tag = _tag(locale)
    from babel.dates import format_date, format_skeleton

    if _neutral(tag):
        return format_date(value, format="dd MMM", locale=_babel("en"))
    return format_skeleton("MMMd", value, locale=_babel(tag))


def weekday(value: dt.date, locale: str | None = None) -> str:
    """A day's short weekday name: ``Mon`` (neutral), ``Mo.`` (de)."""
    tag = _tag(locale)
    if _neutral(tag):
        return value.strftime("%a")
    from babel.dates import format_date

    return format_date(value, format="EEE", locale=_babel(tag))


def date_long(value: dt.date, locale: str | None = None) -> str:
    """A day in words, for documents: ``4 December 2026`` (neutral and en_GB), ``4. Dezember
    2026`` (de), ``4. Jänner 2027`` (de_AT)."""
    tag = _tag(locale)
    from babel.dates import format_date

    return format_date(value, format="long", locale=_babel("en_GB" if _neutral(tag) else tag))


def datetime(value: dt.datetime, locale: str | None = None) -> str:
    """A moment to the minute in its own zone: ``2026-12-04 14:05`` (neutral),
    ``4.12.2026, 14:05`` (de)."""
    tag = _tag(locale)
    if _neutral(tag):
        return value.strftime("%Y-%m-%d %H:%M")
    from babel.dates import format_time

    loc = _babel(tag)
    glue = str(loc.datetime_formats["short"])  # "{1}, {0}": the date, then the time
    return glue.replace("{1}", date(value, tag)).replace(
        "{0}", format_time(value, "short", locale=loc)
    )


def first_weekday(locale: str | None = None) -> int:
    """The locale's first day of the week, 0 = Monday (neutral: Monday, as ISO 8601)."""
    tag = _tag(locale)
    return 0 if _neutral(tag) else int(_babel(tag).first_week_day)


def decimal_symbol(locale: str | None = None) -> str:
    """The locale's decimal separator (``.`` neutral and English, ``,`` German)."""
    tag = _tag(locale)
    if _neutral(tag):
        return "."
    from babel.numbers import get_decimal_symbol

    return str(get_decimal_symbol(_babel(tag)))


_PLAIN = re.compile(r"-?\d+(\.\d+)?")
# one separator followed by exactly three digits: a thousands group in one convention and
# a decimal part in the other (1,250 or 1.250)
_AMBIGUOUS = re.compile(r"-?\d{1,3}[.,]\d{3}")


def parse_decimal_input(text: str, field: str, locale: str | None = None) -> Decimal:
    """A number as a person typed it: always ``12.50``; also ``12,50`` where the locale
    writes a decimal comma (de_AT), and ``1.250,50`` with the locale's grouping. Never a
    guess: ``1,250`` or ``1.250`` could be 1250 or 1.25, so it is refused with a line saying
    how to write either."""
    raw = text.strip()
    tag = _tag(locale)
    comma_locale = decimal_symbol(tag) == ","
    if _AMBIGUOUS.fullmatch(raw) and ("," in raw or comma_locale):
        whole, frac = re.split(r"[.,]", raw.lstrip("-"))
        raise InvalidInput(
            field,
            text,
            _(
                "is ambiguous: write {grouped} for the whole number or {decimal} for the decimal"
            ).format(grouped=f"{whole}{frac}", decimal=f"{whole}.{frac}"),
        )
    if _PLAIN.fullmatch(raw):
        return Decimal(raw)
    if comma_locale and "," in raw:
        from babel.numbers import NumberFormatError, parse_decimal

        try:
            return Decimal(parse_decimal(raw, locale=_babel(tag), strict=True))
        except (NumberFormatError, InvalidOperation):
            pass
    elif "," in raw and re.fullmatch(r"-?\d+,\d+", raw):
        raise InvalidInput(
            field,
            text,
            _(
                "uses a decimal comma: write {decimal}, or give --locale with a locale "
                "that writes one"
            ).format(decimal=raw.replace(",", ".")),
        )
    raise InvalidInput(field, text, _("is not a number"))
