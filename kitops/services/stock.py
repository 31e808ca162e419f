"""Stock on hand, read from the balance table."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_

from kitops.data.queries.stock import held_at
from kitops.data.repositories.locations import clinic_of, subtree_ids
from kitops.data.schema import LotRow, ProductRow, StockBalanceRow
from kitops.domain.catalog import parse_sku
from kitops.domain.ledger import LotStatus, days_to_expiry, is_usable
from kitops.domain.locations import clinic_today, parse_location_code
from kitops.i18n import _
from kitops.services.dto import stock as stock_dto
from kitops.services.unit_of_work import UnitOfWork


def effective_status(status: str, expiry: date | None, today: date) -> str:
    """A released lot past its expiry day reads as expired before the sweep marks it."""
    if status == LotStatus.RELEASED.value and expiry is not None and expiry < today:
        return LotStatus.EXPIRED.value
    return status


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
        stmt = held_at(places, ProductRow.name)
        if sku:
            product = uow.products.get(parse_sku(sku))
            stmt = stmt.where(StockBalanceRow.product_id == product.id)
        if not include_unavailable:
            earliest = today or min(days.values(), default=date.today())
            stmt = stmt.where(LotRow.status == LotStatus.RELEASED.value).where(
                or_(LotRow.expiry.is_(None), LotRow.expiry >= earliest)
            )
        lines = []
        for (
            location_id,
            product_sku,
            _product_id,
            code,
            expiry,
            status,
            _lot_id,
            _place_id,
            quantity,
            product_name,
        ) in uow.session.execute(stmt):
            clinic = clinics[location_id]
            day = today or days[zones[location_id]]
            available = is_usable(LotStatus(status), expiry, day)
            if not (available or include_unavailable):
                continue
            lines.append(
                stock_dto.StockLine(
                    clinic=clinic.code if clinic else None,
                    location=by_id[location_id].code,
                    sku=product_sku,
                    product=product_name,
                    lot=code,
                    expiry=expiry,
                    days_to_expiry=days_to_expiry(expiry, day),
                    status=effective_status(status, expiry, day),
                    available=available,
                    quantity=quantity,
                )
            )
    lines.sort(key=lambda s: (s.clinic or "", s.sku, s.expiry or date.max, s.lot, s.location))
    return lines
