"""Orders paid through Stripe, against a real Stripe-compatible server (localstripe) and
the webhook endpoint of ``kitops stripe listen``, on SQLite and PostgreSQL.

The demo data is loaded as of ``AS_OF``: course 3 (P-LON-0003, home-6w at LON) has no kit
yet and LON has free kits; the demo prices a home kit at 315.00 GBP. What localstripe
does not send (refund and Checkout events, duplicates, events out of order) is signed
here with the webhook secret and posted to the same endpoint.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from ledger_support import AS_OF, writes
from payments_support import (
    WEBHOOK_SECRET,
    event_body,
    post_webhook,
    signature,
    stripe_call,
)
from sqlalchemy import func, select

from kitops.data.schema import AuditRow, OrderRefundRow, StripeEventRow
from kitops.errors import InvalidInput, Refused
from kitops.payments.gateway import PaymentDeclined, PaymentsNotConfigured
from kitops.services import courses, fulfilment, kits, orders, payments

pytest_plugins = ["payments_support"]

COURSE = 3  # home-6w at LON, no kit yet
KIT_PRICE = 31500


def _order(uow, course=COURSE):
    return orders.create_order(uow(), course)


def _show(uow, order_id):
    return orders.show_order(uow(readonly=True), order_id)


def _course_kits(uow, course_id=COURSE):
    return [(k.serial, k.status) for k in courses.show_course(uow(readonly=True), course_id).kits]


def _send(listener, event_type, obj, *, event_id=None, created=None, secret=WEBHOOK_SECRET,
          timestamp=None):  # fmt: skip
    body = event_body(event_type, obj, event_id=event_id, created=created)
    status, text = post_webhook(listener.url, body, signature(body, secret=secret,
                                                              timestamp=timestamp))  # fmt: skip
    return status, text, json.loads(body)["id"]


def _intent(order):
    [payment] = [p for p in order.payments if p.intent_id]
    return payment.intent_id


def _events(db, event_id):
    with db.read_sessions() as session:
        return session.scalars(
            select(StripeEventRow).where(StripeEventRow.event_id == event_id)
        ).all()


def _audits(db, action):
    with db.read_sessions() as session:
        return session.scalar(
            select(func.count()).select_from(AuditRow).where(AuditRow.action == action)
        )


def _wait_for(predicate, seconds=15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _paid_order(uow, gateway):
    order = _order(uow)
    return orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa")


# --- paying -----------------------------------------------------------------------------


def test_card_payment_in_clinic_marks_the_order_paid_and_reserves_the_course_kit(
    loaded, uow, gateway, localstripe
):
    order = _order(uow)
    assert (order.status, order.total.amount_minor, order.currency) == ("open", KIT_PRICE, "GBP")

    paid = orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa")

    assert (paid.status, paid.paid.amount_minor, paid.outstanding.amount_minor) == (
        "paid",
        KIT_PRICE,
        0,
    )
    [kit] = _course_kits(uow)
    assert kit[1] == "reserved"
    at_stripe = stripe_call(localstripe, "GET", f"/v1/payment_intents/{_intent(paid)}")
    assert (at_stripe["status"], at_stripe["amount"], at_stripe["currency"]) == (
        "succeeded", KIT_PRICE, "gbp")  # fmt: skip
    assert at_stripe["metadata"]["kitops_order"] == str(order.id)


def test_declined_card_fails_the_order_and_releases_the_kit_held_for_it(
    loaded, uow, gateway, localstripe
):
    order = _order(uow)

    with pytest.raises(PaymentDeclined, match="declined"):
        orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_chargeCustomerFail")

    failed = _show(uow, order.id)
    assert (failed.status, failed.paid.amount_minor) == ("failed", 0)
    assert [p.status for p in failed.payments] == ["failed"]
    assert _course_kits(uow) == []  # held while paying, released on the decline
    # another card: a new attempt, and the order is paid
    again = orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa")
    assert again.status == "paid"
    assert [p.attempt for p in again.payments] == [1, 2]
    assert [status for _, status in _course_kits(uow)] == ["reserved"]


def test_paying_again_while_a_payment_is_in_flight_never_creates_a_second_charge(
    loaded, uow, gateway
):
    order = _order(uow)
    first = orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa",
                             confirm=False)  # fmt: skip
    again = orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa",
                             confirm=False)  # fmt: skip

    assert first.status == again.status == "pending"
    assert [(p.attempt, p.intent_id) for p in again.payments] == [(1, _intent(first))]


def test_the_kit_of_an_unpaid_order_goes_out_only_once_the_payment_is_confirmed(
    loaded, uow, gateway
):
    order = _order(uow)
    [line] = fulfilment.fulfil_course(uow(), COURSE).served  # reserved ahead of payment
    before = writes(loaded)
    with pytest.raises(Refused, match=f"course {COURSE} is not paid \\(order {order.id} is open"):
        kits.dispatch(uow(), line.kit, handover=True, today=AS_OF)
    assert writes(loaded) == before

    orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa")
    assert kits.dispatch(uow(), line.kit, handover=True, today=AS_OF).status == "handed_over"


def test_a_paid_order_cannot_be_paid_or_cancelled(loaded, uow, gateway):
    paid = _paid_order(uow, gateway)
    before = writes(loaded)
    with pytest.raises(Refused, match="nothing to pay"):
        orders.pay_order(uow(), gateway, paid.id, payment_method="pm_card_visa")
    with pytest.raises(Refused, match="only an unpaid order"):
        orders.cancel_order(uow(), gateway, paid.id)
    assert writes(loaded) == before


def test_localstripes_own_signed_webhook_reaches_the_listener_and_fulfils_the_order(
    loaded, uow, gateway, listener, localstripe, localstripe_webhook
):
    order = _order(uow)
    pending = orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa",
                               confirm=False)  # fmt: skip
    assert pending.status == "pending"
    localstripe_webhook(listener.url)

    # the card terminal confirms the payment; Stripe tells kitops by webhook
    stripe_call(localstripe, "POST", f"/v1/payment_intents/{_intent(pending)}/confirm")

    assert _wait_for(lambda: _show(uow, order.id).status == "paid")
    assert [status for _, status in _course_kits(uow)] == ["reserved"]
    with loaded.read_sessions() as session:
        handled = session.scalars(
            select(StripeEventRow).where(StripeEventRow.order_id == order.id)
        ).all()
    assert [(e.type, e.source, e.outcome.split(":")[0]) for e in handled] == [
        ("payment_intent.succeeded", "webhook", "applied")
    ]


# --- the endpoint -----------------------------------------------------------------------


def test_forged_stale_unsigned_and_oversize_deliveries_are_rejected_and_change_nothing(
    loaded, uow, gateway, listener
):
    order = _order(uow)
    pending = orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa",
                               confirm=False)  # fmt: skip
    obj = {"id": _intent(pending), "object": "payment_intent"}
    before = writes(loaded)

    forged = _send(listener, "payment_intent.succeeded", obj, secret="whsec_not_the_secret")
    stale = _send(listener, "payment_intent.succeeded", obj, timestamp=int(time.time()) - 3600)
    body = event_body("payment_intent.succeeded", obj)
    unsigned = post_webhook(listener.url, body, None)
    huge = post_webhook(listener.url, b"{" + b" " * (listener.max_body + 1) + b"}",
                        signature(body))  # fmt: skip
    tampered = post_webhook(listener.url, body.replace(b"succeeded", b"succeedeD"),
                            signature(body))  # fmt: skip

    assert [forged[0], stale[0], unsigned[0], huge[0], tampered[0]] == [400, 400, 400, 413, 400]
    assert "tolerance" in stale[1]
    assert writes(loaded) == before
    assert _show(uow, order.id).status == "pending"


def test_a_replayed_event_changes_nothing(loaded, uow, gateway, listener, localstripe):
    order = _order(uow)
    pending = orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa",
                               confirm=False)  # fmt: skip
    stripe_call(localstripe, "POST", f"/v1/payment_intents/{_intent(pending)}/confirm")
    body = event_body("payment_intent.succeeded", {"id": _intent(pending),
                                                   "object": "payment_intent"})  # fmt: skip

    first = post_webhook(listener.url, body, signature(body))
    after_first = writes(loaded)
    replay = post_webhook(listener.url, body, signature(body))

    assert first[0] == replay[0] == 200
    assert json.loads(first[1])["outcome"].startswith("applied")
    assert json.loads(replay[1])["outcome"].startswith("duplicate")
    assert writes(loaded) == after_first
    assert _show(uow, order.id).status == "paid"
    assert _audits(loaded, "course.fulfil") >= 1


def test_two_concurrent_deliveries_of_the_same_event_apply_it_once(
    loaded, uow, gateway, listener, localstripe
):
    order = _order(uow)
    pending = orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa",
                               confirm=False)  # fmt: skip
    stripe_call(localstripe, "POST", f"/v1/payment_intents/{_intent(pending)}/confirm")
    body = event_body("payment_intent.succeeded", {"id": _intent(pending),
                                                   "object": "payment_intent"})  # fmt: skip
    header = signature(body)
    answers: list[tuple[int, str]] = []
    start = threading.Barrier(4)

    def deliver() -> None:
        start.wait()
        answers.append(post_webhook(listener.url, body, header))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    outcomes = sorted(json.loads(text)["outcome"].split(":")[0] for _, text in answers)
    assert [status for status, _ in answers] == [200] * 4
    assert outcomes == ["applied", "duplicate", "duplicate", "duplicate"]
    assert len(_events(loaded, json.loads(body)["id"])) == 1
    assert _audits(loaded, "order.success") == 1
    assert [status for _, status in _course_kits(uow)] == ["reserved"]


def test_an_event_about_a_payment_that_is_not_a_kitops_order_is_acknowledged_and_ignored(
    loaded, uow, listener, localstripe
):
    foreign = stripe_call(localstripe, "POST", "/v1/payment_intents",
                          {"amount": "999", "currency": "gbp", "payment_method": "pm_card_visa",
                           "confirm": "true"})  # fmt: skip
    status, text, event_id = _send(listener, "payment_intent.succeeded",
                                   {"id": foreign["id"], "object": "payment_intent"})  # fmt: skip
    other = _send(listener, "customer.created", {"id": "cus_x", "object": "customer"})

    assert status == other[0] == 200
    assert json.loads(text)["outcome"].startswith("ignored")
    assert [e.outcome.split(":")[0] for e in _events(loaded, event_id)] == ["ignored"]


# --- refunds ----------------------------------------------------------------------------


# a kit back sealed from a patient waits in quarantine for a manager's release
@pytest.mark.parametrize(("restock", "kit_after"), [("sealed", "quarantine"),
                                                    ("write-off", "written_off")])  # fmt: skip
def test_a_refund_with_restock_returns_the_kit_when_stripe_confirms_it(
    loaded, uow, gateway, listener, restock, kit_after
):
    paid = _paid_order(uow, gateway)
    [(serial, _)] = _course_kits(uow)
    kits.dispatch(uow(), serial, handover=True, today=AS_OF)

    asked = orders.refund_order(uow(), gateway, paid.id, restock=restock)
    [refund] = asked.refunds
    assert (asked.status, asked.refunded.amount_minor) == ("paid", 0)  # not before the event
    assert (refund.amount.amount_minor, refund.status, refund.applied) == (
        KIT_PRICE,
        "succeeded",
        False,
    )

    status, text, _ = _send(listener, "refund.created", {
        "id": refund.refund_id, "object": "refund", "payment_intent": _intent(paid)})  # fmt: skip
    assert status == 200, text

    done = _show(uow, paid.id)
    assert (done.status, done.refunded.amount_minor) == ("refunded", KIT_PRICE)
    assert [r.applied for r in done.refunds] == [True]
    assert kits.show_kit(uow(readonly=True), serial).status == kit_after
    # the kit went out, so the course had begun: it ends early rather than being cancelled
    ended = courses.show_course(uow(readonly=True), COURSE)
    assert (ended.status, ended.status_reason) == ("ended_early", f"order {paid.id} refunded")
    # the same news again (the charge's own event) changes nothing
    again = _send(listener, "charge.refunded", {"id": "ch_x", "object": "charge",
                                                "payment_intent": _intent(paid)})  # fmt: skip
    assert json.loads(again[1])["outcome"].startswith("no change")
    assert _show(uow, paid.id).refunded.amount_minor == KIT_PRICE


def test_a_partial_refund_without_restock_keeps_the_kits(loaded, uow, gateway, listener):
    paid = _paid_order(uow, gateway)
    asked = orders.refund_order(uow(), gateway, paid.id, amount="50.00")
    _send(listener, "charge.refunded", {"id": "ch_y", "object": "charge",
                                        "payment_intent": _intent(paid)})  # fmt: skip

    done = _show(uow, paid.id)
    assert (done.status, done.paid.amount_minor, done.refunded.amount_minor) == (
        "partially_refunded", KIT_PRICE, 5000)  # fmt: skip
    assert asked.refunds[0].restock == "none"
    assert [status for _, status in _course_kits(uow)] == ["reserved"]


def test_a_refund_larger_than_the_charge_is_refused_and_nothing_is_written(
    loaded, uow, gateway, localstripe, monkeypatch
):
    paid = _paid_order(uow, gateway)
    before = writes(loaded)

    with pytest.raises(Refused, match="more than the 31500"):
        orders.refund_order(uow(), gateway, paid.id, amount="315.01")
    assert writes(loaded) == before
    with monkeypatch.context() as env:  # a refundable order, and no key: named, no row
        env.delenv("KITOPS_STRIPE_API_KEY")
        with pytest.raises(PaymentsNotConfigured, match="KITOPS_STRIPE_API_KEY is not set"):
            orders.refund_order(uow(), None, paid.id, amount="10.00")
    assert writes(loaded) == before
    refunds = stripe_call(localstripe, "GET", f"/v1/refunds?payment_intent={_intent(paid)}")
    assert refunds["data"] == []

    orders.refund_order(uow(), gateway, paid.id, amount="300.00")
    with pytest.raises(Refused, match="more than the 1500"):  # 15.00 left, in flight counts
        orders.refund_order(uow(), gateway, paid.id, amount="15.01")
    with pytest.raises(InvalidInput, match="amount"):
        orders.refund_order(uow(), gateway, paid.id, amount="-1")


def test_a_refund_that_arrives_before_the_success_event_never_fulfils(
    loaded, uow, gateway, listener, localstripe
):
    order = _order(uow)
    pending = orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa",
                               confirm=False)  # fmt: skip
    intent = _intent(pending)
    stripe_call(localstripe, "POST", f"/v1/payment_intents/{intent}/confirm")
    refund = stripe_call(localstripe, "POST", "/v1/refunds", {"payment_intent": intent})
    fulfilled_before = _audits(loaded, "course.fulfil")

    # the refund's event is delivered first, the success afterwards
    first = _send(listener, "refund.created", {"id": refund["id"], "object": "refund",
                                               "payment_intent": intent})  # fmt: skip
    assert _show(uow, order.id).status == "pending"
    second = _send(listener, "payment_intent.succeeded", {"id": intent,
                                                          "object": "payment_intent"})  # fmt: skip

    assert first[0] == second[0] == 200
    done = _show(uow, order.id)
    assert (done.status, done.paid.amount_minor, done.refunded.amount_minor) == (
        "refunded", KIT_PRICE, KIT_PRICE)  # fmt: skip
    assert _course_kits(uow) == []  # the kit held while paying went back; none reserved
    assert _audits(loaded, "course.fulfil") == fulfilled_before
    with loaded.read_sessions() as session:
        rows = session.scalars(select(OrderRefundRow)).all()
    assert [(r.refund_id, r.applied, r.restock) for r in rows] == [(refund["id"], True, "none")]


# --- Checkout (paying from home) --------------------------------------------------------


def test_a_checkout_paid_from_home_fulfils_the_order_once(
    loaded, uow, gateway, listener, localstripe
):
    order = _order(uow)
    started = orders.pay_order(uow(), gateway, order.id, checkout=True,
                               success_url="https://clinic.example/thanks")  # fmt: skip
    [attempt] = started.payments
    assert (started.status, attempt.method) == ("pending", "checkout")
    assert attempt.url
    assert attempt.session_id

    # the patient pays on Stripe's page; Stripe sends checkout.session.completed
    session = stripe_call(
        localstripe, "POST", f"/_config/checkout_sessions/{attempt.session_id}/pay"
    )
    completed = {"id": attempt.session_id, "object": "checkout.session", "payment_status": "paid"}
    status, text, _ = _send(listener, "checkout.session.completed", completed)
    assert status == 200, text

    paid = _show(uow, order.id)
    assert (paid.status, paid.paid.amount_minor) == ("paid", KIT_PRICE)
    assert paid.payments[0].intent_id == session["payment_intent"]
    assert [s for _, s in _course_kits(uow)] == ["reserved"]
    # the payment's own event arrives too: nothing more happens
    late = _send(listener, "payment_intent.succeeded", {"id": session["payment_intent"],
                                                        "object": "payment_intent"})  # fmt: skip
    assert json.loads(late[1])["outcome"].startswith("no change")
    assert _audits(loaded, "order.success") == 2  # one applied, one without effect


def test_a_completed_checkout_that_is_not_paid_does_not_fulfil(loaded, uow, gateway, listener):
    order = _order(uow)
    started = orders.pay_order(uow(), gateway, order.id, checkout=True,
                               success_url="https://clinic.example/thanks")  # fmt: skip
    session_id = started.payments[0].session_id

    # a forged claim of payment in a correctly signed event: the session says unpaid
    _send(listener, "checkout.session.completed", {"id": session_id, "object": "checkout.session",
                                                   "payment_status": "paid"})  # fmt: skip

    assert _show(uow, order.id).status == "pending"


def test_a_checkout_that_expires_fails_the_order_and_releases_its_kit(
    loaded, uow, gateway, listener, localstripe
):
    order = _order(uow)
    started = orders.pay_order(uow(), gateway, order.id, checkout=True,
                               success_url="https://clinic.example/thanks")  # fmt: skip
    assert [s for _, s in _course_kits(uow)] == ["reserved"]  # held while the patient pays
    session_id = started.payments[0].session_id
    stripe_call(localstripe, "POST", f"/v1/checkout/sessions/{session_id}/expire")

    _send(listener, "checkout.session.expired", {"id": session_id, "object": "checkout.session"})

    expired = _show(uow, order.id)
    assert (expired.status, expired.payments[0].status) == ("failed", "expired")
    assert _course_kits(uow) == []


def test_cancelling_a_pending_order_cancels_its_payment_at_stripe(
    loaded, uow, gateway, localstripe
):
    order = _order(uow)
    pending = orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa",
                               confirm=False)  # fmt: skip

    cancelled = orders.cancel_order(uow(), gateway, order.id)

    assert cancelled.status == "cancelled"
    assert _course_kits(uow) == []
    at_stripe = stripe_call(localstripe, "GET", f"/v1/payment_intents/{_intent(pending)}")
    assert at_stripe["status"] == "canceled"


# --- the Events API ---------------------------------------------------------------------


def test_sync_reads_the_events_api_and_running_it_or_the_webhook_again_changes_nothing(
    loaded, uow, gateway, listener, localstripe
):
    order = _order(uow)
    pending = orders.pay_order(uow(), gateway, order.id, payment_method="pm_card_visa",
                               confirm=False)  # fmt: skip
    stripe_call(localstripe, "POST", f"/v1/payment_intents/{_intent(pending)}/confirm")

    first = payments.sync_events(uow(), gateway)
    assert first.failed == 0
    assert first.applied >= 1
    assert _show(uow, order.id).status == "paid"
    after_first = _audits(loaded, "course.fulfil")

    second = payments.sync_events(uow(), gateway)
    assert second.applied == 0
    assert second.failed == 0
    # the same event through the webhook as well: a duplicate
    events = stripe_call(localstripe, "GET", "/v1/events?type=payment_intent.succeeded&limit=100")
    mine = next(e for e in events["data"] if e["data"]["object"]["id"] == _intent(pending))
    body = json.dumps(mine).encode()
    status, text = post_webhook(listener.url, body, signature(body))
    assert status == 200
    assert json.loads(text)["outcome"].startswith("duplicate")
    assert _audits(loaded, "course.fulfil") == after_first
    assert [s for _, s in _course_kits(uow)] == ["reserved"]


# --- the report -------------------------------------------------------------------------


def test_payments_report_gives_paid_refunded_and_outstanding_per_clinic_and_currency(
    loaded, uow, gateway, listener
):
    paid = _paid_order(uow, gateway)
    orders.refund_order(uow(), gateway, paid.id, amount="15.00")
    _send(listener, "charge.refunded", {"id": "ch_z", "object": "charge",
                                        "payment_intent": _intent(paid)})  # fmt: skip
    orders.create_order(uow(), 4)  # clinic course at LON, 1800.00 GBP, unpaid
    orders.set_price(uow(), "KIT-HOME-6W", "330.00", "EUR")
    orders.create_order(uow(), 7)  # VIE, unpaid

    lines = payments.payments_report(uow(readonly=True))

    got = {(line.clinic, line.currency): line for line in lines}
    lon, vie = got[("LON", "GBP")], got[("VIE", "EUR")]
    assert (lon.orders, lon.paid_orders, lon.paid.amount_minor, lon.refunded.amount_minor,
            lon.net.amount_minor) == (2, 1, KIT_PRICE, 1500, KIT_PRICE - 1500)  # fmt: skip
    assert (lon.outstanding_orders, lon.outstanding.amount_minor) == (1, 180000)
    assert (vie.orders, vie.paid.amount_minor, vie.outstanding.amount_minor,
            str(vie.outstanding)) == (1, 0, 33000, "330.00 EUR")  # fmt: skip
    assert [line.clinic for line in payments.payments_report(uow(readonly=True),
                                                            clinic="VIE")] == ["VIE"]  # fmt: skip


def test_a_payment_left_for_the_card_terminal_stays_pending_until_stripe_confirms(
    loaded, uow, gateway
):
    order = _order(uow)
    first = orders.pay_order(uow(), gateway, order.id)  # no card yet: the terminal takes it
    again = orders.pay_order(uow(), gateway, order.id)

    assert first.status == again.status == "pending"
    assert [(p.attempt, p.status) for p in again.payments] == [(1, "pending")]
    assert [s for _, s in _course_kits(uow)] == ["reserved"]
