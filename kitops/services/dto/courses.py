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
    # a clinic visit booked on another day than the calendar gives (a closed or full day)
    moved_from: date | None = None
    moved_because: str | None = None


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
