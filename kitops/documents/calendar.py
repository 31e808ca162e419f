"""A course's calendar as an iCalendar file (RFC 5545) for the patient's phone.

One all-day event per application, clinic check-in and follow-up, on the day the course's
calendar gives in the clinic's time zone. Each event's UID is ``course-<id>-<kind>-<n>@kitops``,
so importing a newer file for the same course updates the events instead of doubling them.
The patient appears only through the pseudonymous reference in the calendar's name;
LOCATION names the clinic (its name and code).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kitops.documents.files import output_path, write_file
from kitops.services.calendars import read_calendar
from kitops.services.dto import courses as courses_dto
from kitops.services.unit_of_work import UnitOfWork

PRODID = "-//kitops//course calendar//EN"


def event_summary(event: courses_dto.CalendarEvent, applications: int) -> str:
    if event.kind == "application":
        return f"Hair serum application {event.number} of {applications} ({event.note})"
    return event.note[:1].upper() + event.note[1:]  # "Clinic check-in, week 4", "Follow-up ..."


def build_calendar(course: courses_dto.Course, location: str, stamp: datetime) -> bytes:
    """The VCALENDAR of ``course`` as RFC 5545 bytes (CRLF line ends, folded lines)."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Hair treatment, course {course.id} ({course.patient_ref})")
    applications = sum(1 for e in course.events if e.kind == "application")
    stamp = stamp.astimezone(UTC).replace(microsecond=0)
    for item in course.events:
        day = item.at.date()  # ``at`` is in the clinic's zone: the clinic's calendar day
        event = Event()
        event.add("uid", f"course-{course.id}-{item.kind}-{item.number}@kitops")
        event.add("dtstamp", stamp)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", event_summary(item, applications))
        event.add("location", location)
        event.add("transp", "TRANSPARENT")  # a reminder, not a busy day
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def write_calendar(uow: UnitOfWork, course_id: int | str, out: str) -> Path:
    """Write course ``course_id``'s calendar to ``out`` (``.ics``) and return the path.

    A cancelled course has no calendar (refused); nothing is written on any error.
    """
    path = output_path(out, (".ics",))
    facts = read_calendar(uow, course_id)
    return write_file(path, build_calendar(facts.course, facts.location, datetime.now(UTC)), out)
