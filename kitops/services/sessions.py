"""Clinic sessions of courses administered in the clinic: record one (consuming its vials
at the course's clinic) and check that the clinic holds enough for the sessions to come."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from kitops.data.repositories import PostedMove
from kitops.data.repositories.locations import subtree_ids
from kitops.data.schema import CourseRow, LotRow, ProductRow, SessionRow
from kitops.domain.catalog import ProductKind
from kitops.domain.courses import Administered, CourseStatus
from kitops.domain.ledger import LotStatus, Move, MoveReason, is_usable, parse_date
from kitops.domain.locations import clinic_today
from kitops.errors import InvalidInput, Refused, TransientDatabaseError
from kitops.services.courses import calendar_of
from kitops.services.dto import courses as courses_dto
from kitops.services.plans import to_domain
from kitops.services.unit_of_work import UnitOfWork, retrying


def _clinic_serum(uow: UnitOfWork, course: CourseRow) -> tuple[ProductRow, int]:
    """The serum product and vials per session of a clinic-administered course."""
    plan = to_domain(course.plan)
    if plan.administered is not Administered.CLINIC:
        raise Refused(f"course {course.id} ({plan.code}) is treated at home with kits")
    serum = uow.session.scalars(
        select(ProductRow)
        .where(ProductRow.kind == ProductKind.SERUM_VIAL.value, ProductRow.active)
        .order_by(ProductRow.id)
    ).first()
    if serum is None or not serum.volume_ul:
        raise Refused("the catalogue has no serum vial to treat with")
    vials = -(-plan.serum_ul_per_application // serum.volume_ul)
    return serum, vials


@retrying
def record_session(
    uow: UnitOfWork,
    course_id: int | str,
    *,
    on: str | date | None = None,
    today: date | None = None,
) -> courses_dto.SessionRecord:
    """Consume one clinic session's vials at the course's clinic, FEFO among released
    lots in date that day, and record which lot served it (for the trace). A session is
    recorded when it happens: a day after the clinic's today (``today`` when given) is
    refused."""
    with uow:
        uow.require("session.record")
        course = uow.courses.get(course_id, lock=True)
        if course.status != CourseStatus.SCHEDULED.value:
            raise Refused(f"course {course.id} is {course.status}")
        serum, vials = _clinic_serum(uow, course)
        plan = to_domain(course.plan)
        done = (
            uow.session.scalar(
                select(func.count())
                .select_from(SessionRow)
                .where(SessionRow.course_id == course.id)
            )
            or 0
        )
        if done >= plan.applications:
            raise Refused(f"course {course.id} has had all {plan.applications} sessions")
        zone = course.clinic.timezone
        now = today or clinic_today(zone)
        day = on if isinstance(on, date) else parse_date(on, "date") if on else now
        if day > now:
            raise InvalidInput(
                "date", day.isoformat(),
                f"is in the future (today at {course.clinic.code} is {now.isoformat()}); "
                "record a session when it happens",
            )  # fmt: skip
        if day < course.start_date:
            raise InvalidInput("date", day.isoformat(),
                               f"course {course.id} starts on {course.start_date}")  # fmt: skip
        locations = uow.locations.all()
        places = subtree_ids(course.clinic, locations)
        candidates: list[tuple[LotRow, int, int]] = []
        for place_id in sorted(places):
            for lot, qty in uow.ledger.on_hand(location_id=place_id, product_id=serum.id):
                if is_usable(LotStatus(lot.status), lot.expiry, day):
                    candidates.append((lot, place_id, qty))
        candidates.sort(key=lambda c: (c[0].expiry or date.max, c[0].code, c[1]))
        pick = next((c for c in candidates if c[2] >= vials), None)
        if pick is None:
            raise Refused(
                f"no released lot of {serum.sku} in date on {day} at {course.clinic.code}"
            )
        lot, place_id, _ = pick
        # under the share lock a recall or quarantine must wait for, the lot is checked
        # again: one that changed since it was picked sends the session round again
        lot = uow.lots.lock(lot, share=True)
        if not is_usable(LotStatus(lot.status), lot.expiry, day):
            raise TransientDatabaseError(
                f"lot {lot.code} became {lot.status} while the session was recorded"
            )
        number = done + 1
        audit_id = uow.record("session.record", "course", str(course.id),
                              after={"session": number, "date": day.isoformat(), "lot": lot.code,
                                     "vials": vials})  # fmt: skip
        patient = uow.locations.get("PATIENT")
        uow.ledger.post([PostedMove(Move(lot.id, place_id, patient.id, vials), serum.id)],
                        reason=MoveReason.SESSION.value, actor=uow.actor,
                        reference=f"course:{course.id}", audit_id=audit_id)  # fmt: skip
        uow.session.add(SessionRow(course_id=course.id, session_no=number, session_date=day,
                                   lot_id=lot.id, quantity=vials, actor=uow.actor))  # fmt: skip
        if number == plan.applications:
            course.status = CourseStatus.COMPLETED.value
        uow.session.flush()
        code = next(row.code for row in locations if row.id == place_id)
        result = courses_dto.SessionRecord(course.id, number, day, serum.sku, lot.code, vials, code)
        uow.commit()
    return result


def check_sessions(uow: UnitOfWork, course: CourseRow, today: date) -> courses_dto.SessionCheck:
    """Whether the clinic holds enough in-date vials for the sessions still to come:
    each remaining session, earliest first, takes the earliest-expiring vial still in
    date on its day plus ``expiry_margin_days`` (as the demand report plans it)."""

    serum, vials = _clinic_serum(uow, course)
    margin = timedelta(days=uow.settings.expiry_margin_days())
    _, calendar = calendar_of(course)
    done = (
        uow.session.scalar(
            select(func.count()).select_from(SessionRow).where(SessionRow.course_id == course.id)
        )
        or 0
    )
    dates = list(calendar.application_dates[done:])
    expiries: list[date] = []
    left: list[int] = []
    for place_id in subtree_ids(course.clinic, uow.locations.all()):
        for lot, qty in uow.ledger.on_hand(location_id=place_id, product_id=serum.id):
            if lot.status == LotStatus.RELEASED.value:
                expiries.append(lot.expiry or date.max)
                left.append(qty)
    order = sorted(range(len(expiries)), key=expiries.__getitem__)
    short = []
    for day in dates:
        need = vials
        for i in order:
            if need and left[i] and expiries[i] >= max(day, today) + margin:
                take = min(left[i], need)
                left[i] -= take
                need -= take
        if need:
            short.append(day)
    return courses_dto.SessionCheck(
        course_id=course.id, clinic=course.clinic.code, sessions_left=len(dates),
        covered=len(dates) - len(short), enough=not short, shortfall_dates=tuple(short),
    )  # fmt: skip
