"""``kitops clinic``: a clinic's opening days and time, sessions a day, and closures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import group
from kitops.cli.output import emit_json, emit_table, human, say
from kitops.i18n import N_, _

if TYPE_CHECKING:
    from kitops.services.dto.clinics import CalendarChange, ClinicHours, Closure, Moved


@group(help=N_("A clinic's week: the days it opens, its closures, where course visits land."))
def clinic() -> None: ...


def _closure_table(closures: list[Closure] | tuple[Closure, ...]) -> None:
    emit_table(
        [N_("id"), N_("clinic"), N_("from"), N_("to"), N_("reason")],
        [(c.id, c.clinic, c.first_day, c.last_day, c.reason) for c in closures],
    )


def _print_hours(h: ClinicHours) -> None:
    opens = h.opens_at or _("not set (appointments at {at})").format(at=h.appointments_at)
    cap = (f"{h.sessions_per_day}" if h.sessions_per_day
           else _("{n} (the setting)").format(n=h.capacity))  # fmt: skip
    say(_("{clinic} ({name}, {timezone}): open {days}; opens {opens}; sessions a day "
          "{capacity}").format(clinic=h.clinic, name=h.name, timezone=h.timezone, days=h.days,
                               opens=opens, capacity=cap))  # fmt: skip
    if h.closures:
        _closure_table(h.closures)


def move_line(m: Moved) -> str:
    """``course 4 application 2 moved from 2026-12-25 to 2026-12-28 09:00: LON is ...``"""
    what = _("course {course} {what} {n}").format(course=m.course_id, what=m.kind, n=m.number)
    if m.because is None:
        return _("{what} back on {day} {at}").format(what=what, day=human(m.day), at=m.at)
    return _("{what} moved from {planned} to {day} {at}: {why}").format(
        what=what, planned=human(m.planned), day=human(m.day), at=m.at, why=m.because)  # fmt: skip


def _print_change(change: CalendarChange, done: str) -> None:
    say(done)
    for moved in change.moved:
        say(move_line(moved))
    if change.moved:
        courses = ", ".join(str(c) for c in change.courses)
        say(_("visits moved: {n}, of course(s) {courses}").format(
            n=len(change.moved), courses=courses))  # fmt: skip
    else:
        say(_("no booked visit moved"))


@clinic.command(
    "hours",
    help=N_(
        "Show a clinic's hours, or set its open DAYS (mon-fri, mon-sat, mon,tue,thu), "
        "opening time and sessions a day. Booked visits on days it no longer opens "
        "move to the next open day, and are listed."
    ),
)
@click.argument("code", metavar="CLINIC")
@click.argument("days", metavar="[DAYS]", required=False)
@click.option("--opens", metavar="HH:MM", help=N_("Opening time: the time of appointments."))
@click.option("--sessions-per-day", metavar="N", help=N_("Clinic sessions a day it can take."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the clinic's hours as JSON."))
@pass_context
def hours(
    ctx: Context,
    code: str,
    days: str | None,
    opens: str | None,
    sessions_per_day: str | None,
    as_json: bool,
) -> None:
    if days is None and opens is None and sessions_per_day is None:
        from kitops.services.clinic_calendar import show_hours

        shown = show_hours(ctx.uow(readonly=True), code)
        emit_json(shown) if as_json else _print_hours(shown)
        return
    from kitops.services.clinic_calendar import set_hours

    change = set_hours(ctx.uow(), code, days=days, opens=opens, sessions_per_day=sessions_per_day)
    if as_json:
        emit_json(change)
        return
    assert change.hours is not None
    _print_change(change, _("{clinic} hours set").format(clinic=change.clinic))
    _print_hours(change.hours)


@clinic.command(
    "closure",
    help=N_(
        "Close a clinic from a day to a day (both included). Booked clinic visits on "
        "those days move to the next open day with room, and are listed."
    ),
)
@click.argument("code", metavar="CLINIC")
@click.option("--from", "first", required=True, metavar="YYYY-MM-DD", help=N_("First closed day."))
@click.option("--to", "last", required=True, metavar="YYYY-MM-DD", help=N_("Last closed day."))
@click.option("--reason", required=True, metavar="TEXT", help=N_("Why, e.g. Christmas."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the closure and moves as JSON."))
@pass_context
def closure(ctx: Context, code: str, first: str, last: str, reason: str, as_json: bool) -> None:
    from kitops.services.clinic_calendar import add_closure

    change = add_closure(ctx.uow(), code, first, last, reason)
    if as_json:
        emit_json(change)
        return
    made = change.closure
    assert made is not None
    fields = {"id": made.id, "clinic": made.clinic, "first": human(made.first_day),
              "last": human(made.last_day), "reason": made.reason}  # fmt: skip
    if made.first_day == made.last_day:
        done = _("closure {id}: {clinic} closed on {first}: {reason}").format(**fields)
    else:
        done = _("closure {id}: {clinic} closed {first} to {last}: {reason}").format(**fields)
    _print_change(change, done)


@clinic.command("closures", help=N_("Closures to come (of one clinic, or of every clinic)."))
@click.argument("code", metavar="[CLINIC]", required=False)
@click.option("--all", "include_past", is_flag=True, help=N_("Closures already over too."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print a JSON list of closures."))
@pass_context
def closures(ctx: Context, code: str | None, include_past: bool, as_json: bool) -> None:
    from kitops.services.clinic_calendar import list_closures

    found = list_closures(ctx.uow(readonly=True), code, include_past=include_past)
    emit_json(found) if as_json else _closure_table(found)


@clinic.command(
    "reopen",
    help=N_(
        "Remove a closure: the visits it moved go back to their calendar day if there "
        "is room, and are listed."
    ),
)
@click.argument("closure_id", metavar="CLOSURE")
@click.option("--json", "as_json", is_flag=True, help=N_("Print the removed closure and moves."))
@pass_context
def reopen(ctx: Context, closure_id: str, as_json: bool) -> None:
    from kitops.services.clinic_calendar import remove_closure

    change = remove_closure(ctx.uow(), closure_id)
    if as_json:
        emit_json(change)
        return
    gone = change.closure
    assert gone is not None
    _print_change(change, _("closure {id} removed: {clinic} open again {first} to {last}").format(
        id=gone.id, clinic=gone.clinic, first=human(gone.first_day),
        last=human(gone.last_day)))  # fmt: skip
