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

from collections.abc import Collection
from datetime import date
from typing import Any

from sqlalchemy import String, func, select, type_coerce

from kitops.data.queries.stock import held_at
from kitops.data.schema import LotReceiptRow, LotRow, ProductRow, StockBalanceRow
from kitops.domain.money import Money
from kitops.i18n import N_
from kitops.reports.common import (
    NO_COST,
    RELEASED,
    Phrase,
    fetch,
    kit_costs,
    make_money,
    resolve_scope,
    shown_status,
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


def valuation_report(uow: UnitOfWork, request: ReportRequest) -> Report:
    with uow:
        scope = resolve_scope(uow, request)
        day = scope.as_of
        # one balance per lot and place; summed per clinic here
        rows = _held(uow, scope.physical_ids)
        kits = kit_costs(uow) if any(r[6] is None for r in rows) else {}
        received = _received_costs(uow, {r[2] for r in rows if r[6] is not None})
    # One pass over the balances summing each lot's units per clinic, then one per lot:
    # plain tuples and dicts (12,000 lots make 12,000 lines and 24,000 money cells).
    clinic_of = {place: scope.clinic_code_of(place) for place in {r[0] for r in rows}}
    per_lot: dict[tuple[str, int], list[Any]] = {}
    for location_id, sku, lot_id, code, expiry, status, unit, currency, qty in rows:
        clinic = clinic_of[location_id]
        held = per_lot.get((clinic, lot_id))
        if held is None:
            per_lot[(clinic, lot_id)] = [clinic, sku, lot_id, code, expiry, status, unit,
                                         currency, int(qty)]  # fmt: skip
        else:
            held[8] += int(qty)
    totals: dict[tuple[str, str], list[int]] = {}  # (clinic, currency) → units, value...
    products: dict[tuple[str, str, str], list[int]] = {}  # (clinic, sku, currency) → ...
    lots: list[tuple[Cell, ...]] = []
    never = date.max
    unit_money: dict[tuple[int, str], Money] = {}  # lots of one product share a cost
    for clinic, sku, lot_id, code, expiry, status, unit, cost_currency, qty in sorted(
        per_lot.values(), key=lambda h: (h[0], h[1], h[4] or never, h[3])
    ):
        usable = status == RELEASED and (expiry is None or expiry >= day)
        if unit is not None and cost_currency is not None:
            amount, currency = unit, cost_currency
        elif (kit := kits.get(lot_id)) is not None:
            amount, currency = kit.amount_minor, kit.currency
        else:
            amount, currency = None, NO_COST
        layers = received.get(lot_id)
        if amount is None:
            worth = None
        elif layers is not None and layers[0] == currency:
            worth = valued_minor(qty, layers[1], layers[2])
        else:  # no costed receipt (a kit, or a lot costed before receipts were kept)
            worth = amount * qty
        lots.append(
            (
                clinic,
                sku,
                code,
                expiry,
                shown_status(status, expiry, day),
                qty,
                None if amount is None else _unit_money(unit_money, amount, currency),
                None if worth is None else make_money(worth, currency),
            )
        )
        total = totals.get((clinic, currency))
        if total is None:
            total = totals[(clinic, currency)] = [0, 0, 0, 0]
        total[0] += qty
        total[1] += worth or 0
        if usable:
            total[2] += qty
            total[3] += worth or 0
        line = products.get((clinic, sku, currency))
        if line is None:
            line = products[(clinic, sku, currency)] = [0, 0]
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


def _unit_money(cache: dict[tuple[int, str], Money], amount: int, currency: str) -> Money:
    money = cache.get((amount, currency))
    if money is None:
        money = cache[(amount, currency)] = make_money(amount, currency)
    return money


def _held(uow: UnitOfWork, places: Collection[int]) -> list[Any]:
    """``held_at``'s rows. On SQLite the expiry comes as its ISO text, each distinct day
    parsed once (thousands of lots share a few hundred days; SQLAlchemy's date type parses
    every row, a third of the read)."""
    if uow.session.get_bind().dialect.name != "sqlite":
        return fetch(uow, held_at(places))
    stmt = held_at(places).with_only_columns(
        StockBalanceRow.location_id, ProductRow.sku, LotRow.id, LotRow.code,
        type_coerce(LotRow.expiry, String), LotRow.status, LotRow.unit_cost_minor,
        LotRow.currency, StockBalanceRow.quantity, maintain_column_froms=True,
    )  # fmt: skip
    days: dict[str, date] = {}
    rows = []
    for place, sku, lot_id, code, expiry, status, unit, currency, qty in fetch(uow, stmt):
        day = None
        if expiry is not None:
            day = days.get(expiry)
            if day is None:
                day = days[expiry] = date.fromisoformat(expiry)
        rows.append((place, sku, lot_id, code, day, status, unit, currency, qty))
    return rows


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
