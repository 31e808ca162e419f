"""Money as integer minor units plus an ISO 4217 currency code; never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from kitops.domain.numbers import parse_decimal, scale
from kitops.errors import InvalidInput
from kitops.i18n import _

MAX_MINOR_UNITS = 10**15
_CODE = re.compile(r"^[A-Z]{3}$")


@cache
def _iso_4217() -> dict[str, tuple[int | None, str]]:
    """Code → (minor units, name) from the ISO 4217 list the ``iso4217`` package ships
    (the maintenance agency's own table, updated with each amendment). Loaded on first use:
    it parses an XML file, and most commands never show money."""
    from iso4217 import Currency

    return {c.code: (c.exponent, c.currency_name) for c in Currency}


def currency_code(value: str, field: str = "currency") -> str:
    """Validate and normalise a currency code (``gbp`` → ``GBP``): a current ISO 4217
    currency with a minor unit. Codes for no currency (XXX), testing (XTS), precious
    metals and units without a minor unit (XAU, XDR) hold no money kitops can record."""
    code = value.strip().upper()
    if not _CODE.match(code):
        raise InvalidInput(field, value, _("must be a three-letter ISO 4217 code such as GBP"))
    known = _iso_4217().get(code)
    if known is None:
        raise InvalidInput(field, code, _("is not an ISO 4217 currency code (GBP, EUR, USD...)"))
    digits, name = known
    if digits is None:
        raise InvalidInput(
            field,
            code,
            _("is not a currency kitops can record (ISO 4217: {name}; no minor unit)").format(
                name=name
            ),
        )
    return code


def exponent(currency: str) -> int:
    """Decimal places of the currency's minor unit (ISO 4217). A code the table does not
    know (only possible in data kept from before codes were checked) prints with two."""
    digits = _iso_4217().get(currency, (None, ""))[0]
    return 2 if digits is None else digits


@dataclass(frozen=True, order=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        # the shape only: an amount read back from the database keeps its code as stored
        # (input is checked against ISO 4217 by ``currency_code`` and ``parse``)
        code = self.currency.strip().upper()
        if not _CODE.match(code):
            raise InvalidInput("currency", self.currency, _("must be a three-letter ISO 4217 code"))
        object.__setattr__(self, "currency", code)

    @classmethod
    def parse(cls, amount: str, currency: str, field: str = "amount") -> Money:
        """``Money.parse("315.00", "GBP")`` → ``Money(31500, "GBP")``; refuses sub-minor digits.
        A bad currency is named as ``currency``, or ``<field> currency`` for a named field
        (``cost currency 'GPB'``)."""
        code = currency_code(currency, "currency" if field == "amount" else f"{field} currency")
        value = parse_decimal(amount, field)
        if value < 0:
            raise InvalidInput(field, amount, _("must not be negative"))
        scaled = scale(value, exponent(code))
        if scaled != scaled.to_integral_value():
            raise InvalidInput(
                field,
                amount,
                _("has more decimals than {code} allows ({decimals})").format(
                    code=code, decimals=exponent(code)
                ),
            )
        if scaled > MAX_MINOR_UNITS:
            raise InvalidInput(field, amount, _("is larger than kitops records"))
        return cls(int(scaled), code)

    @property
    def amount(self) -> Decimal:
        """The amount in whole units, exactly: ``Money(1250, "GBP").amount`` → ``Decimal("12.50")``
        (the number ``str`` shows before the code)."""
        return scale(Decimal(self.amount_minor), -exponent(self.currency))

    def __str__(self) -> str:
        exp = exponent(self.currency)
        if exp == 0:
            return f"{self.amount_minor} {self.currency}"
        sign = "-" if self.amount_minor < 0 else ""
        whole, frac = divmod(abs(self.amount_minor), 10**exp)
        return f"{sign}{whole}.{frac:0{exp}d} {self.currency}"
