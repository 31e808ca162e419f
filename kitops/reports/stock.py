"""``report stock``: on hand by clinic, product, lot and location; totals per clinic."""

from __future__ import annotations

from datetime import date

from kitops.data.queries.stock import held_at
from kitops.data.schema import ProductRow
from kitops.domain.ledger import days_to_expiry
from kitops.reports.common import (
    Totals,
    fetch,
    kit_costs,
    lot_cost,
    resolve_scope,
    shown_status,
    usable_now,
    value_of,
)
from kitops.services.dto.reports import Cell, Column, Kind, Report, ReportRequest, Section
from kitops.services.unit_of_work import UnitOfWork

LINE_COLUMNS = (
    Column("clinic", "clinic"),
    Column("location", "location"),
    Column("sku", "SKU"),
    Column("product", "product", in_table=False),
    Column("lot", "lot"),
    Column("expiry", "expiry", Kind.DATE),
    Column("days_to_expiry", "days", Kind.INT),
    Column("status", "status"),
    Column("quantity", "qty", Kind.INT),
    Column("value", "value", Kind.MONEY),
)
TOTAL_COLUMNS = (
    Column("clinic", "clinic"),
    Column("currency", "currency"),
    Column("lines", "lines", Kind.INT),
    Column("units", "units", Kind.INT),
    Column("available", "available", Kind.INT),
    Column("value", "value", Kind.MONEY),
)


def stock_report(uow: UnitOfWork, request: ReportRequest) -> Report:
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
        lines.append(
            (
                clinic,
                scope.code(location_id),
                sku,
                name,
                code,
                expiry,
                days_to_expiry(expiry, day),
                shown_status(status, expiry, day),
                qty,
                value_of(cost, qty),
            )
        )
        totals.add((clinic,), cost, qty, lines=1, available=qty if available else 0)
    lines.sort(key=lambda r: (str(r[0]), str(r[2]), r[5] or date.max, str(r[4]), str(r[1])))
    total_rows: tuple[tuple[Cell, ...], ...] = tuple(
        (key[0], currency, extra.get("lines", 0), units, extra.get("available", 0), value)
        for key, currency, units, value, extra in totals.items()
    )
    units = sum(int(str(line[8])) for line in lines)
    return Report(
        name="stock",
        title="Stock on hand",
        as_of=day,
        clinic=scope.clinic_code,
        parameters=(),
        sections=(
            Section(
                "lines", "On hand by clinic, product, lot and location", LINE_COLUMNS, tuple(lines)
            ),
            Section("totals", "Totals per clinic and currency", TOTAL_COLUMNS, total_rows),
        ),
        notes=(
            f"{len(lines)} lines, {units} units. Days to expiry count from {day}; "
            "'available' is released stock still in date. Kits are valued at the cost of "
            "their component lots; '-' marks units whose lot has no recorded cost.",
        ),
    )
