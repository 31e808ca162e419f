"""Fulfilment: give each course the kit(s) whose every vial is still in date on the day it
is used, one course at a time or as a batch; check clinic courses; the pick list."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from kitops import faults, i18n
from kitops.data.repositories.locations import clinic_of, subtree_ids
from kitops.data.repositories.reservations import (
    KitReservations,
    lock_kit_lots,
    parts_released,
    parts_within,
)
from kitops.data.schema import CourseRow, KitRow, PlanRow
from kitops.domain.assignment import KitOffer, NeedRequest, assign
from kitops.domain.course_lifecycle import (
    LIVE,
    NEEDS_STOCK,
    Moves,
    check_transition,
    moves_of,
    opened_return_reason,
    status_after_resume,
)
from kitops.domain.courses import Administered, CourseStatus, KitNeed, Plan, fits, parse_course_id
from kitops.domain.kits import KitStatus
from kitops.domain.locations import LocationKind, clinic_today
from kitops.domain.numbers import MAX_ID
from kitops.errors import InvalidInput, Refused
from kitops.i18n import N_, _
from kitops.services.courses import (
    free_reserved_kits,
    needs_of,
    parse_part,
    returned_opened,
    serum_per_kit,
)
from kitops.services.dto import courses as courses_dto
from kitops.services.plans import to_domain
from kitops.services.reservation import FULFIL, common_case, course_kit_needs, reserve_alone
from kitops.services.sessions import check_sessions
from kitops.services.unit_of_work import UnitOfWork, retrying

ORDINALS = {1: N_("1st"), 2: N_("2nd"), 3: N_("3rd")}


def ordinal(n: int) -> str:
    """``3rd``, ``6th`` (``6.`` in German)."""
    if n in ORDINALS:
        return i18n.gettext(ORDINALS[n])
    return _("{n}th").format(n=n)


def _parse_expiries(text: str, cache: dict[str, tuple[date, ...]]) -> tuple[date, ...]:
    found = cache.get(text)
    if found is None:
        found = cache[text] = tuple(date.fromisoformat(part) for part in text.split(","))
    return found


class _Context:
    """Plans, clinics and locations loaded once per use case."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.margin = uow.settings.expiry_margin_days()
        self.locations = {row.id: row for row in uow.locations.all()}
        self.clinic_of_location: dict[int, int | None] = {}
        for row in self.locations.values():
            clinic = clinic_of(row, self.locations)
            self.clinic_of_location[row.id] = clinic.id if clinic else None
        self.plans: dict[int, tuple[Plan, int | None, int, int]] = {}
        for plan_row in uow.session.scalars(select(PlanRow)):
            plan = to_domain(plan_row)
            vial_ul = vials = 0
            if plan.uses_kits and plan_row.kit_product is not None:
                vial_ul, vials = serum_per_kit(plan_row.kit_product)
            self.plans[plan_row.id] = (plan, plan_row.kit_product_id, vial_ul, vials)

    def needs(
        self, plan_id: int, start: date, weekdays: str, clinic_id: int, moves: Moves = ()
    ) -> tuple[KitNeed, ...]:
        plan, _, vial_ul, vials = self.plans[plan_id]
        if not plan.uses_kits:
            return ()
        zone = self.locations[clinic_id].timezone or "UTC"
        return course_kit_needs(plan, start, weekdays, zone, vial_ul, vials, self.margin, moves)

    def clinic_locations(self, clinic_id: int) -> list[int]:
        return [loc for loc, clinic in self.clinic_of_location.items() if clinic == clinic_id]

    def code(self, location_id: int) -> str:
        return self.locations[location_id].code


class _Explainer:
    """Why no kit fits, in the stockroom's words, for many needs at once: free kits are
    indexed per (clinic, product) by their earliest vial, so each answer is a few
    bisections (a mixed-lot kit that might still fit elsewhere is not counted)."""

    def __init__(self, ctx: _Context, free: list[tuple[int, int, tuple[date, ...]]]) -> None:
        self.ctx = ctx
        index: dict[tuple[int, int], list[date]] = defaultdict(list)
        for location_id, product_id, vials in free:
            clinic = ctx.clinic_of_location.get(location_id)
            if clinic is not None:
                index[(clinic, product_id)].append(vials[0])
        self.index = {key: sorted(dates) for key, dates in index.items()}

    def why(self, course_id: int, clinic_id: int, need: KitNeed, product_id: int) -> str:
        code = self.ctx.code
        vials = len(need.vial_needed_until)
        text = _(
            "course {course} ({clinic}, kit {part} from {first_use}): "
            "needs a kit whose {ordinal} vial is in date until {last_needed}"
        ).format(
            course=course_id,
            clinic=code(clinic_id),
            part=need.part,
            first_use=i18n.format_date(need.first_use),
            ordinal=ordinal(vials),
            last_needed=i18n.format_date(need.last_needed),
        )
        here = self.index.get((clinic_id, product_id))
        if here:
            text += _("; best available at {clinic} expires {expiry}").format(
                clinic=code(clinic_id), expiry=i18n.format_date(here[-1])
            )
        else:
            text += _("; no kit available at {clinic}").format(clinic=code(clinic_id))
        elsewhere = []
        for (other, product), dates in sorted(self.index.items()):
            if product == product_id and other != clinic_id:
                fitting = len(dates) - bisect.bisect_left(dates, need.last_needed)
                if fitting:
                    elsewhere.append(
                        _("{clinic} has {fitting} that fit").format(
                            clinic=code(other), fitting=fitting
                        )
                    )
        return "; ".join([text, ", ".join(elsewhere)]) if elsewhere else text


def _line(
    ctx: _Context, course: CourseRow | tuple[int, str, int], need: KitNeed,
    kit: KitRow | None = None, kit_serial: str | None = None, kit_expiry: date | None = None,
    reason: str | None = None,
) -> courses_dto.FulfilLine:  # fmt: skip
    if isinstance(course, CourseRow):
        course_id, patient, clinic_id = course.id, course.patient_ref, course.clinic_id
    else:
        course_id, patient, clinic_id = course
    return courses_dto.FulfilLine(
        course_id=course_id, patient_ref=patient, clinic=ctx.code(clinic_id), part=need.part,
        first_use=need.first_use, needed_until=need.last_needed,
        kit=kit.serial if kit is not None else kit_serial,
        kit_expiry=kit.expiry if kit is not None else kit_expiry, reason=reason,
    )  # fmt: skip


def _free_kits(ctx: _Context, product_id: int) -> list[tuple[int, int, tuple[date, ...]]]:
    cache: dict[str, tuple[date, ...]] = {}
    rows = KitReservations(ctx.uow.session.connection()).free_kits(product_id)
    return [(loc, pid, _parse_expiries(v, cache)) for loc, pid, v in rows]


@retrying
def fulfil_course(
    uow: UnitOfWork, course_id: int | str, *, today: date | None = None
) -> courses_dto.FulfilReport:
    """Reserve the kit(s) of one home course at its clinic, all or nothing; a refusal
    says which vial falls short and where fitting kits are. (``today`` is accepted for
    symmetry with the batch; the course's own calendar fixes every date.)

    One path on every database. Where the database reserves a one-kit course in one
    statement (``reservation.reserve_alone``: it is given the roles that may fulfil, and
    takes nothing for anyone else), that is tried first, outside a transaction. Then, in
    this transaction: the role check; the course locked and its needs read (one statement
    for the common case, else the general checks with their refusals); the component lots
    of the kits that might serve share-locked; per kit, for the common case the one
    statement that takes the earliest kit whose every vial lasts, and otherwise (or when
    it takes none) :func:`_take_best`, which checks mixed-lot kits vial by vial and waits
    for rows others hold before refusing."""
    key = (
        course_id  # a number from code (the common call) is checked without the parsing
        if type(course_id) is int and 0 < course_id <= MAX_ID
        else parse_course_id(course_id)
    )
    alone = reserve_alone(uow, key)
    if alone is not None:
        return alone
    with uow:
        uow.require(FULFIL)
        reservations = KitReservations(uow.session.connection())
        wanted = _wanted(uow, reservations, key, course_id)
        # the component lots of the kits that might serve, share-locked before any kit
        usable = reservations.lock_lots_of_free(
            wanted.product_id,
            min(need.vial_needed_until[0] for need in wanted.needs),
            wanted.places,
        )
        served: list[courses_dto.FulfilLine] = []
        for need in wanted.needs:
            taken = None
            if wanted.common:  # one statement, unless a mixed-lot kit might be the answer
                taken = reservations.take_lasting(
                    wanted.clinic_id, wanted.product_id, need, wanted.course_id, usable
                )
            if taken is None:
                places = wanted.places or _places(uow, wanted.clinic_id)
                taken = _take_best(uow, wanted.product_id, places, need, wanted.course_id, usable)
            if taken is None:
                ctx = _Context(uow)
                free = _free_kits(ctx, wanted.product_id)
                raise Refused(
                    _Explainer(ctx, free).why(
                        wanted.course_id, wanted.clinic_id, need, wanted.product_id
                    )
                )
            served.append(courses_dto.FulfilLine(
                course_id=wanted.course_id, patient_ref=wanted.patient, clinic=wanted.clinic,
                part=need.part, first_use=need.first_use, needed_until=need.last_needed,
                kit=taken[0], kit_expiry=taken[1], reason=None,
            ))  # fmt: skip
        uow.record(FULFIL, "course", str(wanted.course_id),
                   after={"kits": {line.part: line.kit for line in served}})  # fmt: skip
        report = courses_dto.FulfilReport(served=tuple(served), unserved=())
        faults.point("fulfil.course:after_reserve")
        uow.commit()
    return report


@dataclass(frozen=True)
class _Wanted:
    """The kits a course lacks, and where they may come from."""

    course_id: int
    patient: str
    clinic_id: int
    clinic: str
    product_id: int
    needs: tuple[KitNeed, ...]  # margin included
    # the clinic's places; None for the common case, whose component lots are locked
    # for the product's free kits anywhere (one statement picks the kit at the clinic)
    places: list[int] | None
    common: bool


def _wanted(uow: UnitOfWork, reservations: KitReservations, key: int,
            course_id: int | str) -> _Wanted:  # fmt: skip
    """Lock the course and say which kits it lacks: the common case (a scheduled home
    course holding no kit yet) from one statement; else the general checks, refused in
    the stockroom's words."""
    common = common_case(reservations, key)
    if common is not None and not uow.visible_clinic(common.clinic_id):
        raise InvalidInput("course", course_id, _("no course has this number"))
    if common is not None:
        return _Wanted(common.course_id, common.patient, common.clinic_id, common.clinic_code,
                       common.kit_product_id, common.needs, None, True)  # fmt: skip
    course = uow.courses.get(course_id, lock=True)
    if course.status not in NEEDS_STOCK:
        raise Refused(
            _("course {course} is {status}").format(course=course.id, status=course.status)
        )
    plan_row = course.plan
    if plan_row.administered == Administered.CLINIC.value or plan_row.kit_product_id is None:
        raise InvalidInput("course", course.id, _(
            "{plan} is treated in clinic; use `kitops fulfil "
            "--check` or `kitops session record`"
        ).format(plan=plan_row.code))  # fmt: skip
    held = set(uow.session.scalars(select(KitRow.course_part).where(KitRow.course_id == course.id)))
    needs = tuple(n for n in needs_of(uow, course) if n.part not in held)
    if not needs:
        raise Refused(_("course {course} already has all its kits").format(course=course.id))
    places = sorted(subtree_ids(course.clinic, uow.locations.all()))
    return _Wanted(course.id, course.patient_ref, course.clinic_id, course.clinic.code,
                   plan_row.kit_product_id, needs, places, False)  # fmt: skip


def _places(uow: UnitOfWork, clinic_id: int) -> list[int]:
    """The clinic and every place below it."""
    rows = uow.locations.all()
    clinic = next(row for row in rows if row.id == clinic_id)
    return sorted(subtree_ids(clinic, rows))


def _take_best(
    uow: UnitOfWork,
    product_id: int,
    places: list[int],
    need: KitNeed,
    course_id: int,
    usable: list[int] | None = None,
) -> tuple[str, date] | None:
    """Reserve the earliest-expiring free kit that fits, among those whose every component
    lot is in ``usable`` (released, and share-locked by the caller: :func:`lock_kit_lots`;
    without it, the lots of the kits that might fit are locked here first); returns its
    serial and expiry.

    Mixed-lot kits whose earliest vial ends before the need's last day may still fit;
    they are checked first (they are the earlier-expiring answer). Then one statement takes
    the earliest kit whose every vial lasts, skipping rows another terminal is taking at
    that moment (PostgreSQL); before refusing, a second look waits for those rows, so a
    refusal always means no fitting kit is left.
    """
    reservations = KitReservations(uow.session.connection())
    if usable is None:
        usable = reservations.lock_lots_of_free(product_id, need.vial_needed_until[0], places)
    cache: dict[str, tuple[date, ...]] = {}
    for kit_id, vials in reservations.mixed_candidates(product_id, places, usable, need):
        if fits(_parse_expiries(vials, cache), need):
            taken = reservations.take_kit(kit_id, course_id, need.part)
            if taken is not None:
                return taken
    for _attempt in range(50):
        for skip in (True, False):
            taken = reservations.take_earliest(
                product_id, places, usable, need.last_needed, course_id, need.part,
                skip_locked=skip,
            )  # fmt: skip
            if taken is not None:
                return taken
            if not reservations.any_lasting(product_id, places, usable, need.last_needed):
                return None
    return None


@retrying
def fulfil_due(
    uow: UnitOfWork,
    *,
    within_days: int,
    clinic: str | None = None,
    today: date | None = None,
) -> courses_dto.FulfilReport:
    """Assign, as one batch, every home course that starts or needs its next kit within
    the window: as many as possible, each with the earliest-expiring kit that fits.
    A shortage is not an error: the report lists served and unserved with reasons."""
    _check_window(within_days)
    with uow:
        uow.require(FULFIL)
        ctx = _Context(uow)
        horizons = _horizons(ctx, uow, clinic, today, within_days)
        batch = _plan_batch(ctx, horizons, lock=True)
        if batch.served:
            # the kit rows are locked (PostgreSQL) or the writer is alone (SQLite)
            KitReservations(uow.session.connection()).reserve_many(batch.served)
        report = batch.report
        if report.served or report.unserved:
            day = min(horizons.values()) - timedelta(days=within_days)
            uow.record("fulfil.batch", "database", day.isoformat(),
                       after={"within_days": within_days,
                              "clinic": uow.locations.clinic(clinic).code if clinic else None,
                              "served": len(report.served),
                              "unserved": len(report.unserved)})  # fmt: skip
        faults.point("fulfil.batch:after_reserve")
        uow.commit()
    return report


def preview_due(
    uow: UnitOfWork,
    *,
    within_days: int,
    clinic: str | None = None,
    today: date | None = None,
) -> courses_dto.FulfilReport:
    """What ``fulfil_due`` would do now, reserving nothing: the kit each course due in
    the window would get, or why none fits. Reads only (the dashboard, the batch
    review, ``fulfil --due-within … --dry-run``)."""
    _check_window(within_days)
    with uow:
        ctx = _Context(uow)
        return _plan_batch(ctx, _horizons(ctx, uow, clinic, today, within_days)).report


def _check_window(within_days: int) -> None:
    if not 0 <= within_days <= 366:
        raise InvalidInput("due-within", within_days, _("must be 0-366 days"))


def _horizons(
    ctx: _Context, uow: UnitOfWork, clinic: str | None, today: date | None, within_days: int
) -> dict[int, date]:
    """The last day of the window per clinic: from ``today``, else from each clinic's own
    date in its time zone."""
    if clinic:
        rows = [uow.clinic_filter(clinic, _("fulfil courses"))]
    else:
        rows = [
            ctx.locations[cid]
            for cid in set(ctx.clinic_of_location.values())
            if cid and uow.visible_clinic(cid)
        ]
    return {
        row.id: (today or clinic_today(row.timezone)) + timedelta(days=within_days) for row in rows
    }


class _Batch:
    """A planned batch: the kit chosen per (course, kit number), and the report."""

    def __init__(self, served: dict[Hashable, int], report: courses_dto.FulfilReport) -> None:
        self.served = served
        self.report = report


def _plan_batch(ctx: _Context, horizons: dict[int, date], *, lock: bool = False) -> _Batch:
    """Assign the free kits to every kit need in the window (``horizons``: the window's
    last day per clinic). With ``lock`` the courses and kits read are locked, skipping
    any another batch holds (PostgreSQL)."""
    session = ctx.uow.session
    kit_plans = [pid for pid, (plan, kit, _, _) in ctx.plans.items() if plan.uses_kits and kit]
    if not kit_plans or not horizons:
        return _Batch({}, courses_dto.FulfilReport(served=(), unserved=()))
    stmt = (
        select(CourseRow.id, CourseRow.patient_ref, CourseRow.clinic_id, CourseRow.plan_id,
               CourseRow.start_date, CourseRow.weekdays, CourseRow.reschedules)
        .where(CourseRow.status.in_(NEEDS_STOCK),
               CourseRow.plan_id.in_(kit_plans),
               CourseRow.clinic_id.in_(list(horizons)),
               CourseRow.start_date <= max(horizons.values()))
        .order_by(CourseRow.id)
    )  # fmt: skip
    if lock:
        stmt = stmt.with_for_update(skip_locked=True, key_share=True)
    held = {
        (course_id, part)
        for course_id, part in session.execute(
            select(KitRow.course_id, KitRow.course_part).where(KitRow.course_id.is_not(None))
        )
    }
    requests: list[NeedRequest] = []
    facts: dict[Hashable, tuple[tuple[int, str, int], KitNeed]] = {}
    products_of: dict[Hashable, int] = {}
    for course_id, patient, clinic_id, plan_id, start, weekdays, moved in session.execute(stmt):
        product_id = ctx.plans[plan_id][1]
        if product_id is None:
            continue
        for need in ctx.needs(plan_id, start, weekdays, clinic_id, moves_of(moved)):
            if (course_id, need.part) in held or need.first_use > horizons[clinic_id]:
                continue
            key = (course_id, need.part)
            requests.append(NeedRequest(key, (clinic_id, product_id), need))
            products_of[key] = product_id
            facts[key] = ((course_id, patient, clinic_id), need)
    products = {ctx.plans[p][1] for p in kit_plans}
    free = (
        KitRow.status == KitStatus.AVAILABLE.value,
        KitRow.product_id.in_(products),
        ~KitRow.recalled,
    )
    kits_stmt = select(
        KitRow.id, KitRow.serial, KitRow.location_id, KitRow.product_id,
        KitRow.vial_expiries, KitRow.expiry,
    ).where(*free)  # fmt: skip
    if lock:
        # the kits' component lots are share-locked first (a status change waits for the
        # batch, or has committed and is seen), then the kits whose lots all are released
        usable = lock_kit_lots(session.connection(), *free)
        kits_stmt = kits_stmt.where(parts_within(KitRow, usable))
        kits_stmt = kits_stmt.with_for_update(skip_locked=True, key_share=True)
    else:
        kits_stmt = kits_stmt.where(parts_released(KitRow))
    cache: dict[str, tuple[date, ...]] = {}
    offers = []
    kit_facts: dict[int, tuple[str, date, int, int, tuple[date, ...]]] = {}
    for kit_id, serial, location_id, product_id, vials, expiry in session.execute(kits_stmt):
        parsed = _parse_expiries(vials, cache)
        kit_facts[kit_id] = (serial, expiry, location_id, product_id, parsed)
        kit_clinic = ctx.clinic_of_location.get(location_id)
        if kit_clinic is not None:
            offers.append(KitOffer(kit_id, (kit_clinic, product_id), parsed))
    result = assign(requests, offers)
    served = [
        _line(ctx, facts[key][0], facts[key][1], kit_serial=kit_facts[kit_id][0],
              kit_expiry=kit_facts[kit_id][1])
        for key, kit_id in result.served.items()
    ]  # fmt: skip
    taken = set(result.served.values())
    left = [(f[2], f[3], f[4]) for kid, f in kit_facts.items() if kid not in taken]
    explainer = _Explainer(ctx, left)
    unserved = [
        _line(ctx, facts[key][0], facts[key][1],
              reason=explainer.why(facts[key][0][0], facts[key][0][2], facts[key][1],
                                   products_of[key]))
        for key in result.unserved
    ]  # fmt: skip
    served.sort(key=lambda line: (line.first_use, line.course_id, line.part))
    unserved.sort(key=lambda line: (line.first_use, line.course_id, line.part))
    return _Batch(
        dict(result.served),
        courses_dto.FulfilReport(served=tuple(served), unserved=tuple(unserved)),
    )


def check_clinic_course(
    uow: UnitOfWork, course_id: int | str, *, today: date | None = None
) -> courses_dto.SessionCheck:
    with uow:
        course = uow.courses.get(course_id)
        return check_sessions(uow, course, today or clinic_today(course.clinic.timezone))


def pick_list(
    uow: UnitOfWork, clinic: str, *, on: date | None = None, days: int = 7
) -> list[courses_dto.PickLine]:
    """Reserved kits at the clinic that must go out by ``on`` + ``days``, soonest first."""
    with uow:
        clinic_row = uow.clinic_filter(clinic, _("see the pick list"))
        day = on or clinic_today(clinic_row.timezone)
        return pick_lists(uow, {clinic_row.code: day}, days=days)[clinic_row.code]


def pick_lists(
    uow: UnitOfWork, on: dict[str, date], *, days: int = 7
) -> dict[str, list[courses_dto.PickLine]]:
    """``pick_list`` of several clinics (by code, each from its own day), from one read of
    the plans and of the reserved kits: the dashboard asks it for every clinic at once."""
    with uow:
        ctx = _Context(uow)
        by_id = {}
        clinics = {r.code: r for r in ctx.locations.values() if r.kind == LocationKind.CLINIC.value}
        for code, day in on.items():
            row = clinics.get(code) or uow.clinic_filter(code, _("see the pick list"))
            uow.check_clinic(row, doing=_("see the pick list"))
            by_id[row.id] = (row.code, day + timedelta(days=days))
        rows = uow.session.execute(
            select(KitRow, CourseRow)
            .join(CourseRow, CourseRow.id == KitRow.course_id)
            .where(KitRow.status == KitStatus.RESERVED.value, CourseRow.clinic_id.in_(by_id))
        ).all()
        found: dict[str, list[courses_dto.PickLine]] = {code: [] for code, _ in by_id.values()}
        for kit, course in rows:
            code, horizon = by_id[course.clinic_id]
            needs = {n.part: n for n in ctx.needs(course.plan_id, course.start_date,
                                                 course.weekdays, course.clinic_id)}  # fmt: skip
            need = needs.get(kit.course_part or 1)
            if need is None or need.first_use > horizon:
                continue
            found[code].append(courses_dto.PickLine(kit.serial, ctx.code(kit.location_id),
                                                    kit.expiry, course.id, course.patient_ref,
                                                    need.part, need.first_use))  # fmt: skip
        for lines in found.values():
            lines.sort(key=lambda line: (line.due, line.location, line.serial))
        return found


# --- payments: kits held for an order that was not paid go back -----------------------


def release_course_kits(uow: UnitOfWork, course_id: int, *, reason: str) -> list[str]:
    """Inside the caller's transaction: the course's reserved kits that have not gone out
    become available again (as ``courses.cancel_course`` does, without cancelling the
    course). Returns their serials; writes an audit row when it released any."""
    released = free_reserved_kits(uow, course_id)
    if released:
        uow.session.flush()
        uow.record("course.release_kits", "course", str(course_id),
                   after={"kits_released": released, "reason": reason})  # fmt: skip
    return released


@retrying
def replace_kit(uow: UnitOfWork, course_id: int | str, part: int | str) -> courses_dto.FulfilLine:
    """Reserve a replacement for kit ``part`` of a course whose kit came back opened (an
    opened return ends the part and fulfilment leaves it: the replacement is a user's
    decision). The kit is chosen as ``fulfil`` chooses: at the course's clinic, the
    earliest-expiring one whose every vial lasts until its day of use plus the margin;
    none fitting is a refusal that says why, and nothing is written."""
    number = parse_part(part)
    with uow:
        uow.require(FULFIL)
        course = uow.courses.get(course_id, lock=True)
        if course.status not in LIVE:
            raise Refused(
                _("course {course} is {status}").format(course=course.id, status=course.status)
            )
        plan_row = course.plan
        if plan_row.administered == Administered.CLINIC.value or plan_row.kit_product_id is None:
            raise InvalidInput("course", course.id,
                               _("{plan} is treated in clinic; it has no kits").format(
                                   plan=plan_row.code,
                               ))  # fmt: skip
        needs = {need.part: need for need in needs_of(uow, course)}
        need = needs.get(number)
        if need is None:
            has = _("kit 1 only") if len(needs) == 1 else _("kits 1-{n}").format(n=len(needs))
            raise InvalidInput(
                "part", number, _("course {course} has {has}").format(course=course.id, has=has)
            )
        held = uow.session.scalars(
            select(KitRow)
            .where(KitRow.course_id == course.id, KitRow.course_part == number)
            .order_by(KitRow.id)
            .with_for_update(key_share=True)
        ).all()
        live = [kit for kit in held if not returned_opened(kit)]
        if live:
            raise Refused(
                _(
                    "kit {number} of course {course} is {serial} ({status}); "
                    "only a kit returned opened is replaced"
                ).format(
                    number=number, course=course.id, serial=live[0].serial, status=live[0].status
                )
            )
        returned = [kit.serial for kit in held]
        if not returned:
            raise Refused(
                _(
                    "kit {number} of course {course} was not returned opened; "
                    "`kitops fulfil {course}` reserves the kits a course lacks"
                ).format(number=number, course=course.id)
            )
        kit_product_id = plan_row.kit_product_id
        places = sorted(subtree_ids(course.clinic, uow.locations.all()))
        taken = _take_best(uow, kit_product_id, places, need, course.id)
        if taken is None:
            ctx = _Context(uow)
            free = _free_kits(ctx, kit_product_id)
            raise Refused(
                _Explainer(ctx, free).why(course.id, course.clinic_id, need, kit_product_id)
            )
        serial, expiry = taken
        before: dict[str, object] = {"part": number, "returned_opened": returned}
        after: dict[str, object] = {"part": number, "kit": serial, "returned_opened": returned}
        paused_for_it = opened_return_reason(number)
        if course.status == CourseStatus.PAUSED.value and course.status_reason == paused_for_it:
            # the replacement of the kit the course was paused for resumes it
            resumed = status_after_resume(True)
            check_transition(course.id, course.status, resumed)
            before["status"], after["status"] = course.status, resumed.value
            course.status, course.status_reason, course.paused_on = resumed.value, None, None
        uow.record("course.replace_kit", "course", str(course.id),
                   before=before, after=after)  # fmt: skip
        line = courses_dto.FulfilLine(
            course_id=course.id, patient_ref=course.patient_ref, clinic=course.clinic.code,
            part=number, first_use=need.first_use, needed_until=need.last_needed, kit=serial,
            kit_expiry=expiry, reason=None,
        )  # fmt: skip
        uow.commit()
    return line
