"""Frozen values of orders and payments that cross the service boundary.

Every amount is a ``Money`` (integer minor units and a currency): people see it as
``"315.00 GBP"``, and ``kitops.services.dto.as_json`` gives it the one ``--json`` shape
``{"amount_minor": 31500, "currency": "GBP"}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kitops.domain.money import Money


@dataclass(frozen=True)
class Price:
    item: str  # a product SKU, or plan:CODE
    kind: str  # product | plan
    currency: str
    amount: Money


@dataclass(frozen=True)
class OrderLine:
    line_no: int
    item: str
    description: str
    quantity: int
    unit_amount: Money
    amount: Money


@dataclass(frozen=True)
class OrderPayment:
    attempt: int
    method: str  # card | checkout
    status: str
    amount: Money
    intent_id: str | None
    session_id: str | None
    url: str | None
    failure: str | None


@dataclass(frozen=True)
class OrderRefund:
    refund_no: int
    amount: Money
    restock: str
    status: str
    applied: bool
    refund_id: str | None


@dataclass(frozen=True)
class OrderKit:
    serial: str
    part: int | None
    status: str


@dataclass(frozen=True)
class Order:
    id: int
    course_id: int
    patient_ref: str
    clinic: str
    currency: str
    status: str
    total: Money
    paid: Money
    refunded: Money
    outstanding: Money
    note: str | None
    created_at: datetime
    lines: tuple[OrderLine, ...]
    payments: tuple[OrderPayment, ...]
    refunds: tuple[OrderRefund, ...]
    kits: tuple[OrderKit, ...]


@dataclass(frozen=True)
class EventOutcome:
    event_id: str
    type: str
    order_id: int | None
    outcome: str  # applied | no change | duplicate | ignored
    detail: str


@dataclass(frozen=True)
class SyncReport:
    job: str
    events_seen: int
    applied: int
    unchanged: int
    duplicates: int
    ignored: int
    failed: int
    error: str | None
    cursor: int | None
    seconds: float


@dataclass(frozen=True)
class PaymentsLine:
    clinic: str
    currency: str
    orders: int
    paid_orders: int
    paid: Money
    refunded: Money
    net: Money
    outstanding_orders: int
    outstanding: Money
