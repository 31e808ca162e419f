"""A clinic's week: the days it opens, its closures, and booking a course's clinic visits
on days the clinic is open and has room.

Pure rules over dates. A clinic visit (a session in the clinic, a home plan's first
application, a check-in, a follow-up) goes on the day the course's calendar gives it, or
the next day the clinic is open with room for it, never earlier; later visits of the same
kind keep their order. Home applications are not booked: they stay on the patient's days.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta

import kitops.i18n as i18n
from kitops.domain.courses import DEFAULT_APPLICATION_TIME, WEEKDAY_NAMES
from kitops.errors import InvalidInput, Refused
from kitops.i18n import N_, _, ngettext

WEEKDAY_PLURALS = (N_("Mondays"), N_("Tuesdays"), N_("Wednesdays"), N_("Thursdays"),
                   N_("Fridays"), N_("Saturdays"), N_("Sundays"))  # fmt: skip
SEARCH_DAYS = 731  # no open day with room within two years: refused, not searched forever
MAX_SESSIONS_PER_DAY = 500
DEFAULT_SESSIONS_PER_DAY = 8
VISIT_KINDS = ("application", "checkin", "followup")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_open_weekdays(text: str, field: str = "days") -> tuple[int, ...]:
    """``mon-fri``, ``mon-sat``, ``mon,tue,thu`` or ``mon-wed,fri`` → weekday numbers
    (Monday 0). ``every-day`` (or ``mon-sun``) is every day."""
    clean = text.strip().lower().replace(" ", "")
    if clean in ("every-day", "everyday", "daily"):
        return tuple(range(7))
    why = _("must be weekday names or ranges such as mon-fri, mon-sat or mon,tue,thu")
    if not clean:
        raise InvalidInput(field, text, why)
    days: list[int] = []
    for part in clean.split(","):
        first, dash, last = part.partition("-")
        if first not in WEEKDAY_NAMES or (dash and last not in WEEKDAY_NAMES):
            raise InvalidInput(field, text, why)
        start = WEEKDAY_NAMES.index(first)
        end = WEEKDAY_NAMES.index(last) if dash else start
        if end < start:
            raise InvalidInput(
                field, text, _("{part} runs backwards; write it from Monday on").format(part=part)
            )
        days.extend(range(start, end + 1))
    if len(set(days)) != len(days):
        raise InvalidInput(field, text, _("names a day twice"))
    return tuple(sorted(days))


def format_open_weekdays(days: tuple[int, ...] | None) -> str:
    """``(0, 1, 2, 3, 4)`` → ``mon-fri``; ``(0, 1, 3)`` → ``mon,tue,thu``; None → every day."""
    if days is None or len(days) == 7:
        return "every day"
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{WEEKDAY_NAMES[run[0]]}-{WEEKDAY_NAMES[run[-1]]}")
        else:
            parts.extend(WEEKDAY_NAMES[day] for day in run)
    return ",".join(parts)


def stored_weekdays(days: tuple[int, ...] | None) -> str | None:
    """The ``locations.open_weekdays`` value: ``mon,tue,wed,thu,fri``; None for every day."""
    if days is None or len(days) == 7:
        return None
    return ",".join(WEEKDAY_NAMES[day] for day in days)


def read_weekdays(stored: str | None) -> tuple[int, ...] | None:
    if not stored:
        return None
    return tuple(sorted(WEEKDAY_NAMES.index(name) for name in stored.split(",")))


def parse_time_of_day(text: str, field: str = "at") -> time:
    """``09:00`` or ``9:30`` (24-hour clock) → a time."""
    found = _TIME.match(text.strip())
    if not found:
        raise InvalidInput(field, text, _("must be a time of day such as 09:00 or 14:30"))
    return time(int(found.group(1)), int(found.group(2)))


def parse_sessions_per_day(text: str | int, field: str = "sessions-per-day") -> int:
    value = str(text).strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_SESSIONS_PER_DAY:
        raise InvalidInput(
            field,
            text,
            _("must be a whole number from 1 to {max_sessions_per_day}").format(
                max_sessions_per_day=MAX_SESSIONS_PER_DAY
            ),
        )
    return int(value)


def parse_reason(text: str, field: str = "reason") -> str:
    reason = " ".join(text.split())
    if not reason:
        raise InvalidInput(field, text, _("must say why the clinic is closed, such as Christmas"))
    if len(reason) > 200:
        raise InvalidInput(field, reason[:40] + "...", _("must be at most 200 characters"))
    return reason


@dataclass(frozen=True)
class Closure:
    """Days a clinic is closed, both included."""

    first_day: date
    last_day: date
    reason: str
    id: int | None = None

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def overlaps(self, other: Closure) -> bool:
        return self.first_day <= other.last_day and other.first_day <= self.last_day

    @property
    def days(self) -> str:
        if self.first_day == self.last_day:
            return _("on {day}").format(day=i18n.format_date(self.first_day))
        return _("{first} to {last}").format(
            first=i18n.format_date(self.first_day), last=i18n.format_date(self.last_day)
        )


def check_closure(new: Closure, existing: Iterable[Closure], clinic: str | None = None) -> None:
    """The days run forwards, and a closure does not overlap another of the same clinic."""
    if new.last_day < new.first_day:
        raise InvalidInput(
            "to",
            new.last_day.isoformat(),
            _("is before --from {first_day}").format(first_day=i18n.format_date(new.first_day)),
        )
    for other in existing:
        if new.overlaps(other):
            if other.id is not None:
                message = _("{clinic} is already closed {days} ({reason}, closure {number})")
            else:
                message = _("{clinic} is already closed {days} ({reason}, closure)")
            raise Refused(
                message.format(
                    clinic=clinic or _("the clinic"),
                    days=other.days,
                    reason=other.reason,
                    number=other.id,
                )
            )


@dataclass(frozen=True)
class ClinicWeek:
    """The days a clinic opens: its weekdays (None: every day) less its closures."""

    code: str
    open_weekdays: tuple[int, ...] | None = None
    closures: tuple[Closure, ...] = ()

    def closure_on(self, day: date) -> Closure | None:
        return next((c for c in self.closures if c.covers(day)), None)

    def why_closed(self, day: date) -> str | None:
        """Why the clinic is closed on ``day`` ("LON is closed on Saturdays", "LON is
        closed 2026-12-25 to 2026-12-26: Christmas"), None when it is open."""
        closure = self.closure_on(day)
        if closure is not None:
            return _("{clinic} is closed {days}: {reason}").format(
                clinic=self.code, days=closure.days, reason=closure.reason
            )
        if self.open_weekdays is not None and day.weekday() not in self.open_weekdays:
            return _("{clinic} is closed on {weekdays}").format(
                clinic=self.code, weekdays=i18n.gettext(WEEKDAY_PLURALS[day.weekday()])
            )
        return None

    def is_open(self, day: date) -> bool:
        return self.why_closed(day) is None

    def next_open(self, day: date) -> tuple[date, str | None]:
        """``day`` if the clinic is open then, else the next day it is, and why ``day``
        would not do (None when it does)."""
        if self.open_weekdays is not None and not self.open_weekdays:
            raise Refused(_("{calendar} opens on no day of the week").format(calendar=self.code))
        why = self.why_closed(day)
        candidate = day
        for _day in range(SEARCH_DAYS):
            if self.is_open(candidate):
                return candidate, why
            candidate += timedelta(days=1)
        raise Refused(
            _("{calendar} is not open on any day within two years of {day}").format(
                calendar=self.code, day=i18n.format_date(day)
            )
        )


@dataclass(frozen=True)
class Visit:
    """One clinic visit of a course as its calendar gives it."""

    kind: str  # application | checkin | followup
    number: int
    planned: date


@dataclass(frozen=True)
class Booking:
    visit: Visit
    day: date
    reason: str | None = None  # why it is not on its planned day

    @property
    def moved(self) -> bool:
        return self.day != self.visit.planned


@dataclass
class _Counts:
    booked: Callable[[date], int]
    added: dict[date, int] = field(default_factory=dict)

    def on(self, day: date) -> int:
        return self.booked(day) + self.added.get(day, 0)


def book_visits(
    week: ClinicWeek,
    visits: Iterable[Visit],
    booked: Callable[[date], int] | Mapping[date, int],
    capacity: int,
) -> tuple[Booking, ...]:
    """Place each visit on its planned day or the next day the clinic is open and, for an
    application (a session in the clinic), has fewer than ``capacity`` sessions booked
    (``booked(day)``: sessions of other courses already there). A visit never moves before
    its planned day, and the visits of one kind keep their order: an application pushed
    past the next one's planned day takes that one along, a day later. Check-ins and
    follow-ups take no session place. In the visits' order: kind, then number."""
    lookup = booked if callable(booked) else (lambda day, m=booked: m.get(day, 0))
    counts = _Counts(lookup)
    last: dict[str, tuple[date, Visit]] = {}
    result = []
    for visit in sorted(visits, key=lambda v: (VISIT_KINDS.index(v.kind), v.number)):
        day, reason = visit.planned, week.why_closed(visit.planned)
        before = last.get(visit.kind)
        if before is not None and before[0] >= day:
            day = before[0] + timedelta(days=1)
            kind, number = before[1].kind, before[1].number
            reason = reason or _("{kind} {number} moved to {day} and comes first").format(
                kind=kind, number=number, day=i18n.format_date(before[0])
            )
        for _day in range(SEARCH_DAYS):
            open_day, why = week.next_open(day)
            reason = reason or why
            day = open_day
            if visit.kind != "application" or counts.on(day) < capacity:
                break
            room = ngettext("{n} session a day", "{n} sessions a day", capacity).format(n=capacity)
            reason = reason or _("{clinic} is full on {day} ({room})").format(
                clinic=week.code, day=i18n.format_date(day), room=room
            )
            day += timedelta(days=1)
        else:
            raise Refused(
                _("{week} has no day with room for a session within two years").format(
                    week=week.code
                )
            )
        if visit.kind == "application":
            counts.added[day] = counts.added.get(day, 0) + 1
        last[visit.kind] = (day, visit)
        result.append(Booking(visit, day, reason if day != visit.planned else None))
    return tuple(result)


def appointment_time(course_time: time | None, opens_at: time | None) -> time:
    """The course's own appointment time, else the clinic's opening time, else 09:00."""
    return course_time or opens_at or DEFAULT_APPLICATION_TIME
