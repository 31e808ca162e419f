"""Frozen values of a clinic's week: its hours, its closures, and the clinic visits of
courses that a closure or the clinic's hours moved. Times of day are ``HH:MM`` strings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Closure:
    id: int
    clinic: str
    first_day: date
    last_day: date
    reason: str


@dataclass(frozen=True)
class ClinicHours:
    clinic: str
    name: str
    timezone: str
    days: str  # "mon-fri", "mon,tue,thu", "every day"
    opens_at: str | None  # None: appointments at 09:00
    appointments_at: str  # the time a visit is booked at unless its course sets one
    sessions_per_day: int | None  # None: the setting clinic_sessions_per_day
    capacity: int  # the sessions a day booking allows
    closures: tuple[Closure, ...]


@dataclass(frozen=True)
class Moved:
    """A clinic visit of a course booked on another day than its calendar gives, or moved
    back to it (``because`` None)."""

    course_id: int
    kind: str  # application | checkin | followup
    number: int
    planned: date
    day: date
    at: str
    because: str | None


@dataclass(frozen=True)
class CalendarChange:
    """What a change to a clinic's week did: the closure made or removed, the hours now,
    and the visits it moved."""

    clinic: str
    closure: Closure | None
    hours: ClinicHours | None
    moved: tuple[Moved, ...]

    @property
    def courses(self) -> tuple[int, ...]:
        return tuple(sorted({m.course_id for m in self.moved}))
