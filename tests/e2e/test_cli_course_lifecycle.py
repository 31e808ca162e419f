"""End to end: a course lives (scheduled → active → paused → resumed → ended early),
its remaining applications move with `course reschedule` and the kits that no longer last
are released or named, and `course create` refuses a past start and an overlapping
course unless `--overlap`."""

from __future__ import annotations

from datetime import date, timedelta

from e2e_support import assert_bad_input, assert_refused, json_of, on_day, open_day


def _monday_after(day: date, weeks: int) -> date:
    return day + timedelta(days=7 * weeks - day.weekday())


def test_a_course_goes_active_pauses_on_an_opened_return_resumes_and_ends_early(
    demo, today, snapshot, monkeypatch
):
    with on_day(today.isoformat()):
        assert json_of(demo, "course", "show", "1", "--json")["status"] == "scheduled"
        assert demo("kit", "handover", "K0000001").code == 0
        assert json_of(demo, "course", "show", "1", "--json")["status"] == "active"

        assert demo("kit", "return", "K0000001", "--condition", "opened").code == 0
        paused = json_of(demo, "course", "show", "1", "--json")
        assert (paused["status"], paused["status_reason"], paused["paused_on"]) == (
            "paused", "kit 1 returned opened", today.isoformat(),
        )  # fmt: skip
        shown = demo("course", "show", "1").out
        assert "paused (kit 1 returned opened) since" in shown
        before = snapshot()
        assert_refused(demo("fulfil", "1"), "course 1 is paused")
        assert_refused(demo("course", "reschedule", "1", "--from", today.isoformat()),
                       "course 1 is paused", "course resume 1")  # fmt: skip
        assert_refused(demo("course", "cancel", "1"), "course 1 is paused; only a scheduled")
        assert snapshot().stock == before.stock

        restart = _monday_after(today, 2)
        resumed = json_of(demo, "course", "resume", "1", "--from", restart.isoformat(),
                          "--weekdays", "mon,thu", "--json")  # fmt: skip
        course = resumed["course"]
        assert (course["status"], course["status_reason"], course["weekdays"]) == (
            "active", None, "mon,thu",
        )  # fmt: skip
        dates = [e["at"][:10] for e in course["events"] if e["kind"] == "application"]
        assert dates[0] == restart.isoformat()  # nothing was applied before today
        assert len(dates) == 12

        result = demo("course", "complete", "1")
        assert_refused(result, "course 1 has 12 application(s) still to come",
                       "--early --reason")  # fmt: skip
        assert_bad_input(demo("course", "complete", "1", "--early"), "reason")
        ended = demo("course", "complete", "1", "--early", "--reason", "moved abroad")
        assert (ended.code, ended.out.strip()) == (0, "course 1 ended early (moved abroad)")
        assert_refused(demo("course", "pause", "1"), "course 1 is ended early")

    history = json_of(demo, "course", "show", "1", "--json")["history"]
    assert [h["action"] for h in history] == [
        "course.create", "course.fulfil", "course.start", "course.pause", "course.resume",
        "course.end_early",
    ]  # fmt: skip
    assert "reason kit 1 returned opened" in history[3]["what"]
    assert set(history[0]) == {"at", "actor", "action", "what"}  # --json keeps its shape
    monkeypatch.setenv("COLUMNS", "200")  # the details whole
    table = demo("course", "show", "1").out
    assert "history" in table
    assert "course.end_early" in table
    assert "status paused, reason kit 1 returned opened" in table
    # the history's details in the reader's language: keys, statuses, stored reasons, days
    german = demo("--locale", "de", "course", "show", "1").out
    assert "Status pausiert, Grund Kit 1 geöffnet zurückgegeben, pausiert am " in german
    assert "status paused" not in german


def test_reschedule_moves_the_rest_and_releases_or_names_kits_that_no_longer_last(
    demo, today, snapshot
):
    with on_day(today.isoformat()):
        kit_expiry = date.fromisoformat(
            json_of(demo, "kit", "show", "K0000005", "--json")["expiry"]
        )
        late = _monday_after(kit_expiry - timedelta(days=35), 0)  # 6 weeks outlast the kit
        before = snapshot()
        assert_bad_input(
            demo("course", "reschedule", "5", "--from", (today - timedelta(days=1)).isoformat()),
            "from", "in the past",
        )  # fmt: skip
        assert_bad_input(demo("course", "reschedule", "5", "--from", late.isoformat(),
                              "--weekdays", "mon,tue"), "weekdays", "mon,tue")  # fmt: skip
        assert snapshot() == before

        moved = demo("course", "reschedule", "5", "--from", late.isoformat(),
                     "--weekdays", "mon,thu")  # fmt: skip
        assert moved.code == 0, moved.err
        assert f"restart on {late} (mon,thu)" in moved.out
        assert "kit K0000005 (kit 1) released back to stock: vial" in moved.out
        assert json_of(demo, "kit", "show", "K0000005", "--json")["status"] == "available"
        course = json_of(demo, "course", "show", "5", "--json")
        assert (course["start"], course["weekdays"], course["kits"]) == (
            late.isoformat(), "mon,thu", [],
        )  # fmt: skip
        [audit] = json_of(demo, "audit", "--action", "course.reschedule", "--json")
        assert audit["after"]["kits_released"] == ["K0000005"]

        # a kit already with the patient is named, not refused
        assert demo("kit", "handover", "K0000001").code == 0
        warned = demo("course", "reschedule", "1", "--from", late.isoformat(),
                      "--weekdays", "mon,thu")  # fmt: skip
        assert warned.code == 0, warned.err
        assert "warning: kit K0000001 (kit 1) is handed over and no longer lasts" in warned.out


def test_course_create_refuses_a_past_start_and_an_overlap_unless_asked(demo, today, snapshot):
    with on_day(today.isoformat()):
        before = snapshot()
        yesterday = (today - timedelta(days=1)).isoformat()
        assert_bad_input(
            demo("course", "create", "--patient", "P-LON-0001", "--plan", "home-6w",
                 "--start", yesterday, "--clinic", "LON"),
            "start", yesterday, "in the past",
        )  # fmt: skip
        # P-LON-0001 is on home-6w from the demo's course 1
        # (on a day LON is open: the demo's course 1 may have begun on a Sunday)
        start = open_day(
            date.fromisoformat(json_of(demo, "course", "show", "1", "--json")["start"])
        )
        start = start.isoformat()
        again = ("course", "create", "--patient", "P-LON-0001", "--plan", "home-6w",
                 "--start", start, "--clinic", "LON")  # fmt: skip
        assert_refused(demo(*again), "patient P-LON-0001 already has course 1 on home-6w",
                       "--overlap")  # fmt: skip
        assert snapshot() == before
        second = json_of(demo, *again, "--overlap", "--json")
    [audit] = [a for a in json_of(demo, "audit", "--action", "course.create", "--json")
               if a["key"] == str(second["id"])]  # fmt: skip
    assert audit["after"]["overlap"] is True
