"""Kits follow their stock: ``expiry sweep`` marks kits whose own lot expired `expired`
and moves their records to quarantine with their units; such a kit can then be written
off or taken apart, and ``db check`` holds kit records to the ledger.

The demo data of the fixed day AS_OF: kits K0000001-K0000006 hold PTT6-B0902, which
expires 190 days later; K0000001 is reserved for course 1. The sweep runs with the clock
on the day after (a sweep is never dated after today).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import time_machine
from e2e_support import assert_refused, json_of, keys_and_types
from sqlalchemy import text

AS_OF = date(2026, 11, 22)
KITS_DAY = AS_OF + timedelta(days=191)
SWEEP_KIT_KEYS = {
    "serial": str,
    "sku": str,
    "status_before": str,
    "from_location": str,
    "to_location": str,
    "course_id": (int, type(None)),
    "course_part": (int, type(None)),
    "note": (str, type(None)),
}


def _on_kits_day():
    return time_machine.travel(datetime.combine(KITS_DAY, time(12), UTC), tick=False)


def _kit(cli, serial):
    return json_of(cli, "kit", "show", serial, "--json")


def test_expired_kits_go_to_quarantine_and_can_be_written_off_or_taken_apart(cli, snapshot):
    json_of(cli, "demo", "--as-of", AS_OF.isoformat(), "--json")

    dry = cli("expiry", "sweep", "--as-of", KITS_DAY.isoformat(), "--dry-run")
    assert dry.code == 0, dry.err
    assert "6 kits would expire (2 reservations would be released" in dry.out
    assert _kit(cli, "K0000001")["status"] == "reserved"

    with _on_kits_day():
        said = cli("expiry", "sweep")
    assert said.code == 0, said.err
    assert "kits expired with their stock" in said.out
    assert "6 kits expired (2 reservations released: those courses need another kit)" in said.out
    assert "course 1 part 1 lost its kit" in said.out
    assert "P-LON-0001" not in said.out  # no patient reference in output

    expired = json_of(cli, "kit", "list", "--status", "expired", "--json")
    assert {(k["serial"], k["location"]) for k in expired} == {
        ("K0000001", "LON-QUAR"), ("K0000002", "LON-QUAR"), ("K0000003", "LON-QUAR"),
        ("K0000004", "LON-QUAR"), ("K0000005", "ESX-QUAR"), ("K0000006", "ESX-QUAR"),
    }  # fmt: skip
    assert _kit(cli, "K0000001")["course_id"] is None
    assert json_of(cli, "db", "check", "--json")["ok"] is True

    # an expired kit is wastage: written off where the ledger has it, as expired
    done = cli("writeoff", "KIT-HOME-6W", "--lot", "K0000002", "--qty", "1",
               "--location", "LON-QUAR", "--reason", "expired")  # fmt: skip
    assert done.code == 0, done.err
    assert _kit(cli, "K0000002")["status"] == "written_off"

    # taken apart, its components stay in quarantine: the expired serum never goes back
    apart = cli("kit", "disassemble", "K0000003")
    assert apart.code == 0, apart.err
    assert "kit K0000003 taken apart at LON-QUAR" in apart.out
    usable = json_of(cli, "stock", "--sku", "SERUM-5ML", "--json")
    assert "PTT6-B0902" not in {line["lot"] for line in usable}
    assert_refused(cli("kit", "disassemble", "K0000003"), "K0000003", "disassembled")
    assert json_of(cli, "db", "check", "--json")["ok"] is True

    # a second sweep that day finds nothing left to do
    before = snapshot()
    with _on_kits_day():
        again = json_of(cli, "expiry", "sweep", "--json")
    assert (again["kits_expired"], again["kits"]) == (0, [])
    assert snapshot() == before


def test_sweep_json_lists_the_kits_and_the_reservations_released(cli):
    json_of(cli, "demo", "--as-of", AS_OF.isoformat(), "--json")
    with _on_kits_day():
        report = json_of(cli, "expiry", "sweep", "--json")
    for line in report["kits"]:
        keys_and_types(line, SWEEP_KIT_KEYS)
    assert (report["kits_expired"], report["reservations_released"]) == (6, 2)
    [k1] = [k for k in report["kits"] if k["serial"] == "K0000001"]
    assert k1 == {
        "serial": "K0000001", "sku": "KIT-HOME-6W", "status_before": "reserved",
        "from_location": "LON-FRIDGE", "to_location": "LON-QUAR", "course_id": 1,
        "course_part": 1, "note": "course 1 part 1 lost its kit",
    }  # fmt: skip


def test_db_check_names_a_kit_record_that_disagrees_with_the_ledger(cli, db):
    json_of(cli, "demo", "--as-of", AS_OF.isoformat(), "--json")
    with db.engine.begin() as conn:  # a kit written off on paper only
        conn.execute(text("UPDATE kits SET status = 'written_off' WHERE serial = 'K0000008'"))

    result = cli("db", "check")
    assert_refused(result, "1 kit records disagree with the ledger")
    assert "K0000008" in result.out
    checked = cli("db", "check", "--json")
    assert checked.code == 1, checked.err
    report = json.loads(checked.out)
    assert [(p["lot"], p["location"], p["problem"]) for p in report["problems"]] == [
        ("K0000008", "VIE-FRIDGE",
         "kit K0000008 is written_off but the ledger still has its unit at VIE-FRIDGE"),
    ]  # fmt: skip
