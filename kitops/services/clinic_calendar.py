"""The clinic's calendar: its opening days and time, its closures, and the appointments of
the clinic visits of its courses.

A course's clinic visits (each session of a plan treated in the clinic, a home plan's
first application, the check-ins and follow-ups) are booked on the day the course's
calendar gives, or the next day the clinic is open with room for a session
(``kitops.domain.clinic_calendar``); home applications stay on the patient's weekdays
and get no appointment. A change to the clinic's week (its days, a closure made or
removed) books the clinic's courses again from today and says which visits moved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import kitops.i18n as i18n
from kitops.data.repositories.clinic_calendar import closure_of
from kitops.data.schema import ClinicClosureRow, CourseAppointmentRow, CourseRow, LocationRow
from kitops.domain.clinic_calendar import (
    SEARCH_DAYS,
    Booking,
    ClinicWeek,
    Closure,
    Visit,
    appointment_time,
    book_visits,
    check_closure,
    format_open_weekdays,
    parse_open_weekdays,
    parse_reason,
    parse_sessions_per_day,
    parse_time_of_day,
    read_weekdays,
    stored_weekdays,
)
from kitops.domain.courses import Administered, Calendar, Plan
from kitops.domain.ledger import parse_date
from kitops.domain.locations import clinic_today
from kitops.domain.text import no_control
from kitops.errors import InvalidInput, KitopsError
from kitops.i18n import DEFAULT_LOCALE, _, formats, use_locale
from kitops.i18n.labels import stored_text
from kitops.services.dto import clinics as clinics_dto
from kitops.services.dto.courses import CalendarEvent
from kitops.services.plans import calendar_of
from kitops.services.unit_of_work import UnitOfWork, retrying

SESSIONS_SETTING = "clinic_sessions_per_day"


def _hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def closure_dto(clinic: LocationRow, row: ClinicClosureRow) -> clinics_dto.Closure:
    return clinics_dto.Closure(row.id, clinic.code, row.first_day, row.last_day, row.reason)


def capacity_of(uow: UnitOfWork, clinic: LocationRow) -> int:
    return uow.clinic_calendar.sessions_per_day(clinic, uow.settings.get(SESSIONS_SETTING, ""))


def hours_dto(uow: UnitOfWork, clinic: LocationRow) -> clinics_dto.ClinicHours:
    return clinics_dto.ClinicHours(
        clinic=clinic.code,
        name=clinic.name,
        timezone=clinic.timezone or "",
        days=format_open_weekdays(read_weekdays(clinic.open_weekdays)),
        opens_at=_hhmm(clinic.opens_at),
        appointments_at=_hhmm(appointment_time(None, clinic.opens_at)) or "",
        sessions_per_day=clinic.sessions_per_day,
        capacity=capacity_of(uow, clinic),
        closures=tuple(closure_dto(clinic, row) for row in uow.clinic_calendar.closures(clinic)),
    )


def show_hours(uow: UnitOfWork, clinic: str) -> clinics_dto.ClinicHours:
    with uow:
        return hours_dto(uow, uow.locations.clinic(clinic))


def _day(value: str | date, field: str) -> date:
    return value if isinstance(value, date) else parse_date(value, field)


# --- booking a course's clinic visits ------------------------------------------------------


def clinic_visits(course: CourseRow) -> list[Visit]:
    """The course's visits that happen in the clinic, on the days its calendar gives."""
    return visits_of(*calendar_of(course))


def visits_of(plan: Plan, calendar: Calendar) -> list[Visit]:
    """The visits to the clinic of a course on ``plan`` with this calendar."""
    dates = calendar.application_dates
    if plan.administered is not Administered.CLINIC:
        dates = dates[:1]  # a home plan's first application is made in the clinic
    visits = [Visit("application", n, day) for n, day in enumerate(dates, start=1)]
    visits += [Visit("checkin", n, m.date()) for n, m in enumerate(calendar.checkins, start=1)]
    visits += [Visit("followup", n, m.date()) for n, m in enumerate(calendar.followups, start=1)]
    return visits


def book_course(
    uow: UnitOfWork,
    course: CourseRow,
    *,
    today: date | None = None,
    creating: bool = False,
) -> tuple[clinics_dto.Moved, ...]:
    """(Re)book the course's clinic visits from today on, inside the caller's transaction,
    and return those not on their calendar day. Safe to call again: the appointments on
    or after today are replaced, those before it (visits that happened) stay; a visit
    whose calendar day has passed without an appointment is not booked.

    ``creating``: the course's start is the day the patient chose; a home plan whose
    first application (in the clinic) falls on a closed or full day is refused, naming
    the next day that would do.
    """
    clinic = course.clinic
    now = today or clinic_today(clinic.timezone)
    if creating:  # a new course has no past: every visit is booked
        now = min(now, course.start_date)
    repo = uow.clinic_calendar
    repo.lock_week(clinic)
    previous = {(a.kind, a.number): a for a in repo.appointments(course.id)}
    kept = {key for key, a in previous.items() if a.day < now}
    repo.forget_from(course.id, now)
    visits = clinic_visits(course)
    wanted = []
    for visit in visits:
        if (visit.kind, visit.number) in kept:
            continue
        earlier = previous.get((visit.kind, visit.number))
        if visit.planned < now and earlier is None:
            continue
        wanted.append(Visit(visit.kind, visit.number, max(visit.planned, now)))
    if not wanted:
        return ()
    week = repo.week(clinic)
    capacity = capacity_of(uow, clinic)
    last = max(v.planned for v in wanted)
    booked = repo.sessions_booked(clinic.id, now, last + timedelta(days=SEARCH_DAYS))
    bookings = _book(week, wanted, booked, capacity)
    if creating and course.plan.administered == Administered.HOME.value:
        _check_start(bookings)
    at = appointment_time(course.appointment_time, clinic.opens_at)
    planned = {(v.kind, v.number): v.planned for v in visits}
    rows = []
    moved = []
    for booking in bookings:
        key = (booking.visit.kind, booking.visit.number)
        first = planned[key]
        earlier = previous.get(key)
        because = booking.reason
        if booking.day != first and because is None and earlier is not None:
            because = earlier.moved_because  # a visit already moved, not yet happened
        rows.append(CourseAppointmentRow(
            course_id=course.id, kind=key[0], number=key[1], clinic_id=clinic.id,
            planned_day=first, day=booking.day, at=at,
            moved_because=because if booking.day != first else None,
        ))  # fmt: skip
        if booking.day != first:
            moved.append(clinics_dto.Moved(course.id, key[0], key[1], first, booking.day,
                                           _hhmm(at) or "", because))  # fmt: skip
    repo.add_appointments(rows)
    return tuple(moved)


def preview_bookings(
    uow: UnitOfWork, clinic: LocationRow, plan: Plan, calendar: Calendar
) -> tuple[Booking, ...]:
    """Where the clinic visits of a new course would be booked today, as ``course
    create`` books them (and refuses a home course's start on a closed or full day);
    nothing is written."""
    visits = visits_of(plan, calendar)
    last = max(v.planned for v in visits)
    first = min(v.planned for v in visits)
    booked = uow.clinic_calendar.sessions_booked(
        clinic.id, first, last + timedelta(days=SEARCH_DAYS)
    )
    bookings = _book(uow.clinic_calendar.week(clinic), visits, booked, capacity_of(uow, clinic))
    if plan.administered is Administered.HOME:
        _check_start(bookings)
    return bookings


def with_bookings(
    events: list[CalendarEvent], bookings: tuple[Booking, ...], at: time, zone: str
) -> list[CalendarEvent]:
    """The events with each clinic visit on its booked day at ``at``, marked when moved."""
    by_key = {(b.visit.kind, b.visit.number): b for b in bookings}
    result = []
    for event in events:
        booking = by_key.get((event.kind, event.number))
        if booking is not None:
            event = replace(
                event,
                at=datetime.combine(booking.day, at, tzinfo=ZoneInfo(zone)),
                moved_from=booking.visit.planned if booking.moved else None,
                moved_because=booking.reason if booking.moved else None,
            )
        result.append(event)
    return result


def _check_start(bookings: tuple[Booking, ...]) -> None:
    first = next((b for b in bookings if (b.visit.kind, b.visit.number) == ("application", 1)),
                 None)  # fmt: skip
    if first is not None and first.moved:
        raise InvalidInput(
            "start", first.visit.planned.isoformat(),
            _(
                "{reason}; a home course starts with an application in the "
                "clinic: the next day it can is {day} ({weekday})"
            ).format(
                reason=stored_text(first.reason),
                day=i18n.format_date(first.day),
                weekday=formats.weekday(first.day),
            ),
        )  # fmt: skip


def rebook_clinic(
    uow: UnitOfWork, clinic: LocationRow, today: date
) -> tuple[clinics_dto.Moved, ...]:
    """Book again every live course with visits at the clinic from ``today``; returns the
    visits whose day changed (``because`` None: back on its calendar day)."""
    changed = []
    for course in uow.clinic_calendar.courses_booked_from(clinic.id, today):
        before = {(a.kind, a.number): a.day for a in uow.clinic_calendar.appointments(course.id)}
        book_course(uow, course, today=today)
        for row in uow.clinic_calendar.appointments(course.id):
            if before.get((row.kind, row.number), row.day) != row.day:
                changed.append(clinics_dto.Moved(
                    course.id, row.kind, row.number, row.planned_day, row.day,
                    _hhmm(row.at) or "", row.moved_because,
                ))  # fmt: skip
    changed.sort(key=lambda m: (m.course_id, m.day, m.kind, m.number))
    return tuple(changed)


# --- changing the clinic's week -----------------------------------------------------------


@retrying
def set_hours(
    uow: UnitOfWork,
    clinic: str,
    *,
    days: str | None = None,
    opens: str | None = None,
    sessions_per_day: str | int | None = None,
    today: date | None = None,
) -> clinics_dto.CalendarChange:
    """Set a clinic's opening days, opening time (the time of its appointments unless a
    course sets its own) and sessions a day; the clinic's booked visits from today on are
    booked again and those that moved are returned."""
    weekdays = parse_open_weekdays(days) if days is not None else None
    opens_at = parse_time_of_day(opens, "opens") if opens is not None else None
    cap = parse_sessions_per_day(sessions_per_day) if sessions_per_day is not None else None
    if weekdays is None and opens_at is None and cap is None:
        raise InvalidInput("days", None, _("give the opening days, --opens or --sessions-per-day"))
    with uow:
        uow.require("location.edit", doing=_("change a clinic's hours"))
        row = uow.locations.clinic(clinic)
        uow.check_clinic(row, doing=_("change the hours"))
        uow.clinic_calendar.lock_week(row)
        before = {"days": row.open_weekdays, "opens": _hhmm(row.opens_at),
                  "sessions_per_day": row.sessions_per_day}  # fmt: skip
        if weekdays is not None:
            row.open_weekdays = stored_weekdays(weekdays)
        if opens_at is not None:
            row.opens_at = opens_at
        if cap is not None:
            row.sessions_per_day = cap
        uow.session.flush()
        now = today or clinic_today(row.timezone)
        moved = rebook_clinic(uow, row, now)
        uow.record("clinic.hours", "location", row.code, before=before,
                   after={"days": row.open_weekdays, "opens": _hhmm(row.opens_at),
                          "sessions_per_day": row.sessions_per_day,
                          "moved": _audit_moves(moved)})  # fmt: skip
        result = clinics_dto.CalendarChange(row.code, None, hours_dto(uow, row), moved)
        uow.commit()
    return result


def _audit_moves(moved: tuple[clinics_dto.Moved, ...]) -> list[dict[str, object]]:
    return [{"course": m.course_id, "kind": m.kind, "number": m.number, "day": m.day.isoformat()}
            for m in moved]  # fmt: skip


def list_closures(
    uow: UnitOfWork, clinic: str | None = None, *, include_past: bool = False,
    today: date | None = None,
) -> list[clinics_dto.Closure]:  # fmt: skip
    """Closures by clinic and first day; those over before the clinic's today only with
    ``include_past``."""
    with uow:
        clinics = ([uow.clinic_filter(clinic, _("see closures"))] if clinic else
                   [row for row in uow.locations.all()
                    if row.kind == "clinic" and uow.visible_clinic(row.id)])  # fmt: skip
        result = []
        for row in clinics:
            now = today or clinic_today(row.timezone)
            for closure in uow.clinic_calendar.closures(row):
                if include_past or closure.last_day >= now:
                    result.append(closure_dto(row, closure))
    return result


@retrying
def add_closure(
    uow: UnitOfWork,
    clinic: str,
    first: str | date,
    last: str | date,
    reason: str,
    *,
    today: date | None = None,
) -> clinics_dto.CalendarChange:
    """Close a clinic from ``first`` to ``last`` (both included) for ``reason``; its booked
    visits on those days move to the next open day with room, and are returned."""
    first_day, last_day = _day(first, "from"), _day(last, "to")
    why = parse_reason(reason)
    no_control(why, "reason")
    check_closure(Closure(first_day, last_day, why), ())
    with uow:
        uow.require("clinic.close")
        row = uow.locations.clinic(clinic)
        uow.check_clinic(row, doing=_("close the clinic"))
        now = today or clinic_today(row.timezone)
        if last_day < now:
            raise InvalidInput(
                "to",
                last_day.isoformat(),
                _("is in the past (today at {clinic} is {now})").format(
                    clinic=row.code, now=i18n.format_date(now)
                ),
            )
        uow.clinic_calendar.lock_week(row)
        existing = uow.clinic_calendar.closures(row)
        check_closure(Closure(first_day, last_day, why), [closure_of(c) for c in existing],
                      row.code)  # fmt: skip
        closure = uow.clinic_calendar.add_closure(ClinicClosureRow(
            clinic_id=row.id, first_day=first_day, last_day=last_day, reason=why,
            actor=uow.actor[:64],
        ))  # fmt: skip
        moved = rebook_clinic(uow, row, now)
        uow.record("clinic.closure", "location", row.code,
                   after={"closure": closure.id, "from": first_day.isoformat(),
                          "to": last_day.isoformat(), "reason": why,
                          "moved": _audit_moves(moved)})  # fmt: skip
        result = clinics_dto.CalendarChange(row.code, closure_dto(row, closure), None, moved)
        uow.commit()
    return result


@retrying
def remove_closure(
    uow: UnitOfWork, closure_id: int | str, *, today: date | None = None
) -> clinics_dto.CalendarChange:
    """Open a clinic again on the days of a closure: the visits it moved go back to their
    calendar day (or the next open day with room), and the visits that moved are returned."""
    with uow:
        uow.require("clinic.close", doing=_("reopen a clinic"))
        closure = uow.clinic_calendar.closure(closure_id)
        row = uow.session.get_one(LocationRow, closure.clinic_id)
        uow.check_clinic(row, doing=_("reopen the clinic"))
        uow.clinic_calendar.lock_week(row)
        gone = closure_dto(row, closure)
        now = today or clinic_today(row.timezone)
        uow.clinic_calendar.remove_closure(closure)
        moved = rebook_clinic(uow, row, now)
        uow.record("clinic.reopen", "location", row.code,
                   before={"closure": gone.id, "from": gone.first_day.isoformat(),
                           "to": gone.last_day.isoformat(), "reason": gone.reason},
                   after={"moved": _audit_moves(moved)})  # fmt: skip
        result = clinics_dto.CalendarChange(row.code, gone, None, moved)
        uow.commit()
    return result


def _book(
    week: ClinicWeek,
    visits: Iterable[Visit],
    booked: Callable[[date], int] | Mapping[date, int],
    capacity: int,
) -> tuple[Booking, ...]:
    """``book_visits`` with each booking's reason (stored with it: "LON is closed on
    Sundays") in English, as kitops stores the words it writes; each reader sees it in
    their language (``kitops.i18n.labels.stored_text``). A refusal is raised in the
    language in force: the booking is deterministic, so it is asked again to say it."""
    try:
        with use_locale(DEFAULT_LOCALE):
            return book_visits(week, visits, booked, capacity)
    except KitopsError:
        pass
    return book_visits(week, visits, booked, capacity)
