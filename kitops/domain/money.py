"""Money as integer minor units plus an ISO 4217 currency code; never floats."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kitops.domain.numbers import parse_decimal, scale
from kitops.errors import InvalidInput

MAX_MINOR_UNITS = 10**15
_CODE = re.compile(r"^[A-Z]{3}$")

# ISO 4217 currencies whose minor unit is not 1/100. Every other code uses two decimals.
_EXPONENTS: dict[str, int] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0, "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


def currency_code(value: str, field: str = "currency") -> str:
    """Validate and normalise a currency code (``gbp`` → ``GBP``)."""
    code = value.strip().upper()
    if not _CODE.match(code):
        raise InvalidInput(field, value, "must be a three-letter ISO 4217 code such as GBP")
    return code


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


@dataclass(frozen=True, order=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", currency_code(self.currency))

    @classmethod
    def parse(cls, amount: str, currency: str, field: str = "amount") -> Money:
        """``Money.parse("315.00", "GBP")`` → ``Money(31500, "GBP")``; refuses sub-minor digits."""
        code = currency_code(currency)
        value = parse_decimal(amount, field)
        if value < 0:
            raise InvalidInput(field, amount, "must not be negative")
        scaled = scale(value, exponent(code))
        if scaled != scaled.to_integral_value():
            raise InvalidInput(
                field, amount, f"has more decimals than {code} allows ({exponent(code)})"
            )
        if scaled > MAX_MINOR_UNITS:
            raise InvalidInput(field, amount, "is larger than kitops records")
        return cls(int(scaled), code)

    def __str__(self) -> str:
        exp = exponent(self.currency)
        if exp == 0:
            return f"{self.amount_minor} {self.currency}"
        sign = "-" if self.amount_minor < 0 else ""
        whole, frac = divmod(abs(self.amount_minor), 10**exp)
        return f"{sign}{whole}.{frac:0{exp}d} {self.currency}"
