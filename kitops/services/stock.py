"""Stock on hand, read from the balance table."""

from __future__ import annotations

from collections import deque
from datetime import date
from itertools import repeat
from operator import itemgetter
from typing import Any

from kitops.data.queries.stock import driver_rows, lines_on_hand, product_names, stored_date
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
        # the driver's rows (no ORM objects, no per-row work by SQLAlchemy), then one lean
        # pass. Per place: its clinic's code, its own code, and a map of each stored expiry
        # (ISO text on SQLite, a date on PostgreSQL) to (expiry, days to it, in date) on
        # the clinic's day, shared by the places of one day: a day is parsed and counted
        # once, not once per line
        rows = driver_rows(uow.session, stmt, params)
        names = product_names(uow.session, {row[1] for row in rows})
        by_day: dict[date, dict[object, tuple[date | None, int | None, bool]]] = {}
        place = {}
        for row_id in {row[0] for row in rows}:
            clinic, day = clinics[row_id], today or days[zones[row_id]]
            known = by_day.setdefault(day, {None: (None, None, True)})
            place[row_id] = (clinic.code if clinic else None, by_id[row_id].code, known, day)
    released, expired = LotStatus.RELEASED.value, LotStatus.EXPIRED.value
    fields: list[dict[str, Any]] = []
    append = fields.append
    for location_id, product_id, code, stored, status, quantity in rows:
        clinic_code, location_code, known, day = place[location_id]
        product_sku, product_name = names[product_id]
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
    fields = _sorted_by_code_point(fields)
    lines = list(map(object.__new__, repeat(stock_dto.StockLine, len(fields))))
    deque(map(object.__setattr__, lines, repeat("__dict__"), fields), maxlen=0)
    if len({facts[0] for facts in place.values()}) > 1:  # clinic by clinic
        lines.sort(key=_clinic_first)
    return lines


def _sorted_by_code_point(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lines (their fields) by SKU, earliest expiry (none last), lot code, location code,
    text by code point on both backends (PostgreSQL's own sort would follow the database's
    collation): four stable sorts of one key each, the last key first (one plain key a
    pass compares faster than a tuple of four; cheaper than either database's sort of the
    same rows). Days to expiry order the lines as their expiry does within a clinic (one
    clinic, one day), and the lines of several clinics are then sorted clinic by clinic."""
    lines.sort(key=itemgetter("location"))
    lines.sort(key=itemgetter("lot"))
    dated = [line for line in lines if line["days_to_expiry"] is not None]
    dated.sort(key=itemgetter("days_to_expiry"))
    dated += [line for line in lines if line["days_to_expiry"] is None]  # no expiry last
    dated.sort(key=itemgetter("sku"))
    return dated
