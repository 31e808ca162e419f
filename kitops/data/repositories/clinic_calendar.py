"""A clinic's week as stored: its opening days and time on its ``locations`` row, its
closures, and the appointments booked for the clinic visits of its courses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kitops.data.schema import ClinicClosureRow, CourseAppointmentRow, CourseRow, LocationRow
from kitops.domain.catalog import parse_non_negative_int
from kitops.domain.clinic_calendar import (
    DEFAULT_SESSIONS_PER_DAY,
    ClinicWeek,
    Closure,
    read_weekdays,
)
from kitops.domain.course_lifecycle import LIVE, NEEDS_STOCK
from kitops.domain.numbers import parse_id
from kitops.errors import InvalidInput
from kitops.i18n import _

# courses whose visits still lie ahead: their bookings move when the clinic's week changes
# courses whose booked sessions take a place: running or paused (a cancelled or finished
# course's do not); those moved by a new closure: running ones
HOLDING_STATUSES = LIVE
LIVE_STATUSES = NEEDS_STOCK


def closure_of(row: ClinicClosureRow) -> Closure:
    return Closure(row.first_day, row.last_day, row.reason, row.id)


class ClinicCalendar:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- the clinic's week ---------------------------------------------------------------

    def lock_week(self, clinic: LocationRow) -> None:
        """Hold the clinic's week until the transaction ends: bookings and changes to its
        hours and closures at one clinic take turns, so two of them never both take its
        last session place of a day or make overlapping closures. (FOR NO KEY UPDATE: rows
        that only refer to the clinic are not held up.)"""
        self.session.execute(
            select(LocationRow.id)
            .where(LocationRow.id == clinic.id)
            .with_for_update(key_share=True)
        )

    def closures(self, clinic: LocationRow) -> Sequence[ClinicClosureRow]:
        return self.session.scalars(
            select(ClinicClosureRow)
            .where(ClinicClosureRow.clinic_id == clinic.id)
            .order_by(ClinicClosureRow.first_day, ClinicClosureRow.id)
        ).all()

    def week(self, clinic: LocationRow) -> ClinicWeek:
        return ClinicWeek(
            clinic.code,
            read_weekdays(clinic.open_weekdays),
            tuple(closure_of(row) for row in self.closures(clinic)),
        )

    def closure(self, closure_id: int | str) -> ClinicClosureRow:
        key = parse_id(closure_id, "closure", _("a closure number"))
        row = self.session.get(ClinicClosureRow, key)
        if row is None:
            raise InvalidInput(
                "closure",
                closure_id,
                _("no closure has this number (see `kitops clinic closures`)"),
            )
        return row

    def add_closure(self, row: ClinicClosureRow) -> ClinicClosureRow:
        self.session.add(row)
        self.session.flush()
        return row

    def remove_closure(self, row: ClinicClosureRow) -> None:
        self.session.delete(row)
        self.session.flush()

    def sessions_per_day(self, clinic: LocationRow, setting: str | None) -> int:
        """The clinic's own cap, else the setting ``clinic_sessions_per_day``, else 8."""
        if clinic.sessions_per_day:
            return clinic.sessions_per_day
        if setting:
            return parse_non_negative_int(setting, "clinic_sessions_per_day") or 1
        return DEFAULT_SESSIONS_PER_DAY

    # --- appointments ----------------------------------------------------------------------

    def appointments(self, course_id: int) -> Sequence[CourseAppointmentRow]:
        return self.session.scalars(
            select(CourseAppointmentRow)
            .where(CourseAppointmentRow.course_id == course_id)
            .order_by(
                CourseAppointmentRow.day, CourseAppointmentRow.kind, CourseAppointmentRow.number
            )
        ).all()

    def booked_session_days(self, *where: Any) -> dict[int, dict[int, date]]:
        """Course id → application number → the day its clinic session is booked, for the
        courses matching ``where`` (conditions on ``CourseRow``), in one query: what a
        planner reads instead of the calendar's day (a session moved off a closed or full
        day is needed on the day it happens)."""
        booked: dict[int, dict[int, date]] = {}
        rows = self.session.connection().execute(
            select(CourseAppointmentRow.course_id, CourseAppointmentRow.number,
                   CourseAppointmentRow.day)
            .join(CourseRow, CourseRow.id == CourseAppointmentRow.course_id)
            .where(CourseAppointmentRow.kind == "application", *where)
        ).all()  # fmt: skip
        for course_id, number, day in rows:
            days = booked.get(course_id)
            if days is None:
                days = booked[course_id] = {}
            days[number] = day
        return booked

    def sessions_booked_count(self, *where: Any) -> dict[int, int]:
        """Course id → how many of its clinic sessions (applications) are booked, for the
        courses matching ``where`` (conditions on ``CourseRow``), counted by the database."""
        return {
            course_id: int(count)
            for course_id, count in self.session.connection()
            .execute(
                select(CourseAppointmentRow.course_id, func.count())
                .join(CourseRow, CourseRow.id == CourseAppointmentRow.course_id)
                .where(CourseAppointmentRow.kind == "application", *where)
                .group_by(CourseAppointmentRow.course_id)
            )
            .all()
        }

    def forget_from(self, course_id: int, day: date) -> int:
        """Drop the course's appointments on or after ``day`` (to be booked again)."""
        result = self.session.execute(
            delete(CourseAppointmentRow).where(
                CourseAppointmentRow.course_id == course_id,
                CourseAppointmentRow.planned_day >= day,
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def add_appointments(self, rows: Sequence[CourseAppointmentRow]) -> None:
        self.session.add_all(rows)
        self.session.flush()

    def sessions_booked(self, clinic_id: int, first: date, last: date) -> Callable[[date], int]:
        """How many sessions (applications) of courses not cancelled or finished are booked
        at the clinic on each day from ``first`` to ``last``, as a lookup (0 outside that
        span or on an empty day)."""
        counts: dict[date, int] = {
            day: count
            for day, count in self.session.execute(
                select(CourseAppointmentRow.day, func.count())
                .join(CourseRow, CourseRow.id == CourseAppointmentRow.course_id)
                .where(
                    CourseRow.status.in_(HOLDING_STATUSES),
                    CourseAppointmentRow.clinic_id == clinic_id,
                    CourseAppointmentRow.kind == "application",
                    CourseAppointmentRow.day >= first,
                    CourseAppointmentRow.day <= last,
                )
                .group_by(CourseAppointmentRow.day)
            )
        }
        return lambda day: int(counts.get(day, 0))

    def courses_booked_from(self, clinic_id: int, day: date) -> Sequence[CourseRow]:
        """The live courses with an appointment at the clinic on or after ``day``."""
        ids = select(CourseAppointmentRow.course_id).where(
            CourseAppointmentRow.clinic_id == clinic_id, CourseAppointmentRow.day >= day
        )
        return self.session.scalars(
            select(CourseRow)
            .where(CourseRow.id.in_(ids), CourseRow.status.in_(LIVE_STATUSES))
            .order_by(CourseRow.start_date, CourseRow.id)
            .with_for_update(key_share=True)
        ).all()
