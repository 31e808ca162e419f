"""Frozen values of stock: locations, stock lines, receipts, moves and counts (a lot's
detail, trace and recall are in ``lots``, the expiry sweep in ``sweep``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Location:
    code: str
    name: str
    kind: str
    parent: str | None
    clinic: str | None
    timezone: str | None
    currency: str | None
    virtual: bool
    # a clinic's delivery address, who to call, and the country whose VAT rates apply
    address: str | None = None
    contact: str | None = None
    country: str | None = None
    # the clinic's locale (its documents' language and formats); None: not set
    locale: str | None = None


@dataclass(frozen=True)
class StockLine:
    clinic: str | None
    location: str
    sku: str
    product: str
    lot: str
    expiry: date | None
    days_to_expiry: int | None
    status: str
    available: bool
    quantity: int


@dataclass(frozen=True)
class Receipt:
    sku: str
    lot: str
    expiry: date | None
    status: str
    new_lot: bool
    quantity: int
    location: str
    on_hand_at_location: int
    reference: str | None


@dataclass(frozen=True)
class MovedLot:
    lot: str
    expiry: date | None
    quantity: int


@dataclass(frozen=True)
class Transfer:
    sku: str
    from_location: str
    to_location: str
    quantity: int
    lots: tuple[MovedLot, ...]


@dataclass(frozen=True)
class WriteOff:
    sku: str
    lot: str
    location: str
    quantity: int
    reason: str
    on_hand_after: int


@dataclass(frozen=True)
class CountLine:
    sku: str
    lot: str
    expected: int
    counted: int
    difference: int


@dataclass(frozen=True)
class CountReport:
    location: str
    lines_counted: int
    differences: tuple[CountLine, ...]
    units_added: int
    units_removed: int
