"""Frozen values of plans and courses: the calendar, fulfilment, clinic sessions, the pick
list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from kitops.services.dto.kits import Kit


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    applications_per_week: int
    weeks: int
    applications: int
    ml_per_application: Decimal
    administered: str
    kit_sku: str | None
    kits_per_course: int
    default_weekdays: str | None
    checkin_weeks: tuple[int, ...]
    followup_months: tuple[int, ...]


@dataclass(frozen=True)
class CalendarEvent:
    kind: str  # application | checkin | followup
    number: int
    at: datetime
    kit_part: int | None
    vial: int | None
    note: str


@dataclass(frozen=True)
class Course:
    id: int
    patient_ref: str
    plan: str
    clinic: str
    timezone: str
    start: date
    weekdays: str
    status: str
    end: date
    events: tuple[CalendarEvent, ...]
    kits: tuple[Kit, ...]  # by part; a part returned opened lists its written-off kit too
    sessions_recorded: int
    parts_returned_opened: tuple[int, ...] = ()  # kit numbers whose kit came back opened
    status_reason: str | None = None
    paused_on: date | None = None
    history: tuple[HistoryEntry, ...] = ()  # the course's audit rows, oldest first


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    what: str


@dataclass(frozen=True)
class KitNote:
    """A kit of a course that no longer lasts the course's new dates, and why."""

    serial: str
    part: int
    status: str
    why: str


@dataclass(frozen=True)
class ScheduleChange:
    course: Course
    first_moved: int  # the first application that moved
    start: date
    weekdays: str
    released: tuple[KitNote, ...]  # reserved kits back on the shelf
    out_not_lasting: tuple[KitNote, ...]  # kits with the patient that no longer last


@dataclass(frozen=True)
class StatusChange:
    course: Course
    kits_released: tuple[str, ...]


@dataclass(frozen=True)
class FulfilLine:
    course_id: int
    patient_ref: str
    clinic: str
    part: int
    first_use: date
    needed_until: date
    kit: str | None
    kit_expiry: date | None
    reason: str | None


@dataclass(frozen=True)
class FulfilReport:
    served: tuple[FulfilLine, ...]
    unserved: tuple[FulfilLine, ...]


@dataclass(frozen=True)
class SessionCheck:
    course_id: int
    clinic: str
    sessions_left: int
    covered: int
    enough: bool
    shortfall_dates: tuple[date, ...]


@dataclass(frozen=True)
class SessionRecord:
    course_id: int
    session_no: int
    date: date
    sku: str
    lot: str
    quantity: int
    location: str


@dataclass(frozen=True)
class PickLine:
    serial: str
    location: str
    expiry: date
    course_id: int
    patient_ref: str
    part: int
    due: date
