"""Frozen values of orders and payments that cross the service boundary.

Money is always an integer of minor units beside its currency (``total_minor``,
``currency``); ``total`` and friends are the same amounts as display text
(``"315.00 GBP"``). ``kitops.services.dto.as_json`` gives their ``--json`` shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Price:
    item: str  # a product SKU, or plan:CODE
    kind: str  # product | plan
    currency: str
    amount_minor: int
    amount: str


@dataclass(frozen=True)
class OrderLine:
    line_no: int
    item: str
    description: str
    quantity: int
    unit_amount_minor: int
    amount_minor: int


@dataclass(frozen=True)
class OrderPayment:
    attempt: int
    method: str  # card | checkout
    status: str
    amount_minor: int
    intent_id: str | None
    session_id: str | None
    url: str | None
    failure: str | None


@dataclass(frozen=True)
class OrderRefund:
    refund_no: int
    amount_minor: int
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
    total_minor: int
    paid_minor: int
    refunded_minor: int
    outstanding_minor: int
    total: str
    paid: str
    refunded: str
    outstanding: str
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
    paid_minor: int
    refunded_minor: int
    net_minor: int
    outstanding_orders: int
    outstanding_minor: int
    paid: str
    refunded: str
    net: str
    outstanding: str
