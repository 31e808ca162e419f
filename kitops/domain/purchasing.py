"""Purchase-order numbers and supplier codes: how they are written and read."""

from __future__ import annotations

import re

from kitops.errors import InvalidInput

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
        raise InvalidInput(field, value, "must be a purchase order number such as PO-000012")
    return int(match.group(1))


def parse_supplier_code(value: str, field: str = "supplier") -> str:
    code = value.strip().upper()
    if not _SUPPLIER_CODE.fullmatch(code):
        raise InvalidInput(field, value, "must be 1-32 letters, digits, '.', '_' or '-'")
    return code
