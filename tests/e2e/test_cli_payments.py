"""``kitops order``, ``kitops price`` and ``kitops stripe listen|sync`` end to end, against
localstripe. ``stripe listen`` runs as a real child process serving the test's database.
"""

from __future__ import annotations

import json
import signal
import time

import pytest
from e2e_support import assert_bad_input, assert_refused, json_of, keys_and_types
from payments_support import (
    API_KEY,
    WEBHOOK_SECRET,
    event_body,
    post_webhook,
    signature,
    start_listener,
    stripe_call,
)
from sqlalchemy import MetaData, select

pytest_plugins = ["payments_support"]

ORDER_KEYS = {
    "id": int, "course_id": int, "patient_ref": str, "clinic": str, "currency": str,
    "status": str, "total": dict, "paid": dict, "refunded": dict, "outstanding": dict,
    "note": (str, type(None)), "created_at": str, "lines": list, "payments": list,
    "refunds": list, "kits": list,
}  # fmt: skip


def _intent(order: dict) -> str:
    return next(p["intent_id"] for p in order["payments"] if p["intent_id"])


def test_payment_commands_without_a_stripe_key_say_so_in_one_line(demo, monkeypatch):
    monkeypatch.delenv("KITOPS_STRIPE_API_KEY", raising=False)
    json_of(demo, "order", "create", "--course", "3", "--json")

    result = demo("order", "pay", "1", "--payment-method", "pm_card_visa")

    assert_bad_input(result, "KITOPS_STRIPE_API_KEY is not set")
    # an order with nothing to refund says so first, whatever the settings
    assert_refused(demo("order", "refund", "1"), "only a paid order")
    monkeypatch.setenv("KITOPS_STRIPE_API_KEY", "pk_live_publishable_not_secret")
    shown = demo("order", "pay", "1")
    assert_bad_input(shown, "KITOPS_STRIPE_API_KEY does not hold a Stripe secret key")
    assert "pk_live" not in shown.err


def test_listen_needs_the_webhook_secret(demo, stripe_env, monkeypatch):
    monkeypatch.delenv("KITOPS_STRIPE_WEBHOOK_SECRET")
    assert_bad_input(demo("stripe", "listen", "--port", "0"), "KITOPS_STRIPE_WEBHOOK_SECRET")


def test_an_order_is_created_shown_and_listed_with_its_lines_and_totals(demo):
    assert json_of(demo, "price", "set", "CHX-0.5", "4.50", "gbp", "--json")["amount"] == {
        "amount_minor": 450, "currency": "GBP"}  # fmt: skip

    order = json_of(demo, "order", "create", "--course", "2", "--items", "CHX-0.5=2", "--json")

    keys_and_types(order, ORDER_KEYS)
    assert (order["status"], order["currency"]) == ("open", "GBP")
    # every amount has the one money shape of the --json output
    assert order["total"] == {"amount_minor": 63900, "currency": "GBP"}
    assert order["outstanding"] == {"amount_minor": 63900, "currency": "GBP"}
    assert [(line["item"], line["quantity"], line["unit_amount"], line["amount"])
            for line in order["lines"]] == [
        ("KIT-HOME-6W", 2, {"amount_minor": 31500, "currency": "GBP"},
         {"amount_minor": 63000, "currency": "GBP"}),
        ("CHX-0.5", 2, {"amount_minor": 450, "currency": "GBP"},
         {"amount_minor": 900, "currency": "GBP"}),
    ]  # fmt: skip
    assert json_of(demo, "order", "show", "1", "--json") == order
    assert [o["id"] for o in json_of(demo, "order", "list", "--clinic", "LON", "--json")] == [1]
    text = demo("order", "show", "1")
    assert text.code == 0
    assert "total 639.00 GBP" in text.out


def test_bad_order_input_exits_2_and_a_refusal_exits_1_writing_nothing(demo, snapshot, stripe_env):
    before = snapshot()

    assert_bad_input(demo("order", "create", "--course", "99"), "course '99'")
    assert_bad_input(demo("order", "create", "--course", "3", "--items", "CHX=0"), "items")
    assert_bad_input(demo("order", "create", "--course", "3", "--currency", "pounds"),
                     "currency 'pounds'")  # fmt: skip
    assert_bad_input(demo("order", "show", "x"), "order 'x'")
    assert_bad_input(demo("price", "set", "KIT-HOME-6W", "3.999", "GBP"), "amount")
    # no EUR price in the demo (the seeds give none): Vienna's course is refused
    assert_refused(demo("order", "create", "--course", "7"), "no price", "EUR")
    json_of(demo, "order", "create", "--course", "3", "--json")
    assert_refused(demo("order", "create", "--course", "3"), "already has order 1")
    assert_refused(demo("order", "refund", "1"), "only a paid order")

    after = snapshot()
    assert (after.catalog, after.stock) == (before.catalog, before.stock)
    assert after.audit_rows == before.audit_rows + 1  # the one order created


def test_paying_by_card_then_refunding_more_than_the_charge(demo, stripe_env):
    json_of(demo, "order", "create", "--course", "3", "--json")

    paid = json_of(demo, "order", "pay", "1", "--payment-method", "pm_card_visa", "--json")

    assert (paid["status"], paid["paid"]["amount_minor"]) == ("paid", 31500)
    assert [p["amount"] for p in paid["payments"]] == [{"amount_minor": 31500, "currency": "GBP"}]
    assert [k["status"] for k in paid["kits"]] == ["reserved"]
    assert_refused(demo("order", "refund", "1", "--amount", "315.01"), "more than the 31500")
    declined = demo("order", "pay", "1", "--payment-method", "pm_card_chargeCustomerFail")
    assert_refused(declined, "nothing to pay")
    refund = json_of(demo, "order", "refund", "1", "--amount", "15.00", "--json")
    assert [(r["amount"]["amount_minor"], r["status"]) for r in refund["refunds"]] == [
        (1500, "succeeded")
    ]


def test_a_declined_card_exits_1_with_the_reason(demo, stripe_env):
    json_of(demo, "order", "create", "--course", "3", "--json")
    result = demo("order", "pay", "1", "--payment-method", "pm_card_chargeCustomerFail")
    assert_refused(result, "payment declined", "card_declined")
    assert json_of(demo, "order", "show", "1", "--json")["status"] == "failed"


@pytest.fixture
def listen(db_url, stripe_env):
    """``kitops stripe listen`` as a child process on a free port of 127.0.0.1."""
    child, port = start_listener(db_url)
    yield child, f"http://127.0.0.1:{port}/stripe/webhook"
    if child.poll() is None:
        child.kill()
        child.wait()


def test_stripe_listen_fulfils_on_localstripes_webhook_and_rejects_bad_deliveries(
    demo, listen, localstripe, localstripe_webhook
):
    child, url = listen
    json_of(demo, "order", "create", "--course", "3", "--json")
    pending = json_of(demo, "order", "pay", "1", "--payment-method", "pm_card_visa",
                      "--no-confirm", "--json")  # fmt: skip
    assert pending["status"] == "pending"
    localstripe_webhook(url)

    stripe_call(localstripe, "POST", f"/v1/payment_intents/{_intent(pending)}/confirm")

    deadline = time.monotonic() + 15
    while json_of(demo, "order", "show", "1", "--json")["status"] != "paid":
        assert time.monotonic() < deadline, "the webhook never fulfilled the order"
        time.sleep(0.2)
    body = event_body("payment_intent.succeeded", {"id": _intent(pending),
                                                   "object": "payment_intent"})  # fmt: skip
    assert post_webhook(url, body, signature(body, secret="whsec_forged"))[0] == 400
    assert post_webhook(url, body, signature(body, timestamp=int(time.time()) - 400))[0] == 400
    assert post_webhook(url, b" " * (256 * 1024 + 1), signature(body))[0] == 413
    status, text = post_webhook(url, body, signature(body))
    assert (status, json.loads(text)["outcome"].split(":")[0]) == (200, "no change")

    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=10)
    assert child.returncode == 0, err
    assert "stopped" in out
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {line["status"] for line in lines} >= {200, 400, 413}
    assert API_KEY not in out + err
    assert WEBHOOK_SECRET not in out + err


def test_stripe_sync_prints_one_structured_line_and_catches_up(demo, stripe_env, localstripe):
    json_of(demo, "order", "create", "--course", "3", "--json")
    pending = json_of(demo, "order", "pay", "1", "--payment-method", "pm_card_visa",
                      "--no-confirm", "--json")  # fmt: skip
    stripe_call(localstripe, "POST", f"/v1/payment_intents/{_intent(pending)}/confirm")

    first = demo("stripe", "sync")
    second = demo("stripe", "sync")

    assert first.code == second.code == 0, first.err + second.err
    assert len(first.out.strip().splitlines()) == 1
    report, again = json.loads(first.out), json.loads(second.out)
    assert report["job"] == "stripe-sync"
    assert report["applied"] >= 1
    assert report["failed"] == 0
    assert again["applied"] == 0
    assert json_of(demo, "order", "show", "1", "--json")["status"] == "paid"


def test_the_payment_sync_job_applies_events_and_logs_one_line(demo, stripe_env, localstripe):
    json_of(demo, "order", "create", "--course", "3", "--json")
    pending = json_of(demo, "order", "pay", "1", "--payment-method", "pm_card_visa",
                      "--no-confirm", "--json")  # fmt: skip
    stripe_call(localstripe, "POST", f"/v1/payment_intents/{_intent(pending)}/confirm")

    first = demo("jobs", "run", "payment-sync")
    second = demo("jobs", "run", "payment-sync")
    dry = demo("jobs", "run", "payment-sync", "--dry-run")

    assert (first.code, second.code, dry.code) == (0, 0, 1), first.err + second.err
    record, again = json.loads(first.err), json.loads(second.err)
    assert (record["job"], record["status"], record["exit"]) == ("payment-sync", "ok", 0)
    assert record["applied"] >= 1
    assert (again["status"], again["applied"]) == ("nothing", 0)
    assert json_of(demo, "order", "show", "1", "--json")["status"] == "paid"
    assert "no dry run" in dry.out + dry.err


def test_no_secret_reaches_the_output_or_the_database(demo, stripe_env, db):
    outputs = [
        demo("order", "create", "--course", "3", "--json"),
        demo("order", "pay", "1", "--payment-method", "pm_card_visa", "--json"),
        demo("order", "refund", "1", "--amount", "1.00"),
        demo("stripe", "sync"),
        demo("order", "show", "1", "--json"),
    ]
    for result in outputs:
        assert API_KEY not in result.out + result.err
        assert WEBHOOK_SECRET not in result.out + result.err
    metadata = MetaData()
    metadata.reflect(db.engine)
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                text = repr(tuple(row))
                assert API_KEY not in text, table.name
                assert WEBHOOK_SECRET not in text, table.name


def test_report_payments_sums_paid_refunded_and_outstanding(demo, stripe_env):
    json_of(demo, "order", "create", "--course", "3", "--json")
    json_of(demo, "order", "pay", "1", "--payment-method", "pm_card_visa", "--json")
    json_of(demo, "order", "create", "--course", "4", "--json")  # 1800.00 GBP, unpaid

    report = json_of(demo, "report", "payments", "--format", "json")

    [lon] = report["sections"]["payments"]
    assert (lon["clinic"], lon["currency"], lon["orders"], lon["paid_orders"]) == (
        "LON", "GBP", 2, 1)  # fmt: skip
    assert lon["paid"] == {"amount_minor": 31500, "currency": "GBP"}
    assert lon["outstanding"] == {"amount_minor": 180000, "currency": "GBP"}
    table = demo("report", "payments", "--clinic", "LON")
    assert table.code == 0
    assert "1800.00 GBP" in table.out
