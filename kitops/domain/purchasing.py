"""Purchase orders: their statuses and the changes a person makes to them."""

from __future__ import annotations

from enum import StrEnum

from kitops.errors import Refused


class POStatus(StrEnum):
    """A purchase order's state (the ``purchase_orders.status`` CHECK constraint holds the
    same set)."""

    DRAFT = "draft"
    APPROVED = "approved"
    SENT = "sent"
    PARTIAL = "partial"
    RECEIVED = "received"
    CANCELLED = "cancelled"


PO_STATUSES = tuple(status.value for status in POStatus)
# still to be received (in part): counted as on order
OPEN_PO_STATUSES = (
    POStatus.DRAFT.value,
    POStatus.APPROVED.value,
    POStatus.SENT.value,
    POStatus.PARTIAL.value,
)
# ordered from the supplier: goods may be received against it
RECEIVABLE = (POStatus.APPROVED.value, POStatus.SENT.value, POStatus.PARTIAL.value)

# action → (the statuses it may start from, the status it leads to); receiving moves an
# order to partial or received as its lines arrive
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((POStatus.DRAFT.value,), POStatus.APPROVED.value),
    "send": ((POStatus.APPROVED.value,), POStatus.SENT.value),
    "cancel": (OPEN_PO_STATUSES, POStatus.CANCELLED.value),
}


def check_transition(number: str, current: str, action: str) -> str:
    """The status an order in ``current`` reaches by ``action``; refused when the action
    does not apply to it."""
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise Refused(f"{number} is {current}; only a {' or '.join(allowed)} order can be {target}")
    return target
