"""VAT on a purchase order: countries, rates and the tax of one line, in integers.

A rate is data per country and kind of product (``vat_rates``), kept in basis points:
20 % is 2000, 5.5 % is 550. The tax of an order line is its net amount times the rate,
rounded half up to the currency's minor unit, line by line; the order's VAT total is the
sum of the lines' VAT (so the printed lines always add up to the printed total).
"""

from __future__ import annotations

from decimal import Decimal

from kitops.domain.numbers import parse_decimal, scale
from kitops.errors import InvalidInput
from kitops.i18n import _

# ISO 3166-1 alpha-2, the officially assigned codes (the list the time zone database ships)
_ASSIGNED = (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO "
    "BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ "
    "DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP "
    "GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG "
    "KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML "
    "MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
    "PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL "
    "SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM "
    "US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
)
COUNTRIES = frozenset(_ASSIGNED.split(" "))

BASIS_POINTS = 10_000  # 100 %


def parse_country(value: str | None, field: str = "country") -> str:
    """``gb`` → ``GB``: an assigned ISO 3166-1 alpha-2 code (``UK`` is not one: ``GB``)."""
    code = (value or "").strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise InvalidInput(field, value, _("must be a two-letter ISO 3166 country code such as GB"))
    if code not in COUNTRIES:
        if code == "UK":
            raise InvalidInput(
                field, value, _("is not an ISO 3166 country code (the United Kingdom is GB)")
            )
        raise InvalidInput(field, value, _("is not an ISO 3166 country code"))
    return code


def parse_rate(value: object, field: str = "rate") -> int:
    """A percentage as typed (``20``, ``5.5``, ``0``, ``20%``) → basis points (2000, 550,
    0): 0 to 100 with at most two decimals."""
    text = str(value if value is not None else "").strip().removesuffix("%").strip()
    number = parse_decimal(text, field) if text else None
    if number is None:
        raise InvalidInput(field, value, _("give a percentage such as 20 or 5.5"))
    if number < 0 or number > 100:
        raise InvalidInput(field, value, _("must be a percentage from 0 to 100"))
    points = scale(number, 2)
    if points != points.to_integral_value():
        raise InvalidInput(field, value, _("must have at most two decimals (5.5, 7.25)"))
    return int(points)


def rate_text(rate_bp: int) -> str:
    """2000 → ``20%``, 550 → ``5.5%``, 725 → ``7.25%``, 0 → ``0%``."""
    whole, part = divmod(rate_bp, 100)
    return f"{whole}%" if not part else f"{whole}.{part:02d}".rstrip("0") + "%"


def rate_decimal(rate_bp: int) -> Decimal:
    """2000 → ``Decimal("20")``, 550 → ``Decimal("5.5")`` (JSON and tables)."""
    return (Decimal(rate_bp) / 100).normalize() if rate_bp else Decimal(0)


def line_vat(net_minor: int, rate_bp: int) -> int:
    """VAT in minor units of a line's net amount: ``net × rate``, rounded half up (a half
    minor unit goes up), exactly, in integers."""
    if net_minor < 0 or not 0 <= rate_bp <= BASIS_POINTS:
        raise ValueError("a line's net amount and its VAT rate are never negative")
    return (net_minor * rate_bp * 2 + BASIS_POINTS) // (2 * BASIS_POINTS)
