"""Scheduled demand: the one place that turns courses and clinic sessions into what each
clinic needs, product by product and day by day, and lists the stock that could serve it.

- A home course needs each of its kits on the kit's first-use day, in date vial by vial
  until the day each vial is last used plus ``expiry_margin_days`` (``kit_needs``). A kit
  already reserved (or out) for the course covers it; otherwise an assembled kit at the
  clinic that fits covers it (expiry-aware assignment, as the fulfil batch does); a kit
  need that neither covers becomes the components to assemble it (the plan's kit
  recipe), on the same day, vial k in date until vial k's day.
- A clinic course needs, for each session still to come, its vials (the catalogue's
  serum, ``ml per application ÷ vial ml`` rounded up) and whatever the plan lists in
  ``plan_session_items`` (a clinic stamp...), in date on the session day plus the margin.
- Usable stock: released lots (and, listed apart, lots awaiting release) still in date on
  the first day, summed over every place in the clinic, and available kits.

Everything is read in a handful of set-based queries, and calendars are computed once per
(plan, start, weekdays, time zone), so 5,000 courses take a fraction of a second.

Public API (stable; the reports and the reorder job build on it):

- ``scheduled_demand(uow, start=, end=, clinic=None) -> Demand``
- ``requirements(demand) -> dict[(clinic, sku), list[Requirement]]``
- ``supplies(demand, awaiting_release=False) -> dict[(clinic, sku), list[Supply]]``
- ``product_cover(demand, awaiting_release=False) -> tuple[Cover, ...]``
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Subquery,
    Table,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.orm import aliased

import kitops.i18n as i18n
from kitops.data.repositories.locations import clinic_of
from kitops.data.schema import (
    CourseAppointmentRow,
    CourseKitNeedRow,
    CourseRow,
    KitRow,
    LocationRow,
    LotRow,
    PlanRow,
    PlanSessionItemRow,
    ProductRow,
    RecipeLineRow,
    SessionRow,
    StockBalanceRow,
)
from kitops.domain.assignment import KitOffer, NeedRequest, assign
from kitops.domain.catalog import ProductKind, ul_to_ml, um_to_mm
from kitops.domain.course_lifecycle import NEEDS_STOCK, Moves, moves_of
from kitops.domain.courses import (
    Administered,
    KitNeed,
    Plan,
    course_calendar,
    kit_needs,
    parse_weekdays,
    session_vials,
)
from kitops.domain.kits import KitStatus
from kitops.domain.ledger import LotStatus
from kitops.domain.locations import LocationKind
from kitops.domain.reorder import Requirement, Supply, cover, first_shortfall
from kitops.errors import InvalidInput
from kitops.i18n import _
from kitops.services.dto.reorder import Cover, Demand, DemandProduct, Need, StockLot
from kitops.services.plans import plan_of
from kitops.services.unit_of_work import UnitOfWork

__all__ = [
    "Cover",
    "Demand",
    "DemandProduct",
    "Need",
    "StockLot",
    "product_cover",
    "requirements",
    "scheduled_demand",
    "supplies",
]

KIT = "kit"
KIT_COMPONENT = "kit_component"
SESSION = "session"
AWAITING_RELEASE = "awaiting_release"
MAX_WINDOW_DAYS = 3 * 366
_LONGEST_COURSE = timedelta(weeks=104)


# (clinic id, product id, day, needed until, source, covered by)
_NeedKey = tuple[int, int, date, date, str, str | None]


@lru_cache(maxsize=8192)
def _application_dates(
    plan: Plan, start: date, weekdays: str, zone: str, moves: Moves = ()
) -> tuple[date, ...]:
    days = parse_weekdays(weekdays)
    return course_calendar(plan, start, days, zone, moves=moves).application_dates


@lru_cache(maxsize=8192)
def _kit_needs(
    plan: Plan,
    start: date,
    weekdays: str,
    zone: str,
    vial_ul: int,
    vials: int,
    margin: int,
    moves: Moves = (),
) -> tuple[KitNeed, ...]:
    calendar = course_calendar(plan, start, parse_weekdays(weekdays), zone, moves=moves)
    return tuple(kit_needs(plan, calendar, vial_ul, vials, margin))


def _margin(uow: UnitOfWork) -> int:
    return uow.settings.expiry_margin_days()


_PRODUCTS = select(
    ProductRow.id, ProductRow.sku, ProductRow.name, ProductRow.kind, ProductRow.unit,
    ProductRow.volume_ul, ProductRow.needle_um, ProductRow.active,
)  # fmt: skip
_RECIPES = select(
    RecipeLineRow.kit_product_id, RecipeLineRow.component_product_id, RecipeLineRow.quantity
).order_by(RecipeLineRow.kit_product_id, RecipeLineRow.position)
_SESSION_ITEMS = select(
    PlanSessionItemRow.plan_id, PlanSessionItemRow.product_id, PlanSessionItemRow.quantity
)
# with each plan its kit product's SKU (the plan names it), in the same query; plain
# rows, no ORM objects
_KIT_PRODUCT = aliased(ProductRow, name="kit_product")
_PLANS = select(
    PlanRow.id, PlanRow.code, PlanRow.name, PlanRow.applications_per_week, PlanRow.weeks,
    PlanRow.serum_ul_per_application, PlanRow.administered, _KIT_PRODUCT.sku,
    PlanRow.kits_per_course, PlanRow.default_weekdays, PlanRow.checkin_weeks,
    PlanRow.followup_months, PlanRow.needle_min_um, PlanRow.needle_max_um,
    PlanRow.interval_weeks, PlanRow.kit_product_id,
).outerjoin(_KIT_PRODUCT, _KIT_PRODUCT.id == PlanRow.kit_product_id)  # fmt: skip
_PLACES = select(
    LocationRow.id, LocationRow.code, LocationRow.kind, LocationRow.parent_id,
    LocationRow.timezone,
).order_by(LocationRow.id)  # fmt: skip


class _Catalogue:
    """Products, plans, recipes and session supplies, loaded once."""

    def __init__(self, uow: UnitOfWork) -> None:
        connection = uow.session.connection()
        # plain rows (attribute access as on the mapped row), no ORM bookkeeping: the
        # columns the demand and its products list read
        self.products: dict[int, Any] = {p.id: p for p in connection.execute(_PRODUCTS)}
        self.recipes: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for kit_id, component_id, quantity in connection.execute(_RECIPES):
            self.recipes[kit_id].append((component_id, quantity))
        self.session_items: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for plan_id, product_id, quantity in connection.execute(_SESSION_ITEMS):
            self.session_items[plan_id].append((product_id, quantity))
        serums = sorted(
            (p for p in self.products.values()
             if p.kind == ProductKind.SERUM_VIAL.value and p.active and p.volume_ul),
            key=lambda p: p.id,
        )  # fmt: skip
        # clinic sessions use the catalogue's serum, as `session record` does
        self.clinic_serum = serums[0] if serums else None
        self.plans: dict[int, Plan] = {}
        self.kit_of_plan: dict[int, int | None] = {}
        for plan_id, *fields, kit_product_id in connection.execute(_PLANS):
            self.plans[plan_id] = plan_of(*fields)
            self.kit_of_plan[plan_id] = kit_product_id

    def serum_in_kit(self, kit_id: int) -> tuple[int, int, int]:
        """(serum product id, vial µl, vials per kit) of a kit recipe."""
        for product_id, quantity in self.recipes.get(kit_id, []):
            product = self.products[product_id]
            if product.kind == ProductKind.SERUM_VIAL.value and product.volume_ul:
                return product_id, product.volume_ul, quantity
        raise InvalidInput("recipe", self.products[kit_id].sku, _("holds no serum vial"))


def _clinics(uow: UnitOfWork) -> tuple[dict[int, Any], dict[int, int]]:
    """Clinics by id (plain rows: id, code, kind, parent id, time zone), and the clinic of
    every location inside one."""
    rows: dict[int, Any] = {row.id: row for row in uow.session.connection().execute(_PLACES)}
    clinic_of_place: dict[int, int] = {}
    for row in rows.values():
        clinic = clinic_of(row, rows)
        if clinic is not None:
            clinic_of_place[row.id] = clinic.id
    clinics = {cid: rows[cid] for cid in set(clinic_of_place.values())}
    return clinics, clinic_of_place


@dataclass(frozen=True)
class _Snapshot:
    clinics: dict[int, Any]
    clinic_of_place: dict[int, int]
    cat: _Catalogue
    counts: Counter[_NeedKey]
    stock: dict[tuple[int, int, str, date | None, str], int]  # empty unless asked for
    kits: list[_FreeKit]
    margin: int


def _collect(
    uow: UnitOfWork,
    start: date,
    end: date,
    only: int | None,
    *,
    lots: bool = True,
    stored: bool = True,
    grouped: bool = True,
) -> _Snapshot:
    if end < start:
        raise InvalidInput(
            "end",
            end.isoformat(),
            _("is before the start {start}").format(start=i18n.format_date(start)),
        )
    if (end - start).days > MAX_WINDOW_DAYS:
        raise InvalidInput("end", end.isoformat(), _("the window is limited to three years"))
    clinics, clinic_of_place = _clinics(uow)
    margin = _margin(uow)
    cat = _Catalogue(uow)
    counts: Counter[_NeedKey] = Counter()
    kits = _free_kits(uow, clinic_of_place, only)
    _course_needs(
        uow, cat, clinics, kits, start, end, margin, only, counts, stored=stored, grouped=grouped
    )
    stock = _stock(uow, cat, clinic_of_place, kits, start, only) if lots else {}
    return _Snapshot(clinics, clinic_of_place, cat, counts, stock, kits, margin)


IdKey = tuple[int, int]  # (clinic id, product id)


def demand_by_id(
    uow: UnitOfWork, *, start: date, end: date, awaiting_release: bool = False
) -> tuple[dict[IdKey, list[Requirement]], dict[IdKey, list[Supply]], int]:
    """The same facts as ``scheduled_demand`` keyed by (clinic id, product id), for jobs
    that work through tens of thousands of products (the reorder run): requirements
    (kit needs a reserved kit covers left out), supplies (lots awaiting release included
    when ``awaiting_release``) and the expiry margin. Runs inside the caller's unit of
    work.

    A supply here is the units of one expiry date, not of one lot: lots of a product that
    expire on the same day serve exactly the same needs, so the database sums them (a
    clinic's 20,000 balances of one serum become its few hundred expiry dates)."""
    found = _by_id(uow, start, end, awaiting_release, needed_only=False)
    needs = {key: [Requirement(*need) for need in wanted] for key, wanted in found.needs.items()}
    return needs, found.supplies, found.margin


@dataclass(frozen=True)
class NeedsById:
    """What ``needs_by_id`` answers."""

    # (day, needed until, units) of each requirement, plain tuples (a job makes
    # ``Requirement``s of those it works on); kit needs a reserved kit covers left out
    needs: dict[IdKey, list[tuple[date, date, int]]]
    supplies: dict[IdKey, list[Supply]]  # of the products with requirements only
    kits: dict[IdKey, int]  # available kits in date on the first day, per kit product
    margin: int


def needs_by_id(
    uow: UnitOfWork, *, start: date, end: date, awaiting_release: bool = False
) -> NeedsById:
    """``demand_by_id`` for a job that sums the stock of the other products itself
    (``usable_units``): the supplies, expiry by expiry, only of the products some need
    asks for, and the available kits per (clinic, kit product) apart."""
    return _by_id(uow, start, end, awaiting_release, needed_only=True)


def _by_id(
    uow: UnitOfWork, start: date, end: date, awaiting_release: bool, *, needed_only: bool
) -> NeedsById:
    snap = _collect(uow, start, end, None, lots=False)
    needs: dict[IdKey, list[tuple[date, date, int]]] = defaultdict(list)
    for (c, p, day, until, _lot, by), qty in snap.counts.items():
        if by != "reserved":
            needs[(c, p)].append((day, until, qty))
    stock: dict[IdKey, list[Supply]] = defaultdict(list)
    products = {p for _, p in needs} if needed_only else None
    if products is None or products:
        for c, p, expiry, qty in _stock_by_expiry(
            uow, snap.cat, snap.clinic_of_place, snap.kits, start,
            awaiting_release=awaiting_release, products=products,
        ):  # fmt: skip
            stock[(c, p)].append(Supply(expiry, qty))
    kits: dict[IdKey, int] = defaultdict(int)
    for _kit_id, _serial, clinic_id, product_id, vials in snap.kits:
        if vials and vials[0] >= start:
            kits[(clinic_id, product_id)] += 1
    return NeedsById(dict(needs), dict(stock), dict(kits), snap.margin)


def _usable(start: date | ColumnElement[date], awaiting_release: bool) -> list[Any]:
    """The conditions on a balance (joined to its lot) of usable stock: released (or
    awaiting release, when asked), in date on ``start``, not a kit."""
    statuses = [LotRow.status == LotStatus.RELEASED.value]
    if awaiting_release:  # in quarantine for no reason but waiting for release
        statuses.append(
            and_(LotRow.status == LotStatus.QUARANTINE.value, LotRow.status_reason.is_(None))
        )
    return [
        StockBalanceRow.quantity > 0,
        or_(*statuses),
        or_(LotRow.expiry.is_(None), LotRow.expiry >= start),
        StockBalanceRow.product_id.not_in(
            select(ProductRow.id).where(ProductRow.kind == ProductKind.KIT.value)
        ),
    ]


def usable_units(start: date | ColumnElement[date], *, awaiting_release: bool = False) -> Subquery:
    """Usable units of lots (as ``demand_by_id``'s supplies, kits aside) per clinic and
    product, summed by the database: columns ``clinic_id``, ``product_id``, ``units``.
    A place counts for the nearest clinic it lies in."""
    places: Table = LocationRow.__table__  # type: ignore[assignment]
    clinic = LocationKind.CLINIC.value
    tree = (
        select(places.c.id.label("id"), places.c.id.label("clinic_id"))
        .where(places.c.kind == clinic)
        .cte("clinic_places", recursive=True)
    )
    inner = places.alias("inner_place")
    tree = tree.union_all(
        select(inner.c.id, tree.c.clinic_id)
        .join(tree, inner.c.parent_id == tree.c.id)
        .where(inner.c.kind != clinic)
    )
    return (
        select(
            tree.c.clinic_id.label("clinic_id"),
            StockBalanceRow.product_id.label("product_id"),
            func.sum(StockBalanceRow.quantity).label("units"),
        )
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .join(tree, tree.c.id == StockBalanceRow.location_id)
        .where(*_usable(start, awaiting_release))
        .group_by(tree.c.clinic_id, StockBalanceRow.product_id)
        .subquery("usable_units")
    )


def scheduled_demand(
    uow: UnitOfWork, *, start: date, end: date, clinic: str | None = None
) -> Demand:
    """What scheduled courses need on days ``start`` to ``end`` (inclusive), per clinic,
    product and day, with the stock on hand that could serve it.

    ``needs`` are aggregated per (clinic, SKU, day, needed-until, source, covered-by);
    ``stock`` per (clinic, SKU, lot). Read-only: works in a read-only unit of work or
    inside another use case's transaction.
    """
    with uow:
        only: int | None = None
        if clinic:
            only = uow.clinic_filter(clinic, _("see demand")).id
        elif uow.scope_clinics() is not None:
            raise uow.scope_refusal(
                _("see the demand of every clinic; give one of theirs (--clinic)")
            )
        snap = _collect(uow, start, end, only)
        clinics, cat, counts, stock, margin = (
            snap.clinics, snap.cat, snap.counts, snap.stock, snap.margin,
        )  # fmt: skip
        used = {key[1] for key in counts} | {key[1] for key in stock}
        products = tuple(
            DemandProduct(
                sku=p.sku,
                name=p.name,
                kind=p.kind,
                unit=p.unit,
                needle_mm=um_to_mm(p.needle_um),
                ml=ul_to_ml(p.volume_ul),
            )
            for p in sorted((cat.products[i] for i in used), key=lambda p: p.sku)
        )
        needs = tuple(
            sorted(
                (
                    Need(clinics[c].code, cat.products[p].sku, day, until, qty, source, by)
                    for (c, p, day, until, source, by), qty in counts.items()
                ),
                key=lambda n: (
                    n.clinic,
                    n.sku,
                    n.day,
                    n.needed_until,
                    n.source,
                    n.covered_by or "",
                ),
            )
        )
        stock_lots = tuple(
            sorted(
                (
                    StockLot(clinics[c].code, cat.products[p].sku, code, expiry, status, qty)
                    for (c, p, code, expiry, status), qty in stock.items()
                ),
                key=lambda s: (s.clinic, s.sku, s.expiry or date.max, s.lot),
            )
        )
        return Demand(
            start=start, end=end, margin_days=margin,
            clinic=clinics[only].code if only is not None else None,
            products=products, needs=needs, stock=stock_lots,
        )  # fmt: skip


def _course_needs(
    uow: UnitOfWork,
    cat: _Catalogue,
    clinics: dict[int, Any],
    kits: list[_FreeKit],
    start: date,
    end: date,
    margin: int,
    only: int | None,
    counts: Counter[_NeedKey],
    *,
    stored: bool = True,
    grouped: bool = True,
) -> None:
    """Count the needs of the running courses into ``counts``. The days come from what
    was stored when each course was created or moved (a home course's kit need dates,
    a clinic course's booked sessions); a course with nothing stored (older than the
    stored dates, a kit recipe changed since) from its calendar, as every course does
    with ``stored=False``.

    With the stored dates, the database counts the clinic sessions still to come of the
    courses with every session booked per (clinic, plan, day, session number), and
    returns the window's stored kit needs with whether a kit is held for each; only the
    other courses (not every session booked, kit needs not stored) are read one by one
    and go through the per-course path, as every course does with ``grouped=False``
    (the same counts: the tests hold one to the other)."""
    running = [
        CourseRow.status.in_(NEEDS_STOCK),
        CourseRow.start_date <= end,
        CourseRow.start_date >= start - _LONGEST_COURSE,
    ]
    if only is not None:
        running.append(CourseRow.clinic_id == only)
    connection = uow.session.connection()
    open_kits: list[NeedRequest] = []
    per_course = _PerCourse(cat, clinics, start, end, margin, stored, counts, open_kits)
    clinic_plans = {i: p for i, p in cat.plans.items() if p.administered is Administered.CLINIC}
    kit_plans = {
        i: p
        for i, p in cat.plans.items()
        if p.administered is not Administered.CLINIC
        and p.uses_kits
        and cat.kit_of_plan.get(i) is not None
    }
    queries = _course_queries(
        only is not None,
        tuple(sorted((i, p.applications) for i, p in clinic_plans.items())),
        tuple(sorted((i, p.kits_per_course) for i, p in kit_plans.items())),
    )
    params = {"start": start, "end": end, "earliest": start - _LONGEST_COURSE, "clinic": only}
    if stored and grouped:
        _grouped_needs(uow, per_course, queries, params, running)
    else:
        courses = connection.execute(queries.courses, params).all()
        # clinic sessions on the day they are booked (moved off a closed or full day):
        # those in the window for courses with every session booked, every booked day of
        # the others
        calendar_repo = uow.clinic_calendar
        partly_booked = stored and any(
            row[6] != cat.plans[row[2]].applications for row in courses if row[2] in clinic_plans
        )
        if stored and not partly_booked:
            booked = calendar_repo.booked_session_days(
                *running,
                CourseAppointmentRow.day >= start,
                CourseAppointmentRow.day <= end,
            )
        else:
            booked = calendar_repo.booked_session_days(*running)
        held = {
            (course_id, part)
            for course_id, part in connection.execute(
                select(KitRow.course_id, KitRow.course_part).where(KitRow.course_id.is_not(None))
            )
        }
        # the stored kit needs first used in the window (the others count for nothing)
        kept = _stored_kit_needs(uow, running, start, end) if stored else {}
        per_course.count(courses, booked, held, kept)
    if not open_kits:
        return
    # open kit needs: an assembled kit that fits covers them, else their components do;
    # only those of a clinic and kit product with an available kit are matched
    offers = [
        KitOffer(kit_row_id, (clinic_id, product_id), vials)
        for kit_row_id, _, clinic_id, product_id, vials in kits
    ]
    pools = {offer.pool for offer in offers}
    matched = [request for request in open_kits if request.pool in pools]
    served = assign(matched, offers).served if matched else {}
    # counted per (clinic and kit product, first day, vial days, served or not): the kit
    # needs of courses on the same plan starting on the same day are alike
    alike: Counter[tuple[tuple[int, int], date, tuple[date, ...], bool]] = Counter()
    for request in open_kits:
        need = request.need
        alike[(_pool(request), need.first_use, need.vial_needed_until, request.key in served)] += 1
    for ((pool_clinic, kit_id), day, vial_days, is_served), many in alike.items():
        last = max(vial_days)
        if is_served:
            counts[(pool_clinic, kit_id, day, last, KIT, "kit")] += many
            continue
        counts[(pool_clinic, kit_id, day, last, KIT, None)] += many
        serum_id = per_course.recipe(kit_id)[0]
        for product_id, quantity in cat.recipes[kit_id]:
            if product_id == serum_id:
                # vial k of the kit must last until vial k's last day (+ margin)
                for until in vial_days[:quantity]:
                    counts[(pool_clinic, product_id, day, until, KIT_COMPONENT, None)] += many
            else:
                counts[(pool_clinic, product_id, day, last, KIT_COMPONENT, None)] += quantity * many


# the per-course path reads many more courses than this by id; past it, every running one
_BY_ID_LIMIT = 500


@dataclass(frozen=True)
class _CourseQueries:
    """The statements ``_course_needs`` runs, built once per plan set: parameters
    ``start``, ``end``, ``earliest`` (the first start date of a course still running)
    and ``clinic`` (when for one clinic); ``ids`` the courses asked for by id."""

    courses: Any  # every running course, with its sessions booked and done, needs stored
    by_id: Any  # the same of the courses ``ids``
    one_by_one: Any  # the courses for the per-course path (these four: None without such plans)
    sessions: Any  # the clinic sessions still to come, grouped
    sessions_but: Any  # the same but of the courses ``ids``
    sessions_checked: Any  # the same, every course's booked sessions counted
    kit_needs: Any  # the window's stored kit needs, with a kit held or not


@lru_cache(maxsize=64)
def _course_queries(
    one_clinic: bool,
    clinic_plans: tuple[tuple[int, int], ...],
    kit_plans: tuple[tuple[int, int], ...],
) -> _CourseQueries:
    """``clinic_plans``: (plan id, applications); ``kit_plans``: (plan id, kits per course)."""
    running = [
        CourseRow.status.in_(NEEDS_STOCK),
        CourseRow.start_date <= bindparam("end"),
        CourseRow.start_date >= bindparam("earliest"),
    ]
    if one_clinic:
        running.append(CourseRow.clinic_id == bindparam("clinic"))
    # with each course, counted by the database (an index lookup each): its clinic
    # sessions booked, its sessions done and its kit needs stored
    booked_a = aliased(CourseAppointmentRow, name="booked_appointment")
    booked_n = (
        select(func.count())
        .where(booked_a.course_id == CourseRow.id, booked_a.kind == "application")
        .correlate(CourseRow)
        .scalar_subquery()
    )
    done_n = (
        select(func.count())
        .where(SessionRow.course_id == CourseRow.id)
        .correlate(CourseRow)
        .scalar_subquery()
    )
    kept_a = aliased(CourseKitNeedRow, name="kept_need")
    kept_n = (
        select(func.count())
        .where(kept_a.course_id == CourseRow.id)
        .correlate(CourseRow)
        .scalar_subquery()
    )
    courses = select(
        CourseRow.id, CourseRow.clinic_id, CourseRow.plan_id, CourseRow.start_date,
        CourseRow.weekdays, CourseRow.reschedules, booked_n, done_n, kept_n,
    ).where(*running)  # fmt: skip
    by_id = courses.where(CourseRow.id.in_(bindparam("ids", expanding=True)))
    every_session = case(dict(clinic_plans), value=CourseRow.plan_id) if clinic_plans else None
    every_kit = case(dict(kit_plans), value=CourseRow.plan_id) if kit_plans else None
    # the courses for the per-course path: a clinic course not every session of which is
    # booked, a home course whose kit needs are not all stored
    others = []
    if every_session is not None:
        clinic_ids = [i for i, _ in clinic_plans]
        others.append(and_(CourseRow.plan_id.in_(clinic_ids), booked_n != every_session))
    if every_kit is not None:
        kit_ids = [i for i, _ in kit_plans]
        others.append(and_(CourseRow.plan_id.in_(kit_ids), kept_n != every_kit))
    one_by_one = courses.where(or_(*others)) if others else None
    sessions = sessions_but = sessions_checked = kit_needs = None
    if every_session is not None:
        # the sessions still to come of the clinic courses with every session booked, on
        # their booked days, per day and session number (what a session takes depends on
        # its number)
        sessions = (
            select(CourseRow.clinic_id, CourseRow.plan_id, CourseAppointmentRow.day,
                   CourseAppointmentRow.number, func.count())
            .join(CourseRow, CourseRow.id == CourseAppointmentRow.course_id)
            .where(
                CourseAppointmentRow.kind == "application",
                # read from the (day, kind, number, course) index alone: the window's days
                CourseAppointmentRow.day >= bindparam("start"),
                CourseAppointmentRow.day <= bindparam("end"),
                *running,
                CourseRow.plan_id.in_(clinic_ids),
                CourseAppointmentRow.number > done_n,
            )
            .group_by(CourseRow.clinic_id, CourseRow.plan_id, CourseAppointmentRow.day,
                      CourseAppointmentRow.number)
        )  # fmt: skip
        sessions_but = sessions.where(CourseRow.id.not_in(bindparam("ids", expanding=True)))
        sessions_checked = sessions.where(booked_n == every_session)
    if every_kit is not None:
        held = (
            select(KitRow.id)
            .where(KitRow.course_id == CourseKitNeedRow.course_id,
                   KitRow.course_part == CourseKitNeedRow.part)
            .exists()
        )  # fmt: skip
        kit_needs = (
            select(CourseKitNeedRow.course_id, CourseRow.clinic_id, CourseRow.plan_id,
                   CourseKitNeedRow.part, CourseKitNeedRow.first_use, CourseKitNeedRow.last_use,
                   CourseKitNeedRow.vial_last_uses, held)
            .join(CourseRow, CourseRow.id == CourseKitNeedRow.course_id)
            .where(*running, CourseRow.plan_id.in_(kit_ids),
                   CourseKitNeedRow.first_use >= bindparam("start"),
                   CourseKitNeedRow.first_use <= bindparam("end"))
        )  # fmt: skip
    return _CourseQueries(
        courses, by_id, one_by_one, sessions, sessions_but, sessions_checked, kit_needs
    )


def _grouped_needs(
    uow: UnitOfWork,
    per_course: _PerCourse,
    queries: _CourseQueries,
    params: dict[str, Any],
    running: list[Any],
) -> None:
    """``_course_needs`` with the stored dates, grouped by the database (see there)."""
    cat = per_course.cat
    connection = uow.session.connection()
    one_by_one = (
        list(connection.execute(queries.one_by_one, params).all())
        if queries.one_by_one is not None
        else []
    )
    start, end, counts = per_course.start, per_course.end, per_course.counts
    if queries.sessions is not None:
        partly = sorted(row[0] for row in one_by_one if cat.plans[row[2]].administered
                        is Administered.CLINIC)  # fmt: skip
        if not partly:
            sessions = connection.execute(queries.sessions, params)
        elif len(partly) <= _BY_ID_LIMIT:
            sessions = connection.execute(queries.sessions_but, {**params, "ids": partly})
        else:
            sessions = connection.execute(queries.sessions_checked, params)
        margin_delta = per_course.margin_delta
        for clinic_id, plan_id, day, number, sessions_on_day in sessions.all():
            until = day + margin_delta
            for product_id, quantity in per_course.session_supplies(plan_id, number):
                key = (clinic_id, product_id, day, until, SESSION, None)
                counts[key] += quantity * sessions_on_day
    if queries.kit_needs is not None:
        rows = connection.execute(queries.kit_needs, params).all()
        recalculate = _stored_kit_rows(per_course, rows, one_by_one)
        for chunk in range(0, len(recalculate), _BY_ID_LIMIT):
            ids = recalculate[chunk : chunk + _BY_ID_LIMIT]
            one_by_one += connection.execute(queries.by_id, {**params, "ids": ids}).all()
    if not one_by_one:
        return
    ids = sorted({row[0] for row in one_by_one})
    chosen = list(running)
    if len(ids) <= _BY_ID_LIMIT:
        chosen.append(CourseRow.id.in_(ids))
    booked = uow.clinic_calendar.booked_session_days(*chosen)
    held_kits = select(KitRow.course_id, KitRow.course_part).where(KitRow.course_id.is_not(None))
    if len(ids) <= _BY_ID_LIMIT:
        held_kits = held_kits.where(KitRow.course_id.in_(ids))
    held = {(course_id, part) for course_id, part in connection.execute(held_kits)}
    kept = _stored_kit_needs(uow, chosen, start, end)
    per_course.count(one_by_one, booked, held, kept)


def _stored_kit_rows(
    per_course: _PerCourse, rows: Sequence[Any], one_by_one: list[Any]
) -> list[int]:
    """Count the stored kit needs first used in the window (``rows``) of the home courses
    with all their kit needs stored (those of ``one_by_one`` aside): a need a kit is held
    for is covered by it, the others are open. Answers the courses whose stored needs are
    of another kit recipe (their calendar's needs count instead)."""
    counts, open_kits = per_course.counts, per_course.open_kits
    margin_delta = per_course.margin_delta
    aside = {row[0] for row in one_by_one}
    # each stored text of vial days once: parsed, and with the margin
    parsed: dict[str, tuple[date, ...]] = {}
    margined: dict[str, tuple[date, ...]] = {}
    kits: dict[int, tuple[int, int]] = {}  # plan → (kit product, vials per kit)
    other_recipe = set()
    for course_id, _clinic, plan_id, _part, _first, _last, text, _held in rows:
        vial_days = parsed.get(text)
        if vial_days is None:
            vial_days = parsed[text] = tuple(date.fromisoformat(d) for d in text.split(","))
            margined[text] = tuple(day + margin_delta for day in vial_days)
        kit = kits.get(plan_id)
        if kit is None:
            kit_id = per_course.cat.kit_of_plan[plan_id]
            assert kit_id is not None
            kit = kits[plan_id] = (kit_id, per_course.recipe(kit_id)[2])
        if len(vial_days) != kit[1]:  # stored for another recipe
            other_recipe.add(course_id)
    for course_id, clinic_id, plan_id, part, first, last, text, is_held in rows:
        if course_id in aside or course_id in other_recipe:
            continue
        kit_id = kits[plan_id][0]
        if is_held:
            counts[(clinic_id, kit_id, first, last + margin_delta, KIT, "reserved")] += 1
        else:
            need = KitNeed(part, first, margined[text])
            open_kits.append(NeedRequest((course_id, part), (clinic_id, kit_id), need))
    return sorted(other_recipe - aside)


class _PerCourse:
    """Counts the needs of courses one by one (``count``), and what the grouped path
    shares with it."""

    def __init__(
        self,
        cat: _Catalogue,
        clinics: dict[int, Any],
        start: date,
        end: date,
        margin: int,
        stored: bool,
        counts: Counter[_NeedKey],
        open_kits: list[NeedRequest],
    ) -> None:
        self.cat, self.start, self.end, self.margin = cat, start, end, margin
        self.stored, self.counts, self.open_kits = stored, counts, open_kits
        self.margin_delta = timedelta(days=margin)
        self.zones = {clinic_id: row.timezone or "UTC" for clinic_id, row in clinics.items()}
        serum = cat.clinic_serum
        self.serum_id: int = serum.id if serum is not None else 0
        self.serum_ul: int | None = serum.volume_ul if serum is not None else None
        self._in_kit: dict[int, tuple[int, int, int]] = {}
        self._supplies: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def recipe(self, kit_id: int) -> tuple[int, int, int]:
        found = self._in_kit.get(kit_id)
        if found is None:
            found = self._in_kit[kit_id] = self.cat.serum_in_kit(kit_id)
        return found

    def session_supplies(self, plan_id: int, number: int) -> list[tuple[int, int]]:
        """(product id, quantity) that clinic session ``number`` of a course on the plan
        takes: the serum vials it opens, then the plan's session items."""
        found = self._supplies.get((plan_id, number))
        if found is None:
            found = list(self.cat.session_items.get(plan_id, []))
            if self.serum_ul:
                # a second half of a vial opened at its pair's session takes none
                opens, _ = session_vials(self.cat.plans[plan_id], self.serum_ul, number)
                if opens:
                    found.insert(0, (self.serum_id, opens))
            self._supplies[(plan_id, number)] = found
        return found

    def count(
        self,
        courses: Iterable[Any],
        booked: dict[int, dict[int, date]],
        held: set[tuple[int | None, int | None]],
        kept: dict[int, _Stored],
    ) -> None:
        cat, start, end, margin, stored = self.cat, self.start, self.end, self.margin, self.stored
        counts, open_kits, margin_delta = self.counts, self.open_kits, self.margin_delta
        for (course_id, clinic_id, plan_id, course_start, weekdays, moved, booked_count, done,
             kept_count) in courses:  # fmt: skip
            plan = cat.plans[plan_id]
            zone = self.zones[clinic_id]
            if plan.administered is Administered.CLINIC:
                on_days = booked.get(course_id, {})
                sessions: Iterable[tuple[int, date]]
                if stored and booked_count == plan.applications:
                    # every session is booked: the day of each still to come is the booked
                    # one (``booked`` may hold only those in the window)
                    sessions = ((n, day) for n, day in on_days.items() if n > done)
                else:  # (a course booked before visits were): the calendar's days
                    dates = _application_dates(plan, course_start, weekdays, zone, moves_of(moved))
                    sessions = (
                        (n, on_days.get(n, planned))
                        for n, planned in enumerate(dates[done:], start=done + 1)
                    )
                for number, day in sessions:
                    if not start <= day <= end:
                        continue
                    until = day + margin_delta
                    for product_id, quantity in self.session_supplies(plan_id, number):
                        counts[(clinic_id, product_id, day, until, SESSION, None)] += quantity
                continue
            kit_id = cat.kit_of_plan.get(plan_id)
            if not plan.uses_kits or kit_id is None:
                continue
            _, vial_ul, vials = self.recipe(kit_id)
            rows = kept.get(course_id, []) if stored else None
            if rows is not None and (
                kept_count != plan.kits_per_course  # not stored (yet)
                or any(len(row[3]) != vials for row in rows)  # stored for another recipe
            ):
                rows = None
            if rows is None:  # the calendar's needs include the margin
                rows = [
                    (n.part, n.first_use, n.last_needed, n.vial_needed_until)
                    for n in _kit_needs(
                        plan, course_start, weekdays, zone, vial_ul, vials, margin,
                        moves_of(moved),
                    )
                ]  # fmt: skip
                spread = timedelta(0)
            else:
                spread = margin_delta
            for part, first_use, last, vial_days in rows:
                if not start <= first_use <= end:
                    continue
                if (course_id, part) in held:
                    key = (clinic_id, kit_id, first_use, last + spread, KIT, "reserved")
                    counts[key] += 1
                    continue
                # an open kit need is matched vial by vial, each vial until its own last day
                if spread:
                    vial_days = _with_margin(vial_days, margin)
                need = KitNeed(part, first_use, vial_days)
                open_kits.append(NeedRequest((course_id, part), (clinic_id, kit_id), need))


# (part, first use, last use, each vial's last day)
_Stored = list[tuple[int, date, date, tuple[date, ...]]]


@lru_cache(maxsize=65536)
def _with_margin(days: tuple[date, ...], margin: int) -> tuple[date, ...]:
    delta = timedelta(days=margin)
    return tuple(day + delta for day in days)


def _stored_kit_needs(
    uow: UnitOfWork, running: list[Any], start: date, end: date
) -> dict[int, _Stored]:
    """Course id → the kit need dates stored when it was created or last moved (no margin),
    with every vial's last day, of its kits first used on days ``start`` to ``end``, for
    the courses matching ``running``, in one query."""
    found: dict[int, _Stored] = {}
    parsed: dict[str, tuple[date, ...]] = {}
    stmt = (
        select(CourseKitNeedRow.course_id, CourseKitNeedRow.part, CourseKitNeedRow.first_use,
               CourseKitNeedRow.last_use, CourseKitNeedRow.vial_last_uses)
        .join(CourseRow, CourseRow.id == CourseKitNeedRow.course_id)
        .where(*running, CourseKitNeedRow.first_use >= start, CourseKitNeedRow.first_use <= end)
    )  # fmt: skip
    for course_id, part, first, last, text in uow.session.connection().execute(stmt):
        vial_days = parsed.get(text)
        if vial_days is None:
            vial_days = parsed[text] = tuple(date.fromisoformat(d) for d in text.split(","))
        found.setdefault(course_id, []).append((part, first, last, vial_days))
    return found


def _pool(request: NeedRequest) -> tuple[int, int]:
    pool = request.pool
    assert isinstance(pool, tuple)
    return int(pool[0]), int(pool[1])


_FreeKit = tuple[int, str, int, int, tuple[date, ...]]
_FREE_KITS = select(
    KitRow.id, KitRow.serial, KitRow.location_id, KitRow.product_id, KitRow.vial_expiries
).where(KitRow.status == KitStatus.AVAILABLE.value, ~KitRow.recalled)


def _free_kits(
    uow: UnitOfWork, clinic_of_place: dict[int, int], only: int | None
) -> list[_FreeKit]:
    """(kit id, serial, clinic id, kit product id, vial expiries) of every available kit."""
    parsed: dict[str, tuple[date, ...]] = {}
    found = []
    for kit_id, serial, location_id, product_id, vials in uow.session.connection().execute(
        _FREE_KITS
    ):
        clinic_id = clinic_of_place.get(location_id)
        if clinic_id is None or (only is not None and clinic_id != only):
            continue
        dates = parsed.get(vials)
        if dates is None:
            dates = parsed[vials] = tuple(sorted(date.fromisoformat(v) for v in vials.split(",")))
        found.append((kit_id, serial, clinic_id, product_id, dates))
    return found


def _stock(
    uow: UnitOfWork,
    cat: _Catalogue,
    clinic_of_place: dict[int, int],
    kits: list[_FreeKit],
    start: date,
    only: int | None,
) -> dict[tuple[int, int, str, date | None, str], int]:
    """(clinic, product, lot, expiry, status) → units, for stock in date on ``start``."""
    kit_products = [p.id for p in cat.products.values() if p.kind == ProductKind.KIT.value]
    stmt = (
        select(
            StockBalanceRow.location_id, LotRow.product_id, LotRow.code, LotRow.expiry,
            LotRow.status, LotRow.status_reason, StockBalanceRow.quantity,
        )
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .where(
            StockBalanceRow.quantity > 0,
            LotRow.status.in_([LotStatus.RELEASED.value, LotStatus.QUARANTINE.value]),
            or_(LotRow.expiry.is_(None), LotRow.expiry >= start),
        )
    )  # fmt: skip
    if kit_products:
        stmt = stmt.where(StockBalanceRow.product_id.not_in(kit_products))
    stock: dict[tuple[int, int, str, date | None, str], int] = defaultdict(int)
    rows = uow.session.connection().execute(stmt)
    for location_id, product_id, code, expiry, status, reason, quantity in rows:
        clinic_id = clinic_of_place.get(location_id)
        if clinic_id is None or (only is not None and clinic_id != only):
            continue
        if status == LotStatus.QUARANTINE.value:
            if reason is not None:
                continue  # held for a reason, not just waiting for release
            status = AWAITING_RELEASE
        stock[(clinic_id, product_id, code, expiry, status)] += quantity
    for _kit_id, serial, clinic_id, product_id, vials in kits:
        if vials and vials[0] >= start:
            stock[(clinic_id, product_id, serial, vials[0], "available")] += 1
    return stock


def _stock_by_expiry(
    uow: UnitOfWork,
    cat: _Catalogue,
    clinic_of_place: dict[int, int],
    kits: list[_FreeKit],
    start: date,
    *,
    awaiting_release: bool,
    products: set[int] | None = None,
) -> list[tuple[int, int, date | None, int]]:
    """(clinic, product, expiry, units) of the stock ``_stock`` lists lot by lot (lots
    awaiting release counted only when ``awaiting_release``), summed per expiry date by
    the database: one row per (place, product, expiry) instead of one per balance; of
    ``products`` only when given."""
    params: dict[str, Any] = {"start": start}
    if products is not None:
        params["products"] = sorted(products)
    stmt = _stock_by_expiry_query(awaiting_release, products is not None)
    found: dict[tuple[int, int, date | None], int] = {}
    rows = uow.session.connection().execute(stmt, params).all()
    for location_id, product_id, expiry, units in rows:
        clinic_id = clinic_of_place.get(location_id)
        if clinic_id is not None:
            key = (clinic_id, product_id, expiry)
            found[key] = found.get(key, 0) + int(units)
    for _kit_id, _serial, clinic_id, product_id, vials in kits:
        if vials and vials[0] >= start and (products is None or product_id in products):
            key = (clinic_id, product_id, vials[0])
            found[key] = found.get(key, 0) + 1
    return [(c, p, expiry, units) for (c, p, expiry), units in found.items()]


@lru_cache(maxsize=8)
def _stock_by_expiry_query(awaiting_release: bool, of_products: bool) -> Any:
    """``_stock_by_expiry``'s statement, built once: parameters ``start`` and, when
    ``of_products``, ``products``."""
    conditions = _usable(bindparam("start", type_=Date), awaiting_release)
    if of_products:
        conditions.append(StockBalanceRow.product_id.in_(bindparam("products", expanding=True)))
    # summed per place (a plain GROUP BY; places → clinics here, not in a CASE of every
    # place that each of 60,000 balances would walk through)
    return (
        select(StockBalanceRow.location_id, LotRow.product_id, LotRow.expiry,
               func.sum(StockBalanceRow.quantity))
        .join(LotRow, LotRow.id == StockBalanceRow.lot_id)
        .where(*conditions)
        .group_by(StockBalanceRow.location_id, LotRow.product_id, LotRow.expiry)
    )  # fmt: skip


Key = tuple[str, str]  # (clinic code, SKU)


def requirements(demand: Demand, *, include_covered: bool = False) -> dict[Key, list[Requirement]]:
    """The needs of each (clinic, SKU) as domain requirements. Kit needs already covered
    by a reserved kit are left out unless ``include_covered``."""
    found: dict[Key, list[Requirement]] = defaultdict(list)
    for need in demand.needs:
        if need.covered_by == "reserved" and not include_covered:
            continue
        found[(need.clinic, need.sku)].append(
            Requirement(need.day, need.needed_until, need.quantity)
        )
    return dict(found)


def supplies(demand: Demand, *, awaiting_release: bool = False) -> dict[Key, list[Supply]]:
    """The usable stock of each (clinic, SKU): released lots and available kits, plus
    lots awaiting release when ``awaiting_release``."""
    found: dict[Key, list[Supply]] = defaultdict(list)
    for lot in demand.stock:
        if lot.status == AWAITING_RELEASE and not awaiting_release:
            continue
        found[(lot.clinic, lot.sku)].append(Supply(lot.expiry, lot.quantity))
    return dict(found)


def product_cover(demand: Demand, *, awaiting_release: bool = False) -> tuple[Cover, ...]:
    """Per (clinic, SKU) with demand or stock: how much of the window's demand the stock
    can serve, each unit in date when it is needed, and the first day it falls short.

    ``days_of_cover`` counts from ``demand.start`` to the first need (in day order) the
    stock cannot serve, None when it lasts the whole window."""
    needs = requirements(demand)
    stock = supplies(demand, awaiting_release=awaiting_release)
    after = demand.end + timedelta(days=1 + demand.margin_days)
    lines = []
    for key in sorted(set(needs) | set(stock)):
        wanted = needs.get(key, [])
        have = stock.get(key, [])
        coverage = cover(wanted, have, spare_until=after)
        short = first_shortfall(wanted, have)
        lines.append(
            Cover(
                clinic=key[0],
                sku=key[1],
                demand=coverage.demand,
                covered=coverage.covered,
                short=coverage.short,
                on_hand=coverage.on_hand,
                expiring_unused=coverage.expiring_unused,
                first_short_day=short.day if short else None,
                days_of_cover=(short.day - demand.start).days if short else None,
            )
        )
    return tuple(lines)
