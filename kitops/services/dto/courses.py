"""Frozen values of plans and courses: the calendar, fulfilment, clinic sessions, the pick
list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    needle: str | None = None  # clinic sessions' stamp needle: "1.2-3 mm", "2 mm"
    every_weeks: int = 1  # weeks from one application week to the next
    session_supplies: tuple[tuple[str, int], ...] = ()  # (SKU, quantity) a clinic session uses


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
    status_reason: str | None = None
    paused_on: date | None = None
    history: tuple[HistoryEntry, ...] = ()  # the course's audit rows, oldest first


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str
    what: str  # the audit row's values in English words (``--json``, the API)
    # the same values as stored, (key, value) pairs: shown to a person with
    # ``kitops.i18n.labels.audit_details`` in the language in force; not in ``--json``
    details: tuple[tuple[str, object], ...] = field(default=(), metadata={"json": False})


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
    short_skus: tuple[str, ...] = ()  # the serum and session supplies that run short


@dataclass(frozen=True)
class SessionSupply:
    """A share of a supply (stamp, chlorhexidine...) a clinic session used: from one lot."""

    sku: str
    lot: str
    quantity: int
    location: str


@dataclass(frozen=True)
class SessionRecord:
    """A recorded clinic session: its serum (SKU, lot, vials opened, from where; the second
    half of a vial opened at its pair's session takes none) and every lot of its supplies."""

    course_id: int
    session_no: int
    date: date
    sku: str
    lot: str
    quantity: int
    location: str
    supplies: tuple[SessionSupply, ...] = ()
    # the session whose opened vial this one finished (quantity 0: no new vial), or None
    vial_opened_at: int | None = None


@dataclass(frozen=True)
class PickLine:
    serial: str
    location: str
    expiry: date
    course_id: int
    patient_ref: str
    part: int
    due: date
