"""Frozen values of the catalogue: products and their recipes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class RecipeLine:
    component_sku: str
    quantity: int


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    kind: str
    unit: str
    gtin: str | None
    ml: Decimal | None
    needle_mm: Decimal | None
    at_home_allowed: bool
    lot_tracked: bool
    requires_release: bool
    shelf_life_days: int | None
    expiry_alert_days: int
    min_shelf_life_on_receipt_days: int
    recipe: tuple[RecipeLine, ...] = ()
    # the lines printed on the product's labels (none when unset)
    storage: str | None = None
    usage: str | None = None
