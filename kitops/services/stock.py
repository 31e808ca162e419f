"""Stock on hand, read from the balance table."""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from kitops.data.queries.stock import driver_rows, lines_on_hand, product_names, stored_date
from kitops.data.repositories.locations import clinic_of, subtree_ids
from kitops.domain.catalog import parse_sku
from kitops.domain.ledger import LotStatus
from kitops.domain.locations import clinic_today, parse_location_code
from kitops.i18n import _
from kitops.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from kitops.services.dto import stock as stock_dto


def effective_status(status: str, expiry: date | None, today: date) -> str:
    """A released lot past its expiry day reads as expired before the sweep marks it."""
    if status == LotStatus.RELEASED.value and expiry is not None and expiry < today:
        return LotStatus.EXPIRED.value
    return status


# A stock line as a plain tuple, in ``StockLine``'s field order: clinic, location, SKU,
# product, lot, expiry, days to expiry, status, available, quantity. A long listing (the
# command line's table of a whole chain, 100,000 lines and more) reads these rather than
# frozen objects, whose making costs more than the rest of the read.
StockRow = tuple[str | None, str, str, str, str, date | None, int | None, str, bool, int]
# StockLine's fields in their order (tests/unit/test_stock_line_fields.py holds them to
# it), written out so that `kitops stock` does not define the stock DTOs it never makes
STOCK_FIELDS = (
    "clinic", "location", "sku", "product", "lot", "expiry", "days_to_expiry", "status",
    "available", "quantity",
)  # fmt: skip


def stock_on_hand(
    uow: UnitOfWork,
    *,
    location: str | None = None,
    sku: str | None = None,
    include_unavailable: bool = False,
    today: date | None = None,
) -> list[stock_dto.StockLine]:
    """On hand per lot and location, clinic by clinic, earliest expiry first.

    Days to expiry count from ``today``, by default the date in each clinic's time zone.
    ``location`` takes a clinic or any location below one and includes its subtree;
    without ``include_unavailable`` only released, in-date stock is listed.
    """
    from kitops.services.dto import stock as stock_dto

    # the collector rests from the first row read to the last line made, and the rows
    # are let go before it wakes: its first pass then walks the lines only
    with _collector_paused():
        rows = stock_rows(
            uow, location=location, sku=sku, include_unavailable=include_unavailable, today=today
        )
        # frozen StockLines, each given its fields in one go (its __init__ sets them one by
        # one through object.__setattr__, which costs more than reading them), made and
        # filled by map in C rather than one Python statement at a time
        lines = list(map(object.__new__, repeat(stock_dto.StockLine, len(rows))))
        values = _line_fields(rows)
        del rows
        deque(map(object.__setattr__, lines, repeat("__dict__"), values), maxlen=0)
        del values
    return lines


def _line_fields(rows: list[StockRow]) -> list[dict[str, object]]:
    """Each line's fields by name, as a StockLine holds them (``STOCK_FIELDS``): a dict
    display per line, which CPython makes at its final size, in half the time of
    ``dict(zip(STOCK_FIELDS, row))``."""
    return [
        {
            "clinic": clinic, "location": location, "sku": sku, "product": product,
            "lot": lot, "expiry": expiry, "days_to_expiry": days_to_expiry, "status": status,
            "available": available, "quantity": quantity,
        }
        for clinic, location, sku, product, lot, expiry, days_to_expiry, status, available,
        quantity in rows
    ]  # fmt: skip


def stock_rows(
    uow: UnitOfWork,
    *,
    location: str | None = None,
    sku: str | None = None,
    include_unavailable: bool = False,
    today: date | None = None,
) -> list[StockRow]:
    """``stock_on_hand``'s lines, in the same order, as plain tuples (``StockRow``: the
    fields of ``StockLine`` in its order), for a listing of every line of a chain."""
    # the collector rests while the rows are read and the lines made (see
    # _collector_paused), and the rows are let go before it wakes
    with _collector_paused():
        with uow:
            locations = uow.locations.all()
            by_id = {row.id: row for row in locations}
            clinics = {row.id: clinic_of(row, by_id) for row in locations}
            zones = {row_id: (c.timezone if c else None) for row_id, c in clinics.items()}
            days = (
                {zone: clinic_today(zone) for zone in set(zones.values())} if today is None else {}
            )
            places = None
            if location:
                code = parse_location_code(location)
                # the place from the locations just read (one query less); an unknown code
                # is refused by the repository, as everywhere
                root = next((row for row in locations if row.code == code), None)
                if root is None:
                    root = uow.locations.get(code)
                uow.check_place(root, doing=_("see stock"))
                places = subtree_ids(root, locations)
            places = uow.narrow_places(places)
            params: dict[str, object] = {}
            if places is not None:
                params["places"] = sorted(places)
            if sku:
                params["product_id"] = uow.products.get(parse_sku(sku)).id
            if not include_unavailable:
                params["earliest"] = today or min(days.values(), default=date.today())
            # the statement of this shape, built once (building it took longer than
            # running its cached compiled form)
            stmt = lines_on_hand(
                narrowed=places is not None,
                one_product=bool(sku),
                usable_only=not include_unavailable,
            )
            # the driver's rows (no ORM objects, no per-row work by SQLAlchemy), then one
            # lean pass
            rows = driver_rows(uow.session, stmt, params)
            products = product_names(uow.session, set(map(itemgetter(1), rows)))
            place_ids = set(map(itemgetter(0), rows))
            place_clinics = {
                row_id: (clinic.code if (clinic := clinics[row_id]) else None)
                for row_id in place_ids
            }
            place_days = {row_id: today or days[zones[row_id]] for row_id in place_ids}
            place_codes = {row_id: by_id[row_id].code for row_id in place_ids}
        lines = _lines(rows, place_codes, products, place_clinics, place_days,
                       include_unavailable)  # fmt: skip
        del rows
    return lines


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a listing's lines are made: they hold no cycles,
    and with it on, every few hundred new tuples set off a collection that walks the
    ones made so far (half the time of a chain's 112,520 lines went there, in a process
    holding many objects)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _lines(
    rows: list[tuple[Any, ...]],
    place_codes: dict[int, str],
    products: dict[int, tuple[str, str]],
    place_clinics: dict[int, str | None],
    place_days: dict[int, date],
    include_unavailable: bool,
) -> list[StockRow]:
    """The driver's rows (place id, product id, lot code, stored expiry, lot status,
    quantity) as stock lines, sorted: clinic, SKU, earliest expiry (none last), lot code,
    location code, text by code point on both backends (PostgreSQL's own sort would follow
    the database's collation, and sorting there spilled to disk at chain scale).

    Each line is sorted on one integer (the clinic's rank, the SKU's, the days to its
    expiry), then its lot and location codes: comparing integers is the cheapest sort
    Python has, and the clinic and SKU take few values. Per place: its clinic's code, its
    own code, the integer's part of its clinic, and a map of each stored expiry (ISO text
    on SQLite, a date on PostgreSQL) to (expiry, days to it, in date, the integer's part of
    the days) on the clinic's day, shared by the places of one day: a day is parsed and
    counted once, not once per line."""
    expiries = {
        stored: stored_date(stored) if stored.__class__ is str else stored
        for stored in set(map(itemgetter(3), rows))
        if stored is not None
    }
    counted = {
        day: {stored: (expiry - day).days for stored, expiry in expiries.items()}
        for day in set(place_days.values())
    }
    lowest = min((min(n.values(), default=0) for n in counted.values()), default=0)
    highest = max((max(n.values(), default=0) for n in counted.values()), default=0)
    span = highest - lowest + 2  # no expiry: last
    by_day: dict[date, dict[object, tuple[date | None, int | None, bool, int]]] = {
        day: {
            None: (None, None, True, span - 1),
            **{stored: (expiries[stored], n, n >= 0, n - lowest) for stored, n in counts.items()},
        }
        for day, counts in counted.items()
    }
    skus = sorted(sku for sku, _name in products.values())
    sku_rank = {sku: n * span for n, sku in enumerate(skus)}
    named = {product_id: (sku, name, sku_rank[sku]) for product_id, (sku, name) in products.items()}
    clinic_rank = {
        code: n for n, code in enumerate(sorted({c or "" for c in place_clinics.values()}))
    }
    per_clinic = span * max(len(skus), 1)
    place = {
        row_id: (
            clinic,
            place_codes[row_id],
            clinic_rank[clinic or ""] * per_clinic,
            by_day[place_days[row_id]],
        )
        for row_id, clinic in place_clinics.items()
    }
    released, expired = LotStatus.RELEASED.value, LotStatus.EXPIRED.value
    keyed: list[tuple[int, str, str, StockRow]] = []
    append = keyed.append
    for location_id, product_id, code, stored, status, quantity in rows:
        clinic_code, location_code, clinic_part, known = place[location_id]
        product_sku, product_name, sku_part = named[product_id]
        expiry, days_left, in_date, day_part = known[stored]
        # is_usable and effective_status, inline: this loop runs once per line
        if in_date:
            available = status == released
        elif status == released:
            status, available = expired, False
        else:
            available = False
        if available or include_unavailable:
            append(
                (
                    clinic_part + sku_part + day_part,
                    code,
                    location_code,
                    (
                        clinic_code,
                        location_code,
                        product_sku,
                        product_name,
                        code,
                        expiry,
                        days_left,
                        status,
                        available,
                        quantity,
                    ),
                )
            )
    keyed.sort()  # (place, lot) is unique: the lines themselves are never compared
    return list(map(itemgetter(3), keyed))
