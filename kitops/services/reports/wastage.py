"""``report wastage``: units and value lost per month and reason, and the trend.

Each wasted unit counts once, on the day it stopped being usable:

- written off (a move to ``SCRAP``) on or before its lot's expiry day: under the
  write-off's reason (``damaged``, ``opened``, ``expired``, ``other``), in the month of the
  write-off;
- on hand at the end of its lot's expiry day (in any status, in any place of the clinic):
  ``expired_on_shelf``, in the month of the first day out of date. A later write-off or
  expiry-sweep move of those units disposes of what is already counted, so it is not
  counted again.

Days and months are UTC calendar days, as the ledger's timestamps are stored.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from kitops.data.schema import LotRow, StockMoveRow
from kitops.services.reports.common import (
    NO_COST,
    Scope,
    Totals,
    UnitCost,
    dialect_name,
    fetch,
    kit_costs,
    lot_cost,
    month_starts,
    parse_count,
    resolve_scope,
    utc_day,
    utc_midnight,
    utc_month,
)
from kitops.services.reports.model import (
    Cell,
    Chart,
    ChartKind,
    Column,
    Kind,
    Report,
    Section,
    Series,
)
from kitops.services.reports.registry import ReportRequest
from kitops.services.unit_of_work import UnitOfWork

REASONS = ("damaged", "opened", "expired", "other", "expired_on_shelf")
TREND_COLUMNS = (
    Column("month", "month"),
    Column("damaged", "damaged", Kind.INT),
    Column("opened", "opened", Kind.INT),
    Column("expired", "expired", Kind.INT),
    Column("other", "other", Kind.INT),
    Column("expired_on_shelf", "expired on shelf", Kind.INT),
    Column("units", "total", Kind.INT),
)
VALUE_COLUMNS = (
    Column("month", "month"),
    Column("reason", "reason"),
    Column("currency", "currency"),
    Column("units", "units", Kind.INT),
    Column("value", "value", Kind.MONEY),
)
CLINIC_COLUMNS = (
    Column("clinic", "clinic"),
    Column("reason", "reason"),
    Column("currency", "currency"),
    Column("units", "units", Kind.INT),
    Column("value", "value", Kind.MONEY),
)


def wastage_report(uow: UnitOfWork, request: ReportRequest) -> Report:
    months = parse_count(request.option("months"), "months", low=1, high=120)
    with uow:
        scope = resolve_scope(uow, request)
        day = scope.as_of
        starts = month_starts(day, months)
        dialect = dialect_name(uow)
        places = scope.physical_ids
        scrap = scope.location_id("SCRAP")
        # (location, lot, reason, month) → units
        wasted: dict[tuple[int, int, str, str], int] = {}
        lots: dict[int, tuple[int | None, str | None]] = {}

        month = utc_month(StockMoveRow.created_at, dialect)
        written_off = (
            select(
                StockMoveRow.from_location_id,
                StockMoveRow.lot_id,
                StockMoveRow.detail,
                month,
                func.sum(StockMoveRow.quantity),
                LotRow.unit_cost_minor,
                LotRow.currency,
            )
            .join(LotRow, LotRow.id == StockMoveRow.lot_id)
            .where(
                StockMoveRow.to_location_id == scrap,
                StockMoveRow.created_at >= utc_midnight(starts[0]),
                StockMoveRow.created_at < utc_midnight(day + timedelta(days=1)),
                StockMoveRow.from_location_id.in_(places),
                (LotRow.expiry.is_(None))
                | (utc_day(StockMoveRow.created_at, dialect) <= LotRow.expiry),
            )
            .group_by(
                StockMoveRow.from_location_id,
                StockMoveRow.lot_id,
                StockMoveRow.detail,
                month,
                LotRow.unit_cost_minor,
                LotRow.currency,
            )
        )
        for place, lot_id, detail, when, qty, unit, currency in fetch(uow, written_off):
            reason = detail if detail in REASONS else "other"
            key = (place, lot_id, reason, str(when))
            wasted[key] = wasted.get(key, 0) + int(qty)
            lots[lot_id] = (unit, currency)

        # expired on a shelf: on hand at the end of the expiry day, per place
        first_out, last_out = starts[0], day  # first day out of date, within the window
        before_end = utc_day(StockMoveRow.created_at, dialect) <= LotRow.expiry
        in_window = (LotRow.expiry >= first_out - timedelta(days=1)) & (
            LotRow.expiry <= last_out - timedelta(days=1)
        )
        on_hand: dict[tuple[int, int], int] = {}
        info: dict[int, tuple[date | None, int | None, str | None]] = {}
        for sign, place_column in (
            (1, StockMoveRow.to_location_id),
            (-1, StockMoveRow.from_location_id),
        ):
            stmt = (
                select(
                    LotRow.id,
                    place_column,
                    func.sum(StockMoveRow.quantity),
                    LotRow.expiry,
                    LotRow.unit_cost_minor,
                    LotRow.currency,
                )
                .join(StockMoveRow, StockMoveRow.lot_id == LotRow.id)
                .where(in_window, before_end, place_column.in_(places))
                .group_by(
                    LotRow.id, place_column, LotRow.expiry, LotRow.unit_cost_minor, LotRow.currency
                )
            )
            for lot_id, place, qty, expiry, unit, currency in fetch(uow, stmt):
                on_hand[(lot_id, place)] = on_hand.get((lot_id, place), 0) + sign * int(qty)
                info[lot_id] = (expiry, unit, currency)
        for (lot_id, place), qty in on_hand.items():
            if qty > 0:
                expiry, unit, currency = info[lot_id]
                assert expiry is not None
                when = (expiry + timedelta(days=1)).strftime("%Y-%m")
                key = (place, lot_id, "expired_on_shelf", when)
                wasted[key] = wasted.get(key, 0) + qty
                lots[lot_id] = (unit, currency)
        uncosted = [lot_id for lot_id, (unit, _) in lots.items() if unit is None]
        kits = kit_costs(uow, uncosted) if uncosted else {}
    return _assemble(scope.clinic_code, day, months, starts, scope, wasted, lots, kits)


def _assemble(
    clinic_code: str | None,
    day: date,
    months: int,
    starts: list[date],
    scope: Scope,
    wasted: dict[tuple[int, int, str, str], int],
    lots: dict[int, tuple[int | None, str | None]],
    kits: dict[int, UnitCost],
) -> Report:
    labels = [start.strftime("%Y-%m") for start in starts]
    units: dict[tuple[str, str], int] = {}
    by_month = Totals()
    by_clinic = Totals()
    for (place, lot_id, reason, when), qty in wasted.items():
        unit, currency = lots[lot_id]
        cost = lot_cost(lot_id, unit, currency, kits)
        units[(when, reason)] = units.get((when, reason), 0) + qty
        by_month.add((when, reason), cost, qty)
        by_clinic.add((scope.clinic_code_of(place), reason), cost, qty)
    trend: list[tuple[Cell, ...]] = []
    for label in labels:
        counts = [units.get((label, reason), 0) for reason in REASONS]
        trend.append((label, *counts, sum(counts)))
    order = {reason: i for i, reason in enumerate(REASONS)}

    def rows(totals: Totals) -> tuple[tuple[Cell, ...], ...]:
        items = sorted(
            totals.items(), key=lambda i: (i[0][0], order[i[0][1]], i[1] == NO_COST, i[1])
        )
        return tuple((key[0], key[1], currency, n, value) for key, currency, n, value, _ in items)

    chart = Chart(
        "trend",
        f"Units wasted per month, by reason (last {months} months)",
        ChartKind.STACKED_BAR,
        tuple(labels),
        tuple(
            Series(reason.replace("_", " "), tuple(int(str(row[i + 1])) for row in trend))
            for i, reason in enumerate(REASONS)
        ),
    )
    totals = [int(str(row[-1])) for row in trend]
    notes = [
        f"{sum(totals)} units wasted from {starts[0]} to {day}. Each unit counts once: a "
        "write-off on or before its lot's expiry day under its reason; stock still on hand "
        "at the end of its expiry day as 'expired_on_shelf' (in the month of its first day "
        "out of date). Months are UTC calendar months."
    ]
    if months >= 6:
        recent, before = sum(totals[-3:]), sum(totals[-6:-3])
        if before:
            change = round((recent - before) * 100 / before)
            notes.append(
                f"Trend: {recent} units in the last 3 months against {before} in the 3 before "
                f"({'+' if change >= 0 else ''}{change} %)."
            )
        else:
            notes.append(f"Trend: {recent} units in the last 3 months against none before.")
    return Report(
        name="wastage",
        title=f"Wastage over {months} months",
        as_of=day,
        clinic=clinic_code,
        parameters=(("months", str(months)),),
        sections=(
            Section("trend", "Units per month and reason", TREND_COLUMNS, tuple(trend)),
            Section(
                "months",
                "Units and value per month, reason and currency",
                VALUE_COLUMNS,
                rows(by_month),
            ),
            Section("clinics", "Per clinic over the whole period", CLINIC_COLUMNS, rows(by_clinic)),
        ),
        charts=(chart,),
        notes=tuple(notes),
    )
