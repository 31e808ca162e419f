"""A course's calendar as the calendar writer needs it (``kitops.documents.calendar``
writes it as an iCalendar file)."""

from __future__ import annotations

from dataclasses import dataclass

from kitops.domain.courses import CourseStatus
from kitops.errors import Refused
from kitops.services.courses import course_dto
from kitops.services.dto import courses as courses_dto
from kitops.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class CourseCalendar:
    course: courses_dto.Course
    location: str  # the clinic's name and code: LOCATION of every event


def read_calendar(uow: UnitOfWork, course_id: int | str) -> CourseCalendar:
    """Course ``course_id`` with its calendar, in one read transaction.

    A cancelled course has no calendar (refused).
    """
    with uow:
        row = uow.courses.get(course_id)
        if row.status == CourseStatus.CANCELLED.value:
            raise Refused(f"course {row.id} is cancelled; it has no calendar to write")
        course = course_dto(uow, row)
        location = f"{row.clinic.name} ({row.clinic.code})"
    return CourseCalendar(course, location)
