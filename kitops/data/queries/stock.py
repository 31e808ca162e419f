"""Stock on hand per lot and location, filtered, sorted and paged in the query."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Executable, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from kitops.data.queries import paging
from kitops.data.queries.paging import matching
from kitops.data.schema import LocationRow, LotRow, ProductRow, StockBalanceRow
from kitops.domain.ledger import LotStatus


def _counted(
    *,
    places: set[int] | None,
    product_id: int | None,
    search: str,
    show: str,
    day: date,
    within_days: int,
    lot: str | None = None,
    joined: bool = False,
    walk: bool = False,
) -> Select[Any]:
    """The count of the lines the filters keep, with the joins their columns need (all
    three when ``joined``: the page reads their columns). Without a search, a lot code or
    a status to match, the lines are counted on ``stock_balances`` alone (its
    ``(location, product)`` index and rows): every line has its lot, product and place,
    and joining 16,800 lines of one fridge to their lots only to count them took four
    times as long (SQLite, 100,000 lots). ``walk``: SQLite reads the lots in expiry
    order (``_walk_by_expiry``): the place is then checked on each lot's lines, not
    looked up by its index (``+ 0``), or SQLite would start from the places again and
    walk every lot for each line."""
    conditions: list[ColumnElement[bool]] = [StockBalanceRow.quantity > 0]
    if places is not None:
        place = StockBalanceRow.location_id + 0 if walk else StockBalanceRow.location_id
        conditions.append(place.in_(places))
    if product_id is not None:
        conditions.append(StockBalanceRow.product_id == product_id)
    if lot is not None:  # one lot code, by its index (a scan names it exactly)
        conditions.append(LotRow.code == lot)
    wanted = matching(
        search, ProductRow.sku, ProductRow.name, LotRow.code, LocationRow.code, LotRow.status
    )
    if wanted is not None:
        conditions.append(wanted)
    released = LotRow.status == LotStatus.RELEASED.value
    in_date = or_(LotRow.expiry.is_(None), LotRow.expiry >= day)
    if show == "usable":
        conditions += [released, in_date]
    elif show == "quarantine":
        conditions.append(LotRow.status == LotStatus.QUARANTINE.value)
    elif show == "expired":
        conditions.append(
            or_(LotRow.status == LotStatus.EXPIRED.value, (released & (LotRow.expiry < day)))
        )
    elif show == "unusable":
        conditions.append(~(released & in_date))
    elif show == "recalled":
        conditions.append(LotRow.status == LotStatus.RECALLED.value)
    elif show == "expiring":
        conditions += [released, LotRow.expiry.between(day, day + timedelta(days=within_days))]
    stmt = select(func.count()).select_from(StockBalanceRow)
    if joined or lot is not None or wanted is not None or show != "all":
        stmt = stmt.join(LotRow, LotRow.id == StockBalanceRow.lot_id)
    if joined or wanted is not None:
        stmt = stmt.join(ProductRow, ProductRow.id == StockBalanceRow.product_id).join(
            LocationRow, LocationRow.id == StockBalanceRow.location_id
        )
    return stmt.where(*conditions)


def stock_units(
    session: Session,
    *,
    places: set[int] | None,
    product_id: int | None = None,
    search: str,
    show: str,
    day: date,
    within_days: int = 90,
    lot: str | None = None,
) -> int:
    """The units on every line ``stock_on_hand`` keeps with the same filters."""
    counted = _counted(places=places, product_id=product_id, search=search, show=show,
                       day=day, within_days=within_days, lot=lot)  # fmt: skip
    total = session.scalar(counted.with_only_columns(func.sum(StockBalanceRow.quantity)))
    return int(total or 0)


def stock_on_hand(
    session: Session,
    *,
    places: set[int] | None,
    product_id: int | None = None,
    search: str,
    show: str,
    sort: str,
    descending: bool,
    day: date,
    offset: int,
    limit: int,
    within_days: int = 90,
    lot: str | None = None,
) -> tuple[int, Sequence[Any]]:
    """(lines in all, this page's rows of location id, quantity, lot code, expiry, lot
    status, SKU, product name). ``places`` narrows to those locations, ``product_id`` to
    one product; ``search`` matches SKU, product name, lot code, location code and lot
    status; ``show`` narrows to usable, quarantined, expired (including released lots past
    ``day``), recalled, usable lots expiring within ``within_days`` (default 90) days of
    ``day``, or every line not usable; ``sort`` names the column sorted first; ``lot``
    keeps the lines of that lot code only (equality on its index, not a search)."""

    def counted(*, joined: bool = False, walk: bool = False) -> Select[Any]:
        return _counted(places=places, product_id=product_id, search=search, show=show,
                        day=day, within_days=within_days, lot=lot, joined=joined,
                        walk=walk)  # fmt: skip

    column = {
        "expiry": LotRow.expiry,
        "location": LocationRow.code,
        "sku": ProductRow.sku,
        "lot": LotRow.code,
        "status": LotRow.status,
        "quantity": StockBalanceRow.quantity,
    }[sort]
    primary = column.desc() if descending else column.asc()
    tiebreak = [LotRow.expiry.asc().nulls_last(), ProductRow.sku, LotRow.code, LocationRow.code]
    columns = (
        StockBalanceRow.location_id,
        StockBalanceRow.quantity,
        LotRow.code,
        LotRow.expiry,
        LotRow.status,
        ProductRow.sku,
        ProductRow.name,
    )
    total = session.scalar(counted()) or 0
    limit = max(1, min(limit, paging.MAX_PAGE))  # the read side's one cap
    walk = (
        sort == "expiry"
        and not descending
        and lot is None
        and _walk_by_expiry(session, int(total), max(0, offset) + limit)
    )
    page = (
        counted(joined=True, walk=walk)
        .with_only_columns(*columns)
        .order_by(primary.nulls_last(), *tiebreak)
        .offset(max(0, offset))
        .limit(limit)
    )
    if walk:
        page = page.with_hint(LotRow, "INDEXED BY ix_lots_expiry", dialect_name="sqlite")
    rows = session.execute(page).all()
    return int(total), rows


def _walk_by_expiry(session: Session, lines: int, reach: int) -> bool:
    """SQLite: whether the page, soonest expiry first, is read faster by walking the lots
    in expiry order (``ix_lots_expiry``) until ``reach`` lines have been found than by
    sorting all ``lines`` the filters keep. SQLite's planner, without statistics, always
    starts from the place's lines and sorts them all (a fridge with 16,800 lines: 20 ms of
    CPU for a page of 200); walking visits about ``reach * lots / lines`` lots (1,400
    there: 2.5 ms) but every lot when the lines are few (a shelf of 10 lines: 40 ms, the
    sort 0.1 ms). So the walk is taken when it visits fewer lots than there are lines to
    sort. PostgreSQL chooses the same plan from its own statistics (an incremental
    sort)."""
    if session.get_bind().dialect.name != "sqlite" or lines <= reach:
        return False
    lots = session.scalar(select(func.max(LotRow.id))) or 0
    return reach * lots < lines * lines


def held_at(places: Collection[int] | None, *more: Any) -> Select[Any]:
    """Stock held at ``places`` (physical locations; None: everywhere), one row per lot and
    place: the place's id, the SKU, the lot's id, code, expiry, status, unit cost (minor
    units) and currency, the quantity, then the ``more`` columns. Callers add their own
    joins and filters."""
    stmt = (
        select(
            StockBalanceRow.location_id,
            ProductRow.sku,
            LotRow.id,
            LotRow.code,
            LotRow.expiry,
            LotRow.status,
            LotRow.unit_cost_minor,
            LotRow.currency,
            StockBalanceRow.quantity,
            *more,
        )
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .join(ProductRow, ProductRow.id == StockBalanceRow.product_id)
        .where(StockBalanceRow.quantity > 0)
    )
    return stmt if places is None else stmt.where(StockBalanceRow.location_id.in_(places))


@lru_cache(maxsize=32)
def lines_on_hand(
    *, narrowed: bool, one_product: bool, usable_only: bool
) -> Select[*tuple[Any, ...]]:
    """The stock on hand service's statement, built once per shape: one row per lot and
    place of the place's id, the product's id, the lot's code, expiry and status, and the
    quantity (the place's code, the SKU and the product's name are the caller's to look
    up: joining them cost more than the rest of the statement's joins). Its parameters:
    ``places`` (a list of location ids) when ``narrowed``, ``product_id`` when
    ``one_product``, and when ``usable_only`` the ``earliest`` day a released lot must
    not have expired before. Unsorted: the caller sorts."""
    stmt = (
        select(
            StockBalanceRow.location_id,
            StockBalanceRow.product_id,
            LotRow.code,
            LotRow.expiry,
            LotRow.status,
            StockBalanceRow.quantity,
        )
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .where(StockBalanceRow.quantity > 0)
    )
    if narrowed:
        stmt = stmt.where(StockBalanceRow.location_id.in_(bindparam("places", expanding=True)))
    if one_product:
        stmt = stmt.where(StockBalanceRow.product_id == bindparam("product_id"))
    if usable_only:
        stmt = stmt.where(LotRow.status == LotStatus.RELEASED.value).where(
            or_(LotRow.expiry.is_(None), LotRow.expiry >= bindparam("earliest"))
        )
    return stmt


def product_names(session: Session, ids: Collection[int]) -> dict[int, tuple[str, str]]:
    """Each of these products' SKU and name, by id."""
    if not ids:
        return {}
    rows = session.execute(
        select(ProductRow.id, ProductRow.sku, ProductRow.name).where(ProductRow.id.in_(ids))
    )
    return {id_: (sku, name) for id_, sku, name in rows}


def driver_rows(
    session: Session, stmt: Executable, params: dict[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """The rows of ``stmt`` as the database driver returns them: plain tuples, without
    SQLAlchemy's per-row work (a Row object, a result processor per typed column), for a
    read of thousands of lines. A date column comes as the driver gives it: a ``date`` from
    PostgreSQL, ISO text (``2027-03-31``) from SQLite, which ``stored_date`` turns into a
    date."""
    result = session.connection().execute(stmt, params)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


# a column of days repeats its values (lots of one delivery share an expiry day): each
# distinct text is parsed once
stored_date = lru_cache(maxsize=8192)(date.fromisoformat)
