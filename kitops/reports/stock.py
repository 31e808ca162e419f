"""``report stock``: on hand by clinic, product, lot and location; totals per clinic.

Whole (the command line, the downloads), the lines are read and sorted here. With a
``window`` (the web's page and API) only that page of lines is read, sorted and cut in
the query, and the totals and the note come from aggregate queries over every line, so a
ledger of tens of thousands of lots costs one page, not every line.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, literal, or_

from kitops.data.queries.stock import held_at
from kitops.data.schema import LocationRow, LotRow, ProductRow, StockBalanceRow
from kitops.domain.ledger import days_to_expiry
from kitops.i18n import N_
from kitops.reports.common import (
    RELEASED,
    Phrase,
    Scope,
    Totals,
    dialect_name,
    fetch,
    kit_costs,
    lot_cost,
    resolve_scope,
    shown_status,
    usable_now,
    value_of,
)
from kitops.services.dto.reports import (
    Cell,
    Column,
    Kind,
    Report,
    ReportRequest,
    Section,
    Window,
)
from kitops.services.unit_of_work import UnitOfWork

LINE_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("location", N_("location")),
    Column("sku", N_("SKU")),
    Column("product", N_("product"), in_table=False),
    Column("lot", N_("lot")),
    Column("expiry", N_("expiry"), Kind.DATE),
    Column("days_to_expiry", N_("days"), Kind.INT),
    Column("status", N_("status")),
    Column("quantity", N_("qty"), Kind.INT),
    Column("value", N_("value"), Kind.MONEY),
)
TOTAL_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("currency", N_("currency")),
    Column("lines", N_("lines"), Kind.INT),
    Column("units", N_("units"), Kind.INT),
    Column("available", N_("available"), Kind.INT),
    Column("value", N_("value"), Kind.MONEY),
)


def _line(
    scope: Any, day: date, location_id: int, sku: str, name: str, code: str,
    expiry: date | None, status: str, qty: int, cost: Any,
) -> tuple[Cell, ...]:  # fmt: skip
    """One line of the report (the whole report and a window of it alike)."""
    return (scope.clinic_code_of(location_id), scope.code(location_id), sku, name, code,
            expiry, days_to_expiry(expiry, day), shown_status(status, expiry, day), qty,
            value_of(cost, qty))  # fmt: skip


def stock_report(uow: UnitOfWork, request: ReportRequest) -> Report:
    if request.window is not None:
        return _stock_window(uow, request, request.window)
    with uow:
        scope = resolve_scope(uow, request)
        day = scope.as_of
        rows = fetch(uow, held_at(scope.physical_ids, ProductRow.name))
        kits = kit_costs(uow) if any(r[6] is None for r in rows) else {}
    lines: list[tuple[Cell, ...]] = []
    totals = Totals()
    for location_id, sku, lot_id, code, expiry, status, unit, currency, qty, name in rows:
        clinic = scope.clinic_code_of(location_id)
        cost = lot_cost(lot_id, unit, currency, kits)
        available = usable_now(status, expiry, day)
        lines.append(_line(scope, day, location_id, sku, name, code, expiry, status, qty, cost))
        totals.add((clinic,), cost, qty, lines=1, available=qty if available else 0)
    lines.sort(key=lambda r: (str(r[0]), str(r[2]), r[5] or date.max, str(r[4]), str(r[1])))
    total_rows: tuple[tuple[Cell, ...], ...] = tuple(
        (key[0], currency, extra.get("lines", 0), units, extra.get("available", 0), value)
        for key, currency, units, value, extra in totals.items()
    )
    units = sum(int(str(line[8])) for line in lines)
    return _report(scope, tuple(lines), total_rows, len(lines), units)


def _report(
    scope: Scope,
    lines: tuple[tuple[Cell, ...], ...],
    total_rows: tuple[tuple[Cell, ...], ...],
    count: int,
    units: int,
    window: Window | None = None,
) -> Report:
    day = scope.as_of
    section = Section(
        "lines", N_("On hand by clinic, product, lot and location"), LINE_COLUMNS, lines,
        total=None if window is None else count, offset=0 if window is None else window.offset,
    )  # fmt: skip
    return Report(
        name="stock",
        title=N_("Stock on hand"),
        as_of=day,
        clinic=scope.clinic_code,
        parameters=(),
        sections=(
            section,
            Section("totals", N_("Totals per clinic and currency"), TOTAL_COLUMNS, total_rows),
        ),
        notes=(
            Phrase(
                N_(
                    "{count} lines, {units} units. Days to expiry count from {day}; "
                    "'available' is released stock still in date. Kits are valued at the cost "
                    "of their component lots; '-' marks units whose lot has no recorded cost."
                ),
                count=count,
                units=units,
                day=day,
            ),
        ),
    )


def _text_order(column: Any, dialect: str) -> Any:
    """A text column ordered as Python orders ``str`` (by code point): SQLite's default
    (binary) does; PostgreSQL's database collation may not, its "C" collation does."""
    return column if dialect == "sqlite" else column.collate("C")


def _stock_window(uow: UnitOfWork, request: ReportRequest, window: Window) -> Report:
    """The report with one page of lines, in the same order as the whole report (clinic,
    SKU, expiry with none last, lot, location), read and cut in the query; the totals
    and the note over every line, from aggregates."""
    with uow:
        scope = resolve_scope(uow, request)
        day = scope.as_of
        places = scope.physical_ids
        dialect = dialect_name(uow)
        clinic: Any = (
            case(
                {place: scope.clinic_code_of(place) for place in places},
                value=StockBalanceRow.location_id,
                else_="-",
            )
            if places
            else literal("-")
        )
        base = held_at(places, ProductRow.name, LocationRow.code).join(
            LocationRow, LocationRow.id == StockBalanceRow.location_id
        )
        rows = fetch(
            uow,
            base.order_by(
                _text_order(clinic, dialect),
                _text_order(ProductRow.sku, dialect),
                LotRow.expiry.asc().nulls_last(),
                _text_order(LotRow.code, dialect),
                _text_order(LocationRow.code, dialect),
            )
            .offset(window.offset)
            .limit(window.limit),
        )
        usable = and_(LotRow.status == RELEASED, or_(LotRow.expiry.is_(None), LotRow.expiry >= day))
        priced = and_(LotRow.unit_cost_minor.is_not(None), LotRow.currency.is_not(None))
        # one pass over every line: lots with a cost of their own summed per place and
        # currency; those without (kits, valued at their components' cost, and lots never
        # priced: few) one group per lot, to be valued here
        unpriced_lot = case((priced, None), else_=LotRow.id)
        sums = fetch(
            uow,
            held_at(places)
            .with_only_columns(
                StockBalanceRow.location_id,
                LotRow.currency,
                unpriced_lot,
                func.count(),
                func.sum(StockBalanceRow.quantity),
                func.sum(case((usable, StockBalanceRow.quantity), else_=0)),
                func.sum(StockBalanceRow.quantity * LotRow.unit_cost_minor),
            )
            .group_by(StockBalanceRow.location_id, LotRow.currency, unpriced_lot),
        )
        unpriced = any(row[2] is not None for row in sums)
        needs_kits = unpriced or any(r[6] is None or r[7] is None for r in rows)
        kits = kit_costs(uow) if needs_kits else {}
    lines: list[tuple[Cell, ...]] = []
    for location_id, sku, lot_id, code, expiry, status, unit, currency, qty, name, _ in rows:
        cost = lot_cost(lot_id, unit, currency, kits)
        lines.append(_line(scope, day, location_id, sku, name, code, expiry, status, qty, cost))
    totals = Totals()
    for location_id, currency, lot_id, count, units, available, minor in sums:
        key = (scope.clinic_code_of(location_id),)
        if lot_id is not None:  # one lot without a cost of its own, at one or more places
            cost = lot_cost(lot_id, None, None, kits)
            totals.add(key, cost, int(units), lines=int(count), available=int(available))
            continue
        slot = (key, currency)
        totals.units[slot] = totals.units.get(slot, 0) + int(units)
        totals.minor[slot] = totals.minor.get(slot, 0) + int(minor)
        extra = totals.extra.setdefault(slot, {})
        extra["lines"] = extra.get("lines", 0) + int(count)
        extra["available"] = extra.get("available", 0) + int(available)
    total_rows: tuple[tuple[Cell, ...], ...] = tuple(
        (key[0], currency, extra.get("lines", 0), units, extra.get("available", 0), value)
        for key, currency, units, value, extra in totals.items()
    )
    count = sum(int(extra.get("lines", 0)) for *_, extra in totals.items())
    units = sum(units for _, _, units, _, _ in totals.items())
    return _report(scope, tuple(lines), total_rows, count, units, window)
