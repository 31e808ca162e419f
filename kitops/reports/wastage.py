"""``report wastage``: units and value lost per month and reason, and the trend.

Each wasted unit counts once, on the day it stopped being usable:

- written off (a move to ``SCRAP``) on or before its lot's expiry day: under the
  write-off's reason (``damaged``, ``opened``, ``expired``, ``other``), in the month of the
  write-off;
- on hand at the end of its lot's expiry day (in any status, in any place of the clinic):
  ``expired_on_shelf``, in the month of the first day out of date. A later write-off or
  expiry-sweep move of those units disposes of what is already counted, so it is not
  counted again.

A kit is counted as its components (a kit of 6 vials and a stamp is 6 vials and 1 stamp,
each valued at its own lot's cost), whether it is written off from a shelf, expires on
one, or comes back opened from a patient (that write-off leaves ``PATIENT``; it counts at
the kit's clinic, whatever the kit's expiry). Vials (with their ml), stamps and other
items are counted apart: their units are never added together.

Days and months are UTC calendar days, as the ledger's timestamps are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from kitops.data.schema import KitComponentRow, KitRow, LotRow, ProductRow, StockMoveRow
from kitops.i18n import N_
from kitops.reports.common import (
    NO_COST,
    Phrase,
    Scope,
    Totals,
    UnitCost,
    dialect_name,
    fetch,
    month_starts,
    parse_count,
    resolve_scope,
    utc_day,
    utc_midnight,
    utc_month,
)
from kitops.services.dto.reports import Chart, ChartKind, Column, Kind, Report, Section, Series
from kitops.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from kitops.services.dto.reports import Cell, ReportRequest

REASONS = ("damaged", "opened", "expired", "other", "expired_on_shelf")
# what a wasted unit is, by product kind (a kit is counted as its components)
WHAT = {"serum_vial": "vials", "derma_stamp": "stamps", "consumable": "consumables", "kit": "kits"}
ALWAYS = ("vials", "stamps")  # shown every month, even at 0
# what a person reads for each of them (the report's cells keep the English word)
_COUNTS = {"stamps": N_("{count} stamps"), "consumables": N_("{count} consumables"),
           "kits": N_("{count} kits")}  # fmt: skip
_CHART_TITLES = {
    "vials": N_("Vials wasted per month, by reason (last {months} months)"),
    "stamps": N_("Stamps wasted per month, by reason (last {months} months)"),
}
_Y_TITLES = {"vials": N_("vials"), "stamps": N_("stamps")}
_REASON_NAMES = {"damaged": N_("damaged"), "opened": N_("opened"), "expired": N_("expired"),
                 "other": N_("other"), "expired_on_shelf": N_("expired on shelf")}  # fmt: skip
TREND_COLUMNS = (
    Column("month", N_("month")),
    Column("what", N_("what")),
    Column("damaged", N_("damaged"), Kind.INT),
    Column("opened", N_("opened"), Kind.INT),
    Column("expired", N_("expired"), Kind.INT),
    Column("other", N_("other"), Kind.INT),
    Column("expired_on_shelf", N_("expired on shelf"), Kind.INT),
    Column("units", N_("total"), Kind.INT),
    Column("ml", N_("ml"), Kind.DECIMAL),
)
VALUE_COLUMNS = (
    Column("month", N_("month")),
    Column("reason", N_("reason")),
    Column("what", N_("what")),
    Column("currency", N_("currency")),
    Column("units", N_("units"), Kind.INT),
    Column("ml", N_("ml"), Kind.DECIMAL),
    Column("value", N_("value"), Kind.MONEY),
)
CLINIC_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("reason", N_("reason")),
    Column("what", N_("what")),
    Column("currency", N_("currency")),
    Column("units", N_("units"), Kind.INT),
    Column("ml", N_("ml"), Kind.DECIMAL),
    Column("value", N_("value"), Kind.MONEY),
)


@dataclass(frozen=True)
class Item:
    """What one wasted unit of a lot is: its kind, volume and cost."""

    what: str
    volume_ul: int | None
    cost: UnitCost | None


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
        # a kit that comes back opened (or recalled) from a patient is written off from
        # PATIENT: it counts at its own clinic, and never expired on a shelf before
        returned = (
            select(
                KitRow.location_id,
                StockMoveRow.lot_id,
                StockMoveRow.detail,
                month,
                func.sum(StockMoveRow.quantity),
            )
            .join(KitRow, KitRow.lot_id == StockMoveRow.lot_id)
            .where(
                StockMoveRow.to_location_id == scrap,
                StockMoveRow.from_location_id == scope.location_id("PATIENT"),
                StockMoveRow.created_at >= utc_midnight(starts[0]),
                StockMoveRow.created_at < utc_midnight(day + timedelta(days=1)),
                KitRow.location_id.in_(places),
            )
            .group_by(KitRow.location_id, StockMoveRow.lot_id, StockMoveRow.detail, month)
        )
        for place, lot_id, detail, when, qty in fetch(uow, returned):
            reason = detail if detail in REASONS else "other"
            key = (place, lot_id, reason, str(when))
            wasted[key] = wasted.get(key, 0) + int(qty)
            lots.setdefault(lot_id, (None, None))

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
        wasted, items = _as_components(uow, wasted, lots)
    return _assemble(scope.clinic_code, day, months, starts, scope, wasted, items)


def _as_components(
    uow: UnitOfWork,
    wasted: dict[tuple[int, int, str, str], int],
    lots: dict[int, tuple[int | None, str | None]],
) -> tuple[dict[tuple[int, int, str, str], int], dict[int, Item]]:
    """Each wasted kit as the units of its component lots, and what each lot's unit is."""
    ids = sorted(lots)
    kinds: dict[int, tuple[str, int | None]] = {}
    parts: dict[int, list[tuple[int, int]]] = {}  # kit lot → [(component lot, quantity)]
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for lot_id, kind, volume in fetch(
            uow,
            select(LotRow.id, ProductRow.kind, ProductRow.volume_ul)
            .join(ProductRow, ProductRow.id == LotRow.product_id)
            .where(LotRow.id.in_(chunk)),
        ):
            kinds[lot_id] = (kind, volume)
        for kit_lot, part_lot, quantity in fetch(
            uow,
            select(KitRow.lot_id, KitComponentRow.lot_id, KitComponentRow.quantity)
            .join(KitComponentRow, KitComponentRow.kit_id == KitRow.id)
            .where(KitRow.lot_id.in_(chunk))
            .order_by(KitRow.lot_id, KitComponentRow.position),
        ):
            parts.setdefault(kit_lot, []).append((part_lot, int(quantity)))
    needed = sorted({part for listed in parts.values() for part, _ in listed} - set(kinds))
    for i in range(0, len(needed), 500):
        for lot_id, kind, volume, unit, currency in fetch(
            uow,
            select(LotRow.id, ProductRow.kind, ProductRow.volume_ul, LotRow.unit_cost_minor,
                   LotRow.currency)
            .join(ProductRow, ProductRow.id == LotRow.product_id)
            .where(LotRow.id.in_(needed[i : i + 500])),
        ):  # fmt: skip
            kinds[lot_id] = (kind, volume)
            lots[lot_id] = (unit, currency)
    counted: dict[tuple[int, int, str, str], int] = {}
    for (place, lot_id, reason, when), qty in wasted.items():
        for part, each in parts.get(lot_id) or [(lot_id, 1)]:
            key = (place, part, reason, when)
            counted[key] = counted.get(key, 0) + qty * each
    items = {}
    for lot_id, (kind, volume) in kinds.items():
        unit, currency = lots.get(lot_id, (None, None))
        cost = UnitCost(unit, currency) if unit is not None and currency is not None else None
        items[lot_id] = Item(WHAT.get(kind, kind), volume, cost)
    return counted, items


def _ml(microlitres: int) -> str:
    return format((Decimal(microlitres) / 1000).normalize(), "f")


def _assemble(
    clinic_code: str | None,
    day: date,
    months: int,
    starts: list[date],
    scope: Scope,
    wasted: dict[tuple[int, int, str, str], int],
    items: dict[int, Item],
) -> Report:
    labels = [start.strftime("%Y-%m") for start in starts]
    units: dict[tuple[str, str, str], int] = {}  # (month, what, reason) → units
    volume: dict[tuple[str, str], int] = {}  # (month, what) → microlitres
    by_month = Totals()
    by_clinic = Totals()
    slot_ul: dict[tuple[tuple[str, ...], str], int] = {}
    for (place, lot_id, reason, when), qty in wasted.items():
        item = items[lot_id]
        units[(when, item.what, reason)] = units.get((when, item.what, reason), 0) + qty
        ul = (item.volume_ul or 0) * qty
        volume[(when, item.what)] = volume.get((when, item.what), 0) + ul
        for totals, key in (
            (by_month, (when, reason, item.what)),
            (by_clinic, (scope.clinic_code_of(place), reason, item.what)),
        ):
            totals.add(key, item.cost, qty)
            slot = (key, item.cost.currency if item.cost else NO_COST)
            slot_ul[slot] = slot_ul.get(slot, 0) + ul
    present = {what for _, what, _ in units}
    kinds = [*ALWAYS, *sorted(present - set(ALWAYS))]
    has_volume = {what for (_, what), ul in volume.items() if ul}
    trend: list[tuple[Cell, ...]] = []
    for label in labels:
        for what in kinds:
            counts = [units.get((label, what, reason), 0) for reason in REASONS]
            ml = _ml(volume.get((label, what), 0)) if what in has_volume | {"vials"} else None
            trend.append((label, what, *counts, sum(counts), ml))
    order = {reason: i for i, reason in enumerate(REASONS)}
    rank = {what: i for i, what in enumerate(kinds)}

    def rows(totals: Totals) -> tuple[tuple[Cell, ...], ...]:
        items_ = sorted(
            totals.items(),
            key=lambda i: (i[0][0], order[i[0][1]], rank[i[0][2]], i[1] == NO_COST, i[1]),
        )
        return tuple(
            (key[0], key[1], key[2], currency, n,
             _ml(slot_ul[(key, currency)]) if key[2] in has_volume else None, value)
            for key, currency, n, value, _ in items_
        )  # fmt: skip

    def series_of(what: str) -> tuple[Series, ...]:
        return tuple(
            Series(
                _REASON_NAMES.get(reason, reason.replace("_", " ")),
                tuple(units.get((label, what, reason), 0) for label in labels),
            )
            for reason in REASONS
        )

    charts = tuple(
        Chart(
            f"trend_{what}",
            Phrase(_CHART_TITLES[what], months=months),
            ChartKind.STACKED_BAR,
            tuple(labels),
            series_of(what),
            y_title=_Y_TITLES[what],
        )
        for what in ALWAYS
    )
    total_of = {
        what: [sum(units.get((label, what, r), 0) for r in REASONS) for label in labels]
        for what in kinds
    }
    vials = total_of["vials"]
    vial_ml = _ml(sum(v for (_, w), v in volume.items() if w == "vials"))
    said = [Phrase(N_("{count} vials ({ml} ml)"), count=sum(vials), ml=vial_ml)]
    said += [
        Phrase(_COUNTS[what], count=sum(total_of[what]))
        if what in _COUNTS
        else Phrase(N_("{count} {what}"), count=sum(total_of[what]), what=what)
        for what in kinds
        if what != "vials"
    ]
    notes: list[str] = [
        Phrase(
            N_(
                "Wasted from {first} to {day}: {wasted}. Vials, stamps and other items are "
                "counted apart, and a kit counts as its components (6 vials and a stamp, each "
                "at its own lot's cost), also one that came back opened from a patient. Each "
                "unit counts once: a write-off on or before its lot's expiry day under its "
                "reason; stock still on hand at the end of its expiry day as 'expired_on_shelf' "
                "(in the month of its first day out of date). Months are UTC calendar months."
            ),
            first=starts[0],
            day=day,
            wasted=tuple(said),
        )
    ]
    if months >= 6:
        recent, before = sum(vials[-3:]), sum(vials[-6:-3])
        if before:
            change = round((recent - before) * 100 / before)
            notes.append(
                Phrase(
                    N_(
                        "Trend: {recent} vials in the last 3 months against {before} in the 3 "
                        "before ({change} %)."
                    ),
                    recent=recent,
                    before=before,
                    change=f"{'+' if change >= 0 else ''}{change}",
                )
            )
        else:
            notes.append(
                Phrase(
                    N_("Trend: {recent} vials in the last 3 months against none before."),
                    recent=recent,
                )
            )
    return Report(
        name="wastage",
        title=Phrase(N_("Wastage over {months} months"), months=months),
        as_of=day,
        clinic=clinic_code,
        parameters=(("months", str(months)),),
        sections=(
            Section(
                "trend",
                N_("Vials, stamps and other items per month and reason"),
                TREND_COLUMNS,
                tuple(trend),
            ),
            Section(
                "months",
                N_("Units, ml and value per month, reason and currency"),
                VALUE_COLUMNS,
                rows(by_month),
            ),
            Section(
                "clinics", N_("Per clinic over the whole period"), CLINIC_COLUMNS, rows(by_clinic)
            ),
        ),
        charts=charts,
        notes=tuple(notes),
    )
