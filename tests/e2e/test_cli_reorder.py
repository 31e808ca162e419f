"""The reorder job, purchase orders and the cron jobs from the command line."""

from __future__ import annotations

import json
from datetime import timedelta

from e2e_support import assert_bad_input, assert_refused, json_of


def test_reorder_drafts_an_order_then_finds_nothing_changed(demo, today):
    first = demo("reorder", "run", "--as-of", today.isoformat())
    assert first.code == 0, first.err
    assert first.out.strip() == (
        f"reorder {today}: 1 draft orders created (PO-000001); 1 lines to order (8 policies)"
    )
    second = demo("reorder", "run", "--as-of", today.isoformat())
    assert second.code == 0
    assert "nothing changed" in second.out
    assert len(second.out.strip().splitlines()) == 1


def test_reorder_json_explains_each_line(demo, today):
    run = json_of(demo, "reorder", "run", "--as-of", today.isoformat(), "--json")
    assert run["orders_created"] == ["PO-000001"]
    assert not run["in_progress"]
    (line,) = run["suggestions"]
    assert (line["clinic"], line["sku"], line["supplier"], line["quantity"]) == (
        "ESX", "STAMP-0.6", "DERMASUPPLY", 20,
    )  # fmt: skip
    assert line["explanation"] == (
        "on hand 0 + on order 0 = 0 < min 5: up to max 20 = 20: order 20 (2 × pack of 10)"
    )


def test_purchase_order_life_cycle_and_receiving_against_it(demo, today, tmp_path):
    demo("reorder", "run", "--as-of", today.isoformat())
    listed = json_of(demo, "po", "list", "--status", "draft", "--json")
    assert [(o["number"], o["supplier"], o["clinic"], o["total"]) for o in listed] == [
        ("PO-000001", "DERMASUPPLY", "ESX", {"amount_minor": 9000, "currency": "GBP"})
    ]
    assert "90.00 GBP" in demo("po", "show", "PO-000001").out
    assert demo("po", "approve", "PO-000001").code == 0
    assert_refused(demo("po", "approve", "PO-000001"), "PO-000001 is approved")
    assert demo("po", "send", "1").code == 0

    csv_file = tmp_path / "po.csv"
    exported = demo("po", "export", "PO-000001", "--format", "csv", "--out", str(csv_file))
    assert exported.code == 0, exported.err
    rows = csv_file.read_text().splitlines()
    assert rows[0].startswith("po,supplier,deliver_to")
    assert rows[1].split(",")[7:10] == ["STAMP-0.6", "20", "4.50"]
    pdf_file = tmp_path / "po.pdf"
    assert demo("po", "export", "1", "--format", "pdf", "--out", str(pdf_file)).code == 0
    assert pdf_file.read_bytes().startswith(b"%PDF")

    expiry = (today + timedelta(days=900)).isoformat()
    receive = ["receive", "STAMP-0.6", "--lot", "DS06-NEW", "--expiry", expiry,
               "--location", "ESX-SHELF", "--po", "PO-000001"]  # fmt: skip
    part = json_of(demo, *receive, "--qty", "12", "--json")
    assert part["reference"] == "PO-000001"
    shown = json_of(demo, "po", "show", "PO-000001", "--json")
    assert shown["status"] == "partial"
    assert (shown["lines"][0]["received"], shown["lines"][0]["open"]) == (12, 8)
    # every amount has the one money shape of the --json output
    assert (shown["lines"][0]["unit_cost"], shown["lines"][0]["line_total"]) == (
        {"amount_minor": 450, "currency": "GBP"},
        {"amount_minor": 9000, "currency": "GBP"},
    )

    over = demo(*receive, "--qty", "10")
    assert_refused(over, "over-receipt", "--confirm-over-receipt")
    assert json_of(demo, "po", "show", "1", "--json")["lines"][0]["received"] == 12
    assert demo(*receive, "--qty", "10", "--confirm-over-receipt").code == 0
    closed = json_of(demo, "po", "show", "1", "--json")
    assert closed["status"] == "received"
    assert closed["lines"][0] | {"explanation": None} == closed["lines"][0] | {
        "received": 22, "open": 0, "closed": True, "explanation": None,
    }  # fmt: skip


def test_jobs_list_and_run_log_one_structured_line(demo, today):
    jobs = json_of(demo, "jobs", "list", "--json")
    assert [j["name"] for j in jobs] == [
        "expiry-sweep", "reorder", "payment-sync", "webhooks", "alerts"
    ]  # fmt: skip
    result = demo("jobs", "run", "reorder", "--as-of", today.isoformat())
    assert result.code == 0
    (line,) = result.err.strip().splitlines()
    record = json.loads(line)
    assert (record["job"], record["status"], record["exit"]) == ("reorder", "ok", 0)
    assert record["created"] == ["PO-000001"]
    again = json.loads(demo("jobs", "run", "reorder", "--as-of", today.isoformat()).err)
    assert again["status"] == "nothing"
    sweep = demo("jobs", "run", "expiry-sweep", "--as-of", today.isoformat())
    assert sweep.code == 0
    assert json.loads(sweep.err)["job"] == "expiry-sweep"


def test_a_run_in_progress_exits_0_and_says_so(demo, today, db):
    from sqlalchemy import text

    from kitops.data.schema import JobLockRow, utcnow
    from kitops.services.reorder import ADVISORY_KEY

    with db.engine.connect() as other:
        if db.is_sqlite:  # the lease row another run would hold
            with db.write_sessions() as session:
                session.add(JobLockRow(name="reorder", holder="cron@other", acquired_at=utcnow(),
                                       expires_at=utcnow() + timedelta(minutes=5)))  # fmt: skip
                session.commit()
        else:  # the advisory lock another run's transaction would hold
            other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_KEY})
        result = demo("reorder", "run", "--as-of", today.isoformat())
    assert result.code == 0
    assert result.out.strip() == "another reorder run is in progress; this one did nothing"
    assert json_of(demo, "po", "list", "--json") == []


def test_bad_input_names_the_field_and_the_value(demo):
    assert_bad_input(demo("reorder", "run", "--as-of", "2026-13-01"), "as-of", "2026-13-01")
    assert_bad_input(demo("po", "show", "PO-000042"), "po", "PO-000042")
    assert_bad_input(demo("po", "approve", "twelve"), "po", "twelve")
    assert_bad_input(demo("jobs", "run", "backup"), "job", "backup")
    assert_bad_input(
        demo("policy", "set", "SERUM-5ML", "--clinic", "LON", "--supplier", "DERMASUPPLY",
             "--method", "calendar"),
        "supplier", "DERMASUPPLY", "does not sell SERUM-5ML",
    )  # fmt: skip
    assert_bad_input(
        demo("policy", "set", "KIT-HOME-6W", "--clinic", "LON", "--supplier", "CALECIM-UK",
             "--method", "calendar"),
        "sku", "KIT-HOME-6W",
    )  # fmt: skip


def test_suppliers_and_policies_are_listed(demo):
    suppliers = json_of(demo, "supplier", "list", "--json")
    assert [s["code"] for s in suppliers] == ["CALECIM-EU", "CALECIM-UK", "DERMASUPPLY"]
    added = demo("supplier", "add", "NEWCO", "--name", "New Co", "--lead-time", "3",
                 "--currency", "gbp")  # fmt: skip
    assert added.code == 0
    item = demo("supplier", "item", "NEWCO", "CHX-0.5", "--pack", "6", "--min-order", "6",
                "--cost", "2.80")  # fmt: skip
    assert item.code == 0, item.err
    policy = json_of(demo, "policy", "set", "CHX-0.5", "--clinic", "ESX", "--supplier", "NEWCO",
                     "--method", "min_max", "--min", "4", "--max", "12", "--json")  # fmt: skip
    assert (policy["lead_time_days"], policy["lead_time_from_supplier"]) == (3, True)
    listed = json_of(demo, "policy", "list", "--clinic", "ESX", "--json")
    assert {p["sku"] for p in listed} == {"CHX-0.5", "SERUM-5ML", "STAMP-0.5", "STAMP-0.6"}
    assert demo("policy", "remove", "CHX-0.5", "--clinic", "ESX").code == 0
    assert_refused(demo("policy", "remove", "CHX-0.5", "--clinic", "ESX"), "no active")
