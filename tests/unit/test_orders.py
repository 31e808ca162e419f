"""The order state machine and its money arithmetic, without a database or Stripe."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitops.domain import orders as rules
from kitops.domain.orders import Line, OrderMoney, OrderStatus, RestockMode
from kitops.errors import InvalidInput, Refused

S = OrderStatus
KIT = 31500


def test_an_order_totals_its_lines_in_minor_units():
    lines = [Line("At-home kit", 2, KIT), Line("Chlorhexidine", 3, 450)]
    assert rules.order_total(lines) == 2 * KIT + 1350


@pytest.mark.parametrize(
    "lines", [[], [Line("free", 1, 0)], [Line("kit", 0, KIT)], [Line("kit", 1, -1)]]
)
def test_an_order_without_a_positive_total_is_bad_input(lines):
    with pytest.raises(InvalidInput):
        rules.order_total(lines)


def test_items_parse_as_sku_and_quantity_and_merge():
    assert rules.parse_items(["chx-0.5=2,STAMP-0.4", "CHX-0.5=1"]) == [
        ("CHX-0.5", 3), ("STAMP-0.4", 1)]  # fmt: skip


@pytest.mark.parametrize("value", ["CHX=0", "CHX=x", "=2", "CHX=1001", "two words"])
def test_malformed_items_name_the_field_and_value(value):
    with pytest.raises(InvalidInput, match="items"):
        rules.parse_items([value])


def test_paying_moves_an_open_or_failed_order_to_pending_and_nothing_else():
    assert rules.start_payment(OrderMoney(S.OPEN, KIT)).status is S.PENDING
    assert rules.start_payment(OrderMoney(S.FAILED, KIT)).status is S.PENDING
    with pytest.raises(Refused, match="in progress"):
        rules.start_payment(OrderMoney(S.PENDING, KIT))
    for status in (S.PAID, S.REFUNDED, S.CANCELLED, S.PARTIALLY_REFUNDED):
        with pytest.raises(Refused, match="nothing to pay"):
            rules.start_payment(OrderMoney(status, KIT))


def test_confirmed_money_pays_and_fulfils_once():
    first = rules.payment_confirmed(OrderMoney(S.PENDING, KIT), KIT, 0)
    assert (first.after.status, first.after.paid, first.fulfil) == (S.PAID, KIT, True)
    again = rules.payment_confirmed(first.after, KIT, 0)
    assert (again.changed, again.fulfil) == (False, False)


def test_a_late_success_after_a_failed_attempt_still_pays():
    decision = rules.payment_confirmed(OrderMoney(S.FAILED, KIT), KIT, 0)
    assert (decision.after.status, decision.fulfil) == (S.PAID, True)


def test_a_refund_confirmed_before_the_payment_never_fulfils():
    early = rules.refund_confirmed(OrderMoney(S.PENDING, KIT), KIT)
    assert not early.changed
    decision = rules.payment_confirmed(OrderMoney(S.PENDING, KIT), KIT, KIT)
    assert decision.after == OrderMoney(S.REFUNDED, KIT, KIT, KIT)
    assert (decision.fulfil, decision.release) == (False, True)


def test_a_partial_refund_before_the_payment_pays_then_refunds():
    paid = rules.payment_confirmed(OrderMoney(S.PENDING, KIT), KIT, 1000)
    assert (paid.after.status, paid.after.refunded, paid.fulfil) == (S.PAID, 0, True)
    refunded = rules.refund_confirmed(paid.after, 1000)
    assert refunded.after == OrderMoney(S.PARTIALLY_REFUNDED, KIT, KIT, 1000)


def test_a_failure_releases_kits_only_for_a_pending_order():
    failed = rules.payment_failed(OrderMoney(S.PENDING, KIT))
    assert (failed.after.status, failed.release) == (S.FAILED, True)
    stale = rules.payment_failed(OrderMoney(S.PAID, KIT, KIT))
    assert (stale.changed, stale.release) == (False, False)


def test_refunds_go_partial_then_full_and_never_past_what_was_paid():
    paid = OrderMoney(S.PAID, KIT, KIT)
    part = rules.refund_confirmed(paid, 5000).after
    assert (part.status, part.refunded) == (S.PARTIALLY_REFUNDED, 5000)
    full = rules.refund_confirmed(part, KIT).after
    assert (full.status, full.refunded) == (S.REFUNDED, KIT)


def test_a_refund_request_over_what_is_left_is_refused():
    paid = OrderMoney(S.PAID, KIT, KIT, 1000)
    assert rules.check_refund_request(paid, None, 0) == KIT - 1000
    assert rules.check_refund_request(paid, 500, 0) == 500
    with pytest.raises(Refused, match="more than"):
        rules.check_refund_request(paid, KIT - 999, 0)
    with pytest.raises(Refused, match="on its way back"):
        rules.check_refund_request(paid, 600, KIT - 1500)
    with pytest.raises(Refused, match="only a paid order"):
        rules.check_refund_request(OrderMoney(S.PENDING, KIT), 100, 0)
    with pytest.raises(Refused, match="only a paid order"):
        rules.check_refund_request(OrderMoney(S.REFUNDED, KIT, KIT, KIT), None, 0)
    with pytest.raises(Refused, match="in full already"):
        rules.check_refund_request(OrderMoney(S.PARTIALLY_REFUNDED, KIT, KIT, 100), None, KIT - 100)


def test_cancelling_is_for_unpaid_orders():
    assert rules.cancel(OrderMoney(S.PENDING, KIT)).status is S.CANCELLED
    with pytest.raises(Refused):
        rules.cancel(OrderMoney(S.PAID, KIT, KIT))


def test_only_allowed_transitions_are_taken():
    assert rules.can_move(S.PAID, S.REFUNDED)
    assert not rules.can_move(S.REFUNDED, S.PAID)
    assert not rules.can_move(S.CANCELLED, S.PAID)
    with pytest.raises(Refused):
        rules.move(S.PAID, S.PENDING)


def test_idempotency_keys_come_from_the_order_and_the_step():
    key = rules.idempotency_key("3f9c0d1e2b4a5c6d", "pay-card", 1)
    assert key == "kitops-order-3f9c0d1e2b4a5c6d-pay-card-1"
    assert key == rules.idempotency_key("3f9c0d1e2b4a5c6d", "pay-card", 1)
    assert key != rules.idempotency_key("3f9c0d1e2b4a5c6d", "refund", 1)
    assert key != rules.idempotency_key("3f9c0d1e2b4a5c6d", "pay-card", 2)


def test_restock_modes_parse():
    assert rules.parse_restock(None) is RestockMode.NONE
    assert rules.parse_restock("Sealed") is RestockMode.SEALED
    with pytest.raises(InvalidInput, match="restock"):
        rules.parse_restock("opened")


news = st.one_of(
    st.tuples(st.just("paid"), st.integers(1, KIT), st.integers(0, KIT)),
    st.tuples(st.just("failed"), st.just(0), st.just(0)),
    st.tuples(st.just("refund"), st.integers(1, KIT), st.just(0)),
)


@given(st.lists(news, max_size=12))
def test_any_sequence_of_news_keeps_the_money_consistent_and_fulfils_at_most_once(sequence):
    order = OrderMoney(S.PENDING, KIT)
    fulfilled = 0
    for kind, amount, refunds in sequence:
        if kind == "paid":
            decision = rules.payment_confirmed(order, amount, refunds)
        elif kind == "failed":
            decision = rules.payment_failed(order)
        else:
            decision = rules.refund_confirmed(order, amount)
        assert decision.before == order
        if decision.changed:
            assert rules.can_move(order.status, decision.after.status) or (
                order.status == decision.after.status
            )
        fulfilled += decision.fulfil
        order = decision.after
        assert 0 <= order.refunded <= order.paid
    assert fulfilled <= 1
