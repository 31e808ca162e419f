"""Treatment courses: create one with its calendar, look it up, cancel it, replace the kit
of a part returned opened, and record the sessions of courses administered in the clinic."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from kitops.data.repositories import PostedMove
from kitops.data.repositories.locations import subtree_ids
from kitops.data.repositories.reservations import store_kit_needs
from kitops.data.schema import CourseRow, KitRow, LotRow, ProductRow, SessionRow
from kitops.domain.catalog import ProductKind
from kitops.domain.clinic_calendar import parse_time_of_day
from kitops.domain.courses import (
    Administered,
    CourseStatus,
    KitNeed,
    format_weekdays,
    kit_and_vial_numbers,
    kit_needs,
    parse_patient_ref,
    parse_weekdays,
    weekdays_for,
)
from kitops.domain.kits import KitStatus
from kitops.domain.ledger import LotStatus, Move, MoveReason, is_usable, parse_date
from kitops.domain.locations import clinic_today
from kitops.errors import InvalidInput, Refused, TransientDatabaseError
from kitops.services.clinic_calendar import book_course
from kitops.services.dto import courses as courses_dto
from kitops.services.kits import kit_dto
from kitops.services.plans import calendar_of, to_domain
from kitops.services.unit_of_work import UnitOfWork, retrying


def serum_per_kit(kit: ProductRow) -> tuple[int, int]:
    """(vial volume in µl, vials per kit) of a kit recipe."""
    for line in kit.recipe:
        if line.component.kind == ProductKind.SERUM_VIAL.value and line.component.volume_ul:
            return line.component.volume_ul, line.quantity
    raise InvalidInput("recipe", kit.sku, "holds no serum vial")


def needs_of(uow: UnitOfWork, course: CourseRow, *, margin: int | None = None) -> list[KitNeed]:
    """The course's kit needs, with the expiry margin setting unless ``margin`` is given."""
    plan, calendar = calendar_of(course)
    if not plan.uses_kits or course.plan.kit_product is None:
        return []
    vial_ul, vials = serum_per_kit(course.plan.kit_product)
    days = uow.settings.expiry_margin_days() if margin is None else margin
    return kit_needs(plan, calendar, vial_ul, vials, days)


def course_dto(uow: UnitOfWork, course: CourseRow) -> courses_dto.Course:
    plan, calendar = calendar_of(course)
    vial_ul = None
    if plan.uses_kits and course.plan.kit_product is not None:
        vial_ul = serum_per_kit(course.plan.kit_product)[0]
    events = []
    numbered = zip(calendar.applications, kit_and_vial_numbers(plan, vial_ul), strict=True)
    for number, (moment, kit_vial) in enumerate(numbered, start=1):
        part = vial = None
        note = "in clinic" if plan.administered is Administered.CLINIC else "at home"
        if kit_vial is not None:
            part, vial = kit_vial
            note = f"kit {part}, vial {vial}"
            if number == 1:
                note += ", first application in clinic"
        events.append(courses_dto.CalendarEvent("application", number, moment, part, vial, note))
    events += [courses_dto.CalendarEvent("checkin", i, moment, None, None, f"clinic check-in, week "
                                         f"{plan.checkin_weeks[i - 1]}")
               for i, moment in enumerate(calendar.checkins, start=1)]  # fmt: skip
    events += [courses_dto.CalendarEvent("followup", i, moment, None, None, f"follow-up review, "
                                         f"{plan.followup_months[i - 1]} months after the course")
               for i, moment in enumerate(calendar.followups, start=1)]  # fmt: skip
    events = booked_events(uow, course, events)
    events.sort(key=lambda e: (e.at, e.kind))
    kits = uow.session.scalars(
        select(KitRow).where(KitRow.course_id == course.id).order_by(KitRow.course_part, KitRow.id)
    ).all()
    sessions = uow.session.scalar(
        select(func.count()).select_from(SessionRow).where(SessionRow.course_id == course.id)
    )
    return courses_dto.Course(
        id=course.id,
        patient_ref=course.patient_ref,
        plan=plan.code,
        clinic=course.clinic.code,
        timezone=course.clinic.timezone or "",
        start=course.start_date,
        weekdays=course.weekdays,
        status=course.status,
        end=calendar.last_application,
        events=tuple(events),
        kits=tuple(kit_dto(uow, kit) for kit in kits),
        sessions_recorded=sessions or 0,
        parts_returned_opened=tuple(
            sorted({kit.course_part or 0 for kit in kits if returned_opened(kit)})
        ),
    )


def booked_events(
    uow: UnitOfWork, course: CourseRow, events: list[courses_dto.CalendarEvent]
) -> list[courses_dto.CalendarEvent]:
    """The events with each clinic visit on the day and at the time it is booked
    (``kitops.services.clinic_calendar``), marked when it moved from its calendar day."""
    booked = {(a.kind, a.number): a for a in uow.clinic_calendar.appointments(course.id)}
    if not booked:
        return events
    zone = ZoneInfo(course.clinic.timezone or "UTC")
    result = []
    for event in events:
        found = booked.get((event.kind, event.number))
        if found is not None:
            moved = found.day != found.planned_day
            event = replace(event, at=datetime.combine(found.day, found.at, tzinfo=zone),
                            moved_from=found.planned_day if moved else None,
                            moved_because=found.moved_because if moved else None)  # fmt: skip
        result.append(event)
    return result


def returned_opened(kit: KitRow) -> bool:
    """A kit that came back opened stays written off on its course part (kits written off
    from a shelf, or destroyed for a recall, let go of their course)."""
    return kit.status == KitStatus.WRITTEN_OFF and kit.course_id is not None


def create_course(
    uow: UnitOfWork,
    patient: str,
    plan_code: str,
    start: str | date,
    clinic: str,
    *,
    weekdays: str | None = None,
    at: str | None = None,
) -> courses_dto.Course:
    ref = parse_patient_ref(patient)
    appointment = parse_time_of_day(at) if at else None
    day = start if isinstance(start, date) else parse_date(start, "start")
    chosen = parse_weekdays(weekdays) if weekdays else None
    with uow:
        uow.require("course.create")
        plan_row = uow.plans.get(plan_code)
        clinic_row = uow.locations.clinic(clinic)
        plan = to_domain(plan_row)
        days = weekdays_for(plan, day, chosen)
        course = CourseRow(
            patient_ref=ref, plan_id=plan_row.id, clinic_id=clinic_row.id, start_date=day,
            weekdays=format_weekdays(days), status=CourseStatus.SCHEDULED.value,
            appointment_time=appointment,
        )  # fmt: skip
        uow.session.add(course)
        uow.session.flush()
        uow.session.refresh(course)
        # refuses a plan whose kit cannot serve it; stored for the one-statement fulfil
        use = tuple(needs_of(uow, course, margin=0))
        store_kit_needs(uow.session.connection(), course.id, use)
        moved = book_course(uow, course, creating=True)  # the clinic's open days and room
        uow.record("course.create", "course", str(course.id),
                   after={"patient": ref, "plan": plan.code, "clinic": clinic_row.code,
                          "start": day.isoformat(), "weekdays": course.weekdays,
                          "at": appointment.isoformat("minutes") if appointment else None,
                          "moved": len(moved)})  # fmt: skip
        result = course_dto(uow, course)
        uow.commit()
    return result


def store_missing_kit_needs(uow: UnitOfWork) -> int:
    """Compute and store the kit need dates of scheduled home courses that have none
    (courses created before they were stored, or whose kit recipe changed); returns how
    many courses got them. Fulfilling such a course stores them too, on the way."""
    with uow:
        uow.require("course.fulfil")
        count = 0
        connection = uow.session.connection()
        for course in uow.courses.without_stored_needs():
            use = tuple(needs_of(uow, course, margin=0))
            if use:
                store_kit_needs(connection, course.id, use)
                count += 1
        uow.commit()
    return count


def show_course(uow: UnitOfWork, course_id: int | str) -> courses_dto.Course:
    with uow:
        return course_dto(uow, uow.courses.get(course_id))


def list_courses(
    uow: UnitOfWork, *, clinic: str | None = None, status: str | None = None
) -> list[courses_dto.Course]:
    with uow:
        stmt = select(CourseRow).order_by(CourseRow.start_date, CourseRow.id)
        if clinic:
            stmt = stmt.where(CourseRow.clinic_id == uow.locations.clinic(clinic).id)
        if status:
            try:
                stmt = stmt.where(CourseRow.status == CourseStatus(status).value)
            except ValueError:
                choices = "|".join(s.value for s in CourseStatus)
                raise InvalidInput("status", status, f"must be one of {choices}") from None
        return [course_dto(uow, row) for row in uow.session.scalars(stmt)]


@retrying
def cancel_course(uow: UnitOfWork, course_id: int | str) -> courses_dto.Course:
    """Cancel a course; kits reserved for it and not yet out become available again."""
    with uow:
        uow.require("course.cancel")
        course = uow.courses.get(course_id, lock=True)
        if course.status != CourseStatus.SCHEDULED.value:
            raise Refused(f"course {course.id} is {course.status}")
        released = free_reserved_kits(uow, course.id)
        course.status = CourseStatus.CANCELLED.value
        uow.session.flush()
        uow.record("course.cancel", "course", str(course.id),
                   before={"status": "scheduled"},
                   after={"status": course.status, "kits_released": released})  # fmt: skip
        result = course_dto(uow, course)
        uow.commit()
    return result


def parse_part(value: int | str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInput("part", value, "must be a kit number (1, 2, ...)") from None
    if number < 1:
        raise InvalidInput("part", value, "must be a kit number (1, 2, ...)")
    return number


def free_reserved_kits(uow: UnitOfWork, course_id: int) -> list[str]:
    """Inside the caller's transaction: the course's reserved kits that have not gone out
    become available again. Returns their serials, by kit number."""
    kits = uow.session.scalars(
        select(KitRow)
        .where(KitRow.course_id == course_id, KitRow.status == KitStatus.RESERVED.value)
        .order_by(KitRow.course_part)
        .with_for_update(key_share=True)
    ).all()
    for kit in kits:
        kit.status = KitStatus.AVAILABLE.value
        kit.course_id = None
        kit.course_part = None
    return [kit.serial for kit in kits]


# --- clinic sessions ---------------------------------------------------------------


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
