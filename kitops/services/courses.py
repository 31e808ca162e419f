"""Treatment courses: create one with its calendar, look it up, cancel it, replace the kit
of a part returned opened (clinic sessions: ``kitops.services.sessions``)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from kitops.data.repositories.reservations import store_kit_needs
from kitops.data.schema import CourseRow, KitRow, ProductRow, SessionRow
from kitops.domain.catalog import ProductKind
from kitops.domain.courses import (
    Administered,
    Calendar,
    CourseStatus,
    KitNeed,
    Plan,
    course_calendar,
    format_weekdays,
    kit_and_vial_numbers,
    kit_needs,
    parse_patient_ref,
    parse_weekdays,
    weekdays_for,
)
from kitops.domain.kits import KitStatus
from kitops.domain.ledger import parse_date
from kitops.errors import InvalidInput, Refused
from kitops.services.dto import courses as courses_dto
from kitops.services.kits import kit_dto
from kitops.services.plans import to_domain
from kitops.services.unit_of_work import UnitOfWork, retrying


def calendar_of(course: CourseRow) -> tuple[Plan, Calendar]:
    plan = to_domain(course.plan)
    zone = course.clinic.timezone
    assert zone is not None
    return plan, course_calendar(plan, course.start_date, parse_weekdays(course.weekdays), zone)


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
) -> courses_dto.Course:
    ref = parse_patient_ref(patient)
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
        )  # fmt: skip
        uow.session.add(course)
        uow.session.flush()
        uow.session.refresh(course)
        # refuses a plan whose kit cannot serve it; stored for the one-statement fulfil
        use = tuple(needs_of(uow, course, margin=0))
        store_kit_needs(uow.session.connection(), course.id, use)
        uow.record("course.create", "course", str(course.id),
                   after={"patient": ref, "plan": plan.code, "clinic": clinic_row.code,
                          "start": day.isoformat(), "weekdays": course.weekdays})  # fmt: skip
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
