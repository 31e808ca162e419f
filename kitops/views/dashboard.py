"""The dashboard: the day's work per clinic, and the reorder tile."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from kitops.data.queries import dashboard as queries
from kitops.data.repositories.locations import subtree_ids
from kitops.domain.kits import KitStatus
from kitops.domain.locations import LocationKind, clinic_today
from kitops.domain.money import Money
from kitops.services import purchasing, reorder
from kitops.services.dto.courses import FulfilLine
from kitops.services.fulfilment import pick_lists, preview_due
from kitops.services.kits import capacities_at, default_min_shelf_lives, kits_by_sku
from kitops.services.unit_of_work import UnitOfWork
from kitops.views import dto as view

if TYPE_CHECKING:
    from kitops.data.schema import LocationRow

EXPIRY_BUCKETS = (30, 60, 90)
ACTIVITY_LINES = 8


def check_clinic(uow: UnitOfWork, clinic: str) -> None:
    """The dashboard's refusal of a clinic that does not exist or is outside the acting
    user's clinics (one line; the refusal recorded as ``overview`` records it), so that a
    page can check once before it asks for its tiles side by side."""
    with uow:
        uow.clinic_filter(clinic, "see the dashboard")


def overview(
    uow: UnitOfWork,
    *,
    clinic: str | None = None,
    today: date | None = None,
    due_days: int = 14,
    pick_days: int = 7,
) -> view.Dashboard:
    """The day's work per clinic: kits on hand and what to assemble, kits to pick and
    ship, course kits due in ``due_days`` (with the kit the batch would give each, or why
    none fits), lots awaiting release, lots expiring in 30/60/90 days, and the latest
    entries of the audit log. Reads only."""
    with uow:
        locations = uow.locations.all()
        clinics = (
            [uow.clinic_filter(clinic, "see the dashboard")]
            if clinic
            else [
                row
                for row in locations
                if row.kind == LocationKind.CLINIC.value
                and row.active
                and uow.visible_clinic(row.id)
            ]
        )
        clinics.sort(key=lambda row: row.code)
        days = {row.id: today or clinic_today(row.timezone) for row in clinics}
        due = _due_needs(uow, clinics, clinic, today, due_days)
        subtrees = {row.id: subtree_ids(row, locations) for row in clinics}
        clinic_of_place = {place: cid for cid, places in subtrees.items() for place in places}
        quarantine = _quarantine(uow, clinic_of_place)
        expiry = _expiry_buckets(uow, clinic_of_place, max(days.values(), default=date.today()))
        kits = _kit_stock(uow, clinics, subtrees, locations, due, days)
        picks = pick_lists(uow, {row.code: days[row.id] for row in clinics}, days=pick_days)
        work = [
            view.ClinicWork(
                clinic=row.code,
                name=row.name,
                today=days[row.id],
                kits=kits[row.id],
                to_pick=tuple(picks[row.code]),
                due=tuple(due.get(row.id, [])),
                quarantine=tuple(quarantine.get(row.id, [])),
                expiry=expiry.get(row.id, ()),
            )
            for row in clinics
        ]
        activity = _activity(uow)
        failing = queries.webhooks_failing(uow.session)
    return view.Dashboard(due_days, pick_days, tuple(work), activity, webhooks_failing=failing)


def _activity(uow: UnitOfWork) -> tuple[view.Activity, ...]:
    """The latest entries of the audit log; a user limited to clinics sees its own only
    (audit rows are not kept per clinic)."""
    if uow.scope_clinics() is None:
        rows = list(queries.latest_audit(uow.session, ACTIVITY_LINES))
    else:
        latest = queries.latest_audit(uow.session, 500)
        rows = [r for r in latest if r.actor == uow.actor][:ACTIVITY_LINES]
    return tuple(view.Activity(r.at, r.actor, r.action, r.entity, r.entity_key) for r in rows)


def _due_needs(
    uow: UnitOfWork,
    clinics: list[LocationRow],
    clinic: str | None,
    today: date | None,
    within: int,
) -> dict[int, list[FulfilLine]]:
    """The batch assignment's answer for kits due in the window, without reserving."""
    report = preview_due(uow, within_days=within, clinic=clinic, today=today)
    by_code = {row.code: row.id for row in clinics}
    found: dict[int, list[FulfilLine]] = {}
    for line in sorted(
        (*report.served, *report.unserved), key=lambda n: (n.first_use, n.course_id, n.part)
    ):
        if line.clinic in by_code:
            found.setdefault(by_code[line.clinic], []).append(line)
    return found


def _kit_stock(
    uow: UnitOfWork,
    clinics: list[LocationRow],
    subtrees: dict[int, set[int]],
    locations: Sequence[LocationRow],
    due: dict[int, list[FulfilLine]],
    days: dict[int, date],
) -> dict[int, tuple[view.KitStock, ...]]:
    """Per clinic, its kits on hand by product and how many more assembly would make
    (every kit of every clinic counted from one read of the balances)."""
    kit_of_course = queries.kit_sku_of_courses(
        uow.session, [n.course_id for needs in due.values() for n in needs]
    )
    by_place = queries.kit_counts_by_place(uow.session, set().union(*subtrees.values()))
    tiles: list[tuple[LocationRow, str, dict[tuple[str, str], int], int, LocationRow]] = []
    for clinic in clinics:
        places = subtrees[clinic.id]
        counts: dict[tuple[str, str], int] = {}
        for (place, sku, status), n in by_place.items():
            if place in places:
                counts[(sku, status)] = counts.get((sku, status), 0) + n
        unserved: dict[str, int] = {}
        for need in due.get(clinic.id, []):
            if need.kit is None:
                sku = kit_of_course[need.course_id]
                unserved[sku] = unserved.get(sku, 0) + 1
        # kits are assembled where the serum is kept: the clinic's first fridge
        fridges = sorted(
            (r for r in locations if r.id in places and r.kind == LocationKind.FRIDGE.value),
            key=lambda r: r.code,
        )
        at = fridges[0] if fridges else clinic
        for sku in sorted({sku for sku, _ in counts} | set(unserved)):
            tiles.append((clinic, sku, counts, unserved.get(sku, 0), at))
    kits = kits_by_sku(uow, sorted({sku for _, sku, _, _, _ in tiles}))
    for _, sku, _, _, _ in tiles:
        if sku not in kits:
            uow.products.kit(sku)  # the same refusal as assembling it would give
    shelf = default_min_shelf_lives(uow, list(kits.values()))
    could = capacities_at(
        uow,
        [(kits[sku], at, days[clinic.id], shelf[kits[sku].id]) for clinic, sku, _, _, at in tiles],
    )
    result: dict[int, list[view.KitStock]] = {clinic.id: [] for clinic in clinics}
    for (clinic, sku, counts, unserved_needs, at), count in zip(tiles, could, strict=True):
        result[clinic.id].append(
            view.KitStock(
                sku=sku,
                available=counts.get((sku, KitStatus.AVAILABLE.value), 0),
                reserved=counts.get((sku, KitStatus.RESERVED.value), 0),
                unserved_needs=unserved_needs,
                could_assemble=count,
                assemble_at=at.code,
            )
        )
    return {cid: tuple(stock) for cid, stock in result.items()}


def _quarantine(
    uow: UnitOfWork, clinic_of_place: dict[int, int]
) -> dict[int, list[view.QuarantinedLot]]:
    """Lots on hand in quarantine, per clinic."""
    units: dict[tuple[int, str, str, date | None], int] = {}
    arrived: dict[tuple[int, str, str, date | None], date] = {}
    for (
        location_id,
        sku,
        _,
        code,
        expiry,
        _,
        _,
        _,
        quantity,
        created,
    ) in queries.quarantined_on_hand(uow.session):
        clinic = clinic_of_place.get(location_id)
        if clinic is not None:
            key = (clinic, sku, code, expiry)
            units[key] = units.get(key, 0) + quantity
            arrived[key] = created.date()
    found: dict[int, list[view.QuarantinedLot]] = {}
    for key, quantity in sorted(
        units.items(), key=lambda item: (item[0][3] or date.max, item[0][2])
    ):
        clinic, sku, code, expiry = key
        found.setdefault(clinic, []).append(
            view.QuarantinedLot(sku, code, expiry, quantity, arrived.get(key))
        )
    return found


def _expiry_buckets(
    uow: UnitOfWork, clinic_of_place: dict[int, int], day: date
) -> dict[int, tuple[view.ExpiryBucket, ...]]:
    """Per clinic, lots still on hand past expiry (bucket 0) and expiring within 30, 60
    and 90 days, from one aggregate over the balances. The day is the latest clinic date
    (as the expiry sweep counts)."""
    lots: dict[tuple[int, int], set[int]] = {}
    units: dict[tuple[int, int], int] = {}
    value: dict[tuple[int, int], dict[str, int]] = {}
    for location_id, within, lot_id, quantity, cost, currency in queries.expiry_on_hand(
        uow.session, day, EXPIRY_BUCKETS
    ):
        clinic = clinic_of_place.get(location_id)
        if clinic is None:
            continue
        key = (clinic, int(within))
        lots.setdefault(key, set()).add(lot_id)
        units[key] = units.get(key, 0) + quantity
        if cost is not None and currency:
            worth = value.setdefault(key, {})
            worth[currency] = worth.get(currency, 0) + cost * quantity
    return {
        clinic: tuple(
            view.ExpiryBucket(
                w, len(lots.get((clinic, w), ())), units.get((clinic, w), 0),
                tuple(Money(m, c) for c, m in sorted(value.get((clinic, w), {}).items())),
            )
            for w in (0, *EXPIRY_BUCKETS)
        )
        for clinic in set(clinic_of_place.values())
    }  # fmt: skip


def purchasing_overview(
    uow: UnitOfWork, *, clinic: str | None = None, today: date | None = None
) -> view.Purchasing:
    """The dashboard's reorder tile: what a reorder run would order now (a dry run of the
    job: computed, nothing written), each line beside the draft that already carries it,
    and the purchase orders still open. Reads only."""
    with uow:
        run = reorder.run(uow, as_of=today, dry_run=True)
        orders = purchasing.list_orders(uow, status="open", clinic=clinic)
    drafted = {
        (order.supplier, order.clinic, line.sku): (order.number, line.quantity)
        for order in orders
        if order.status == "draft"
        for line in order.lines
    }
    suggestions = []
    for line in run.suggestions:
        if clinic and line.clinic != clinic:
            continue
        draft, quantity = drafted.get((line.supplier, line.clinic, line.sku), (None, None))
        suggestions.append(
            view.ReorderSuggestion(
                clinic=line.clinic,
                sku=line.sku,
                supplier=line.supplier,
                quantity=line.quantity,
                need_by=line.need_by,
                draft=draft,
                drafted=quantity == line.quantity,
            )
        )
    return view.Purchasing(
        as_of=run.as_of,
        policies=run.policies,
        in_progress=run.in_progress,
        suggestions=tuple(suggestions),
        orders=tuple(
            view.OpenPurchaseOrder(
                number=order.number,
                clinic=order.clinic,
                supplier=order.supplier,
                status=order.status,
                lines=len(order.lines),
                total=order.total,
                expected_on=order.expected_on,
            )
            for order in orders
        ),
    )
