"""``kitops kit ...``, ``plan``, ``course``, ``session``, ``fulfil`` and ``pick-list``.

Assembly, fulfilment and receipts judge the real current date, so every test runs on the
demo data as of today (``demo``) and the dates it chooses are counted from today.
Refused commands exit 1, bad input exits 2, each with one line on stderr, and neither
writes anything (``snapshot``).
"""

from __future__ import annotations

from datetime import date, timedelta

from e2e_support import (
    assert_bad_input,
    assert_refused,
    json_of,
    keys_and_types,
    on_day,
    open_day,
)
from identity_support import bind_identity

from kitops.domain.locations import clinic_today

OPT_STR = (str, type(None))
OPT_INT = (int, type(None))
KIT_KEYS = {
    "serial": str,
    "sku": str,
    "location": str,
    "clinic": OPT_STR,
    "expiry": str,
    "status": str,
    "recalled": bool,
    "course_id": OPT_INT,
    "course_part": OPT_INT,
    "patient_ref": OPT_STR,
    "tracking": OPT_STR,
    "components": list,
    "servable_plans": list,
}
COMPONENT_KEYS = {"sku": str, "lot": str, "expiry": OPT_STR, "quantity": int}
ASSEMBLY_KEYS = {"sku": str, "location": str, "kits": list, "min_expiry": str, "drawn": list}
DRAW_KEYS = {"sku": str, "lot": str, "from_location": str, "quantity": int}
AVAILABLE_KEYS = {
    "sku": str,
    "location": str,
    "kits": int,
    "clinic": OPT_STR,
    "min_shelf_life_days": int,
    "fresh_until": str,
    "components": list,
    "limited_by": list,
}
SUPPLY_KEYS = {"sku": str, "per_kit": int, "usable": int, "kits": int}
PLAN_KEYS = {
    "code": str,
    "name": str,
    "applications_per_week": int,
    "weeks": int,
    "applications": int,
    "ml_per_application": str,
    "administered": str,
    "kit_sku": OPT_STR,
    "kits_per_course": int,
    "default_weekdays": OPT_STR,
    "checkin_weeks": list,
    "followup_months": list,
    "needle": OPT_STR,
    "every_weeks": int,
    "session_supplies": list,
}
COURSE_KEYS = {
    "id": int,
    "patient_ref": str,
    "plan": str,
    "clinic": str,
    "timezone": str,
    "start": str,
    "weekdays": str,
    "status": str,
    "end": str,
    "events": list,
    "kits": list,
    "sessions_recorded": int,
    "parts_returned_opened": list,
    "status_reason": OPT_STR,
    "paused_on": OPT_STR,
    "history": list,
}
EVENT_KEYS = {
    "kind": str,
    "number": int,
    "at": str,
    "kit_part": OPT_INT,
    "vial": OPT_INT,
    "note": str,
    "moved_from": OPT_STR,
    "moved_because": OPT_STR,
}
REPORT_KEYS = {"served": list, "unserved": list}
LINE_KEYS = {
    "course_id": int,
    "patient_ref": str,
    "clinic": str,
    "part": int,
    "first_use": str,
    "needed_until": str,
    "kit": OPT_STR,
    "kit_expiry": OPT_STR,
    "reason": OPT_STR,
}
CHECK_KEYS = {
    "course_id": int,
    "clinic": str,
    "sessions_left": int,
    "covered": int,
    "enough": bool,
    "shortfall_dates": list,
    "short_skus": list,
}
PICK_KEYS = {
    "serial": str,
    "location": str,
    "expiry": str,
    "course_id": int,
    "patient_ref": str,
    "part": int,
    "due": str,
}
SESSION_KEYS = {
    "course_id": int,
    "session_no": int,
    "date": str,
    "sku": str,
    "lot": str,
    "quantity": int,
    "location": str,
    "supplies": list,
    "vial_opened_at": (int, type(None)),
}
KIT_USE_KEYS = {
    "serial": str,
    "status": str,
    "recalled": bool,
    "course_id": OPT_INT,
    "patient_ref": OPT_STR,
    "quantity": int,
}
SESSION_USE_KEYS = {
    "course_id": int,
    "patient_ref": str,
    "session_no": int,
    "date": str,
    "quantity": int,
    "clinic": OPT_STR,
}
DEMO_KITS = [f"K000000{i}" for i in range(1, 10)]


def kit_of(cli, *args):
    """A kit as JSON, checked for shape."""
    kit = json_of(cli, *args, "--json")
    check_kit(kit)
    return kit


def check_kit(kit) -> None:
    keys_and_types(kit, KIT_KEYS)
    assert kit["components"], kit
    for component in kit["components"]:
        keys_and_types(component, COMPONENT_KEYS)


def check_course(course) -> None:
    keys_and_types(course, COURSE_KEYS)
    for event in course["events"]:
        keys_and_types(event, EVENT_KEYS)
    for kit in course["kits"]:
        check_kit(kit)


def report_of(cli, *args):
    """A fulfilment report as JSON (exit 0), checked for shape."""
    report = json_of(cli, "fulfil", *args, "--json")
    keys_and_types(report, REPORT_KEYS)
    for line in report["served"] + report["unserved"]:
        keys_and_types(line, LINE_KEYS)
    for line in report["served"]:
        assert line["kit"], line
        assert line["kit_expiry"], line
        assert line["reason"] is None, line
    for line in report["unserved"]:
        assert line["kit"] is None, line
        assert line["reason"], line
    return report


def applications(course) -> list[date]:
    return [
        date.fromisoformat(e["at"][:10]) for e in course["events"] if e["kind"] == "application"
    ]


def db_is_consistent(cli) -> None:
    report = json_of(cli, "db", "check", "--json")
    assert report["ok"] is True, report


def usable_serum(cli, location: str, days: int) -> int:
    """Released serum at ``location`` lasting at least ``days`` more days."""
    lines = json_of(cli, "stock", "--location", location, "--sku", "SERUM-5ML", "--json")
    horizon = date.today() + timedelta(days=days)
    return sum(
        line["quantity"]
        for line in lines
        if line["location"] == location and date.fromisoformat(line["expiry"]) >= horizon
    )


def available(cli, location: str = "LON-FRIDGE") -> int:
    result = json_of(cli, "kit", "available", "KIT-HOME-6W", "--location", location, "--json")
    keys_and_types(result, AVAILABLE_KEYS)
    for component in result["components"]:
        keys_and_types(component, SUPPLY_KEYS)
    assert (result["sku"], result["location"]) == ("KIT-HOME-6W", location)
    assert result["kits"] == min(c["kits"] for c in result["components"])
    return int(result["kits"])


# --- listings ----------------------------------------------------------------------


def test_plans_kits_courses_and_pick_list_print_stable_json(demo, today):
    plans = json_of(demo, "plan", "list", "--json")
    for plan in plans:
        keys_and_types(plan, PLAN_KEYS)
    by_code = {p["code"]: p for p in plans}
    assert set(by_code) == {"home-6w", "home-12w", "clinic-weekly-6", "ptt6-weekly-12",
                            "clinic-2w-6", "clinic-maint-4w"}  # fmt: skip
    assert (
        by_code["home-12w"]["applications"],
        by_code["home-12w"]["kits_per_course"],
        by_code["home-12w"]["kit_sku"],
        by_code["home-12w"]["ml_per_application"],
    ) == (24, 2, "KIT-HOME-6W", "2.5")
    assert (by_code["clinic-weekly-6"]["administered"], by_code["clinic-weekly-6"]["kit_sku"]) == (
        "clinic",
        None,
    )
    assert json_of(demo, "plan", "show", "home-6w", "--json") == by_code["home-6w"]

    listed = json_of(demo, "kit", "list", "--json")
    for kit in listed:
        check_kit(kit)
    assert sorted(k["serial"] for k in listed) == DEMO_KITS
    assert [(k["expiry"], k["serial"]) for k in listed] == sorted(
        (k["expiry"], k["serial"]) for k in listed
    )
    reserved = json_of(demo, "kit", "list", "--status", "reserved", "--json")
    assert [
        (k["serial"], k["course_id"], k["course_part"], k["patient_ref"]) for k in reserved
    ] == [("K0000001", 1, 1, "P-LON-0001"), ("K0000005", 5, 1, "P-ESX-0001")]
    vie = json_of(demo, "kit", "list", "--location", "VIE", "--sku", "KIT-HOME-6W", "--json")
    assert [(k["serial"], k["clinic"]) for k in vie] == [(s, "VIE") for s in DEMO_KITS[6:]]
    shown = kit_of(demo, "kit", "show", "k0000001")
    assert shown == next(k for k in listed if k["serial"] == "K0000001")
    assert {(c["sku"], c["quantity"]) for c in shown["components"]} == {
        ("SERUM-5ML", 6),
        ("STAMP-0.5", 1),
    }
    text = demo("kit", "show", "K0000001")
    assert text.code == 0, text.err
    assert "kit K0000001 (KIT-HOME-6W) at LON-FRIDGE" in text.out
    assert "course 1, kit 1, patient P-LON-0001" in text.out

    course = json_of(demo, "course", "show", "1", "--json")
    check_course(course)
    assert (
        course["id"],
        course["patient_ref"],
        course["plan"],
        course["clinic"],
        course["timezone"],
        course["status"],
    ) == (1, "P-LON-0001", "home-6w", "LON", "Europe/London", "scheduled")
    assert course["start"] == (today + timedelta(days=3)).isoformat()
    assert len(applications(course)) == 12
    assert [k["serial"] for k in course["kits"]] == ["K0000001"]
    courses = json_of(demo, "course", "list", "--json")
    for one in courses:
        check_course(one)
    assert sorted(c["id"] for c in courses) == list(range(1, 12))
    esx = json_of(demo, "course", "list", "--clinic", "ESX", "--json")
    assert [c["id"] for c in esx] == [5, 11, 6]  # by start

    picks = json_of(demo, "pick-list", "--clinic", "LON", "--date", today.isoformat(), "--json")
    for pick in picks:
        keys_and_types(pick, PICK_KEYS)
    assert [(p["serial"], p["course_id"], p["part"], p["due"]) for p in picks] == [
        ("K0000001", 1, 1, course["start"])
    ]

    check = json_of(demo, "fulfil", "4", "--json")  # a clinic course: a check, no reservation
    keys_and_types(check, CHECK_KEYS)
    assert (check["course_id"], check["clinic"], check["sessions_left"], check["enough"]) == (
        4,
        "LON",
        6,
        True,
    )


# --- assembly ----------------------------------------------------------------------


def shelf_stamps(cli, location: str = "LON-SHELF") -> int:
    lines = json_of(cli, "stock", "--location", location, "--sku", "STAMP-0.5", "--json")
    return sum(line["quantity"] for line in lines if line["location"] == location)


def test_kit_assembly_is_all_or_nothing_and_disassembly_gives_the_parts_back(demo, snapshot):
    # the demo's fridge stamps all went into kits; the shelf's stamps count for the clinic
    stamps = shelf_stamps(demo)
    serum = usable_serum(demo, "LON-FRIDGE", 6 * 7 + 7)  # the default minimum shelf life
    assert available(demo) == available(demo, "LON") == min(serum // 6, stamps) > 0
    assert serum // 6 < stamps  # serum is the limit here
    wanted = serum // 6 + 1
    before = snapshot()
    result = demo(
        "kit", "assemble", "KIT-HOME-6W", "--qty", str(wanted), "--location", "LON-FRIDGE"
    )
    assert_refused(
        result,
        f"cannot assemble {wanted} kits, none assembled",
        f"SERUM-5ML: {6 * wanted - serum} short ({serum} usable, {6 * wanted} needed)",
        "anywhere in LON but quarantine",
    )
    assert "STAMP-0.5" not in result.err
    assert result.out == ""
    assert snapshot() == before

    assembly = json_of(
        demo, "kit", "assemble", "KIT-HOME-6W", "--qty", "2", "--location", "lon-fridge", "--json"
    )
    keys_and_types(assembly, ASSEMBLY_KEYS)
    assert (assembly["sku"], assembly["location"]) == ("KIT-HOME-6W", "LON-FRIDGE")
    # the stamps came over from the shelf: a move on the ledger, listed
    for draw in assembly["drawn"]:
        keys_and_types(draw, DRAW_KEYS)
    assert [(d["sku"], d["lot"], d["from_location"], d["quantity"]) for d in assembly["drawn"]] == [
        ("STAMP-0.5", "DS05-2402", "LON-SHELF", 2)
    ]
    assert shelf_stamps(demo) == stamps - 2
    serials = [k["serial"] for k in assembly["kits"]]
    assert len(set(serials)) == 2
    assert not set(serials) & set(DEMO_KITS)
    for kit in assembly["kits"]:
        check_kit(kit)
        assert (kit["status"], kit["location"], kit["course_id"]) == (
            "available",
            "LON-FRIDGE",
            None,
        )
        assert kit["expiry"] == min(c["expiry"] for c in kit["components"])
        assert kit["expiry"] >= assembly["min_expiry"]
        assert kit["servable_plans"] == ["home-12w", "home-6w"]
    assert available(demo) == serum // 6 - 2
    kit_stock = json_of(demo, "stock", "--location", "LON-FRIDGE", "--sku", "KIT-HOME-6W", "--json")
    assert set(serials) <= {line["lot"] for line in kit_stock}

    text = demo("kit", "assemble", "KIT-HOME-6W", "--qty", "1", "--location", "LON-FRIDGE")
    assert text.code == 0, text.err
    assert "moved 1 × STAMP-0.5 lot DS05-2402 from LON-SHELF to LON-FRIDGE" in text.out
    assert "1 × KIT-HOME-6W assembled at LON-FRIDGE" in text.out
    assert available(demo) == serum // 6 - 3

    apart = kit_of(demo, "kit", "disassemble", serials[0])
    assert (apart["serial"], apart["status"]) == (serials[0], "disassembled")
    assert available(demo) == serum // 6 - 2
    assert serials[0] not in {
        line["lot"]
        for line in json_of(
            demo, "stock", "--location", "LON-FRIDGE", "--sku", "KIT-HOME-6W", "--json"
        )
    }

    before = snapshot()
    assert_refused(demo("kit", "disassemble", serials[0]), serials[0], "disassembled")
    assert_refused(demo("kit", "disassemble", "K0000001"), "K0000001", "reserved")
    assert_bad_input(
        demo("catalog", "add-recipe", "KIT-HOME-6W", "SERUM-5ML=6", "STAMP-1.2=1"),
        "component",
        "STAMP-1.2",
        "0.6 mm",
    )
    assert snapshot() == before
    db_is_consistent(demo)


def test_kit_available_counts_the_clinic_and_says_which_component_is_short(demo, snapshot):
    """The issue's report: `kit available KIT-HOME-6W --location LON` said 0 with usable
    vials in LON-FRIDGE and stamps on LON-SHELF, and nobody was told why."""
    stamps = shelf_stamps(demo)
    serum = usable_serum(demo, "LON-FRIDGE", 6 * 7 + 7)
    text = demo("kit", "available", "KIT-HOME-6W", "--location", "LON")
    assert text.code == 0, text.err
    assert f"{serum // 6} more KIT-HOME-6W can be assembled at LON" in text.out
    assert f"SERUM-5ML: {serum} usable in LON, 6 a kit: {serum // 6} kits (the limit)" in text.out
    assert f"STAMP-0.5: {stamps} usable in LON, 1 a kit: {stamps} kits" in text.out
    assert "49 days' shelf life" in text.out

    # every London stamp on the quarantine shelf: none can be made, and it says why
    moved = demo("move", "STAMP-0.5", "--qty", str(stamps), "--from", "LON-SHELF", "--to",
                 "LON-QUAR", "--lot", "DS05-2402")  # fmt: skip
    assert moved.code == 0, moved.err
    before = snapshot()
    text = demo("kit", "available", "KIT-HOME-6W", "--location", "LON-FRIDGE")
    assert text.code == 0, text.err
    assert "0 more KIT-HOME-6W can be assembled at LON-FRIDGE" in text.out
    assert "STAMP-0.5: 0 usable in LON, 1 a kit: 0 kits (short)" in text.out
    assert "not in quarantine" in text.out
    result = json_of(demo, "kit", "available", "KIT-HOME-6W", "--location", "LON", "--json")
    keys_and_types(result, AVAILABLE_KEYS)
    assert (result["kits"], result["clinic"], result["limited_by"]) == (0, "LON", ["STAMP-0.5"])
    assert_refused(
        demo("kit", "assemble", "KIT-HOME-6W", "--qty", "1", "--location", "LON-FRIDGE"),
        "STAMP-0.5: 1 short (0 usable, 1 needed)",
    )
    assert snapshot() == before


def test_kit_list_and_show_say_which_plans_a_kit_can_still_serve(demo):
    listed = json_of(demo, "kit", "list", "--location", "LON", "--json")
    serves = {k["serial"]: k["servable_plans"] for k in listed}
    # the demo's kits are packed from a 190-day lot: they serve both plans using them
    assert serves == {serial: ["home-12w", "home-6w"] for serial in DEMO_KITS[:4]}
    text = demo("kit", "list", "--location", "LON")
    assert text.code == 0, text.err
    assert "serves" in text.out
    shown = demo("kit", "show", "K0000002")
    assert shown.code == 0, shown.err
    assert "serves: home-12w, home-6w (if handed out today)" in shown.out

    # a kit from the 52-day lot serves them now; one that went out serves nothing
    kit = json_of(demo, "kit", "assemble", "KIT-HOME-6W", "--qty", "1", "--location", "LON-FRIDGE",
                  "--json")["kits"][0]  # fmt: skip
    assert kit["servable_plans"] == ["home-12w", "home-6w"]
    assert demo("kit", "disassemble", kit["serial"]).code == 0
    assert json_of(demo, "kit", "show", kit["serial"], "--json")["servable_plans"] == []
    assert "serves" not in demo("kit", "show", kit["serial"]).out


# --- fulfilment --------------------------------------------------------------------


def test_fulfil_one_course_or_a_batch_reserves_kits_and_explains_shortfalls(demo, today, snapshot):
    single = report_of(demo, "3")
    assert (
        single["unserved"],
        [(s["course_id"], s["part"], s["clinic"]) for s in single["served"]],
    ) == ([], [(3, 1, "LON")])
    lon_kit = single["served"][0]["kit"]
    assert kit_of(demo, "kit", "show", lon_kit)["course_id"] == 3
    before = snapshot()
    assert_refused(demo("fulfil", "3"), "course 3 already has all its kits")
    assert snapshot() == before

    would = report_of(demo, "--due-within", "14d", "--dry-run")
    assert snapshot() == before  # a dry run reserves nothing
    shown = demo("fulfil", "--due-within", "14d", "--dry-run")
    assert shown.code == 0, shown.err
    assert "would serve: 2" in shown.out
    assert "would not serve: 1" in shown.out
    assert_bad_input(demo("fulfil", "3", "--dry-run"), "dry-run", "3")
    batch = report_of(demo, "--due-within", "14d")
    assert batch == would
    assert [(s["course_id"], s["part"]) for s in batch["served"]] == [(7, 1), (2, 1)]
    assert [(u["course_id"], u["part"], u["clinic"]) for u in batch["unserved"]] == [(8, 1, "VIE")]
    assert "12th vial" in batch["unserved"][0]["reason"]
    assert "no kit available at VIE" in batch["unserved"][0]["reason"]
    assert [k["course_part"] for k in json_of(demo, "course", "show", "2", "--json")["kits"]] == [1]
    again = demo("fulfil", "--due-within", "14", "--clinic", "VIE")
    assert again.code == 0, again.err  # a shortfall is not an error
    assert "served" not in again.out.replace("unserved", "")
    assert "unserved: 1" in again.out
    assert "course 8 (VIE, kit 1 from" in again.out
    lon = demo("fulfil", "--due-within", "14d", "--clinic", "lon")
    assert (lon.code, lon.out.strip()) == (0, "nothing due")

    part2 = report_of(demo, "2")
    assert [(s["course_id"], s["part"]) for s in part2["served"]] == [(2, 2)]
    # every LON kit is now taken: a new LON course is refused with where fitting kits are
    start = open_day(today + timedelta(days=9))
    new = json_of(
        demo,
        "course",
        "create",
        "--patient",
        "P-LON-0400",
        "--plan",
        "home-6w",
        "--start",
        start.isoformat(),
        "--clinic",
        "LON",
        "--json",
    )
    before = snapshot()
    result = demo("fulfil", str(new["id"]))
    assert_refused(
        result,
        f"course {new['id']} (LON, kit 1 from {start})",
        "needs a kit whose 6th vial is in date until",
        "no kit available at LON",
        "ESX has 1 that fit",
        "VIE has 2 that fit",
    )
    assert snapshot() == before
    assert json_of(demo, "course", "show", str(new["id"]), "--json")["kits"] == []
    assert_bad_input(demo("fulfil", "--due-within", "abc"), "due-within", "abc")
    assert snapshot() == before
    db_is_consistent(demo)


def test_courses_sessions_shipping_and_returns(demo, today, snapshot):
    start = open_day(today + timedelta(days=30))
    course = json_of(
        demo,
        "course",
        "create",
        "--patient",
        "P-LON-0300",
        "--plan",
        "home-6w",
        "--start",
        start.isoformat(),
        "--clinic",
        "LON",
        "--json",
    )
    check_course(course)
    assert (course["start"], course["status"], course["kits"]) == (
        start.isoformat(),
        "scheduled",
        [],
    )
    days = applications(course)
    assert len(days) == 12
    assert days[0] == start
    assert course["end"] == days[-1].isoformat()
    [line] = report_of(demo, str(course["id"]))["served"]
    cancelled = json_of(demo, "course", "cancel", str(course["id"]), "--json")
    assert (cancelled["status"], cancelled["kits"]) == ("cancelled", [])
    assert kit_of(demo, "kit", "show", line["kit"])["status"] == "available"

    # clinic sessions: FEFO among lots in date on the session's day
    clinic = json_of(demo, "course", "show", "4", "--json")
    sessions = applications(clinic)
    records = []
    for day in sessions:  # each session is recorded on its day
        with on_day(day.isoformat()):
            records.append(
                json_of(demo, "session", "record", "4", "--date", day.isoformat(), "--json")
            )
    for record in records:
        keys_and_types(record, SESSION_KEYS)
    a0519 = json_of(demo, "lot", "show", "PTT6-A0519", "--json")["expiry"]
    assert [r["session_no"] for r in records] == list(range(1, 7))
    assert all(
        r["lot"] == ("PTT6-A0519" if r["date"] <= a0519 else "PTT6-A0603") for r in records
    ), records
    done = json_of(demo, "course", "show", "4", "--json")
    assert (done["status"], done["sessions_recorded"]) == ("completed", 6)
    trace = json_of(demo, "trace", "PTT6-A0519", "--json")
    for use in trace["sessions"]:
        keys_and_types(use, SESSION_USE_KEYS)
    assert {(s["course_id"], s["patient_ref"]) for s in trace["sessions"]} == {(4, "P-LON-0004")}
    assert len(trace["sessions"]) == sum(r["lot"] == "PTT6-A0519" for r in records)

    # out to the patient and back
    shipped = kit_of(demo, "kit", "ship", "K0000001", "--tracking", "RM123456789GB")
    assert (shipped["status"], shipped["tracking"]) == ("shipped", "RM123456789GB")
    handed = demo("kit", "handover", "K0000005")
    assert (handed.code, handed.out.strip()) == (0, "kit K0000005 handed to P-ESX-0001 (course 5)")
    serum_trace = json_of(demo, "trace", "PTT6-B0902", "--json")
    for use in serum_trace["kits"]:
        keys_and_types(use, KIT_USE_KEYS)
    assert {
        (k["serial"], k["status"], k["course_id"], k["patient_ref"])
        for k in serum_trace["kits"]
        if k["course_id"]
    } == {("K0000001", "shipped", 1, "P-LON-0001"), ("K0000005", "handed_over", 5, "P-ESX-0001")}

    sealed = kit_of(demo, "kit", "return", "K0000001", "--condition", "sealed")
    assert (sealed["status"], sealed["course_id"]) == ("quarantine", None)
    opened = demo("kit", "return", "K0000005", "--condition", "opened")
    assert (opened.code, opened.out.strip()) == (
        0,
        "kit K0000005 is written_off (opened): kit 1 of course 5 returned opened; a "
        "replacement only on request: kitops course replace-kit 5 --part 1",
    )
    scrapped = json_of(demo, "trace", "K0000005", "--json")
    assert scrapped["written_off"] == 1
    assert ("PATIENT", "SCRAP") in {
        (f["from_location"], f["to_location"]) for f in scrapped["flows"]
    }
    assert "K0000001" not in {
        line["lot"] for line in json_of(demo, "stock", "--location", "LON-FRIDGE", "--json")
    }
    released = demo("kit", "release", "K0000001")
    assert (released.code, released.out.strip()) == (
        0,
        "kit K0000001 released: available at LON-FRIDGE",
    )
    assert "K0000001" in {
        line["lot"] for line in json_of(demo, "stock", "--location", "LON-FRIDGE", "--json")
    }

    before = snapshot()
    assert_refused(
        demo("session", "record", "4", "--date", sessions[-1].isoformat()), "course 4 is completed"
    )
    assert_refused(demo("kit", "return", "K0000005", "--condition", "sealed"), "written_off")
    assert_refused(demo("course", "cancel", str(course["id"])), "cancelled")
    assert snapshot() == before
    db_is_consistent(demo)


def test_a_recall_marks_the_kits_and_stops_them_going_out(demo, snapshot):
    assert demo("kit", "ship", "K0000001", "--tracking", "RM123456789GB").code == 0
    recalled = demo("lot", "recall", "PTT6-B0902", "--reason", "supplier recall")
    assert recalled.code == 0, recalled.err

    kits = {k["serial"]: k for k in json_of(demo, "kit", "list", "--json")}
    assert {s for s, k in kits.items() if k["recalled"]} == set(DEMO_KITS[:6])
    assert [
        k["serial"] for k in json_of(demo, "kit", "list", "--status", "recalled", "--json")
    ] == DEMO_KITS[1:6]
    assert (kits["K0000001"]["status"], kits["K0000001"]["course_id"]) == ("shipped", 1)
    assert (kits["K0000005"]["status"], kits["K0000005"]["course_id"]) == ("recalled", None)
    assert "CONTAINS A RECALLED LOT" in demo("kit", "show", "K0000001").out
    traced = json_of(demo, "trace", "PTT6-B0902", "--json")
    assert {k["serial"] for k in traced["kits"]} == set(DEMO_KITS[:6])
    assert all(k["recalled"] for k in traced["kits"])
    assert [
        (k["course_id"], k["patient_ref"]) for k in traced["kits"] if k["serial"] == "K0000001"
    ] == [(1, "P-LON-0001")]

    before = snapshot()
    assert_refused(demo("kit", "ship", "K0000005", "--tracking", "RM2"), "K0000005", "recalled")
    assert_refused(demo("kit", "handover", "K0000002"), "K0000002", "recalled")
    assert_refused(demo("fulfil", "5"), "no kit available at ESX", "VIE has 3 that fit")
    assert snapshot() == before
    db_is_consistent(demo)


# --- refusals ----------------------------------------------------------------------

BAD_INPUT = [
    # command, then what the one stderr line must contain (field and value)
    (["fulfil", "--due-within", "abc"], "due-within", "abc"),
    (["fulfil", "--due-within", "400d"], "due-within", "400"),
    (["fulfil"], "course"),
    (["fulfil", "1", "--due-within", "14d"], "due-within", "14d"),
    (["fulfil", "999"], "course", "999"),
    (["fulfil", "--due-within", "14d", "--clinic", "MAD"], "clinic", "MAD"),
    (["course", "show", "abc"], "course", "abc"),
    (["course", "cancel", "999"], "course", "999"),
    (["course", "list", "--clinic", "LON-FRIDGE"], "clinic", "LON-FRIDGE"),
    (["course", "list", "--status", "finished"], "--status", "finished"),
    (["kit", "show", "K9999999"], "serial", "K9999999"),
    (["kit", "ship", "K0000001"], "--tracking"),
    (["kit", "ship", "K0000001", "--tracking", "   "], "tracking"),
    (["kit", "return", "K0000001", "--condition", "broken"], "--condition", "broken"),
    (["kit", "list", "--status", "lost"], "--status", "lost"),
    (["kit", "list", "--location", "ATLANTIS"], "location", "ATLANTIS"),
    (["kit", "assemble", "KIT-HOME-6W", "--qty", "0", "--location", "LON-FRIDGE"], "qty", "0"),
    (
        ["kit", "assemble", "KIT-HOME-6W", "--qty", "1", "--location", "ATLANTIS"],
        "location",
        "ATLANTIS",
    ),
    (
        ["kit", "assemble", "SERUM-5ML", "--qty", "1", "--location", "LON-FRIDGE"],
        "recipe",
        "SERUM-5ML",
    ),
    (
        ["kit", "available", "KIT-HOME-6W", "--location", "LON-FRIDGE", "--min-shelf-life", "-1"],
        "min_shelf_life",
        "-1",
    ),
    (
        ["kit", "assemble", "KIT-HOME-6W", "--qty", "1", "--location", "LON-QUAR"],
        "location",
        "LON-QUAR",
    ),
    (["kit", "available", "KIT-HOME-6W", "--location", "LON-QUAR"], "location", "LON-QUAR"),
    (
        ["catalog", "add-recipe", "KIT-HOME-6W", "SERUM-5ML=6", "STAMP-2.0=1"],
        "component",
        "STAMP-2.0",
    ),
    (["session", "record", "4", "--date", "2026-13-01"], "date", "2026-13-01"),
    (["pick-list", "--clinic", "LON-FRIDGE"], "clinic", "LON-FRIDGE"),
    (["pick-list", "--clinic", "LON", "--days", "400"], "--days", "400"),
    (["plan", "show", "home-99w"], "plan", "home-99w"),
    (
        [
            "plan",
            "add",
            "home-x",
            "--name",
            "X",
            "--per-week",
            "2",
            "--weeks",
            "6",
            "--ml",
            "2.5",
            "--administered",
            "home",
        ],
        "kit",
    ),
]

REFUSED = [
    (["fulfil", "1"], "course 1 already has all its kits"),
    (["fulfil", "1", "--check"], "at home"),
    (["kit", "ship", "K0000002", "--tracking", "RM1"], "K0000002", "available"),
    (["kit", "handover", "K0000002"], "K0000002", "available"),
    (["kit", "return", "K0000001", "--condition", "sealed"], "K0000001", "reserved"),
    (["kit", "disassemble", "K0000001"], "K0000001", "reserved"),
    (
        ["kit", "assemble", "KIT-HOME-6W", "--qty", "100", "--location", "LON-FRIDGE"],
        "none assembled",
        "SERUM-5ML:",
        "STAMP-0.5:",
    ),
    (["session", "record", "1"], "at home"),
]


def test_bad_input_exits_2_refusals_exit_1_and_nothing_is_written(demo, today, snapshot):
    before = snapshot()
    for args, *needles in BAD_INPUT:
        result = demo(*args)
        assert_bad_input(result, *needles)
        assert result.out == "", (args, result.out)
    for args, *needles in REFUSED:
        result = demo(*args)
        assert_refused(result, *needles)
        assert result.out == "", (args, result.out)
    start = open_day(today + timedelta(days=7)).isoformat()
    course = [
        "course",
        "create",
        "--patient",
        "P-1",
        "--plan",
        "home-6w",
        "--start",
        start,
        "--clinic",
        "LON",
    ]
    for option, value, needles in [
        ("--patient", "John Smith", ("patient", "John Smith", "no spaces")),
        ("--plan", "home-99w", ("plan", "home-99w")),
        ("--clinic", "MAD", ("clinic", "MAD")),
        ("--clinic", "LON-FRIDGE", ("clinic", "LON-FRIDGE")),
        ("--start", "2026-02-30", ("start", "2026-02-30")),
    ]:
        args = list(course)
        args[args.index(option) + 1] = value
        assert_bad_input(demo(*args), *needles)
    assert snapshot() == before
    assert len(json_of(demo, "course", "list", "--json")) == 11


def test_kits_back_from_patients_sealed_to_quarantine_opened_ends_the_part(demo, snapshot, db):
    """Issue #14: a kit back sealed waits in quarantine for a manager's release; a kit back
    opened ends its course part, which the batch then leaves alone until a user asks for a
    replacement (`course replace-kit`)."""
    # sealed, from a patient's home: not stock until a manager has inspected it
    assert demo("kit", "ship", "K0000005", "--tracking", "RM1").code == 0
    back = kit_of(demo, "kit", "return", "K0000005", "--condition", "sealed")
    assert (back["status"], back["location"], back["course_id"]) == ("quarantine", "ESX-FRIDGE",
                                                                      None)  # fmt: skip
    lot = json_of(demo, "lot", "show", "K0000005", "--json")
    assert (lot["status"], lot["status_reason"]) == ("quarantine", "returned")
    assert [k["serial"] for k in json_of(demo, "kit", "list", "--status", "quarantine",
                                         "--json")] == ["K0000005"]  # fmt: skip
    before = snapshot()
    bind_identity(db.engine, "stock")  # the stockroom's login, bound to the demo's "stock"
    assert_refused(
        demo("--user", "stock", "kit", "release", "K0000005"),
        "stock (stockroom) may not release a kit returned sealed: a manager may",
    )
    bind_identity(db.engine, "tester")
    assert_refused(demo("lot", "release", "K0000005"), "kitops kit release K0000005")
    assert_refused(demo("kit", "release", "K0000006"), "K0000006 is available")
    assert_bad_input(demo("kit", "release", "K0000099"), "serial", "K0000099")
    after = snapshot()
    assert (after.stock, after.audit_rows) == (before.stock, before.audit_rows + 1)  # refusal row
    bind_identity(db.engine, "manager")
    released = demo("--user", "manager", "kit", "release", "K0000005")
    bind_identity(db.engine, "tester")
    assert (released.code, released.out.strip()) == (
        0, "kit K0000005 released: available at ESX-FRIDGE",
    )  # fmt: skip
    assert kit_of(demo, "kit", "show", "K0000005")["status"] == "available"

    # opened: the part ends; the batch does not silently reserve a new kit for it
    assert demo("kit", "handover", "K0000001").code == 0
    assert demo("kit", "return", "K0000001", "--condition", "opened").code == 0
    course = json_of(demo, "course", "show", "1", "--json")
    check_course(course)
    assert course["parts_returned_opened"] == [1]
    assert [(k["serial"], k["status"]) for k in course["kits"]] == [("K0000001", "written_off")]
    shown = demo("course", "show", "1").out
    hint = "kit 1 returned opened (K0000001): no replacement; kitops course replace-kit 1 --part 1"
    assert hint in shown
    assert_refused(
        demo("course", "replace-kit", "3", "--part", "1"),
        "kit 1 of course 3 was not returned opened; `kitops fulfil 3` reserves",
    )
    batch = report_of(demo, "--due-within", "366d")
    assert 1 not in {line["course_id"] for line in batch["served"] + batch["unserved"]}
    assert_refused(demo("fulfil", "1"), "course 1")
    assert [k["serial"] for k in json_of(demo, "course", "show", "1", "--json")["kits"]] == [
        "K0000001"
    ]

    # the batch took LON's free kits; one reserved inside the clinic goes back at once
    [freed] = json_of(demo, "course", "show", "3", "--json")["kits"]
    assert demo("course", "cancel", "3").code == 0
    assert kit_of(demo, "kit", "show", freed["serial"])["status"] == "available"

    # a replacement when a user asks for one, audited; refused once the part is held
    before = snapshot()
    assert_bad_input(demo("course", "replace-kit", "1", "--part", "2"), "part", "2")
    assert_bad_input(demo("course", "replace-kit", "1", "--part", "x"), "part", "x")
    assert snapshot() == before
    line = json_of(demo, "course", "replace-kit", "1", "--part", "1", "--json")
    keys_and_types(line, LINE_KEYS)
    assert (line["course_id"], line["part"], line["reason"]) == (1, 1, None)
    course = json_of(demo, "course", "show", "1", "--json")
    assert {(k["serial"], k["status"]) for k in course["kits"]} == {
        ("K0000001", "written_off"), (line["kit"], "reserved"),
    }  # fmt: skip
    assert f"replaced by {line['kit']}" in demo("course", "show", "1").out
    audit = json_of(demo, "audit", "--action", "course.replace_kit", "--json")
    assert [(a["key"], a["after"]["kit"]) for a in audit] == [("1", line["kit"])]
    before = snapshot()
    assert_refused(demo("course", "replace-kit", "1", "--part", "1"),
                   f"kit 1 of course 1 is {line['kit']} (reserved)")  # fmt: skip
    assert snapshot() == before
    db_is_consistent(demo)


def test_replace_kit_refuses_in_one_line_when_no_kit_fits(demo, snapshot):
    assert demo("kit", "handover", "K0000005").code == 0
    assert demo("kit", "return", "K0000005", "--condition", "opened").code == 0
    assert demo("kit", "disassemble", "K0000006").code == 0  # ESX's only free kit
    before = snapshot()

    assert_refused(demo("course", "replace-kit", "5", "--part", "1"), "course 5 (ESX, kit 1",
                   "no kit available at ESX")  # fmt: skip

    assert snapshot() == before


def test_course_create_refuses_twice_a_week_days_not_3_or_4_days_apart(demo, today, snapshot):
    start = today + timedelta(days=7)
    monday = start + timedelta(days=-start.weekday() % 7)
    before = snapshot()
    courses = json_of(demo, "course", "list", "--json")
    result = demo(
        "course", "create", "--patient", "P-1", "--plan", "home-6w",
        "--start", monday.isoformat(), "--clinic", "LON", "--weekdays", "mon,tue",
    )  # fmt: skip
    assert_bad_input(result, "weekdays", "mon,tue", "3 or 4 days apart")
    assert result.out == ""
    assert snapshot() == before
    assert json_of(demo, "course", "list", "--json") == courses
    course = json_of(
        demo, "course", "create", "--patient", "P-1", "--plan", "home-6w",
        "--start", monday.isoformat(), "--clinic", "LON", "--weekdays", "mon,thu", "--json",
    )  # fmt: skip
    assert course["weekdays"] == "mon,thu"


def test_session_record_refuses_a_day_after_the_clinics_today(demo, snapshot):
    clinic = json_of(demo, "course", "show", "4", "--json")
    today_at_lon = clinic_today(clinic["timezone"])
    tomorrow = (today_at_lon + timedelta(days=1)).isoformat()
    before = snapshot()
    result = demo("session", "record", "4", "--date", tomorrow)
    assert_bad_input(
        result, "date", tomorrow, f"is in the future (today at LON is {today_at_lon})",
        "record a session when it happens",
    )  # fmt: skip
    assert result.out == ""
    assert snapshot() == before
    assert json_of(demo, "course", "show", "4", "--json")["sessions_recorded"] == 0
