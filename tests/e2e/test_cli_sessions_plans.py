"""``kitops plan add --needle --every-weeks``, ``policy session-supplies`` and ``session
record`` consuming a session's supplies, end to end on the demo data as of today."""

from __future__ import annotations

from e2e_support import assert_bad_input, assert_refused, json_of, on_day


def test_plan_add_names_its_needle_and_weeks_between_applications(demo, snapshot):
    added = json_of(demo, "plan", "add", "clinic-upkeep-8w", "--name", "Upkeep every 8 weeks",
                    "--per-week", "1", "--weeks", "2", "--ml", "2.5", "--administered", "clinic",
                    "--needle", "1.2-3", "--every-weeks", "8", "--json")  # fmt: skip
    assert (added["needle"], added["every_weeks"], added["applications"]) == ("1.2-3 mm", 8, 2)
    shown = demo("plan", "show", "clinic-upkeep-8w")
    assert "once every 8 weeks, 2 times = 2 applications" in shown.out
    assert "needle in the clinic: 1.2-3 mm" in shown.out
    listed = demo("plan", "list")
    assert "clinic-2w-6" in listed.out
    assert "1.2-3 mm" in listed.out

    before = snapshot()
    bad = demo("plan", "add", "home-x", "--name", "x", "--per-week", "2", "--weeks", "6",
               "--ml", "2.5", "--administered", "home", "--kit", "KIT-HOME-6W", "--kits", "1",
               "--every-weeks", "2")  # fmt: skip
    assert_bad_input(bad, "every_weeks", "2", "every week")
    needle = demo("plan", "add", "clinic-x", "--name", "x", "--per-week", "1", "--weeks", "6",
                  "--ml", "5", "--administered", "clinic", "--needle", "3-1")  # fmt: skip
    assert_bad_input(needle, "needle", "3-1")
    assert_bad_input(
        demo("policy", "session-supplies", "clinic-weekly-6", "STAMP-1.2=1"),
        "STAMP-1.2", "1.2 mm needle", "2 mm",
    )  # fmt: skip
    assert snapshot() == before


def test_session_record_consumes_the_plans_supplies_and_lists_every_lot(demo, snapshot):
    course = json_of(demo, "course", "show", "10", "--json")
    assert (course["plan"], course["clinic"]) == ("clinic-2w-6", "LON")
    first = course["start"]
    stamps_before = _stamps(demo, "DS12-2311")

    with on_day(first):
        shown = demo("session", "record", "10", "--date", first)
    assert shown.code == 0, shown.err
    assert "course 10 session 1 on " + first in shown.out
    assert "DS12-2311" in shown.out
    assert "CHX-0.5" in shown.out
    assert _stamps(demo, "DS12-2311") == stamps_before - 1
    trace = json_of(demo, "trace", "DS12-2311", "--json")
    assert [(s["course_id"], s["patient_ref"]) for s in trace["sessions"]] == [(10, "P-LON-0005")]

    # without the stamp in stock the whole session is refused, naming SKU and clinic
    set_supplies = demo("policy", "session-supplies", "clinic-2w-6", "STAMP-2.0=9")
    assert set_supplies.out.strip() == "each session of clinic-2w-6 uses 9 × STAMP-2.0"
    before = snapshot()
    with on_day(first):
        refused = demo("session", "record", "10", "--date", first)
    assert_refused(refused, "STAMP-2.0", "LON")
    assert snapshot() == before


def _stamps(demo, lot: str) -> int:
    lines = json_of(demo, "stock", "--location", "LON-SHELF", "--json")
    return sum(line["quantity"] for line in lines if line["lot"] == lot)
