"""Frozen values that cross the service boundary; the CLI and the TUI see only these.

One module per area: ``catalog``, ``database`` (imports, the ledger check, the demo),
``stock`` (locations, stock, receipts, moves, counts, lots, trace, the expiry sweep),
``kits``, ``courses`` (plans, calendars, fulfilment, sessions), ``users``,
``purchasing`` (suppliers, policies, purchase orders, exports), ``reorder`` (demand,
cover, reorder runs), ``payments``, ``jobs`` and ``reports`` (the report model). Import
an area under its own name (``from kitops.services.dto import stock as stock_dto``) or
its classes by name, so a name always means one thing. Every amount of money is a
``kitops.domain.money.Money``.

``as_json`` gives the stable ``--json`` shape documented in the README: dates as
ISO strings, decimals as strings, enums as their values, money as
``{"amount_minor": 1250, "currency": "GBP"}`` (the shape of the reports' JSON too).
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from kitops.domain.money import Money


def as_json(value: Any) -> Any:
    if isinstance(value, Money):
        return {"amount_minor": value.amount_minor, "currency": value.currency}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: as_json(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.metadata.get("json", True)  # a field for people only stays out of JSON
        }
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value
