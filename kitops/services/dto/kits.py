"""Frozen values of kits: a kit and its components, assembly and what limits it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class KitComponent:
    sku: str
    lot: str
    expiry: date | None
    quantity: int


@dataclass(frozen=True)
class Kit:
    serial: str
    sku: str
    location: str
    clinic: str | None
    expiry: date
    status: str
    recalled: bool
    course_id: int | None
    course_part: int | None
    patient_ref: str | None
    tracking: str | None
    components: tuple[KitComponent, ...]
    # the plans (codes) a kit of them could still serve if handed out today: every vial
    # in date on its last day of use plus the margin; none for a kit that has left stock
    servable_plans: tuple[str, ...] = ()


@dataclass(frozen=True)
class AssemblyDraw:
    """Components an assembly brought from another place in the clinic (a ledger move)."""

    sku: str
    lot: str
    from_location: str
    quantity: int


@dataclass(frozen=True)
class Assembly:
    sku: str
    location: str
    kits: tuple[Kit, ...]
    min_expiry: date
    drawn: tuple[AssemblyDraw, ...] = ()


@dataclass(frozen=True)
class ComponentSupply:
    """One recipe line against what the clinic holds that assembly may use."""

    sku: str
    per_kit: int
    usable: int  # released, lasting the shelf life, anywhere in the clinic but quarantine
    kits: int  # usable // per_kit


@dataclass(frozen=True)
class AssemblyCapacity:
    """How many more kits could be assembled at a place from its clinic's stock, and
    which components hold it back."""

    sku: str
    location: str
    kits: int
    clinic: str | None
    min_shelf_life_days: int
    fresh_until: date
    components: tuple[ComponentSupply, ...]
    limited_by: tuple[str, ...]  # the components that allow the fewest kits
