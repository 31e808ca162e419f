"""``kitops lot ...``, ``trace`` and ``expiry sweep``: a lot's status, history and end.

Lot status changes judge expiry on the real current date, so they run on the demo data
as of today (``demo``); the sweep runs on the demo data of a fixed day with ``--as-of``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from e2e_support import (
    assert_bad_input,
    assert_refused,
    json_of,
    keys_and_types,
    on_day,
    write_csv,
)

LOT_KEYS = {
    "sku": str,
    "product": str,
    "lot": str,
    "expiry": (str, type(None)),
    "status": str,
    "status_reason": (str, type(None)),
    "supplier": (str, type(None)),
    "receipt_ref": (str, type(None)),
    "on_hand": list,
    "total_on_hand": int,
}
ON_HAND_KEYS = {"location": str, "clinic": (str, type(None)), "quantity": int}
TRACE_KEYS = {
    "lot": dict,
    "received": int,
    "written_off": int,
    "delivered": int,
    "adjusted": int,
    "flows": list,
    "in_kits": int,
    "kits": list,
    "sessions": list,
    "delivered_in_kits": int,
    "at_patients": list,
    "released": list,
}
RECALL_KEYS = LOT_KEYS | {
    "kits_flagged": list,
    "at_patients": list,
    "released": list,
    "sessions": list,
}
AT_PATIENT_KEYS = {
    "serial": str,
    "course_id": int,
    "part": int,
    "clinic": str,
    "patient_ref": str,
    "status": str,
    "went_out": str,
    "tracking": (str, type(None)),
    "quantity": int,
}
RELEASED_KEYS = {
    "serial": str,
    "course_id": int,
    "part": int,
    "clinic": str,
    "patient_ref": str,
    "needed_from": (str, type(None)),
    "recalled_on": str,
    "now_kit": (str, type(None)),
}
SESSION_KEYS = {
    "course_id": int,
    "patient_ref": str,
    "session_no": int,
    "date": str,
    "quantity": int,
    "clinic": (str, type(None)),
}
FLOW_KEYS = {
    "from_location": str,
    "to_location": str,
    "reason": str,
    "detail": (str, type(None)),
    "quantity": int,
    "moves": int,
    "first": str,
    "last": str,
    "references": list,
    "reference_count": int,
}
SWEEP_KEYS = {"as_of": str, "lots_marked": int, "units_moved": int, "lines": list,
              "kits_expired": int, "reservations_released": int, "kits": list}  # fmt: skip
SWEEP_LINE_KEYS = {
    "sku": str,
    "lot": str,
    "expiry": (str, type(None)),
    "marked_expired": bool,
    "moved": int,
    "from_location": (str, type(None)),
    "to_location": (str, type(None)),
    "note": (str, type(None)),
}
AS_OF = "2026-11-22"
FAR = date.today() + timedelta(days=1200)


def db_is_consistent(cli) -> None:
    report = json_of(cli, "db", "check", "--json")
    assert report["ok"] is True, report
    assert report["problems"] == []


def lot_detail(cli, *args):
    detail = json_of(cli, *args, "--json")
    keys_and_types(detail, RECALL_KEYS if args[:2] == ("lot", "recall") else LOT_KEYS)
    for place in detail["on_hand"]:
        keys_and_types(place, ON_HAND_KEYS)
    assert detail["total_on_hand"] == sum(place["quantity"] for place in detail["on_hand"])
    return detail


def usable_lots(cli):
    return {line["lot"] for line in json_of(cli, "stock", "--json")}


def test_lot_show_and_release_of_a_quarantined_lot_makes_it_available(demo):
    shown = lot_detail(demo, "lot", "show", "PTT6-B0902")
    assert (shown["sku"], shown["product"]) == ("SERUM-5ML", "PTT-6 hair serum, 5 ml vial")
    assert (shown["status"], shown["status_reason"]) == ("released", None)
    assert (shown["supplier"], shown["receipt_ref"]) == ("CALECIM-UK", "PO-DEMO-PTT6-B0902")
    assert date.fromisoformat(shown["expiry"]) > date.today()
    assert {(p["location"], p["clinic"]) for p in shown["on_hand"]} == {
        ("LON-FRIDGE", "LON"), ("ESX-FRIDGE", "ESX"),
    }  # fmt: skip
    text = demo("lot", "show", "PTT6-B0902")
    assert text.code == 0, text.err
    assert "SERUM-5ML lot PTT6-B0902: PTT-6 hair serum, 5 ml vial" in text.out
    assert f"on hand: {shown['total_on_hand']}" in text.out

    held = lot_detail(demo, "lot", "show", "PTT6-C0115")
    assert held["status"] == "quarantine"
    assert [(p["location"], p["quantity"]) for p in held["on_hand"]] == [
        ("LON-QUAR", held["total_on_hand"])
    ]
    assert "PTT6-C0115" not in usable_lots(demo)

    released = lot_detail(demo, "lot", "release", "PTT6-C0115")
    assert (released["status"], released["status_reason"]) == ("released", None)
    assert released["on_hand"] == held["on_hand"], "a status change moves nothing"
    [line] = [
        line
        for line in json_of(demo, "stock", "--location", "LON-QUAR", "--json")
        if line["lot"] == "PTT6-C0115"
    ]
    assert (line["available"], line["status"], line["quantity"]) == (
        True, "released", held["total_on_hand"],
    )  # fmt: skip
    # now FEFO may pick it
    moved = json_of(demo, "move", "SERUM-5ML", "--qty", "2", "--from", "LON-QUAR", "--to",
                    "LON-FRIDGE", "--json")  # fmt: skip
    assert [m["lot"] for m in moved["lots"]] == ["PTT6-C0115"]
    again = demo("lot", "release", "PTT6-C0115")
    assert_refused(again, "PTT6-C0115", "already released")
    db_is_consistent(demo)


def test_quarantine_and_recall_need_a_reason_and_a_recall_blocks_the_lot(demo, snapshot):
    before = snapshot()
    for command in ("quarantine", "recall"):
        missing = demo("lot", command, "DS12-2311")
        assert_bad_input(missing, "Missing option", "--reason")
        blank = demo("lot", command, "DS12-2311", "--reason", "   ")
        assert_bad_input(blank, "reason")
        unknown = demo("lot", command, "NOPE-1", "--reason", "test")
        assert_bad_input(unknown, "lot", "NOPE-1")
    assert_bad_input(demo("lot", "release", "NOPE-1"), "lot", "NOPE-1")
    assert_bad_input(demo("lot", "show", "NOPE-1", "--json"), "lot", "NOPE-1")
    assert_bad_input(demo("lot", "show", "DS12-2311", "--sku", "STAMP-0.4"), "lot", "DS12-2311")
    assert_bad_input(demo("trace", "NOPE-1", "--json"), "lot", "NOPE-1")
    assert_refused(demo("lot", "release", "DS12-2311"), "DS12-2311", "released")
    assert snapshot() == before

    assert "DS12-2311" in usable_lots(demo)
    recalled = lot_detail(
        demo, "lot", "recall", "DS12-2311", "--sku", "stamp-1.2", "--reason", "supplier notice 17"
    )
    assert (recalled["status"], recalled["status_reason"]) == ("recalled", "supplier notice 17")
    assert "DS12-2311" not in usable_lots(demo)
    listed = [
        line
        for line in json_of(demo, "stock", "--include-unavailable", "--json")
        if line["lot"] == "DS12-2311"
    ]
    assert {line["location"] for line in listed} == {"LON-SHELF", "ESX-SHELF"}
    assert all(line["status"] == "recalled" and not line["available"] for line in listed)
    fefo = demo("move", "STAMP-1.2", "--qty", "1", "--from", "LON-SHELF", "--to", "LON-STORE")
    assert_refused(fefo, "0 available")

    before = snapshot()
    assert_refused(demo("lot", "release", "DS12-2311"), "DS12-2311", "recalled")
    assert_refused(demo("lot", "recall", "DS12-2311", "--reason", "again"), "already recalled")
    assert snapshot() == before

    # Lifting a recall takes two deliberate steps: quarantine, then release.
    step = lot_detail(demo, "lot", "quarantine", "DS12-2311", "--reason", "recall withdrawn")
    assert (step["status"], step["status_reason"]) == ("quarantine", "recall withdrawn")
    assert "DS12-2311" not in usable_lots(demo)
    assert lot_detail(demo, "lot", "release", "DS12-2311")["status"] == "released"
    assert "DS12-2311" in usable_lots(demo)
    db_is_consistent(demo)


def test_trace_accounts_for_every_unit_received_moved_written_off_and_counted(demo, tmp_path):
    lot = "PTT6-TRACE"
    common = ["--lot", lot, "--expiry", FAR.isoformat()]
    for args in (
        ["--qty", "20", "--location", "LON-FRIDGE", "--po", "PO-TRACE-1"],
        ["--qty", "4", "--location", "ESX-FRIDGE", "--po", "PO-TRACE-2"],
    ):
        assert demo("receive", "SERUM-5ML", *common, *args).code == 0
    steps = [
        ["move", "SERUM-5ML", "--lot", lot, "--qty", "6", "--from", "LON-FRIDGE", "--to",
         "LON-QUAR"],
        ["writeoff", "SERUM-5ML", "--lot", lot, "--qty", "2", "--location", "LON-QUAR",
         "--reason", "damaged"],
        ["count", write_csv(tmp_path, "fridge.csv", "sku,lot,counted", f"SERUM-5ML,{lot},15"),
         "--location", "LON-FRIDGE"],  # 14 on record: +1
        ["count", write_csv(tmp_path, "quar.csv", "sku,lot,counted", f"SERUM-5ML,{lot},2"),
         "--location", "LON-QUAR"],  # 4 on record: -2
    ]  # fmt: skip
    for args in steps:
        result = demo(*args)
        assert result.code == 0, (args, result.err)

    trace = json_of(demo, "trace", lot, "--json")
    keys_and_types(trace, TRACE_KEYS)
    keys_and_types(trace["lot"], LOT_KEYS)
    for flow in trace["flows"]:
        keys_and_types(flow, FLOW_KEYS)
        first, last = datetime.fromisoformat(flow["first"]), datetime.fromisoformat(flow["last"])
        assert first.tzinfo is not None
        assert first <= last
        assert all(isinstance(ref, str) for ref in flow["references"])
    assert (trace["received"], trace["written_off"], trace["delivered"], trace["adjusted"]) == (
        24, 2, 0, -1,
    )  # fmt: skip
    shown = lot_detail(demo, "lot", "show", lot)
    assert trace["lot"] == shown
    assert shown["status"] == "quarantine"
    assert shown["receipt_ref"] == "PO-TRACE-1"
    total = trace["received"] - trace["written_off"] - trace["delivered"] + trace["adjusted"]
    assert total == shown["total_on_hand"] == 21

    # The flows add up to what is on hand, place by place.
    net: dict[str, int] = {}
    for flow in trace["flows"]:
        net[flow["to_location"]] = net.get(flow["to_location"], 0) + flow["quantity"]
        net[flow["from_location"]] = net.get(flow["from_location"], 0) - flow["quantity"]
    virtual = {"SUPPLIER", "SCRAP", "ADJUSTMENT", "PATIENT"}
    places = {code: qty for code, qty in net.items() if code not in virtual and qty}
    assert places == {p["location"]: p["quantity"] for p in shown["on_hand"]}
    assert places == {"LON-FRIDGE": 15, "LON-QUAR": 2, "ESX-FRIDGE": 4}

    flows = {(f["from_location"], f["to_location"], f["reason"]): f for f in trace["flows"]}
    assert set(flows) == {
        ("SUPPLIER", "LON-FRIDGE", "receipt"),
        ("SUPPLIER", "ESX-FRIDGE", "receipt"),
        ("LON-FRIDGE", "LON-QUAR", "transfer"),
        ("LON-QUAR", "SCRAP", "write_off"),
        ("ADJUSTMENT", "LON-FRIDGE", "count"),
        ("LON-QUAR", "ADJUSTMENT", "count"),
    }
    assert flows[("SUPPLIER", "LON-FRIDGE", "receipt")]["references"] == ["PO-TRACE-1"]
    assert flows[("SUPPLIER", "ESX-FRIDGE", "receipt")]["references"] == ["PO-TRACE-2"]
    assert flows[("LON-QUAR", "SCRAP", "write_off")]["detail"] == "damaged"
    assert flows[("ADJUSTMENT", "LON-FRIDGE", "count")]["references"] == ["count:LON-FRIDGE"]
    assert all(f["moves"] == 1 for f in trace["flows"])
    firsts = [f["first"] for f in trace["flows"]]
    assert [datetime.fromisoformat(t) for t in firsts] == sorted(
        datetime.fromisoformat(t) for t in firsts
    )

    text = demo("trace", lot)
    assert text.code == 0, text.err
    assert "received 24, written off 2, delivered 0, in kits 0, count adjustments -1" in text.out
    assert (trace["delivered_in_kits"], trace["at_patients"], trace["released"]) == (0, [], [])
    assert "receipt PO-TRACE-1" in text.out
    assert "write_off" in text.out
    assert "(damaged)" in text.out
    db_is_consistent(demo)


def _affected(record):
    for kit in record["at_patients"]:
        keys_and_types(kit, AT_PATIENT_KEYS)
    for kit in record["released"]:
        keys_and_types(kit, RELEASED_KEYS)
    for session in record["sessions"]:
        keys_and_types(session, SESSION_KEYS)
    return (
        [(k["serial"], k["course_id"], k["clinic"], k["status"], k["quantity"])
         for k in record["at_patients"]],
        [(r["serial"], r["course_id"], r["part"], r["clinic"], r["now_kit"])
         for r in record["released"]],
        [(s["course_id"], s["clinic"], s["session_no"], s["quantity"]) for s in record["sessions"]],
    )  # fmt: skip


def test_a_recall_lists_every_course_it_reaches_and_trace_shows_the_same(demo):
    """Course 1's kit was handed over, course 5's is reserved, course 4 had a clinic
    session from the lot: the recall names all three, and so does the trace."""
    assert demo("kit", "handover", "K0000001").code == 0
    for held in ("PTT6-A0519", "PTT6-A0603"):  # FEFO reaches PTT6-B0902 for the session
        assert demo("lot", "quarantine", held, "--reason", "held back").code == 0
    start = json_of(demo, "course", "show", "4", "--json")["start"]
    with on_day(start):  # the session is recorded on its day
        assert demo("session", "record", "4", "--date", start).code == 0
    before = json_of(demo, "trace", "PTT6-B0902", "--json")
    assert (before["delivered"], before["delivered_in_kits"]) == (7, 6)  # not "delivered 0"

    recall = lot_detail(demo, "lot", "recall", "PTT6-B0902", "--reason", "supplier notice 21")

    expected = (
        [("K0000001", 1, "LON", "handed_over", 6)],
        [("K0000005", 5, 1, "ESX", None)],
        [(4, "LON", 1, 1)],
    )
    assert _affected(recall) == expected
    assert recall["at_patients"][0]["patient_ref"] == "P-LON-0001"
    assert recall["released"][0]["patient_ref"] == "P-ESX-0001"
    assert sorted(recall["kits_flagged"]) == [f"K000000{i}" for i in range(1, 7)]
    trace = json_of(demo, "trace", "PTT6-B0902", "--json")
    keys_and_types(trace, TRACE_KEYS)
    assert _affected(trace) == expected
    assert trace["released"] == recall["released"]

    text = demo("trace", "PTT6-B0902").out
    assert "delivered 7 (6 inside kits, 1 in clinic sessions)" in text
    assert "kits at patients' homes, to contact (1)" in text
    assert "reserved kits released: courses left without a kit (1)" in text
    assert "clinic sessions given from this lot (1)" in text
    for needle in ("K0000001", "P-LON-0001", "K0000005", "P-ESX-0001", "P-LON-0004"):
        assert needle in text
    db_is_consistent(demo)


def test_a_recall_prints_its_lists_and_says_none_when_a_list_is_empty(demo):
    recalled = demo("lot", "recall", "PTT6-B1007", "--reason", "supplier notice 22")

    assert recalled.code == 0, recalled.err
    out = recalled.out
    assert "status recalled (supplier notice 22)" in out
    assert "3 kits holding this lot are flagged" in out
    assert "K0000007, K0000008, K0000009" in out
    assert "kits at patients' homes: none" in out
    assert "reserved kits released: none" in out
    assert "clinic sessions given from this lot: none" in out


def test_expiry_sweep_quarantines_the_expired_lot_once_and_then_writes_nothing(cli, snapshot):
    loaded = json_of(cli, "demo", "--as-of", AS_OF, "--json")
    assert loaded["as_of"] == AS_OF
    stock = json_of(cli, "stock", "--as-of", AS_OF, "--include-unavailable", "--json")
    [expired] = [line for line in stock if line["lot"] == "PTT6-A0412"]
    assert (expired["location"], expired["status"], expired["days_to_expiry"]) == (
        "LON-FRIDGE", "expired", -9,
    )  # fmt: skip

    report = json_of(cli, "expiry", "sweep", "--as-of", AS_OF, "--json")
    keys_and_types(report, SWEEP_KEYS)
    for line in report["lines"]:
        keys_and_types(line, SWEEP_LINE_KEYS)
    assert report == {
        "as_of": AS_OF,
        "lots_marked": 1,
        "units_moved": expired["quantity"],
        "lines": [
            {
                "sku": "SERUM-5ML",
                "lot": "PTT6-A0412",
                "expiry": expired["expiry"],
                "marked_expired": True,
                "moved": expired["quantity"],
                "from_location": "LON-FRIDGE",
                "to_location": "LON-QUAR",
                "note": None,
            }
        ],
        "kits_expired": 0,
        "reservations_released": 0,
        "kits": [],
    }
    lot = lot_detail(cli, "lot", "show", "PTT6-A0412")
    assert (lot["status"], lot["status_reason"]) == ("expired", f"expiry sweep {AS_OF}")
    assert [(p["location"], p["quantity"]) for p in lot["on_hand"]] == [
        ("LON-QUAR", expired["quantity"])
    ]
    after = json_of(cli, "stock", "--as-of", AS_OF, "--include-unavailable", "--json")
    assert [line for line in after if line["lot"] != "PTT6-A0412"] == [
        line for line in stock if line["lot"] != "PTT6-A0412"
    ], "nothing else moved"
    usable = json_of(cli, "stock", "--as-of", AS_OF, "--json")
    assert "PTT6-A0412" not in {line["lot"] for line in usable}
    flows = json_of(cli, "trace", "PTT6-A0412", "--json")["flows"]
    [swept] = [f for f in flows if f["reason"] == "expiry"]
    assert (swept["from_location"], swept["to_location"], swept["references"]) == (
        "LON-FRIDGE", "LON-QUAR", [f"expiry-sweep:{AS_OF}"],
    )  # fmt: skip

    before = snapshot()
    second = json_of(cli, "expiry", "sweep", "--as-of", AS_OF, "--json")
    assert second == {"as_of": AS_OF, "lots_marked": 0, "units_moved": 0, "lines": [],
                      "kits_expired": 0, "reservations_released": 0, "kits": []}  # fmt: skip
    third = cli("expiry", "sweep", "--as-of", AS_OF)
    assert third.code == 0, third.err
    assert f"expiry sweep as of {AS_OF}: 0 lots marked expired, 0 units moved" in third.out
    assert snapshot() == before, "a second sweep writes nothing, not even an audit row"

    assert_refused(cli("lot", "release", "PTT6-A0412"), "PTT6-A0412", "expired")
    assert_bad_input(cli("expiry", "sweep", "--as-of", "2026-11-31"), "as_of", "2026-11-31")
    assert snapshot() == before
    db_is_consistent(cli)


def test_a_sweep_ahead_of_today_is_refused_and_a_dry_run_says_what_would_expire(
    demo, snapshot, today
):
    """Expiring is for good: a sweep dated after today on every clinic's calendar would
    expire good stock for ever, so only a dry run may look ahead."""
    later = (today + timedelta(days=400)).isoformat()
    before = snapshot()
    assert_bad_input(demo("expiry", "sweep", "--as-of", later), "as_of", later)
    job = demo("jobs", "run", "expiry-sweep", "--as-of", later)
    assert job.code == 2, job.err
    assert f"as_of '{later}': is after today" in job.err
    assert snapshot() == before

    ahead = json_of(demo, "expiry", "sweep", "--as-of", later, "--dry-run", "--json")
    keys_and_types(ahead, SWEEP_KEYS)
    assert ahead["lots_marked"] >= 2
    assert {line["lot"] for line in ahead["lines"]} >= {"PTT6-A0519", "PTT6-A0603"}
    said = demo("expiry", "sweep", "--as-of", later, "--dry-run")
    assert said.code == 0, said.err
    assert "dry run, nothing written" in said.out
    assert snapshot() == before
    assert lot_detail(demo, "lot", "show", "PTT6-A0519")["status"] == "released"
