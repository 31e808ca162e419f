"""``report kits``: assembled kits by expiry against the courses that need one in each
coming week, per clinic and kit; what loose stock could still become.

"Can serve" runs the fulfil batch's assignment (``domain.assignment.assign``) as a dry
run over every unserved kit need of the window and today's available kits, so it is
expiry-aware exactly as ``kitops fulfil --due-within`` would be: a kit whose 5th vial
expires in week 5 of a 6-week course does not count for that course.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import select

from kitops.data.schema import CourseRow, KitRow, LotRow, PlanRow, ProductRow, StockBalanceRow
from kitops.domain.assignment import KitOffer, NeedRequest, assign
from kitops.domain.course_lifecycle import NEEDS_STOCK, Moves, moves_of
from kitops.domain.courses import KitNeed, Plan, course_calendar, kit_needs
from kitops.domain.courses import parse_weekdays as weekdays_of
from kitops.domain.kits import SERVING, ComponentNeed, KitStatus, LotStock
from kitops.i18n import N_
from kitops.reports.common import (
    DayLabel,
    Phrase,
    Scope,
    parse_count,
    resolve_scope,
    usable_now,
)
from kitops.services.courses import serum_per_kit
from kitops.services.dto.reports import Chart, ChartKind, Column, Kind, Report, Section, Series
from kitops.services.kits import default_min_shelf_life
from kitops.services.plans import to_domain
from kitops.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from kitops.services.dto.reports import Cell, ReportRequest

STOCK_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("kit", N_("kit")),
    Column("expired", N_("expired"), Kind.INT),
    Column("days_0_30", "0-30", Kind.INT),
    Column("days_31_60", "31-60", Kind.INT),
    Column("days_61_90", "61-90", Kind.INT),
    Column("days_over_90", "91+", Kind.INT),
    Column("available", N_("avail"), Kind.INT),
    Column("reserved", N_("reserved"), Kind.INT),
    Column("can_assemble", N_("assemble"), Kind.INT),
    Column("limited_by", N_("limited by"), in_table=False),
)
WEEK_COLUMNS = (
    Column("clinic", N_("clinic")),
    Column("kit", N_("kit")),
    Column("week", N_("week of"), Kind.DATE),
    Column("reserved", N_("reserved"), Kind.INT),
    Column("needed", N_("to serve"), Kind.INT),
    Column("can_serve", N_("from stock"), Kind.INT),
    Column("short", N_("short"), Kind.INT),
)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@lru_cache(maxsize=8192)
def _needs(
    plan: Plan,
    start: date,
    weekdays: str,
    zone: str,
    vial_ul: int,
    vials: int,
    margin: int,
    moves: Moves = (),
) -> tuple[KitNeed, ...]:
    calendar = course_calendar(plan, start, weekdays_of(weekdays), zone, moves=moves)
    return tuple(kit_needs(plan, calendar, vial_ul, vials, margin))


def _expiry_bucket(days: int) -> int:
    """0 expired, 1: 0-30, 2: 31-60, 3: 61-90, 4: over 90."""
    if days < 0:
        return 0
    return min(4, 1 + (0 if days <= 30 else (days - 1) // 30))


def kits_report(uow: UnitOfWork, request: ReportRequest) -> Report:
    weeks = parse_count(request.option("weeks"), "weeks", low=1, high=104)
    with uow:
        scope = resolve_scope(uow, request)
        result = _build(uow, scope, weeks)
    return result


def _build(uow: UnitOfWork, scope: Scope, weeks: int) -> Report:
    day = scope.as_of
    first_week = monday(day)
    end = first_week + timedelta(days=7 * weeks - 1)
    margin = uow.settings.expiry_margin_days()
    plans: dict[int, tuple[Plan, int, int, int]] = {}
    kit_products: dict[int, str] = {}
    for row in uow.session.scalars(select(PlanRow)):
        if row.kit_product is None or row.kits_per_course <= 0:
            continue
        plan = to_domain(row)
        vial_ul, vials = serum_per_kit(row.kit_product)
        plans[row.id] = (plan, row.kit_product.id, vial_ul, vials)
        kit_products[row.kit_product.id] = row.kit_product.sku
    longest = max((p[0].weeks for p in plans.values()), default=0)

    # kits: available ones by expiry bucket and as offers, reserved ones by course part
    clinic_ids = set(scope.clinics)
    stock: dict[tuple[int, int], list[int]] = {}
    offers: list[KitOffer] = []
    cache: dict[str, tuple[date, ...]] = {}
    kit_rows = uow.session.execute(
        select(
            KitRow.id,
            KitRow.location_id,
            KitRow.product_id,
            KitRow.expiry,
            KitRow.vial_expiries,
            KitRow.status,
        ).where(KitRow.status.in_(SERVING), ~KitRow.recalled)
    ).all()
    for kit_id, location_id, product_id, expiry, vials_text, status in kit_rows:
        clinic = scope.clinic_of.get(location_id)
        if clinic not in clinic_ids or clinic is None:
            continue
        counts = stock.setdefault((clinic, product_id), [0] * 7)
        if status == KitStatus.RESERVED:
            counts[6] += 1
            continue
        counts[_expiry_bucket((expiry - day).days)] += 1
        counts[5] += 1
        if expiry >= day:
            parsed = cache.get(vials_text)
            if parsed is None:
                parsed = cache[vials_text] = tuple(
                    date.fromisoformat(p) for p in vials_text.split(",")
                )
            offers.append(KitOffer(kit_id, (clinic, product_id), parsed))

    # kit needs of running home courses (scheduled or active) whose kit is used in the window
    held = {
        (course_id, part)
        for course_id, part in uow.session.execute(
            select(KitRow.course_id, KitRow.course_part).where(KitRow.course_id.is_not(None))
        )
    }
    courses = uow.session.execute(
        select(
            CourseRow.id,
            CourseRow.clinic_id,
            CourseRow.plan_id,
            CourseRow.start_date,
            CourseRow.weekdays,
            CourseRow.reschedules,
        ).where(
            CourseRow.status.in_(NEEDS_STOCK),
            CourseRow.plan_id.in_(list(plans)),
            CourseRow.clinic_id.in_(list(clinic_ids)),
            CourseRow.start_date <= end,
            CourseRow.start_date >= day - timedelta(days=7 * longest),
        )
    ).all()
    requests: list[NeedRequest] = []
    week_of: dict[Hashable, tuple[int, int, int]] = {}  # need key → (clinic, product, week)
    reserved_in: dict[tuple[int, int, int], int] = {}
    for course_id, clinic_id, plan_id, start, weekdays, moved in courses:
        plan, product_id, vial_ul, vials_per_kit = plans[plan_id]
        zone = scope.locations[clinic_id].timezone or "UTC"
        moves = moves_of(moved)
        for need in _needs(plan, start, weekdays, zone, vial_ul, vials_per_kit, margin, moves):
            if need.first_use > end:
                continue
            week = max(0, (need.first_use - first_week).days // 7)
            if (course_id, need.part) in held:
                if need.first_use >= day:
                    slot = (clinic_id, product_id, week)
                    reserved_in[slot] = reserved_in.get(slot, 0) + 1
                continue
            key = (course_id, need.part)
            requests.append(NeedRequest(key, (clinic_id, product_id), need))
            week_of[key] = (clinic_id, product_id, week)
    assignment = assign(requests, offers)
    needed: dict[tuple[int, int, int], int] = {}
    served: dict[tuple[int, int, int], int] = {}
    for slot in week_of.values():
        needed[slot] = needed.get(slot, 0) + 1
    for served_key in assignment.served:
        slot = week_of[served_key]
        served[slot] = served.get(slot, 0) + 1

    buildable = _assemblable(uow, scope, list(kit_products), day)
    pairs = sorted(
        {(c, p) for c, p in stock}
        | {(c, p) for c, p, _ in needed}
        | set(buildable)
        | {(c, p) for c, p, _ in reserved_in},
        key=lambda cp: (scope.code(cp[0]), kit_products.get(cp[1], "")),
    )
    stock_rows: list[tuple[Cell, ...]] = []
    week_rows: list[tuple[Cell, ...]] = []
    weekly = [[0] * weeks for _ in range(3)]
    for clinic_id, product_id in pairs:
        counts = stock.get((clinic_id, product_id), [0] * 7)
        can, limit = buildable.get((clinic_id, product_id), (0, "-"))
        code, kit = scope.code(clinic_id), kit_products[product_id]
        stock_rows.append((code, kit, *counts[:6], counts[6], can, limit))
        for week in range(weeks):
            slot = (clinic_id, product_id, week)
            n, s = needed.get(slot, 0), served.get(slot, 0)
            weekly[0][week] += n
            weekly[1][week] += s
            weekly[2][week] += n - s
            if not (n or reserved_in.get(slot, 0)):
                continue  # a quiet week: only in the chart
            week_rows.append(
                (
                    code,
                    kit,
                    first_week + timedelta(days=7 * week),
                    reserved_in.get(slot, 0),
                    n,
                    s,
                    n - s,
                )
            )
    labels = tuple(DayLabel(first_week + timedelta(days=7 * w)) for w in range(weeks))

    chart = Chart(
        "weeks",
        N_("Kits to serve per week against what today's kits can serve"),
        ChartKind.BAR,
        labels,
        (
            Series(N_("to serve"), tuple(weekly[0])),
            Series(N_("from stock"), tuple(weekly[1])),
            Series(N_("short"), tuple(weekly[2])),
        ),
        N_("kits"),
    )
    short = sum(int(str(r[6])) for r in week_rows)
    return Report(
        name="kits",
        title=Phrase(N_("Kits against the next {weeks} weeks of courses"), weeks=weeks),
        as_of=day,
        clinic=scope.clinic_code,
        parameters=(("weeks", str(weeks)),),
        sections=(
            Section(
                "stock",
                N_("Kits on hand by days to expiry, and what loose stock would make"),
                STOCK_COLUMNS,
                tuple(stock_rows),
            ),
            Section("weeks", N_("Kits courses need, week by week"), WEEK_COLUMNS, tuple(week_rows)),
        ),
        charts=(chart,),
        notes=(
            Phrase(
                N_(
                    "Weeks start on Monday; the first is the week of {day}, and kit needs "
                    "already due but not served count in it. 'to serve': kit needs with no kit "
                    "yet; 'from stock': how many of them today's available kits serve when "
                    "assigned as the fulfil batch would (each vial in date on its last day of "
                    "use plus {margin} days); {short} would stay short. 'assemble': kits loose "
                    "released stock at the clinic would make, components lasting one kit of the "
                    "shortest plan using it (each kit counted on its own: kits that share "
                    "components compete for them)."
                ),
                day=day,
                margin=margin,
                short=short,
            ),
        ),
    )


def _assemblable(
    uow: UnitOfWork, scope: Scope, kit_ids: list[int], day: date
) -> dict[tuple[int, int], tuple[int, str]]:
    """(clinic, kit product) → (kits loose stock would make, the limiting component)."""
    found: dict[tuple[int, int], tuple[int, str]] = {}
    if not kit_ids:
        return found
    kits = uow.session.scalars(select(ProductRow).where(ProductRow.id.in_(kit_ids))).all()
    components = {line.component_product_id for kit in kits for line in kit.recipe}
    rows = uow.session.execute(
        select(
            StockBalanceRow.location_id,
            StockBalanceRow.product_id,
            LotRow.id,
            LotRow.expiry,
            LotRow.status,
            StockBalanceRow.quantity,
        )
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .where(
            StockBalanceRow.quantity > 0,
            StockBalanceRow.product_id.in_(components),
            StockBalanceRow.location_id.in_(scope.physical_ids),
        )
    ).all()
    for kit in kits:
        fresh_until = day + timedelta(days=default_min_shelf_life(uow, kit))
        needs = [
            ComponentNeed(line.component.id, line.component.sku, line.quantity)
            for line in kit.recipe
        ]
        pools: dict[int, dict[int, list[LotStock]]] = {c: {} for c in scope.clinics}
        for location_id, product_id, lot_id, expiry, status, qty in rows:
            clinic = scope.clinic_of.get(location_id)
            if clinic is None or clinic not in pools:
                continue
            if usable_now(status, expiry, day) and (expiry is None or expiry >= fresh_until):
                pools[clinic].setdefault(product_id, []).append(LotStock(lot_id, expiry, qty))
        for clinic, stock in pools.items():
            counts = [
                (sum(lot.quantity for lot in stock.get(n.product_id, [])) // n.per_kit, n.sku)
                for n in needs
            ]
            if counts:
                found[(clinic, kit.id)] = min(counts)
    return found
