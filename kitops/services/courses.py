"""Treatment courses: create one with its calendar, look it up, cancel it, replace the kit
of a part returned opened (clinic sessions: ``kitops.services.sessions``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select

import kitops.i18n as i18n
from kitops.data.repositories.reservations import store_kit_needs
from kitops.data.schema import (
    AuditRow,
    CourseKitNeedRow,
    CourseRow,
    KitRow,
    ProductRow,
    SessionRow,
)
from kitops.domain.catalog import ProductKind
from kitops.domain.clinic_calendar import parse_time_of_day
from kitops.domain.course_lifecycle import (
    LIVE,
    NEEDS_STOCK,
    Segment,
    applications_kept,
    check_move,
    check_transition,
    dump_segments,
    load_segments,
    overlaps,
    remaining_after,
    status_after_resume,
    with_segment,
)
from kitops.domain.courses import (
    Administered,
    CourseStatus,
    KitNeed,
    course_calendar,
    first_failing_vial,
    fits,
    format_weekdays,
    kit_and_vial_numbers,
    kit_needs,
    parse_patient_ref,
    parse_weekdays,
    weekdays_for,
)
from kitops.domain.kits import OUT, KitStatus
from kitops.domain.ledger import parse_date
from kitops.domain.locations import clinic_today
from kitops.errors import InvalidInput, Refused
from kitops.i18n import _
from kitops.i18n.labels import status_label
from kitops.services.clinic_calendar import book_course
from kitops.services.dto import courses as courses_dto
from kitops.services.kits import kit_dto
from kitops.services.plans import calendar_of, to_domain
from kitops.services.unit_of_work import UnitOfWork, retrying


def current_weekdays(course: CourseRow) -> str:
    """The weekdays the course's applications fall on now (its last move's, if any)."""
    segments = load_segments(course.reschedules)
    return format_weekdays(segments[-1].days) if segments else course.weekdays


def serum_per_kit(kit: ProductRow) -> tuple[int, int]:
    """(vial volume in µl, vials per kit) of a kit recipe."""
    for line in kit.recipe:
        if line.component.kind == ProductKind.SERUM_VIAL.value and line.component.volume_ul:
            return line.component.volume_ul, line.quantity
    raise InvalidInput("recipe", kit.sku, _("holds no serum vial"))


def needs_of(uow: UnitOfWork, course: CourseRow, *, margin: int | None = None) -> list[KitNeed]:
    """The course's kit needs, with the expiry margin setting unless ``margin`` is given."""
    plan, calendar = calendar_of(course)
    if not plan.uses_kits or course.plan.kit_product is None:
        return []
    vial_ul, vials = serum_per_kit(course.plan.kit_product)
    days = uow.settings.expiry_margin_days() if margin is None else margin
    return kit_needs(plan, calendar, vial_ul, vials, days)


def course_dto(
    uow: UnitOfWork, course: CourseRow, *, with_history: bool = True
) -> courses_dto.Course:
    """The course as shown; ``with_history`` False leaves its audit rows out (a list)."""
    plan, calendar = calendar_of(course)
    vial_ul = None
    if plan.uses_kits and course.plan.kit_product is not None:
        vial_ul = serum_per_kit(course.plan.kit_product)[0]
    events = []
    numbered = zip(calendar.applications, kit_and_vial_numbers(plan, vial_ul), strict=True)
    for number, (moment, kit_vial) in enumerate(numbered, start=1):
        part = vial = None
        note = _("in clinic") if plan.administered is Administered.CLINIC else _("at home")
        if kit_vial is not None:
            part, vial = kit_vial
            if number == 1:
                note = _("kit {part}, vial {vial}, first application in clinic")
            else:
                note = _("kit {part}, vial {vial}")
            note = note.format(part=part, vial=vial)
        events.append(courses_dto.CalendarEvent("application", number, moment, part, vial, note))
    events += [courses_dto.CalendarEvent("checkin", i, moment, None, None, _(
                   "clinic check-in, week {week}").format(week=plan.checkin_weeks[i - 1]))
               for i, moment in enumerate(calendar.checkins, start=1)]  # fmt: skip
    events += [courses_dto.CalendarEvent("followup", i, moment, None, None, _(
                   "follow-up review, {months} months after the course"
               ).format(months=plan.followup_months[i - 1]))
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
        weekdays=current_weekdays(course),
        status=course.status,
        end=calendar.last_application,
        events=tuple(events),
        kits=tuple(kit_dto(uow, kit) for kit in kits),
        sessions_recorded=sessions or 0,
        parts_returned_opened=tuple(
            sorted({kit.course_part or 0 for kit in kits if returned_opened(kit)})
        ),
        status_reason=course.status_reason,
        paused_on=course.paused_on,
        history=history_of(uow, course.id) if with_history else (),
    )


def history_of(uow: UnitOfWork, course_id: int) -> tuple[courses_dto.HistoryEntry, ...]:
    """The course's audit rows in the order they were written: when, who, what."""
    rows = uow.session.scalars(
        select(AuditRow)
        .where(AuditRow.entity == "course", AuditRow.entity_key == str(course_id))
        .order_by(AuditRow.id)
    ).all()
    return tuple(
        courses_dto.HistoryEntry(
            row.at, row.actor, row.action, _what(row.after or {}), _details(row.after or {})
        )
        for row in rows
    )


_HIDDEN = frozenset({"patient"})  # the patient reference is shown once, at the top


def _what(after: dict[str, object]) -> str:
    """An audit row's after-values in words: ``kits released K0000005, overlap no``."""
    return ", ".join(f"{key.replace('_', ' ')} {_words(value)}" for key, value in _details(after))


def _details(after: dict[str, object]) -> tuple[tuple[str, object], ...]:
    return tuple((key, value) for key, value in after.items()
                 if key not in _HIDDEN and value not in (None, [], {}, ""))  # fmt: skip


def _words(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return " ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


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
    overlap: bool = False,
    today: date | None = None,
    allow_past: bool = False,
    at: str | None = None,
) -> courses_dto.Course:
    """Create a course. A start before the clinic's today (``today`` when given) is
    refused unless ``allow_past`` (the demo data's courses that already ran); a course
    whose dates overlap a live course of the same patient and plan only with ``overlap``
    (a clinician's deliberate choice)."""
    ref = parse_patient_ref(patient)
    appointment = parse_time_of_day(at) if at else None
    day = start if isinstance(start, date) else parse_date(start, "start")
    chosen = parse_weekdays(weekdays) if weekdays else None
    with uow:
        uow.require("course.create")
        plan_row = uow.plans.get(plan_code)
        clinic_row = uow.locations.clinic(clinic)
        uow.check_clinic(clinic_row, doing=_("create a course"))
        plan = to_domain(plan_row)
        now = today or clinic_today(clinic_row.timezone)
        if day < now and not allow_past:
            raise InvalidInput("start", day.isoformat(),
                               _("is in the past (today at {clinic} is {now})").format(
                                   clinic=clinic_row.code,
                                   now=i18n.format_date(now),
                               ))  # fmt: skip
        days = weekdays_for(plan, day, chosen)
        zone = clinic_row.timezone or "UTC"
        last = course_calendar(plan, day, days, zone).last_application
        clash = _overlapping(uow, ref, plan_row.id, day, last)
        if clash is not None and not overlap:
            raise Refused(
                _(
                    "patient {ref} already has course {other} on {plan} "
                    "({status}) over these dates; pass --overlap to create both"
                ).format(ref=ref, other=clash.id, plan=plan.code, status=status_label(clash.status))
            )
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
                          "overlap": clash is not None,
                          "at": appointment.isoformat("minutes") if appointment else None,
                          "moved": len(moved)})  # fmt: skip
        result = course_dto(uow, course)
        uow.commit()
    return result


def _overlapping(
    uow: UnitOfWork, patient: str, plan_id: int, first: date, last: date
) -> CourseRow | None:
    """A live course of the patient on the plan whose applications overlap these dates."""
    for other in uow.session.scalars(
        select(CourseRow)
        .where(CourseRow.patient_ref == patient, CourseRow.plan_id == plan_id,
               CourseRow.status.in_(LIVE))
        .order_by(CourseRow.id)
    ):  # fmt: skip
        _, calendar = calendar_of(other)
        if overlaps(first, last, calendar.application_dates[0], calendar.last_application):
            return other
    return None


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
            stmt = stmt.where(CourseRow.clinic_id == uow.clinic_filter(clinic, _("see courses")).id)
        if (scope := uow.scope_clinics()) is not None:
            stmt = stmt.where(CourseRow.clinic_id.in_(scope))
        if status:
            try:
                stmt = stmt.where(CourseRow.status == CourseStatus(status).value)
            except ValueError:
                choices = "|".join(s.value for s in CourseStatus)
                raise InvalidInput(
                    "status", status, _("must be one of {choices}").format(choices=choices)
                ) from None
        return [course_dto(uow, row, with_history=False) for row in uow.session.scalars(stmt)]


@retrying
def cancel_course(uow: UnitOfWork, course_id: int | str) -> courses_dto.Course:
    """Cancel a course; kits reserved for it and not yet out become available again."""
    with uow:
        uow.require("course.cancel")
        course = uow.courses.get(course_id, lock=True)
        before = course.status
        check_transition(course.id, before, CourseStatus.CANCELLED)
        released = free_reserved_kits(uow, course.id)
        course.status = CourseStatus.CANCELLED.value
        course.status_reason = None
        uow.session.flush()
        uow.record("course.cancel", "course", str(course.id),
                   before={"status": before},
                   after={"status": course.status, "kits_released": released})  # fmt: skip
        result = course_dto(uow, course)
        uow.commit()
    return result


def _sessions_done(uow: UnitOfWork, course_id: int) -> int:
    return (
        uow.session.scalar(
            select(func.count()).select_from(SessionRow).where(SessionRow.course_id == course_id)
        )
        or 0
    )


def _started(uow: UnitOfWork, course: CourseRow) -> bool:
    """Whether the course began: a session recorded, or a kit of it went to the patient."""
    if _sessions_done(uow, course.id):
        return True
    gone = uow.session.scalar(
        select(func.count())
        .select_from(KitRow)
        .where(KitRow.course_id == course.id,
               KitRow.status.in_((*OUT, KitStatus.WRITTEN_OFF.value)))
    )  # fmt: skip
    return bool(gone)


@retrying
def pause_course(
    uow: UnitOfWork, course_id: int | str, *, reason: str | None = None, today: date | None = None
) -> courses_dto.StatusChange:
    """Pause a course (the patient stops for a while): it reserves nothing new until a
    person resumes it; the kits it holds stay held."""
    why = (reason or "").strip()[:200] or "paused on request"
    with uow:
        uow.require("course.pause")
        course = uow.courses.get(course_id, lock=True)
        before = course.status
        check_transition(course.id, before, CourseStatus.PAUSED)
        day = today or clinic_today(course.clinic.timezone)
        course.status = CourseStatus.PAUSED.value
        course.status_reason = why
        course.paused_on = day
        uow.session.flush()
        uow.record("course.pause", "course", str(course.id), before={"status": before},
                   after={"status": course.status, "reason": why,
                          "paused_on": day.isoformat()})  # fmt: skip
        result = courses_dto.StatusChange(course_dto(uow, course), ())
        uow.commit()
    return result


@retrying
def reschedule_course(
    uow: UnitOfWork,
    course_id: int | str,
    start: str | date,
    *,
    weekdays: str | None = None,
    today: date | None = None,
) -> courses_dto.ScheduleChange:
    """Move the course's remaining applications to restart on ``start`` (on ``weekdays``,
    by default the course's own when the day is one of them). The applications already
    done stay: the sessions recorded in the clinic; at home those dated before the
    clinic's today. Kits reserved for the course that no longer last their new dates go
    back to the shelf; kits already with the patient that no longer last are named."""
    day = start if isinstance(start, date) else parse_date(start, "from")
    with uow:
        uow.require("course.reschedule")
        course = uow.courses.get(course_id, lock=True)
        if course.status == CourseStatus.PAUSED.value:
            raise Refused(_(
                "course {course} is paused; `kitops course resume {course} "
                "--from DATE` moves its applications and resumes it"
            ).format(course=course.id))  # fmt: skip
        if course.status not in NEEDS_STOCK:
            raise Refused(_(
                "course {course} is {status}; only a course still running "
                "is rescheduled"
            ).format(course=course.id, status=status_label(course.status)))  # fmt: skip
        result = _move(uow, course, day, weekdays, today, "course.reschedule")
        uow.commit()
    return result


@retrying
def resume_course(
    uow: UnitOfWork,
    course_id: int | str,
    start: str | date,
    *,
    weekdays: str | None = None,
    today: date | None = None,
) -> courses_dto.ScheduleChange:
    """Resume a paused course: its remaining applications restart on ``start``, as
    ``reschedule_course`` moves them (those dated from the day the pause began count as
    not done), and the course is active again (scheduled, if it never began)."""
    day = start if isinstance(start, date) else parse_date(start, "from")
    with uow:
        uow.require("course.resume")
        course = uow.courses.get(course_id, lock=True)
        target = status_after_resume(_started(uow, course))
        if course.status != CourseStatus.PAUSED.value:
            raise Refused(_(
                "course {course} is {status}; only a paused course is "
                "resumed"
            ).format(course=course.id, status=status_label(course.status)))  # fmt: skip
        check_transition(course.id, course.status, target)
        course.status = target.value
        course.status_reason = None
        result = _move(uow, course, day, weekdays, today, "course.resume")
        course.paused_on = None
        uow.session.flush()
        uow.commit()
    return result


def _move(
    uow: UnitOfWork,
    course: CourseRow,
    day: date,
    weekdays: str | None,
    today: date | None,
    action: str,
) -> courses_dto.ScheduleChange:
    """Inside the caller's transaction: move the remaining applications, then re-check
    the course's kits and write the audit row ``action``."""
    plan, calendar = calendar_of(course)
    now = today or clinic_today(course.clinic.timezone)
    done = _sessions_done(uow, course.id) if plan.administered is Administered.CLINIC else None
    before = min(now, course.paused_on) if course.paused_on else now
    kept = applications_kept(calendar, sessions_done=done, before=before)
    check_move(course.id, calendar, kept, day, now)
    chosen = parse_weekdays(weekdays) if weekdays else None
    if chosen is None:
        current = parse_weekdays(current_weekdays(course))
        chosen = current if day.weekday() in current else None
    days = weekdays_for(plan, day, chosen)
    old = {"from": calendar.application_dates[kept].isoformat(),
           "weekdays": current_weekdays(course)}  # fmt: skip
    if kept == 0:
        course.start_date, course.weekdays, course.reschedules = day, format_weekdays(days), None
    else:
        moved = with_segment(load_segments(course.reschedules), Segment(kept + 1, day, days))
        course.reschedules = dump_segments(moved)
    uow.session.flush()
    _after_schedule_change(uow, course, now)
    released, warnings = _recheck_kits(uow, course)
    uow.record(action, "course", str(course.id), before=old,
               after={"status": course.status, "application": kept + 1,
                      "from": day.isoformat(), "weekdays": format_weekdays(days),
                      "kits_released": [r.serial for r in released],
                      "kits_out_not_lasting": [w.serial for w in warnings]})  # fmt: skip
    return courses_dto.ScheduleChange(
        course=course_dto(uow, course), first_moved=kept + 1, start=day,
        weekdays=format_weekdays(days), released=tuple(released), out_not_lasting=tuple(warnings),
    )  # fmt: skip


def _after_schedule_change(uow: UnitOfWork, course: CourseRow, today: date) -> None:
    """The stored kit needs follow the new dates, and the clinic visits from today on are
    booked again on open days with room (``course show`` says which moved)."""
    connection = uow.session.connection()
    connection.execute(delete(CourseKitNeedRow).where(CourseKitNeedRow.course_id == course.id))
    store_kit_needs(connection, course.id, tuple(needs_of(uow, course, margin=0)))
    book_course(uow, course, today=today)


def _recheck_kits(
    uow: UnitOfWork, course: CourseRow
) -> tuple[list[courses_dto.KitNote], list[courses_dto.KitNote]]:
    """The course's kits against its new dates (with the expiry margin): a reserved kit
    that no longer lasts goes back to the shelf; one already out is only named."""
    needs = {need.part: need for need in needs_of(uow, course)}
    kits = uow.session.scalars(
        select(KitRow)
        .where(KitRow.course_id == course.id,
               KitRow.status.in_((KitStatus.RESERVED.value, *OUT)))
        .order_by(KitRow.course_part, KitRow.id)
        .with_for_update(key_share=True)
    ).all()  # fmt: skip
    released: list[courses_dto.KitNote] = []
    out: list[courses_dto.KitNote] = []
    for kit in kits:
        need = needs.get(kit.course_part or 0)
        expiries = tuple(date.fromisoformat(d) for d in kit.vial_expiries.split(",") if d)
        if need is None or fits(expiries, need):
            continue
        vial = first_failing_vial(expiries, need) or 1
        ordered = sorted(expiries)
        if vial <= len(ordered):
            why = _("vial {vial} expires {expiry}, needed until {until}").format(
                vial=vial,
                expiry=i18n.format_date(ordered[vial - 1]),
                until=i18n.format_date(need.vial_needed_until[vial - 1]),
            )
        else:
            why = _("vial {vial} is missing, needed until {until}").format(
                vial=vial, until=i18n.format_date(need.vial_needed_until[vial - 1])
            )
        note = courses_dto.KitNote(kit.serial, kit.course_part or 0, kit.status, why)
        if kit.status == KitStatus.RESERVED.value:
            kit.status = KitStatus.AVAILABLE.value
            kit.course_id = None
            kit.course_part = None
            released.append(note)
        else:
            out.append(note)
    uow.session.flush()
    return released, out


@retrying
def complete_course(
    uow: UnitOfWork,
    course_id: int | str,
    *,
    early: bool = False,
    reason: str | None = None,
    today: date | None = None,
) -> courses_dto.StatusChange:
    """A person finishes a course. With applications still to come (sessions not
    recorded in the clinic; at home, applications after the clinic's today) only with
    ``early`` and a reason: the course ends early. Kits reserved and not yet out go back
    to the shelf."""
    why = (reason or "").strip()[:200] or None
    if early and why is None:
        raise InvalidInput("reason", reason, _("say why the course ends early (--reason TEXT)"))
    with uow:
        uow.require("course.complete")
        course = uow.courses.get(course_id, lock=True)
        plan, calendar = calendar_of(course)
        now = today or clinic_today(course.clinic.timezone)
        if plan.administered is Administered.CLINIC:
            left = plan.applications - _sessions_done(uow, course.id)
        else:
            left = remaining_after(calendar, now)
        target = CourseStatus.ENDED_EARLY if early else CourseStatus.COMPLETED
        before = course.status
        check_transition(course.id, before, target)
        if left and not early:
            upcoming = calendar.application_dates[len(calendar.applications) - left]
            raise Refused(
                _(
                    "course {course} has {left} application(s) still to come "
                    "(next on {upcoming}); `--early --reason TEXT` ends it early"
                ).format(course=course.id, left=left, upcoming=upcoming)
            )
        released = free_reserved_kits(uow, course.id)
        course.status = target.value
        course.status_reason = why
        course.paused_on = None
        uow.session.flush()
        uow.record(f"course.{'end_early' if early else 'complete'}", "course", str(course.id),
                   before={"status": before},
                   after={"status": course.status, "reason": why,
                          "applications_left": left, "kits_released": released})  # fmt: skip
        result = courses_dto.StatusChange(course_dto(uow, course), tuple(released))
        uow.commit()
    return result


def parse_part(value: int | str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInput("part", value, _("must be a kit number (1, 2, ...)")) from None
    if number < 1:
        raise InvalidInput("part", value, _("must be a kit number (1, 2, ...)"))
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
