"""``report valuation``: stock value at cost by lot, per clinic and currency.

Every lot carries the unit cost it was received at, so the FIFO cost layers are the lots
themselves: each unit on hand is valued at the cost of its own lot (no averaging). A kit
is valued at the cost of the component lots inside it. Units of a lot without a
recorded cost are counted under the currency ``-`` with no value, so nothing is hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from kitops.data.schema import LotRow, ProductRow, StockBalanceRow
from kitops.services.reports.common import (
    Totals,
    UnitCost,
    fetch,
    kit_costs,
    lot_cost,
    resolve_scope,
    shown_status,
    usable_now,
    value_of,
)
from kitops.services.reports.model import Cell, Column, Kind, Report, Section
from kitops.services.reports.registry import ReportRequest
from kitops.services.unit_of_work import UnitOfWork

TOTAL_COLUMNS = (
    Column("clinic", "clinic"),
    Column("currency", "currency"),
    Column("units", "units", Kind.INT),
    Column("value", "value", Kind.MONEY),
    Column("usable_units", "usable units", Kind.INT),
    Column("usable_value", "usable value", Kind.MONEY),
)
PRODUCT_COLUMNS = (
    Column("clinic", "clinic"),
    Column("sku", "SKU"),
    Column("currency", "currency"),
    Column("units", "units", Kind.INT),
    Column("value", "value", Kind.MONEY),
)
LOT_COLUMNS = (
    Column("clinic", "clinic"),
    Column("sku", "SKU"),
    Column("lot", "lot"),
    Column("expiry", "expiry", Kind.DATE),
    Column("status", "status"),
    Column("quantity", "qty", Kind.INT),
    Column("unit_cost", "unit cost", Kind.MONEY),
    Column("value", "value", Kind.MONEY),
)


@dataclass
class _Held:
    clinic: str
    sku: str
    lot: str
    expiry: date | None
    status: str
    cost: UnitCost | None
    quantity: int


def valuation_report(uow: UnitOfWork, request: ReportRequest) -> Report:
    with uow:
        scope = resolve_scope(uow, request)
        day = scope.as_of
        # one balance per lot and place; summed per clinic here
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
            )
            .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
            .join(ProductRow, ProductRow.id == StockBalanceRow.product_id)
            .where(StockBalanceRow.quantity > 0)
            .where(StockBalanceRow.location_id.in_(scope.physical_ids))
        )
        rows = fetch(uow, stmt)
        kits = kit_costs(uow) if any(r[6] is None for r in rows) else {}
    per_lot: dict[tuple[str, int], _Held] = {}
    for location_id, sku, lot_id, code, expiry, status, unit, currency, qty in rows:
        clinic = scope.clinic_code_of(location_id)
        held = per_lot.get((clinic, lot_id))
        if held is None:
            cost = lot_cost(lot_id, unit, currency, kits)
            per_lot[(clinic, lot_id)] = _Held(clinic, sku, code, expiry, status, cost, int(qty))
        else:
            held.quantity += int(qty)
    totals, products = Totals(), Totals()
    lots: list[tuple[Cell, ...]] = []
    for held in sorted(
        per_lot.values(), key=lambda h: (h.clinic, h.sku, h.expiry or date.max, h.lot)
    ):
        usable = usable_now(held.status, held.expiry, day)
        qty, cost = held.quantity, held.cost
        lots.append(
            (
                held.clinic,
                held.sku,
                held.lot,
                held.expiry,
                shown_status(held.status, held.expiry, day),
                qty,
                value_of(cost, 1),
                value_of(cost, qty),
            )
        )
        totals.add(
            (held.clinic,),
            cost,
            qty,
            usable=qty if usable else 0,
            usable_minor=cost.amount_minor * qty if usable and cost else 0,
        )
        products.add((held.clinic, held.sku), cost, qty)
    total_rows: list[tuple[Cell, ...]] = []
    for key, currency, units, value, extra in totals.items():
        usable_value = None
        if value is not None:
            usable_value = value_of(UnitCost(extra.get("usable_minor", 0), currency), 1)
        total_rows.append((key[0], currency, units, value, extra.get("usable", 0), usable_value))
    product_rows: tuple[tuple[Cell, ...], ...] = tuple(
        (key[0], key[1], currency, units, value)
        for key, currency, units, value, _ in products.items()
    )
    return Report(
        name="valuation",
        title="Stock valuation at cost by lot",
        as_of=day,
        clinic=scope.clinic_code,
        parameters=(),
        sections=(
            Section("totals", "Per clinic and currency", TOTAL_COLUMNS, tuple(total_rows)),
            Section("products", "Per clinic, product and currency", PRODUCT_COLUMNS, product_rows),
            Section("lots", "Per clinic and lot", LOT_COLUMNS, tuple(lots)),
        ),
        notes=(
            "Each unit is valued at the cost of its own lot (the lots are the FIFO layers); "
            "kits at the cost of their component lots. 'usable': released and in date on "
            f"{day}. Currency '-': units whose lot has no recorded cost.",
        ),
    )
