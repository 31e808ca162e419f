"""Purchase orders: how their numbers and supplier codes are written and read, their
statuses and the changes a person makes to them."""

from __future__ import annotations

import re
from enum import StrEnum

from kitops.errors import InvalidInput, Refused
from kitops.i18n import _

_PO_NUMBER = re.compile(r"(?:PO-)?0*([0-9]{1,9})", re.IGNORECASE | re.ASCII)
_KITOPS_PO = re.compile(r"(?:PO-[0-9]{6,}|[0-9]{1,9})", re.IGNORECASE | re.ASCII)
_SUPPLIER_CODE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,31}", re.ASCII)


def po_number(order_id: int) -> str:
    """``PO-000012``: six digits at least, so it never looks like a free-text reference
    such as ``PO-4711`` on a delivery note."""
    return f"PO-{order_id:06d}"


def is_po_number(text: str) -> bool:
    """Whether a ``--po`` value names a kitops purchase order (``12`` or ``PO-000012``)
    rather than a supplier's own reference."""
    return bool(_KITOPS_PO.fullmatch(text.strip()))


def parse_po(value: str | int, field: str = "po") -> int:
    match = _PO_NUMBER.fullmatch(str(value).strip())
    if not match:
        raise InvalidInput(field, value, _("must be a purchase order number such as PO-000012"))
    return int(match.group(1))


def parse_supplier_code(value: str, field: str = "supplier") -> str:
    code = value.strip().upper()
    if not _SUPPLIER_CODE.fullmatch(code):
        raise InvalidInput(field, value, _("must be 1-32 letters, digits, '.', '_' or '-'"))
    return code


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
        raise Refused(
            _("{number} is {current}; only a {allowed} order can be {target}").format(
                number=number, current=current, allowed=" or ".join(allowed), target=target
            )
        )
    return target
