"""A course's calendar as an iCalendar file (RFC 5545) for the patient's phone.

One event per application, clinic check-in and follow-up. A visit to the clinic (a
session, a home course's first application, a check-in, a follow-up) is timed: it starts
at its appointment, on the day it is booked, in the clinic's time zone, lasts
``VISIT_MINUTES`` and carries the clinic's address as LOCATION; a visit moved from its
calendar day (the clinic closed or full) says so. A home application is an all-day event
with no location: its DESCRIPTION says which kit and vial to use and the clinic's
instructions (setting ``home_application_instructions``). Each event's UID is
``course-<id>-<kind>-<n>@kitops``, so importing a newer file for the same course updates
the events instead of doubling them. The patient appears only through the pseudonymous
reference in the calendar's name.

The course's status shows in every event's STATUS (``event_status``): the events a
cancelled or ended course no longer holds are CANCELLED, so importing the new file takes
them off the patient's phone; a paused course's events to come are TENTATIVE until it is
resumed with new dates.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from kitops.documents.files import output_path, write_file
from kitops.i18n import _, formats, ngettext
from kitops.i18n.labels import stored_text
from kitops.services.calendars import CourseCalendar, read_calendar
from kitops.services.dto import courses as courses_dto
from kitops.services.unit_of_work import UnitOfWork

PRODID = "-//kitops//course calendar//EN"
VISIT_MINUTES = 30


ENDED = ("completed", "ended_early")


def event_status(
    course: courses_dto.Course, event: courses_dto.CalendarEvent, today: date
) -> tuple[str, str]:
    """(RFC 5545 STATUS, what the patient reads about it: "" when the event holds).
    Events before the clinic's today stay as they happened. From today on: a cancelled
    course's events are cancelled; a completed or early-ended course's applications and
    check-ins are, its follow-up reviews hold; a paused course's events from the day of
    the pause on are tentative, new dates to come."""
    day = event.at.date()
    if course.status == "cancelled" and day >= today:
        return "CANCELLED", _("The course was cancelled.")
    if course.status in ENDED and day >= today and event.kind != "followup":
        return "CANCELLED", _("The course has ended.")
    if course.status == "paused" and day >= (course.paused_on or today):
        return "TENTATIVE", _("The course is paused: the clinic will give you new dates.")
    return "CONFIRMED", ""


_CHECKIN = re.compile(r"clinic check-in, week (\d+)")
_FOLLOWUP = re.compile(r"follow-up review, (\d+) months after the course")


def event_note(event: courses_dto.CalendarEvent) -> str:
    """What the course's calendar says of the event (``kit 1, vial 2``, ``clinic check-in,
    week 4``), in the language in force; a note of another shape as it is."""
    note = event.note
    if event.kind == "application":
        if event.kit_part is not None and event.vial is not None:
            first = _("kit {part}, vial {vial}, first application in clinic").format(
                part=event.kit_part, vial=event.vial
            )
            # the note as the course kept it in English, or as made in this language
            if note.endswith(", first application in clinic") or note == first:
                return first
            return _("kit {part}, vial {vial}").format(part=event.kit_part, vial=event.vial)
        if note == "in clinic":
            return _("in clinic")
        if note == "at home":
            return _("at home")
        return note
    if event.kind == "checkin" and (match := _CHECKIN.fullmatch(note)):
        return _("Clinic check-in, week {week}").format(week=match.group(1))
    if event.kind == "followup" and (match := _FOLLOWUP.fullmatch(note)):
        months = int(match.group(1))
        return ngettext(
            "Follow-up review, {months} month after the course",
            "Follow-up review, {months} months after the course",
            months,
        ).format(months=months)
    return note[:1].upper() + note[1:]


def event_summary(event: courses_dto.CalendarEvent, applications: int) -> str:
    if event.kind == "application":
        return _("Hair serum application {number} of {total} ({note})").format(
            number=event.number, total=applications, note=event_note(event)
        )
    return event_note(event)  # "Clinic check-in, week 4", "Follow-up review, ..."


def event_description(facts: CourseCalendar, event: courses_dto.CalendarEvent) -> str:
    lines = []
    if facts.in_clinic(event):
        lines.append(_("At the clinic: {location}.").format(location=facts.location))
        if event.moved_from is not None:
            moved = formats.date(event.moved_from)
            lines.append(
                _("Moved from {date} ({why}).").format(
                    date=moved, why=stored_text(event.moved_because)
                )
                if event.moved_because
                else _("Moved from {date}.").format(date=moved)
            )
    else:
        if event.kit_part is not None and event.vial is not None:
            lines.append(
                _("At home: use kit {part}, vial {vial}.").format(
                    part=event.kit_part, vial=event.vial
                )
            )
        else:
            lines.append(_("At home."))
        if facts.instructions:
            lines.append(facts.instructions)
    return "\n".join(lines)


def build_calendar(facts: CourseCalendar, stamp: datetime) -> bytes:
    """The VCALENDAR of the course as RFC 5545 bytes (CRLF line ends, folded lines)."""
    from icalendar import Calendar, Event

    course = facts.course
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add(
        "x-wr-calname",
        _("Hair treatment, course {course} ({patient})").format(
            course=course.id, patient=course.patient_ref
        ),
    )
    applications = sum(1 for e in course.events if e.kind == "application")
    stamp = stamp.astimezone(UTC).replace(microsecond=0)
    for item in course.events:
        event = Event()
        event.add("uid", f"course-{course.id}-{item.kind}-{item.number}@kitops")
        event.add("dtstamp", stamp)
        status, why = event_status(course, item, facts.today)
        event.add("status", status)
        summary = event_summary(item, applications)
        if status == "TENTATIVE":
            summary = _("On hold: {event}").format(event=summary)
        elif status == "CANCELLED":
            summary = _("Cancelled: {event}").format(event=summary)
        if facts.in_clinic(item):
            # ``at`` is the appointment in the clinic's zone
            event.add("dtstart", item.at)
            event.add("dtend", item.at + timedelta(minutes=VISIT_MINUTES))
            event.add("location", facts.location)
            event.add("transp", "OPAQUE")
            if item.moved_from is not None:
                summary = _("{event}, moved from {date}").format(
                    event=summary, date=formats.date(item.moved_from)
                )
        else:
            day = item.at.date()  # the clinic's calendar day
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("transp", "TRANSPARENT")  # a reminder, not a busy day
        event.add("summary", summary)
        description = event_description(facts, item)
        event.add("description", f"{why}\n{description}" if why else description)
        calendar.add_component(event)
    if course.events:  # the clinic's zone, its rules for the course's span only
        days = [e.at.date() for e in course.events]
        calendar.add_missing_timezones(min(days) - timedelta(days=366),
                                       max(days) + timedelta(days=366))  # fmt: skip
    return bytes(calendar.to_ical())


def write_calendar(uow: UnitOfWork, course_id: int | str, out: str) -> Path:
    """Write course ``course_id``'s calendar to ``out`` (``.ics``) and return the path;
    nothing is written on any error."""
    path = output_path(out, (".ics",))
    facts = read_calendar(uow, course_id)
    return write_file(path, build_calendar(facts, datetime.now(UTC)), out)
