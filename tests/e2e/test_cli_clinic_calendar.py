"""The clinic's calendar end to end: hours, closures, capacity, and course visits that
move off closed or full days (the demo data as of 2026-11-22; the clock on 2026-11-23).

The demo's LON and ESX open mon-sat, VIE mon-fri, and every clinic is closed for
Christmas and Boxing Day (2026-12-25 to 2026-12-26).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from e2e_support import assert_bad_input, assert_refused, json_of, on_day
from sqlalchemy import select

from kitops.data.schema import AuditRow, CourseAppointmentRow

pytestmark = pytest.mark.demo_data()
TODAY = "2026-11-23"  # a Monday


def _events(course: dict) -> dict[tuple[str, int], dict]:
    return {(e["kind"], e["number"]): e for e in course["events"]}


def test_course_visits_skip_closures_and_a_closure_moves_them_and_back(cli, db):
    with on_day(TODAY):
        assert "open mon-sat; opens 09:00" in cli("clinic", "hours", "LON").out
        # weekly on Fridays from 2026-12-04 at 10:30: the fourth falls on Christmas Day
        made = cli("course", "create", "--patient", "P-CAL-1", "--plan", "clinic-weekly-6",
                   "--start", "2026-12-04", "--clinic", "LON", "--at", "10:30")  # fmt: skip
        assert made.code == 0, made.err
        assert ("application 4 moved from 2026-12-25 to 2026-12-28: LON is closed 2026-12-25 "
                "to 2026-12-26: Christmas and Boxing Day") in made.out  # fmt: skip
        assert made.out.count(" moved from ") == 1
        course_id = int(made.out.split(":")[0].split()[-1])
        events = _events(json_of(cli, "course", "show", str(course_id), "--json"))
        assert events["application", 4]["at"] == "2026-12-28T10:30:00+00:00"
        assert events["application", 4]["moved_from"] == "2026-12-25"
        assert "Christmas" in events["application", 4]["moved_because"]
        assert events["application", 5]["at"] == "2027-01-01T10:30:00+00:00"
        assert events["application", 5]["moved_from"] is None
        assert events["followup", 1]["at"].endswith("T10:30:00+01:00")  # summer time

        # a closure moves the visits on its days and says which
        closed = cli("clinic", "closure", "LON", "--from", "2026-12-11", "--to", "2026-12-11",
                     "--reason", "staff training")  # fmt: skip
        assert closed.code == 0, closed.err
        assert (f"course {course_id} application 2 moved from 2026-12-11 to 2026-12-12 10:30: "
                "LON is closed on 2026-12-11: staff training") in closed.out  # fmt: skip
        closure_id = int(closed.out.split(":")[0].split()[-1])
        listed = json_of(cli, "clinic", "closures", "LON", "--json")
        assert [(c["first_day"], c["reason"]) for c in listed] == [
            ("2026-12-11", "staff training"), ("2026-12-25", "Christmas and Boxing Day"),
        ]  # fmt: skip
        events = _events(json_of(cli, "course", "show", str(course_id), "--json"))
        assert events["application", 2]["at"].startswith("2026-12-12T10:30")

        # overlapping it is refused, and changes nothing
        overlap = cli("clinic", "closure", "LON", "--from", "2026-12-10", "--to", "2026-12-11",
                      "--reason", "again")  # fmt: skip
        assert_refused(overlap, "LON is already closed on 2026-12-11 (staff training")
        assert len(json_of(cli, "clinic", "closures", "LON", "--json")) == 2

        # reopening puts the visit back on its day
        reopened = cli("clinic", "reopen", str(closure_id))
        assert reopened.code == 0, reopened.err
        assert f"course {course_id} application 2 back on 2026-12-11 10:30" in reopened.out
        events = _events(json_of(cli, "course", "show", str(course_id), "--json"))
        assert events["application", 2]["moved_from"] is None
        assert events["application", 4]["moved_from"] == "2026-12-25"
    with db.engine.connect() as conn:
        actions = list(conn.scalars(select(AuditRow.action).order_by(AuditRow.id.desc()).limit(3)))
    assert actions == ["clinic.reopen", "clinic.closure", "course.create"]


def test_hours_and_sessions_a_day_move_visits_to_open_days_with_room(cli, db):
    with on_day(TODAY):
        changed = json_of(cli, "clinic", "hours", "ESX", "mon-fri", "--opens", "08:00",
                          "--sessions-per-day", "1", "--json")  # fmt: skip
        assert changed["hours"]["days"] == "mon-fri"
        assert changed["hours"]["opens_at"] == "08:00"
        assert changed["hours"]["capacity"] == 1
        for moved in changed["moved"]:  # nothing is left on a Saturday
            assert moved["because"] is None or "ESX" in moved["because"]
        with db.engine.connect() as conn:
            rows = conn.execute(
                select(CourseAppointmentRow.day).where(
                    CourseAppointmentRow.clinic_id == _clinic_id(conn, "ESX"),
                    CourseAppointmentRow.day >= date.fromisoformat(TODAY),
                )
            )
            esx = [day.weekday() for (day,) in rows]
        assert esx
        assert max(esx) <= 4
        # one session a day: a second course on the same Mondays moves to the Tuesdays
        for patient in ("P-CAL-2", "P-CAL-3"):
            made = cli("course", "create", "--patient", patient, "--plan", "clinic-weekly-6",
                       "--start", "2026-11-30", "--clinic", "ESX")  # fmt: skip
            assert made.code == 0, made.err
        assert made.out.count("ESX is full on") == 6
        # (the demo's maintenance course at ESX holds Tuesday 2026-12-01: the first goes on)
        assert "application 1 moved from 2026-11-30 to 2026-12-02: ESX is full on 2026-11-30 " \
               "(1 session a day)" in made.out  # fmt: skip
        assert "application 2 moved from 2026-12-07 to 2026-12-08: ESX is full on 2026-12-07 " \
               "(1 session a day)" in made.out  # fmt: skip
        # a cancelled course gives its places back
        first = int(made.out.split(":")[0].split()[-1]) - 1
        assert cli("course", "cancel", str(first)).code == 0
        again = cli("course", "create", "--patient", "P-CAL-6", "--plan", "clinic-weekly-6",
                    "--start", "2026-11-30", "--clinic", "ESX")  # fmt: skip
        assert again.code == 0, again.err
        assert "application 1 moved" not in again.out  # 2026-11-30 has room again
        # (2026-12-14 holds the first application of the demo's ESX home course, moved
        # there from Saturday 12th by the new hours)
        assert "application 3 moved from 2026-12-14 to 2026-12-15: ESX is full" in again.out
        shown = cli("clinic", "hours", "ESX")
        assert "open mon-fri; opens 08:00; sessions a day 1" in shown.out


def _clinic_id(conn, code: str) -> int:
    from kitops.data.schema import LocationRow

    return conn.scalar(select(LocationRow.id).where(LocationRow.code == code))


def test_a_home_course_cannot_start_on_a_closed_day_and_bad_input_names_the_field(cli, snapshot):
    with on_day(TODAY):
        before = snapshot()
        courses = json_of(cli, "course", "list", "--json")
        refused = cli("course", "create", "--patient", "P-CAL-4", "--plan", "home-6w",
                      "--start", "2026-12-05", "--clinic", "VIE")  # fmt: skip
        assert_bad_input(refused, "start", "2026-12-05", "VIE is closed on Saturdays",
                         "the next day it can is 2026-12-07")  # fmt: skip
        cases = [
            (("clinic", "hours", "LON", "mon-fri,funday"), "days", "mon-fri,funday"),
            (("clinic", "hours", "LON", "--opens", "25:00"), "opens", "25:00"),
            (("clinic", "hours", "LON", "--sessions-per-day", "0"), "sessions-per-day", "0"),
            (("clinic", "hours", "LON-FRIDGE"), "clinic", "LON-FRIDGE"),
            (("clinic", "closure", "LON", "--from", "2026-12-09", "--to", "2026-12-08",
              "--reason", "x"), "to", "2026-12-08"),
            (("clinic", "closure", "LON", "--from", "2026-11-01", "--to", "2026-11-02",
              "--reason", "x"), "to", "is in the past"),
            (("clinic", "closure", "LON", "--from", "2026-12-09", "--to", "2026-12-09",
              "--reason", " "), "reason", "must say why"),
            (("clinic", "reopen", "999"), "closure", "999"),
            (("course", "create", "--patient", "P-CAL-5", "--plan", "clinic-weekly-6",
              "--start", "2026-12-07", "--clinic", "LON", "--at", "9h"), "at", "9h"),
        ]  # fmt: skip
        for args, *needles in cases:
            result = cli(*args)
            assert_bad_input(result, *needles)
            assert result.out == ""
        assert snapshot() == before
        assert json_of(cli, "course", "list", "--json") == courses
        assert json.loads(cli("clinic", "closures", "--json").out)[0]["reason"] == (
            "Christmas and Boxing Day"
        )
