"""Stock on hand, read from the balance table."""

from __future__ import annotations

from datetime import date
from operator import itemgetter

from sqlalchemy import func, or_

from kitops.data.queries.stock import driver_rows, held_at, stored_date
from kitops.data.repositories.locations import clinic_of, subtree_ids
from kitops.data.schema import LocationRow, LotRow, ProductRow, StockBalanceRow
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
            root = uow.locations.get(parse_location_code(location))
            uow.check_place(root, doing=_("see stock"))
            places = subtree_ids(root, locations)
        places = uow.narrow_places(places)
        expiry_order = func.coalesce(LotRow.expiry, date.max)  # no expiry sorts last
        stmt = (
            held_at(places)
            .with_only_columns(
                StockBalanceRow.location_id,
                LocationRow.code,
                ProductRow.sku,
                ProductRow.name,
                LotRow.code,
                LotRow.expiry,
                LotRow.status,
                StockBalanceRow.quantity,
                expiry_order,
            )
            .join(LocationRow, LocationRow.id == StockBalanceRow.location_id)
        )
        # SKU, earliest expiry, lot code, location, text compared by code point as Python
        # does: SQLite sorts so (BINARY), in process and cheaper than Python; PostgreSQL's
        # sort follows the database's collation and costs more than sorting here
        sort_here = uow.session.get_bind().dialect.name != "sqlite"
        if not sort_here:
            stmt = stmt.order_by(ProductRow.sku, expiry_order, LotRow.code, LocationRow.code)
        if sku:
            product = uow.products.get(parse_sku(sku))
            stmt = stmt.where(StockBalanceRow.product_id == product.id)
        if not include_unavailable:
            earliest = today or min(days.values(), default=date.today())
            stmt = stmt.where(LotRow.status == LotStatus.RELEASED.value).where(
                or_(LotRow.expiry.is_(None), LotRow.expiry >= earliest)
            )
        # the driver's rows (no ORM objects, no per-row work by SQLAlchemy), then one lean
        # pass: each place's clinic and day looked up once
        rows = driver_rows(uow.session, stmt)
        if sort_here:
            rows.sort(key=itemgetter(2, 8, 4, 1))
        place = {
            row_id: (
                clinic.code if (clinic := clinics[row_id]) else None,
                today or days[zones[row_id]],
            )
            for row_id in {row[0] for row in rows}
        }
    released, expired = LotStatus.RELEASED.value, LotStatus.EXPIRED.value
    StockLine, new, set_fields = stock_dto.StockLine, object.__new__, object.__setattr__
    lines = []
    for (
        location_id,
        location_code,
        product_sku,
        product_name,
        code,
        expiry,
        status,
        quantity,
        _expiry_order,
    ) in rows:
        clinic_code, day = place[location_id]
        if expiry.__class__ is str:  # SQLite's text
            expiry = stored_date(expiry)
        # is_usable and effective_status, inline: this loop runs once per line
        in_date = expiry is None or expiry >= day
        available = status == released and in_date
        if not (available or include_unavailable):
            continue
        # a frozen StockLine, its fields set in one go (its __init__ sets them one by one
        # through object.__setattr__, which costs more than the rest of this loop)
        line = new(StockLine)
        set_fields(
            line,
            "__dict__",
            {
                "clinic": clinic_code,
                "location": location_code,
                "sku": product_sku,
                "product": product_name,
                "lot": code,
                "expiry": expiry,
                "days_to_expiry": None if expiry is None else (expiry - day).days,
                "status": expired if status == released and not in_date else status,
                "available": available,
                "quantity": quantity,
            },
        )
        lines.append(line)
    if len({clinic for clinic, _day in place.values()}) > 1:  # clinic by clinic
        lines.sort(key=_clinic_first)
    return lines
