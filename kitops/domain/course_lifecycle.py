"""A course's life: scheduled until its first application, active while it runs, paused
when a kit came back opened (or a person pauses it), then completed, ended early or
cancelled. What happens (a session, a kit handed over, an opened return) and what a
person decides (pause, resume, complete, cancel, reschedule) each move it only along the
table below; the rest is refused with one line saying why.

Reschedules move a course's remaining applications: from application number ``first``
on, they restart on a new day, on new weekdays (``Segment``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import kitops.i18n as i18n
from kitops.domain.courses import Calendar, CourseStatus, format_weekdays, parse_weekdays
from kitops.errors import InvalidInput, Refused
from kitops.i18n import N_, _
from kitops.i18n.labels import status_label

S, A, P = CourseStatus.SCHEDULED, CourseStatus.ACTIVE, CourseStatus.PAUSED
C, E, X = CourseStatus.COMPLETED, CourseStatus.ENDED_EARLY, CourseStatus.CANCELLED

# a course that still runs: it may be resumed, moved, ended; one course of a patient and
# plan at a time unless the clinician chose an overlap
LIVE = (S.value, A.value, P.value)
# a course that still needs stock: kits reserved, serum planned, demand forecast (a paused
# course reserves nothing new until it is resumed)
NEEDS_STOCK = (S.value, A.value)
# a course that is over, for good
FINISHED = (C.value, E.value, X.value)

# every change of a course's status: from → the statuses it may become
TRANSITIONS: dict[CourseStatus, frozenset[CourseStatus]] = {
    S: frozenset({A, P, C, E, X}),
    A: frozenset({P, C, E}),
    P: frozenset({S, A, C, E}),
    C: frozenset(),
    E: frozenset(),
    X: frozenset(),
}

# why a change is not allowed, by target status
_WHY = {
    A: N_("only a scheduled or paused course becomes active"),
    P: N_("only a scheduled or active course is paused"),
    S: N_("only a paused course that never began goes back to scheduled"),
    C: N_("only a course still running is completed"),
    E: N_("only a course still running is ended early"),
    X: N_("only a scheduled course is cancelled (end a course that began early instead)"),
}


def may(current: str, target: CourseStatus) -> bool:
    return target in TRANSITIONS[CourseStatus(current)]


def check_transition(course_id: int, current: str, target: CourseStatus) -> None:
    """Go on only if a course in status ``current`` may become ``target``."""
    if not may(current, target):
        raise Refused(
            _("course {course_id} is {current}; {why}").format(
                course_id=course_id, current=status_label(current), why=i18n.gettext(_WHY[target])
            )
        )


def status_after_session(course_id: int, current: str, number: int, applications: int) -> str:
    """The course's status once its session ``number`` (from 1) of ``applications`` is
    recorded: the last one completes it, any other makes it active. A paused or finished
    course records no session."""
    if current not in NEEDS_STOCK:
        raise Refused(_(
            "course {course_id} is {current}; a session is recorded only "
            "for a scheduled or active course"
        ).format(course_id=course_id, current=status_label(current)))  # fmt: skip
    target = C if number >= applications else A
    if current == target.value:
        return current
    check_transition(course_id, current, target)
    return target.value


def status_after_handover(course_id: int, current: str) -> str:
    """A kit of the course reaches its patient (shipped or handed over): the course is
    active. A paused or finished course gets no kit."""
    if current not in NEEDS_STOCK:
        raise Refused(_(
            "course {course_id} is {current}; its kits go out only while "
            "it runs (resume it first)"
        ).format(course_id=course_id, current=status_label(current)))  # fmt: skip
    return A.value


def pause_for_opened_return(current: str, part: int) -> tuple[str, str] | None:
    """A kit of the course came back opened: a running course is paused, with the reason,
    until a person resumes it (with a replacement kit) or ends it. None: the course is
    already paused or over and stays as it is."""
    if current not in NEEDS_STOCK:
        return None
    return P.value, opened_return_reason(part)


def opened_return_reason(part: int) -> str:
    """The reason a course paused for its kit ``part`` coming back opened shows; the
    replacement of that kit resumes it."""
    return f"kit {part} returned opened"


def status_after_resume(started: bool) -> CourseStatus:
    """A resumed course is active again, or scheduled if it never began."""
    return A if started else S


@dataclass(frozen=True)
class Segment:
    """From application number ``first`` (1-based) on, the applications restart on
    ``start`` on ``days``."""

    first: int
    start: date
    days: tuple[int, ...]

    def to_json(self) -> dict[str, object]:
        return {"from": self.first, "start": self.start.isoformat(),
                "weekdays": format_weekdays(self.days)}  # fmt: skip


def load_segments(text: str | None) -> tuple[Segment, ...]:
    """The stored ``courses.reschedules`` JSON, in application order."""
    if not text:
        return ()
    rows = json.loads(text)
    segments = [
        Segment(int(row["from"]), date.fromisoformat(row["start"]), parse_weekdays(row["weekdays"]))
        for row in rows
    ]
    return tuple(sorted(segments, key=lambda s: s.first))


Moves = tuple[tuple[int, date, tuple[int, ...]], ...]


def moves_of(text: str | None) -> Moves:
    """The stored ``courses.reschedules`` as ``course_calendar`` takes them (hashable)."""
    return tuple((s.first, s.start, s.days) for s in load_segments(text))


def dump_segments(segments: tuple[Segment, ...]) -> str | None:
    if not segments:
        return None
    return json.dumps([s.to_json() for s in segments])


def with_segment(segments: tuple[Segment, ...], new: Segment) -> tuple[Segment, ...]:
    """The segments after ``new``: the earlier moves stay, those it overtakes go."""
    kept = tuple(s for s in segments if s.first < new.first)
    return (*kept, new)


def applications_kept(
    calendar: Calendar, *, sessions_done: int | None, before: date
) -> int:  # fmt: skip
    """How many applications a move leaves where they are: in the clinic, the sessions
    recorded; at home, those dated before ``before`` (the clinic's today, or the day a
    pause began when earlier), which the patient has applied."""
    if sessions_done is not None:
        return sessions_done
    return sum(1 for day in calendar.application_dates if day < before)


def check_move(course_id: int, calendar: Calendar, kept: int, start: date, today: date) -> None:
    """Refuse a move that cannot be: nothing left to move, a day in the past, or a day
    on or before an application that stays."""
    total = len(calendar.applications)
    if kept >= total:
        raise Refused(
            _("course {course_id} has no applications left to move").format(course_id=course_id)
        )
    if start < today:
        raise InvalidInput(
            "from",
            start.isoformat(),
            _("is in the past (today is {today})").format(today=i18n.format_date(today)),
        )
    if kept and start <= calendar.application_dates[kept - 1]:
        raise InvalidInput(
            "from", start.isoformat(),
            _(
                "must be after application {kept} on {day}, "
                "which stays"
            ).format(kept=kept, day=i18n.format_date(calendar.application_dates[kept - 1])),
        )  # fmt: skip


def remaining_after(calendar: Calendar, day: date) -> int:
    """How many applications fall after ``day``."""
    return sum(1 for d in calendar.application_dates if d > day)


def overlaps(a_first: date, a_last: date, b_first: date, b_last: date) -> bool:
    return a_first <= b_last and b_first <= a_last
