"""Frozen values of suppliers, reorder policies, purchase orders and their exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from kitops.domain.money import Money


@dataclass(frozen=True)
class SupplierItem:
    sku: str
    supplier_sku: str | None
    pack_size: int
    min_order: int
    unit_cost: Money  # shown "35.00 GBP"


@dataclass(frozen=True)
class Supplier:
    code: str
    name: str
    lead_time_days: int
    currency: str
    contact: str | None
    active: bool
    items: tuple[SupplierItem, ...]


@dataclass(frozen=True)
class Policy:
    sku: str
    clinic: str
    supplier: str
    method: str
    min_qty: int | None
    max_qty: int | None
    review_period_days: int
    safety_days: int
    lead_time_days: int  # the policy's own, else the supplier's
    lead_time_from_supplier: bool
    active: bool


@dataclass(frozen=True)
class PurchaseOrderLine:
    sku: str
    supplier_sku: str | None
    quantity: int
    received: int
    open: int
    closed: bool
    unit_cost: Money
    line_total: Money
    need_by: date | None
    explanation: str | None


@dataclass(frozen=True)
class PurchaseOrder:
    number: str
    supplier: str
    supplier_name: str
    contact: str | None
    clinic: str
    status: str
    origin: str
    currency: str
    as_of: date
    expected_on: date | None
    created_at: datetime
    created_by: str
    approved_by: str | None
    sent_at: datetime | None
    total: Money
    note: str | None
    lines: tuple[PurchaseOrderLine, ...]


@dataclass(frozen=True)
class Export:
    number: str
    format: str
    path: str
    bytes: int
