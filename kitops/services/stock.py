"""Stock on hand, read from the balance table."""

from __future__ import annotations

from collections import deque
from datetime import date
from itertools import repeat
from operator import itemgetter
from typing import Any

from kitops.data.queries.stock import driver_rows, lines_on_hand, stored_date
from kitops.data.repositories.locations import clinic_of, subtree_ids
from kitops.domain.catalog import parse_sku
from kitops.domain.ledger import LotStatus
from kitops.domain.locations import clinic_today, parse_location_code
from kitops.i18n import _
from kitops.services.dto import stock as stock_dto
from kitops.services.unit_of_work import UnitOfWork


def effective_status(status: str, expiry: date | None, today: date) -> str:
    """A released lot past its expiry day reads as expired before the sweep marks it."""
    if status == LotStatus.RELEASED.value and expiry is not None and expiry < today:
        return LotStatus.EXPIRED.value
    return status


def _clinic_first(line: stock_dto.StockLine) -> str:
    return line.clinic or ""


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
    with uow:
        locations = uow.locations.all()
        by_id = {row.id: row for row in locations}
        clinics = {row.id: clinic_of(row, by_id) for row in locations}
        zones = {row_id: (c.timezone if c else None) for row_id, c in clinics.items()}
        days = {zone: clinic_today(zone) for zone in set(zones.values())} if today is None else {}
        places = None
        if location:
            code = parse_location_code(location)
            # the place from the locations just read (one query less); an unknown code is
            # refused by the repository, as everywhere
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
        # the statement of this shape, built once (building it took longer than running
        # its cached compiled form)
        stmt = lines_on_hand(
            narrowed=places is not None,
            one_product=bool(sku),
            usable_only=not include_unavailable,
        )
        # the driver's rows (no ORM objects, no per-row work by SQLAlchemy), sorted here:
        # SKU, earliest expiry (none last), lot code, location, text by code point on both
        # backends (PostgreSQL's sort follows the database's collation); four stable
        # passes of one key each cost less than SQLite's own sort of the same rows
        rows = _sorted_by_code_point(driver_rows(uow.session, stmt, params))
        # then one lean pass. Per place: its clinic's code and a map of each stored expiry
        # (ISO text on SQLite, a date on PostgreSQL) to (expiry, days to it, in date) on
        # the clinic's day, shared by the places of one day: a day is parsed and counted
        # once, not once per line
        by_day: dict[date, dict[object, tuple[date | None, int | None, bool]]] = {}
        place = {}
        for row_id in {row[0] for row in rows}:
            clinic, day = clinics[row_id], today or days[zones[row_id]]
            known = by_day.setdefault(day, {None: (None, None, True)})
            place[row_id] = (clinic.code if clinic else None, known, day)
    released, expired = LotStatus.RELEASED.value, LotStatus.EXPIRED.value
    fields: list[dict[str, object]] = []
    append = fields.append
    for (
        location_id,
        location_code,
        product_sku,
        product_name,
        code,
        stored,
        status,
        quantity,
    ) in rows:
        clinic_code, known, day = place[location_id]
        try:
            expiry, days_left, in_date = known[stored]
        except KeyError:
            expiry = stored_date(stored) if stored.__class__ is str else stored
            days_left = (expiry - day).days
            known[stored] = expiry, days_left, days_left >= 0
            in_date = days_left >= 0
        # is_usable and effective_status, inline: this loop runs once per line
        if in_date:
            available = status == released
        elif status == released:
            status, available = expired, False
        else:
            available = False
        if available or include_unavailable:
            append(
                {
                    "clinic": clinic_code,
                    "location": location_code,
                    "sku": product_sku,
                    "product": product_name,
                    "lot": code,
                    "expiry": expiry,
                    "days_to_expiry": days_left,
                    "status": status,
                    "available": available,
                    "quantity": quantity,
                }
            )
    # frozen StockLines, each given its fields in one go (its __init__ sets them one by
    # one through object.__setattr__, which costs more than the loop above), made and
    # filled by map in C rather than one Python statement at a time
    lines = list(map(object.__new__, repeat(stock_dto.StockLine, len(fields))))
    deque(map(object.__setattr__, lines, repeat("__dict__"), fields), maxlen=0)
    if len({clinic for clinic, _known, _day in place.values()}) > 1:  # clinic by clinic
        lines.sort(key=_clinic_first)
    return lines


def _sorted_by_code_point(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows of ``lines_on_hand`` by SKU, expiry (none last), lot code, location code:
    four stable sorts of one key each, the last key first (one plain key a pass compares
    faster than a tuple of four). An expiry is a date, or on SQLite its ISO text, which
    sorts alike."""
    rows.sort(key=itemgetter(1))  # location code
    rows.sort(key=itemgetter(4))  # lot code
    dated = [row for row in rows if row[5] is not None]
    dated.sort(key=itemgetter(5))  # expiry
    dated += [row for row in rows if row[5] is None]  # no expiry sorts last
    dated.sort(key=itemgetter(2))  # SKU
    return dated
