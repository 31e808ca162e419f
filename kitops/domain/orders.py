"""Orders and their payment: the state machine and the money arithmetic, in pure Python.

An order's amounts are integer minor units of its currency. Its state moves only along
the transitions below, whichever way the news arrives (a webhook, the Events API, the
command that took the card) and however often or late it arrives: a decision is taken
on the provider's *current* view of the payment and on the order as recorded, and a
second delivery of the same news finds nothing left to do.

::

    open ──pay──▶ pending ──confirmed──▶ paid ──refund──▶ partially_refunded ──▶ refunded
      │            │  ▲                    └──────────────refund (all)──────────────┘
      │            ▼  │pay again
      │          failed ──confirmed (late)──▶ paid
      └─cancel─▶ cancelled ◀─cancel─ pending / failed

A refund confirmed before the payment itself was processed never fulfils the order:
when the payment is then seen, the refunds already confirmed are netted first, and an
order refunded in full goes straight to ``refunded``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from kitops.domain.numbers import parse_id
from kitops.errors import InvalidInput, Refused
from kitops.i18n import _
from kitops.i18n.labels import status_label


class OrderStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    FAILED = "failed"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.OPEN: frozenset({S.PENDING, S.CANCELLED}),
    S.PENDING: frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED, S.FAILED, S.CANCELLED}),
    S.FAILED: frozenset({S.PENDING, S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED, S.CANCELLED}),
    S.PAID: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.REFUNDED: frozenset(),
    S.CANCELLED: frozenset(),
}
AWAITING_PAYMENT = frozenset({S.OPEN, S.PENDING, S.FAILED})
SETTLED = frozenset({S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED})
REFUNDABLE = frozenset({S.PAID, S.PARTIALLY_REFUNDED})


class RestockMode(StrEnum):
    """What happens to an order's kits when its refund is confirmed."""

    NONE = "none"  # money only (a goodwill or partial refund)
    SEALED = "sealed"  # the kits come back sealed: available again
    WRITE_OFF = "write-off"  # the kits were opened: written off


def parse_restock(value: str | None) -> RestockMode:
    if value is None or value == "":
        return RestockMode.NONE
    try:
        return RestockMode(value.strip().lower())
    except ValueError:
        raise InvalidInput("restock", value, _("must be sealed or write-off")) from None


def can_move(current: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[current]


def move(current: OrderStatus, target: OrderStatus) -> OrderStatus:
    if not can_move(current, target):
        raise Refused(
            _("an order that is {current} cannot become {target}").format(
                current=current.value, target=target.value
            )
        )
    return target


@dataclass(frozen=True)
class Line:
    """One priced line: quantity × unit amount, in minor units."""

    description: str
    quantity: int
    unit_amount: int

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_amount


MAX_ORDER_MINOR = 10**12


def order_total(lines: Iterable[Line]) -> int:
    lines = list(lines)
    if not lines:
        raise InvalidInput("items", None, _("an order needs at least one priced line"))
    for line in lines:
        if line.quantity <= 0:
            raise InvalidInput("quantity", line.quantity, _("must be at least 1"))
        if line.unit_amount < 0:
            raise InvalidInput("price", line.unit_amount, _("must not be negative"))
    total = sum(line.amount for line in lines)
    if total <= 0:
        raise InvalidInput("total", total, _("an order must cost something to be paid"))
    if total > MAX_ORDER_MINOR:
        raise InvalidInput("total", total, _("is larger than kitops takes in one order"))
    return total


_ITEM = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:[=x×:]\s*(\d+))?\s*$")


def parse_items(values: Iterable[str]) -> list[tuple[str, int]]:
    """``["CHX-0.5=2", "STAMP-0.4"]`` or ``["CHX-0.5=2,STAMP-0.4"]`` → SKUs and quantities."""
    found: dict[str, int] = {}
    for value in values:
        for part in value.split(","):
            if not part.strip():
                continue
            match = _ITEM.match(part)
            if match is None:
                raise InvalidInput("items", part.strip(), _("must be SKU or SKU=QTY"))
            sku, qty = match.group(1).upper(), int(match.group(2) or 1)
            if not 1 <= qty <= 1000:
                raise InvalidInput("items", part.strip(), _("the quantity must be 1-1000"))
            found[sku] = found.get(sku, 0) + qty
    return list(found.items())


@dataclass(frozen=True)
class OrderMoney:
    """An order as recorded: where it stands and what it has received and returned."""

    status: OrderStatus
    total: int
    paid: int = 0
    refunded: int = 0

    @property
    def outstanding(self) -> int:
        return self.total - self.paid if self.status in AWAITING_PAYMENT else 0

    @property
    def refundable(self) -> int:
        return self.paid - self.refunded


@dataclass(frozen=True)
class Decision:
    """What to do about one piece of news: the order's new state and its stock effects."""

    before: OrderMoney
    after: OrderMoney
    fulfil: bool = False  # reserve the course's kits now (money confirmed)
    release: bool = False  # give back kits held for the order (payment did not happen)
    note: str = ""

    @property
    def changed(self) -> bool:
        return self.before != self.after


def start_payment(order: OrderMoney) -> OrderMoney:
    """A new payment attempt (card in clinic or Checkout from home)."""
    if order.status not in (S.OPEN, S.FAILED):
        if order.status is S.PENDING:
            raise Refused(_("the order already has a payment in progress"))
        raise Refused(
            _("the order is {status}; there is nothing to pay").format(
                status=status_label(order.status.value)
            )
        )
    return OrderMoney(move(order.status, S.PENDING), order.total, order.paid, order.refunded)


def payment_confirmed(order: OrderMoney, received: int, refunds_confirmed: int) -> Decision:
    """The provider says the money arrived (``received``), of which ``refunds_confirmed``
    has already gone back. Only this decision fulfils, and only once."""
    if received <= 0:
        return Decision(order, order, note="no money received yet")
    if order.status not in AWAITING_PAYMENT:
        return Decision(order, order, note=f"already {order.status.value}")
    refunded = min(refunds_confirmed, received)
    if refunded >= received:
        after = OrderMoney(move(order.status, S.REFUNDED), order.total, received, received)
        note = "refunded in full before the payment was processed; not fulfilled"
        return Decision(order, after, release=True, note=note)
    # refunds already confirmed are applied one by one after this (``refund_confirmed``)
    after = OrderMoney(move(order.status, S.PAID), order.total, received, order.refunded)
    return Decision(order, after, fulfil=True, note="paid")


def payment_failed(order: OrderMoney) -> Decision:
    """The attempt failed, was cancelled or its Checkout expired."""
    if order.status is not S.PENDING:
        return Decision(order, order, note=f"already {order.status.value}")
    after = OrderMoney(move(order.status, S.FAILED), order.total, order.paid, order.refunded)
    return Decision(order, after, release=True, note="payment failed")


def refund_confirmed(order: OrderMoney, amount: int) -> Decision:
    """A refund of ``amount`` is confirmed. Before the payment itself is processed it
    changes nothing (the confirmation of the payment nets it)."""
    if amount <= 0:
        return Decision(order, order, note="nothing refunded")
    if order.status not in REFUNDABLE:
        return Decision(order, order, note=f"order is {order.status.value}; refund kept")
    refunded = min(order.refunded + amount, order.paid)
    target = S.REFUNDED if refunded >= order.paid else S.PARTIALLY_REFUNDED
    after = OrderMoney(move(order.status, target), order.total, order.paid, refunded)
    return Decision(order, after, note="refunded")


def check_refund_request(order: OrderMoney, amount: int | None, in_flight: int) -> int:
    """The amount to refund now: all that is left when ``amount`` is None. Refuses an
    order that has not been paid, and more than was paid less what is refunded or
    already on its way back (``in_flight``)."""
    if order.status not in REFUNDABLE:
        raise Refused(
            _("the order is {status}; only a paid order can be refunded").format(
                status=status_label(order.status.value)
            )
        )
    left = order.paid - order.refunded - in_flight
    if amount is None:
        amount = left
    if amount <= 0 and left <= 0:
        raise Refused(_("the order has been refunded in full already"))
    if amount <= 0:
        raise InvalidInput("amount", amount, _("must be more than zero"))
    if amount > left:
        if in_flight:
            message = _(
                "a refund of {amount} is more than the {left} (minor units) left to refund "
                "on this order (paid {paid}, refunded {refunded}, {in_flight} on its way back)"
            )
        else:
            message = _(
                "a refund of {amount} is more than the {left} (minor units) left to refund "
                "on this order (paid {paid}, refunded {refunded})"
            )
        raise Refused(
            message.format(
                amount=amount,
                left=left,
                paid=order.paid,
                refunded=order.refunded,
                in_flight=in_flight,
            )
        )
    return amount


def cancel(order: OrderMoney) -> OrderMoney:
    if order.status not in (S.OPEN, S.PENDING, S.FAILED):
        raise Refused(
            _("the order is {status}; only an unpaid order can be cancelled").format(
                status=status_label(order.status.value)
            )
        )
    return OrderMoney(move(order.status, S.CANCELLED), order.total, order.paid, order.refunded)


def idempotency_key(order_reference: str, step: str, number: int) -> str:
    """The key that makes a retried step a no-op at the provider: derived from the order
    (its random reference, fixed when it was created) and the step, never drawn afresh
    (``kitops-order-3f9c0d1e2b4a5c6d-pay-card-1``)."""
    if not re.fullmatch(r"[a-z][a-z-]*", step) or not order_reference.isalnum():
        raise ValueError(f"bad idempotency key parts {order_reference!r}, {step!r}")
    return f"kitops-order-{order_reference}-{step}-{number}"


def parse_order_id(value: int | str) -> int:
    return parse_id(value, "order", _("an order number"))
