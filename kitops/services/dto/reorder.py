"""Frozen values of scheduled demand, cover and reorder runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class DemandProduct:
    sku: str
    name: str
    kind: str  # serum_vial | derma_stamp | consumable | kit
    unit: str
    needle_mm: Decimal | None
    ml: Decimal | None


@dataclass(frozen=True)
class Need:
    """Units of one product one clinic needs on one day, from scheduled courses.

    ``source``: ``kit`` (a home course's kit, on the kit's first-use day),
    ``kit_component`` (what it takes to assemble a kit that no assembled kit covers, on
    the same day) or ``session`` (a clinic session's vials and supplies).
    ``covered_by`` (kit needs only): ``reserved`` when a kit is already reserved or out
    for that course, ``kit`` when an assembled, available kit at the clinic fits it;
    None when it is open (its components are then needs of their own).
    """

    clinic: str
    sku: str
    day: date
    needed_until: date  # must still be in date on this day (the expiry margin included)
    quantity: int
    source: str
    covered_by: str | None = None


@dataclass(frozen=True)
class StockLot:
    """Stock on hand at a clinic that could serve demand: released lots, lots awaiting
    release (``status`` ``awaiting_release``: in quarantine since receipt, no reason
    given) and available kits (``status`` ``available``, ``lot`` the serial, ``expiry``
    its earliest vial). Only stock still in date on the first day is listed."""

    clinic: str
    sku: str
    lot: str
    expiry: date | None
    status: str
    quantity: int


@dataclass(frozen=True)
class Demand:
    """Everything needed to set scheduled demand against stock, for days start..end."""

    start: date
    end: date  # inclusive
    margin_days: int
    clinic: str | None
    products: tuple[DemandProduct, ...]
    needs: tuple[Need, ...]
    stock: tuple[StockLot, ...]


@dataclass(frozen=True)
class Cover:
    """Scheduled demand of one product at one clinic against its usable stock."""

    clinic: str
    sku: str
    demand: int  # units needed start..end (kits already reserved left out)
    covered: int  # of which stock still in date when needed can serve
    short: int  # demand - covered
    on_hand: int  # usable stock in date on the first day
    expiring_unused: int  # of it, units that expire before any need they could serve
    first_short_day: date | None  # None: covered to the end of the window
    days_of_cover: int | None  # days from start to first_short_day; None: the whole window


@dataclass(frozen=True)
class Suggestion:
    """One product for one clinic: what to order and the arithmetic behind it."""

    clinic: str
    sku: str
    supplier: str
    method: str
    demand: int
    safety: int
    usable: int
    on_hand: int
    expiring_unused: int
    on_order: int
    net: int
    pack_size: int
    min_order: int
    quantity: int
    need_by: date | None
    horizon_end: date
    explanation: str
    po: str | None  # the draft order that holds it (None on a dry run or when nothing)


@dataclass(frozen=True)
class ReorderRun:
    as_of: date
    dry_run: bool
    in_progress: bool  # another run held the lock: nothing was computed or written
    policies: int
    suggestions: tuple[Suggestion, ...]  # lines with something to order
    orders_created: tuple[str, ...]
    orders_changed: tuple[str, ...]
    orders_cancelled: tuple[str, ...]
    summary: str
