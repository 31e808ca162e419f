"""``report valuation``: stock value at cost by lot, per clinic and currency.

Stock is valued from its receipts (``lot_receipts``): each unit on hand is worth the
average cost of its own lot's receipts, weighted by quantity (a lot delivered 20 at 40.00
and 10 at 44.00 is worth 41.33... a unit), with one rounding per line. Units of one lot
are alike on the shelf and move between clinics, so within a lot there are no layers;
across lots every lot keeps its own cost. A kit is valued at the cost of the component
lots inside it. Units of a lot without a recorded cost are counted under the currency
``-`` with no value, so nothing is hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from kitops.data.queries.stock import held_at
from kitops.data.schema import LotReceiptRow
from kitops.domain.money import Money
from kitops.i18n import N_
from kitops.reports.common import (
    NO_COST,
    Phrase,
    UnitCost,
    fetch,
    kit_costs,
    lot_cost,
    make_money,
    resolve_scope,
    shown_status,
    usable_now,
    value_of,
)
from kitops.services.dto.reports import Cell, Column, Kind, Report, ReportRequest, Section
from kitops.services.receipts import valued_minor
from kitops.services.unit_of_work import UnitOfWork

TOTAL_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("currency", N_("currency")),
    Column("units", N_("units"), Kind.INT),
    Column("value", N_("value"), Kind.MONEY),
    Column("usable_units", N_("usable units"), Kind.INT),
    Column("usable_value", N_("usable value"), Kind.MONEY),
)
PRODUCT_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("sku", N_("SKU")),
    Column("currency", N_("currency")),
    Column("units", N_("units"), Kind.INT),
    Column("value", N_("value"), Kind.MONEY),
)
LOT_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("sku", N_("SKU")),
    Column("lot", N_("lot")),
    Column("expiry", N_("expiry"), Kind.DATE),
    Column("status", N_("status")),
    Column("quantity", N_("qty"), Kind.INT),
    Column("unit_cost", N_("unit cost"), Kind.MONEY),
    Column("value", N_("value"), Kind.MONEY),
)


@dataclass
class _Held:
    clinic: str
    sku: str
    lot_id: int
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
        rows = fetch(uow, held_at(scope.physical_ids))
        kits = kit_costs(uow) if any(r[6] is None for r in rows) else {}
        received = _received_costs(uow, {r[2] for r in rows if r[6] is not None})
    per_lot: dict[tuple[str, int], _Held] = {}
    for location_id, sku, lot_id, code, expiry, status, unit, currency, qty in rows:
        clinic = scope.clinic_code_of(location_id)
        held = per_lot.get((clinic, lot_id))
        if held is None:
            cost = lot_cost(lot_id, unit, currency, kits)
            per_lot[(clinic, lot_id)] = _Held(
                clinic, sku, lot_id, code, expiry, status, cost, int(qty)
            )
        else:
            held.quantity += int(qty)
    totals: dict[tuple[str, str], list[int]] = {}  # (clinic, currency) → units, value...
    products: dict[tuple[str, str, str], list[int]] = {}  # (clinic, sku, currency) → ...
    lots: list[tuple[Cell, ...]] = []
    for held in sorted(
        per_lot.values(), key=lambda h: (h.clinic, h.sku, h.expiry or date.max, h.lot)
    ):
        usable = usable_now(held.status, held.expiry, day)
        qty, cost = held.quantity, held.cost
        layers = received.get(held.lot_id)
        if cost is None:
            worth = None
        elif layers is not None and layers[0] == cost.currency:
            worth = valued_minor(qty, layers[1], layers[2])
        else:  # no costed receipt (a kit, or a lot costed before receipts were kept)
            worth = cost.amount_minor * qty
        currency = cost.currency if cost else NO_COST
        lots.append(
            (
                held.clinic,
                held.sku,
                held.lot,
                held.expiry,
                shown_status(held.status, held.expiry, day),
                qty,
                value_of(cost, 1),
                None if worth is None else make_money(worth, currency),
            )
        )
        total = totals.setdefault((held.clinic, currency), [0, 0, 0, 0])
        total[0] += qty
        total[1] += worth or 0
        total[2] += qty if usable else 0
        total[3] += (worth or 0) if usable else 0
        line = products.setdefault((held.clinic, held.sku, currency), [0, 0])
        line[0] += qty
        line[1] += worth or 0

    def shown(minor: int, currency: str) -> Money | None:
        return None if currency == NO_COST else make_money(minor, currency)

    def order(key: tuple[str, ...]) -> tuple[tuple[str, ...], bool, str]:
        return key[:-1], key[-1] == NO_COST, key[-1]

    total_rows: list[tuple[Cell, ...]] = [
        (clinic, currency, units, shown(value, currency), usable, shown(usable_value, currency))
        for (clinic, currency), (units, value, usable, usable_value) in sorted(
            totals.items(), key=lambda item: order(item[0])
        )
    ]
    product_rows: tuple[tuple[Cell, ...], ...] = tuple(
        (clinic, sku, currency, units, shown(value, currency))
        for (clinic, sku, currency), (units, value) in sorted(
            products.items(), key=lambda item: order(item[0])
        )
    )
    return Report(
        name="valuation",
        title=N_("Stock valuation at cost by lot"),
        as_of=day,
        clinic=scope.clinic_code,
        parameters=(),
        sections=(
            Section("totals", N_("Per clinic and currency"), TOTAL_COLUMNS, tuple(total_rows)),
            Section(
                "products", N_("Per clinic, product and currency"), PRODUCT_COLUMNS, product_rows
            ),
            Section("lots", N_("Per clinic and lot"), LOT_COLUMNS, tuple(lots)),
        ),
        notes=(
            Phrase(
                N_(
                    "Each unit is valued at its own lot's cost: the average of the lot's "
                    "receipts weighted by quantity; kits at the cost of their component lots. "
                    "'usable': released and in date on {day}. Currency '-': units whose lot has "
                    "no recorded cost."
                ),
                day=day,
            ),
        ),
    )


def _received_costs(uow: UnitOfWork, lot_ids: set[int]) -> dict[int, tuple[str, int, int]]:
    """Lot id → (currency, sum of quantity x unit cost, units) over its costed receipts."""
    stmt = (
        select(
            LotReceiptRow.lot_id,
            LotReceiptRow.currency,
            func.sum(LotReceiptRow.quantity * LotReceiptRow.unit_cost_minor),
            func.sum(LotReceiptRow.quantity),
        )
        .where(LotReceiptRow.unit_cost_minor.is_not(None))
        .group_by(LotReceiptRow.lot_id, LotReceiptRow.currency)
    )
    found: dict[int, tuple[str, int, int]] = {}
    for lot_id, currency, total, units in fetch(uow, stmt):
        if lot_id in lot_ids and units:
            found[int(lot_id)] = (str(currency), int(total), int(units))
    return found
