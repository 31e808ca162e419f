"""A payment-event batch for the kill test, run as a child process.

``python payment_batch.py URL FIRST LAST`` hands one ``payment_intent.succeeded`` event
per order FIRST..LAST to the one payment-event handler (``kitops.services.payments.
handle_event``, the code `stripe listen` and `stripe sync` share), in order, each in its
own transaction, against a stand-in for Stripe that says every payment succeeded.

The stand-in keeps no state: a PaymentIntent's id carries the order, amount and currency
(``pi_fault_<order>_<amount>_<currency>``), so the process that creates the intents (the
test) and the one that is killed (this script) agree without sharing anything.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from kitops.payments.gateway import CheckoutState, PaymentEvent, PaymentState, RefundState


class StatelessStripe:
    """Enough of the Gateway protocol for paying by card and confirming it."""

    def create_payment_intent(self, *, amount: int, currency: str, metadata: dict[str, str],
                              **_: Any) -> PaymentState:  # fmt: skip
        intent = f"pi_fault_{metadata['kitops_order']}_{amount}_{currency}"
        return PaymentState(intent, "requires_confirmation", amount, 0, currency, metadata)

    def retrieve_payment(self, intent_id: str) -> PaymentState:
        _, _, order, amount, currency = intent_id.split("_")
        return PaymentState(intent_id, "succeeded", int(amount), int(amount), currency,
                            {"kitops_order": order})  # fmt: skip

    def retrieve_checkout(self, session_id: str) -> CheckoutState:
        raise AssertionError("no Checkout in this test")

    def retrieve_refund(self, refund_id: str) -> RefundState:
        raise AssertionError("no refunds in this test")

    def intent_of_charge(self, charge_id: str) -> str | None:
        raise AssertionError("no charges in this test")

    def events_since(self, created_gte: int | None) -> Iterator[PaymentEvent]:
        raise AssertionError("events come from the batch")


def succeeded_event(order_id: int, intent_id: str) -> PaymentEvent:
    return PaymentEvent(
        event_id=f"evt_fault_{order_id}", type="payment_intent.succeeded",
        created=1_795_000_000 + order_id, object_type="payment_intent", object_id=intent_id,
        intent_id=intent_id, metadata={"kitops_order": str(order_id)},
    )  # fmt: skip


def main(url: str, first: int, last: int) -> None:
    from sqlalchemy import select

    from kitops.data.engine import open_database
    from kitops.data.schema import OrderPaymentRow
    from kitops.services.payments import handle_event
    from kitops.services.unit_of_work import UnitOfWork

    db = open_database(url)
    gateway: Any = StatelessStripe()
    try:
        with db.read_sessions() as session:
            intents = dict(session.execute(
                select(OrderPaymentRow.order_id, OrderPaymentRow.intent_id)
                .where(OrderPaymentRow.order_id.between(first, last))
            ).all())  # fmt: skip
        for order_id in range(first, last + 1):
            event = succeeded_event(order_id, intents[order_id])
            handle_event(UnitOfWork(db, "stripe-batch"), gateway, event, source="sync")
    finally:
        db.dispose()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
