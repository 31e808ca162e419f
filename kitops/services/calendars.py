"""A course's calendar as the calendar writer needs it (``kitops.documents.calendar``
writes it as an iCalendar file): the course with its booked clinic visits, where the
clinic is, and what the patient reads before a home application."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kitops.domain.locations import clinic_today
from kitops.services.clinic_calendar import clinic_visits
from kitops.services.courses import course_dto
from kitops.services.dto import courses as courses_dto
from kitops.services.unit_of_work import UnitOfWork

INSTRUCTIONS_SETTING = "home_application_instructions"


@dataclass(frozen=True)
class CourseCalendar:
    course: courses_dto.Course
    location: str  # the clinic's address, else its name and code: LOCATION of clinic visits
    instructions: str  # the clinic's words for every home application ("" when none)
    clinic_visits: frozenset[tuple[str, int]]  # (kind, number) of the visits in the clinic
    today: date  # the clinic's today: what a finished or paused course no longer holds

    def in_clinic(self, event: courses_dto.CalendarEvent) -> bool:
        return (event.kind, event.number) in self.clinic_visits


def read_calendar(uow: UnitOfWork, course_id: int | str) -> CourseCalendar:
    """Course ``course_id`` with its calendar, in one read transaction, whatever its
    status: the calendar of a cancelled, finished or paused course tells the patient's
    phone which events no longer hold."""
    with uow:
        row = uow.courses.get(course_id)
        course = course_dto(uow, row)
        clinic = row.clinic
        named = f"{clinic.name} ({clinic.code})"
        address = " ".join((clinic.address or "").split())
        location = f"{named}, {address}" if address else named
        instructions = uow.settings.get(INSTRUCTIONS_SETTING, "").strip()
        visits = frozenset((v.kind, v.number) for v in clinic_visits(row))
        today = clinic_today(clinic.timezone)
    return CourseCalendar(course, location, instructions, visits, today)
