"""``kitops move``, ``writeoff`` and ``count``: stock changing places, leaving, being counted.

The demo data is loaded as of today (the ``demo`` fixture), so FEFO picks, which judge
expiry on the real current date, always see the same lots: ``PTT6-A0412`` expired,
``PTT6-A0519`` first in date, then ``PTT6-A0603`` and ``PTT6-B0902``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from e2e_support import assert_bad_input, assert_refused, json_of, keys_and_types, write_csv
from identity_support import bind_identity_url

KITOPS = str(Path(sys.executable).parent / "kitops")

TRANSFER_KEYS = {
    "sku": str,
    "from_location": str,
    "to_location": str,
    "quantity": int,
    "lots": list,
}
MOVED_LOT_KEYS = {"lot": str, "expiry": (str, type(None)), "quantity": int}
WRITE_OFF_KEYS = {
    "sku": str,
    "lot": str,
    "location": str,
    "quantity": int,
    "reason": str,
    "on_hand_after": int,
}
COUNT_KEYS = {
    "location": str,
    "lines_counted": int,
    "differences": list,
    "units_added": int,
    "units_removed": int,
}
DIFFERENCE_KEYS = {"sku": str, "lot": str, "expected": int, "counted": int, "difference": int}


def db_is_consistent(cli) -> None:
    report = json_of(cli, "db", "check", "--json")
    assert report["ok"] is True, report
    assert report["problems"] == []


def on_hand(cli, location, *filters):
    """lot → quantity at exactly ``location``, unavailable stock included."""
    lines = json_of(cli, "stock", "--location", location, "--include-unavailable", *filters,
                    "--json")  # fmt: skip
    return {(line["sku"], line["lot"]): line["quantity"] for line in lines
            if line["location"] == location}  # fmt: skip


# --- move ----------------------------------------------------------------------------


def test_move_a_named_lot_and_fefo_split_across_lots_earliest_expiry_first(demo):
    fridge = json_of(demo, "stock", "--location", "LON-FRIDGE", "--sku", "SERUM-5ML", "--json")
    usable = [(line["lot"], line["expiry"], line["quantity"]) for line in fridge]
    assert [lot for lot, _, _ in usable] == ["PTT6-A0519", "PTT6-A0603", "PTT6-B0902"]
    (first, first_expiry, first_qty), (second, second_expiry, _), _ = usable
    shelf_before = on_hand(demo, "LON-SHELF", "--sku", "SERUM-5ML")
    expired_before = on_hand(demo, "LON-FRIDGE")[("SERUM-5ML", "PTT6-A0412")]

    wanted = first_qty + 2
    transfer = json_of(
        demo, "move", "serum-5ml", "--qty", str(wanted), "--from", "lon-fridge", "--to",
        "LON-SHELF", "--json",
    )  # fmt: skip
    keys_and_types(transfer, TRANSFER_KEYS)
    for moved in transfer["lots"]:
        keys_and_types(moved, MOVED_LOT_KEYS)
    assert (transfer["sku"], transfer["from_location"], transfer["to_location"]) == (
        "SERUM-5ML", "LON-FRIDGE", "LON-SHELF",
    )  # fmt: skip
    assert transfer["quantity"] == wanted
    assert transfer["lots"] == [
        {"lot": first, "expiry": first_expiry, "quantity": first_qty},
        {"lot": second, "expiry": second_expiry, "quantity": 2},
    ]
    assert first_expiry < second_expiry

    fridge_after = on_hand(demo, "LON-FRIDGE")
    assert ("SERUM-5ML", first) not in fridge_after
    assert fridge_after[("SERUM-5ML", "PTT6-A0412")] == expired_before, "expired stock stays put"
    shelf_after = on_hand(demo, "LON-SHELF", "--sku", "SERUM-5ML")
    assert shelf_after[("SERUM-5ML", first)] == shelf_before.get(("SERUM-5ML", first), 0) + (
        first_qty
    )
    assert shelf_after[("SERUM-5ML", second)] == shelf_before.get(("SERUM-5ML", second), 0) + 2

    named = demo(
        "move", "SERUM-5ML", "--lot", "PTT6-B0902", "--qty", "5", "--from", "LON-FRIDGE",
        "--to", "ESX-FRIDGE",
    )  # fmt: skip
    assert named.code == 0, named.err
    assert "moved 5 × SERUM-5ML LON-FRIDGE → ESX-FRIDGE (5 of PTT6-B0902)" in named.out

    # A named lot moves whatever its status: the quarantined lot goes to another shelf.
    held = json_of(
        demo, "move", "SERUM-5ML", "--lot", "PTT6-C0115", "--qty", "8", "--from", "LON-QUAR",
        "--to", "LON-STORE", "--json",
    )  # fmt: skip
    assert [(m["lot"], m["quantity"]) for m in held["lots"]] == [("PTT6-C0115", 8)]

    chx = json_of(demo, "move", "CHX-0.5", "--qty", "2", "--from", "LON-SHELF", "--to", "LON",
                  "--json")  # fmt: skip
    assert [(m["lot"], m["expiry"], m["quantity"]) for m in chx["lots"]] == [("-", None, 2)]
    db_is_consistent(demo)


def test_moves_beyond_stock_or_to_no_real_place_are_refused_and_change_nothing(demo, snapshot):
    usable = sum(
        line["quantity"]
        for line in json_of(demo, "stock", "--location", "LON-FRIDGE", "--sku", "SERUM-5ML",
                            "--json")
    )  # fmt: skip
    b0902 = on_hand(demo, "LON-FRIDGE")[("SERUM-5ML", "PTT6-B0902")]
    before = snapshot()

    too_many = demo("move", "SERUM-5ML", "--qty", str(usable + 1), "--from", "LON-FRIDGE",
                    "--to", "LON-SHELF", "--json")  # fmt: skip
    assert_refused(too_many, f"{usable} available", f"{usable + 1} needed")
    assert too_many.out == ""
    named = demo("move", "SERUM-5ML", "--lot", "PTT6-B0902", "--qty", str(b0902 + 1),
                 "--from", "LON-FRIDGE", "--to", "LON-SHELF")  # fmt: skip
    assert_refused(named, "PTT6-B0902", "LON-FRIDGE", f"{b0902} on hand")
    held = demo("move", "SERUM-5ML", "--qty", "1", "--from", "LON-QUAR", "--to", "LON-FRIDGE")
    assert_refused(held, "0 available")
    elsewhere = demo("move", "STAMP-1.2", "--lot", "DS12-2311", "--qty", "1", "--from",
                     "VIE-SHELF", "--to", "LON-SHELF")  # fmt: skip
    assert_refused(elsewhere, "DS12-2311", "VIE-SHELF")

    move = ["move", "SERUM-5ML", "--qty", "1"]
    assert_bad_input(demo(*move, "--from", "LON-FRIDGE", "--to", "lon-fridge"), "to", "LON-FRIDGE")
    assert_bad_input(demo(*move, "--from", "LON-FRIDGE", "--to", "SCRAP"), "to", "SCRAP")
    assert_bad_input(demo(*move, "--from", "SUPPLIER", "--to", "LON-FRIDGE"), "from", "SUPPLIER")
    assert_bad_input(demo(*move, "--from", "LON-FRIDGE", "--to", "LON-FRIGDE"), "to", "LON-FRIGDE")
    assert_bad_input(demo(*move, "--from", "LON-FRIDGE", "--to", "LON-SHELF", "--lot", "NOPE"),
                     "lot", "NOPE")  # fmt: skip
    assert_bad_input(
        demo("move", "SERUM-5ML", "--qty", "0", "--from", "LON-FRIDGE", "--to", "LON-SHELF"),
        "qty", "'0'",
    )  # fmt: skip
    assert_bad_input(demo("move", "SERUM-5ML", "--qty", "1", "--from", "LON-FRIDGE"), "--to")
    assert snapshot() == before


# --- writeoff ------------------------------------------------------------------------


def test_writeoff_keeps_the_reason_on_the_ledger_and_refuses_bad_input(demo, snapshot):
    b0902 = on_hand(demo, "LON-FRIDGE")[("SERUM-5ML", "PTT6-B0902")]
    result = json_of(
        demo, "writeoff", "SERUM-5ML", "--lot", "PTT6-B0902", "--qty", "2", "--location",
        "LON-FRIDGE", "--reason", "opened", "--note", "vial dropped during prep", "--json",
    )  # fmt: skip
    keys_and_types(result, WRITE_OFF_KEYS)
    assert result == {
        "sku": "SERUM-5ML",
        "lot": "PTT6-B0902",
        "location": "LON-FRIDGE",
        "quantity": 2,
        "reason": "opened",
        "on_hand_after": b0902 - 2,
    }
    damaged = demo("writeoff", "SERUM-5ML", "--lot", "PTT6-B0902", "--qty", "1", "--location",
                   "LON-FRIDGE", "--reason", "damaged")  # fmt: skip
    assert damaged.code == 0, damaged.err
    assert damaged.out.strip() == (
        f"wrote off 1 × SERUM-5ML lot PTT6-B0902 at LON-FRIDGE (damaged); {b0902 - 3} left there"
    )

    trace = json_of(demo, "trace", "PTT6-B0902", "--json")
    scrapped = {f["detail"]: f for f in trace["flows"] if f["to_location"] == "SCRAP"}
    assert set(scrapped) == {"opened", "damaged"}
    assert (scrapped["opened"]["reason"], scrapped["opened"]["quantity"]) == ("write_off", 2)
    assert (scrapped["opened"]["from_location"], scrapped["opened"]["moves"]) == ("LON-FRIDGE", 1)
    assert scrapped["damaged"]["quantity"] == 1
    assert trace["written_off"] == 3

    chx_before = on_hand(demo, "LON-SHELF")[("CHX-0.5", "-")]
    chx = json_of(demo, "writeoff", "chx-0.5", "--qty", "3", "--location", "LON-SHELF",
                  "--reason", "expired", "--json")  # fmt: skip
    assert (chx["sku"], chx["lot"], chx["reason"]) == ("CHX-0.5", "-", "expired")
    assert chx["on_hand_after"] == chx_before - 3 == on_hand(demo, "LON-SHELF")[("CHX-0.5", "-")]

    before = snapshot()
    off = ["writeoff", "SERUM-5ML", "--lot", "PTT6-B0902", "--qty", "1", "--location"]
    assert_bad_input(demo(*off, "LON-FRIDGE", "--reason", "bogus"), "--reason", "bogus")
    assert_bad_input(demo(*off, "SCRAP", "--reason", "damaged"), "location", "SCRAP")
    assert_bad_input(
        demo("writeoff", "SERUM-5ML", "--qty", "1", "--location", "LON-FRIDGE", "--reason",
             "damaged"), "lot", "SERUM-5ML",
    )  # fmt: skip
    assert_bad_input(
        demo("writeoff", "CHX-0.5", "--lot", "X1", "--qty", "1", "--location", "LON-SHELF",
             "--reason", "damaged"), "lot", "X1",
    )  # fmt: skip
    assert_bad_input(
        demo("writeoff", "CHX-0.5", "--qty", "-1", "--location", "LON-SHELF", "--reason",
             "damaged"), "qty", "-1",
    )  # fmt: skip
    too_many = demo("writeoff", "CHX-0.5", "--qty", str(chx_before), "--location", "LON-SHELF",
                    "--reason", "damaged")  # fmt: skip
    assert_refused(too_many, "CHX-0.5", f"{chx_before - 3} on hand")
    assert snapshot() == before
    db_is_consistent(demo)


def test_writeoff_without_a_reason_is_one_line_of_bad_input(demo, snapshot):
    before = snapshot()
    result = demo("writeoff", "CHX-0.5", "--qty", "1", "--location", "LON-SHELF")
    assert snapshot() == before
    assert_bad_input(result, "--reason")


# --- count ---------------------------------------------------------------------------


def test_count_sheet_adjusts_differences_both_ways_and_full_zeroes_what_is_missing(demo, tmp_path):
    essex = on_hand(demo, "ESX-SHELF")
    ds04, ds05 = essex[("STAMP-0.4", "DS04-2401")], essex[("STAMP-0.5", "DS05-2402")]
    sheet = write_csv(
        tmp_path, "essex.csv",
        "sku,lot,counted",
        f"STAMP-0.4,DS04-2401,{ds04 + 2}",
        f"stamp-0.5, DS05-2402 ,{ds05 - 3}",
        f"CHX-0.5,,{essex[('CHX-0.5', '-')]}",
    )  # fmt: skip
    report = json_of(demo, "count", sheet, "--location", "esx-shelf", "--json")
    keys_and_types(report, COUNT_KEYS)
    for line in report["differences"]:
        keys_and_types(line, DIFFERENCE_KEYS)
    assert (report["location"], report["lines_counted"]) == ("ESX-SHELF", 3)
    assert sorted(report["differences"], key=lambda d: d["lot"]) == [
        {"sku": "STAMP-0.4", "lot": "DS04-2401", "expected": ds04, "counted": ds04 + 2,
         "difference": 2},
        {"sku": "STAMP-0.5", "lot": "DS05-2402", "expected": ds05, "counted": ds05 - 3,
         "difference": -3},
    ]  # fmt: skip
    assert (report["units_added"], report["units_removed"]) == (2, 3)
    after = on_hand(demo, "ESX-SHELF")
    expected_after = {
        **essex,
        ("STAMP-0.4", "DS04-2401"): ds04 + 2,
        ("STAMP-0.5", "DS05-2402"): ds05 - 3,
    }
    assert after == expected_after, "lots not on the sheet are untouched"

    vienna = on_hand(demo, "VIE-SHELF")
    ds04_vie = vienna[("STAMP-0.4", "DS04-2401")]
    full = write_csv(tmp_path, "vienna.csv", "SKU,Lot,Qty", f"STAMP-0.4,DS04-2401,{ds04_vie}")
    text = demo("count", full, "--location", "VIE-SHELF", "--full")
    assert text.code == 0, text.err
    missing = {key: qty for key, qty in vienna.items() if key != ("STAMP-0.4", "DS04-2401")}
    assert missing, "the demo has more than one lot on the Vienna shelf"
    assert f"count at VIE-SHELF: {len(missing)} differences" in text.out
    assert f"1 lines counted at VIE-SHELF: +0 / -{sum(missing.values())} units adjusted" in (
        text.out
    )
    assert on_hand(demo, "VIE-SHELF") == {("STAMP-0.4", "DS04-2401"): ds04_vie}

    trace = json_of(demo, "trace", "DS05-2402", "--json")
    counted = [f for f in trace["flows"] if f["reason"] == "count"]
    assert {(f["from_location"], f["to_location"], f["quantity"]) for f in counted} == {
        ("ESX-SHELF", "ADJUSTMENT", 3),
        ("VIE-SHELF", "ADJUSTMENT", vienna[("STAMP-0.5", "DS05-2402")]),
    }
    assert trace["adjusted"] == -3 - vienna[("STAMP-0.5", "DS05-2402")]
    db_is_consistent(demo)


def test_count_sheet_with_bad_lines_lists_each_and_adjusts_nothing(demo, tmp_path, snapshot):
    sheet = write_csv(
        tmp_path, "bad.csv",
        "sku,lot,counted",             # line 1
        "STAMP-0.4,DS04-2401,5",       # line 2: fine
        "STAMP-9,DS04-2401,1",         # line 3: unknown SKU
        "STAMP-0.5,NOPE,3",            # line 4: unknown lot
        "",                            # line 5: blank, skipped
        "STAMP-0.6,DS06-2402,-1",      # line 6: negative
        "SERUM-5ML,,4",                # line 7: lot-tracked without a lot
        "CHX-0.5,,many",               # line 8: not a number
        "CHX-0.5,X1,2",                # line 9: a lot on a product without lots
    )  # fmt: skip
    before = snapshot()
    result = demo("count", sheet, "--location", "LON-SHELF", "--json")
    assert result.code == 2, (result.code, result.out, result.err)
    assert result.out == ""
    first, *rest = result.err.strip().splitlines()
    assert first == "kitops: 6 bad lines, nothing adjusted", first
    assert [line.partition(":")[0] for line in rest] == [f"line {n}" for n in (3, 4, 6, 7, 8, 9)]
    problems = dict(line.split(": ", 1) for line in rest)
    for number, needles in {
        3: ("sku", "STAMP-9"),
        4: ("lot", "NOPE"),
        6: ("counted", "-1"),
        7: ("lot", "SERUM-5ML"),
        8: ("counted", "many"),
        9: ("lot", "X1"),
    }.items():
        for needle in needles:
            assert needle in problems[f"line {number}"], (number, problems[f"line {number}"])

    assert_bad_input(demo("count", str(tmp_path / "absent.csv"), "--location", "LON-SHELF"),
                     "file", "absent.csv")  # fmt: skip
    no_header = write_csv(tmp_path, "no_header.csv", "STAMP-0.4,DS04-2401,5")
    assert_bad_input(demo("count", no_header, "--location", "LON-SHELF"), "file", "no_header.csv")
    good = write_csv(tmp_path, "good.csv", "sku,lot,counted", "STAMP-0.4,DS04-2401,5")
    assert_bad_input(demo("count", good, "--location", "ADJUSTMENT"), "location", "ADJUSTMENT")
    assert_bad_input(demo("count", good, "--location", "LON-FRIGDE"), "location", "LON-FRIGDE")
    assert_bad_input(demo("count", good), "--location")
    assert snapshot() == before


def kitops_process(db_url, *args, answers):
    # the demo's stockroom user counts, from a login bound to it
    env = {**os.environ, "KITOPS_DATABASE_URL": db_url, "KITOPS_USER": "stock"}
    env.pop("KITOPS_DEBUG", None)
    bind_identity_url(db_url, "stock")
    try:
        return subprocess.run(
            [KITOPS, *args],
            env=env,
            input=answers,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        bind_identity_url(db_url, "tester")


def test_interactive_blind_count_asks_for_each_lot_and_counts_the_rest_as_given(
    demo, db_url, snapshot
):
    lines = json_of(demo, "stock", "--location", "ESX-SHELF", "--include-unavailable", "--json")
    asked = [(line["sku"], line["lot"], line["quantity"]) for line in lines]
    assert len(asked) >= 3

    before = snapshot()
    cut_short = kitops_process(db_url, "count", "--location", "ESX-SHELF", answers="1\n")
    assert cut_short.returncode == 1, cut_short.stderr
    assert "Traceback" not in cut_short.stderr
    assert (
        cut_short.stderr.strip().splitlines()[-1].endswith("kitops: aborted, nothing was changed")
    )
    assert snapshot() == before

    # A typo is asked again; then one lot is up 2, one down 1, the rest as recorded.
    answers = ["abc", str(asked[0][2] + 2), str(asked[1][2] - 1)]
    answers += [str(qty) for _, _, qty in asked[2:]]
    done = kitops_process(db_url, "count", "--location", "esx-shelf",
                          answers="\n".join(answers) + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("counting ESX-SHELF:"), done.stderr  # prompts: stderr
    positions = [done.stderr.index(f"{sku} lot {lot}") for sku, lot, _ in asked]
    assert positions == sorted(positions), "every lot on record is asked for, in stock order"
    assert f"{len(asked)} lines counted at ESX-SHELF: +2 / -1 units adjusted" in done.stdout

    after = on_hand(demo, "ESX-SHELF")
    expected = {(sku, lot): qty for sku, lot, qty in asked}
    expected[asked[0][:2]] += 2
    expected[asked[1][:2]] -= 1
    assert after == expected
    moves = json.loads(demo("trace", asked[1][1], "--sku", asked[1][0], "--json").out)["flows"]
    assert [f["references"] for f in moves if f["reason"] == "count"] == [["count:ESX-SHELF"]]
    db_is_consistent(demo)


def test_interactive_count_with_json_prints_only_the_report_on_stdout(demo, db_url):
    lines = json_of(demo, "stock", "--location", "ESX-SHELF", "--include-unavailable", "--json")
    answers = "".join(f"{line['quantity']}\n" for line in lines)
    done = kitops_process(db_url, "count", "--location", "ESX-SHELF", "--json", answers=answers)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["lines_counted"], report["differences"]) == (len(lines), [])
