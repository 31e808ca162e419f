"""``report expiring``: lots and kits on hand that expire within the window, bucketed by
30 days, with quantity, value at cost and what is already promised to a course."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from kitops.data.queries.stock import held_at
from kitops.data.schema import KitRow, LotRow
from kitops.domain.kits import KitStatus
from kitops.i18n import N_
from kitops.reports.common import (
    Phrase,
    Totals,
    UnitCost,
    fetch,
    kit_costs,
    lot_cost,
    parse_days,
    resolve_scope,
    shown_status,
    value_of,
)
from kitops.services.dto.reports import Chart, ChartKind, Column, Kind, Report, Section, Series
from kitops.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from kitops.services.dto.reports import Cell, ReportRequest

BUCKET_DAYS = 30
EXPIRED = "expired"

LINE_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("sku", N_("SKU")),
    Column("lot", N_("lot")),
    Column("expiry", N_("expiry"), Kind.DATE),
    Column("days_to_expiry", N_("days"), Kind.INT),
    Column("bucket", N_("bucket"), in_table=False),
    Column("status", N_("status")),
    Column("quantity", N_("qty"), Kind.INT),
    Column("promised", N_("promised"), Kind.INT),
    Column("value", N_("value"), Kind.MONEY),
    Column("course_id", N_("course"), Kind.INT, in_table=False),
)
BUCKET_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("bucket", N_("bucket")),
    Column("currency", N_("currency")),
    Column("lots", N_("lots"), Kind.INT),
    Column("units", N_("units"), Kind.INT),
    Column("promised", N_("promised"), Kind.INT),
    Column("value", N_("value"), Kind.MONEY),
)


@dataclass
class _Line:
    clinic: str
    sku: str
    lot: str
    expiry: date
    status: str
    quantity: int
    promised: int
    cost: UnitCost | None
    course_id: int | None


def bucket_labels(within: int) -> list[str]:
    """``0-30``, ``31-60``, ``61-90`` for 90 days; the last one stops at the window."""
    labels: list[str] = []
    low = 0
    while low <= within:
        high = min(within, (len(labels) + 1) * BUCKET_DAYS)
        labels.append(f"{low}-{high}")
        low = high + 1
    return labels


def bucket_of(days: int, within: int) -> str:
    if days < 0:
        return EXPIRED
    index = 0 if days <= BUCKET_DAYS else (days - 1) // BUCKET_DAYS
    return bucket_labels(within)[index]


def expiring_report(uow: UnitOfWork, request: ReportRequest) -> Report:
    within = parse_days(request.option("within"), "within", low=1, high=730)
    with uow:
        scope = resolve_scope(uow, request)
        day = scope.as_of
        stmt = (
            held_at(scope.physical_ids, KitRow.status, KitRow.course_id)
            .outerjoin(KitRow, KitRow.lot_id == LotRow.id)
            .where(LotRow.expiry.is_not(None), LotRow.expiry <= day + timedelta(days=within))
        )
        rows = fetch(uow, stmt)
        kit_lots = [r[2] for r in rows if r[6] is None and r[9] is not None]
        kits = kit_costs(uow, kit_lots) if kit_lots else {}
    # one line per clinic and lot, summed over the clinic's locations
    merged: dict[tuple[str, int], _Line] = {}
    for (
        location_id,
        sku,
        lot_id,
        code,
        expiry,
        status,
        unit,
        currency,
        qty,
        kit_status,
        course,
    ) in rows:
        clinic = scope.clinic_code_of(location_id)
        promised = qty if kit_status == KitStatus.RESERVED and course is not None else 0
        line = merged.get((clinic, lot_id))
        if line is None:
            cost = lot_cost(lot_id, unit, currency, kits)
            assert expiry is not None
            merged[(clinic, lot_id)] = _Line(
                clinic, sku, code, expiry, status, qty, promised, cost, course
            )
        else:
            line.quantity += qty
            line.promised += promised
    lines: list[tuple[Cell, ...]] = []
    totals = Totals()
    for item in sorted(merged.values(), key=lambda i: (i.clinic, i.expiry, i.sku, i.lot)):
        days = (item.expiry - day).days
        bucket = bucket_of(days, within)
        lines.append(
            (
                item.clinic,
                item.sku,
                item.lot,
                item.expiry,
                days,
                bucket,
                shown_status(item.status, item.expiry, day),
                item.quantity,
                item.promised,
                value_of(item.cost, item.quantity),
                item.course_id,
            )
        )
        totals.add((item.clinic, bucket), item.cost, item.quantity, lots=1, promised=item.promised)
    order = [EXPIRED, *bucket_labels(within)]
    bucket_rows: list[tuple[Cell, ...]] = [
        (key[0], key[1], currency, extra.get("lots", 0), units, extra.get("promised", 0), value)
        for key, currency, units, value, extra in totals.items()
    ]
    bucket_rows.sort(key=lambda r: (str(r[0]), order.index(str(r[1])), r[2] == "-", str(r[2])))
    shown = [b for b in order if b != EXPIRED or any(r[1] == EXPIRED for r in bucket_rows)]
    clinics = sorted({str(r[0]) for r in bucket_rows})
    units_by: dict[tuple[str, str], int] = {}
    for key, _, units, _, _ in totals.items():
        slot = (key[0], key[1])
        units_by[slot] = units_by.get(slot, 0) + units
    chart = Chart(
        "buckets",
        Phrase(N_("Units expiring within {days} days, by days left"), days=within),
        ChartKind.STACKED_BAR,
        tuple(shown),
        tuple(Series(c, tuple(units_by.get((c, b), 0) for b in shown)) for c in clinics),
    )
    units = sum(item.quantity for item in merged.values())
    promised_units = sum(item.promised for item in merged.values())
    return Report(
        name="expiring",
        title=Phrase(N_("Expiring within {days} days"), days=within),
        as_of=day,
        clinic=scope.clinic_code,
        parameters=(("within", str(within)),),
        sections=(
            Section("buckets", N_("By clinic and days left"), BUCKET_COLUMNS, tuple(bucket_rows)),
            Section("lines", N_("Lots and kits"), LINE_COLUMNS, tuple(lines)),
        ),
        charts=(chart,),
        notes=(
            Phrase(
                N_(
                    "{lots} lots, {units} units expire by {day} ({promised} promised: kits "
                    "reserved for a course). 'expired': past expiry and still on a shelf (the "
                    "expiry sweep or a write-off deals with it). Value at cost; '-' marks units "
                    "whose lot has no recorded cost."
                ),
                lots=len(lines),
                units=units,
                day=day + timedelta(days=within),
                promised=promised_units,
            ),
        ),
    )
