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
    address: str | None = None
    payment_terms: str | None = None


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
class PaperLine:
    """One line of a purchase order as the supplier reads it."""

    position: int
    sku: str
    supplier_sku: str | None
    description: str
    kind: str
    quantity: int
    unit_price: Money
    net: Money
    vat_rate_bp: int | None  # None: no rate set for the clinic's country and this kind
    vat: Money | None


@dataclass(frozen=True)
class OrderPaper:
    """A purchase order with what the supplier needs to act on it: who buys and where
    it goes, who sells, the lines with VAT, the totals and the payment terms."""

    number: str
    status: str
    as_of: date
    expected_on: date | None
    currency: str
    clinic: str
    clinic_name: str
    delivery_address: str | None
    delivery_contact: str | None
    country: str | None
    supplier: str
    supplier_name: str
    supplier_address: str | None
    supplier_contact: str | None
    payment_terms: str | None
    note: str | None
    lines: tuple[PaperLine, ...]
    net: Money
    vat: Money  # the lines with a known rate
    gross: Money  # net + vat
    vat_missing: int  # lines without a VAT rate (their VAT is in no total)


@dataclass(frozen=True)
class Export:
    number: str
    format: str
    path: str
    bytes: int
