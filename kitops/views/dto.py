"""Frozen values for the stockroom screens: the dashboard's tiles, pages of the long
lists (stock, kits, courses, orders), previews shown before a change is confirmed, and
the choices offered in forms. Like ``kitops.services.dto``, plain data only (and no
SQLAlchemy: the TUI imports these while its first frame paints)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from kitops.domain.money import Money
from kitops.services.dto import courses as courses_dto
from kitops.services.dto import kits as kits_dto
from kitops.services.dto import stock as stock_dto

if TYPE_CHECKING:
    from kitops.services.dto import payments as payments_dto
    from kitops.services.dto import purchasing as purchasing_dto


# --- choices for forms ---------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A physical location a form can offer (clinics, stockrooms, fridges, shelves)."""

    code: str
    name: str
    kind: str
    clinic: str | None


@dataclass(frozen=True)
class Named:
    code: str
    name: str


@dataclass(frozen=True)
class Choices:
    clinics: tuple[Named, ...]
    places: tuple[Place, ...]
    kit_recipes: tuple[Named, ...]
    plans: tuple[Named, ...]
    write_off_reasons: tuple[str, ...]
    kit_statuses: tuple[str, ...]
    course_statuses: tuple[str, ...]


# --- dashboard -----------------------------------------------------------------------


@dataclass(frozen=True)
class ExpiryBucket:
    """Lots (and units) at a clinic whose expiry falls within ``within_days`` and after
    the previous bucket; ``within_days`` 0 means already past expiry."""

    within_days: int
    lots: int
    units: int
    value: tuple[Money, ...] = ()  # at the lots' unit cost, one per currency (unknown: left out)


@dataclass(frozen=True)
class QuarantinedLot:
    sku: str
    lot: str
    expiry: date | None
    units: int
    since: date | None = None  # the day the lot arrived (UTC)


@dataclass(frozen=True)
class KitStock:
    sku: str
    available: int
    reserved: int
    unserved_needs: int  # kit needs due in the window that no free kit fits
    could_assemble: int  # with the usable components at ``assemble_at``
    assemble_at: str | None


@dataclass(frozen=True)
class ClinicWork:
    clinic: str
    name: str
    today: date
    kits: tuple[KitStock, ...]
    to_pick: tuple[courses_dto.PickLine, ...]
    due: tuple[courses_dto.FulfilLine, ...]
    quarantine: tuple[QuarantinedLot, ...]
    expiry: tuple[ExpiryBucket, ...]

    @property
    def to_assemble(self) -> int:
        return sum(k.unserved_needs for k in self.kits)

    @property
    def unserved(self) -> tuple[courses_dto.FulfilLine, ...]:
        return tuple(n for n in self.due if n.kit is None)


@dataclass(frozen=True)
class Activity:
    at: datetime
    actor: str
    action: str
    entity: str
    key: str


@dataclass(frozen=True)
class OpenPurchaseOrder:
    """A purchase order still open (draft, approved, sent, partly received)."""

    number: str
    clinic: str
    supplier: str
    status: str
    lines: int
    total: Money
    expected_on: date | None


@dataclass(frozen=True)
class ReorderSuggestion:
    """A line a reorder run would order now, and the draft that already carries it
    (``drafted``: the draft holds exactly this quantity)."""

    clinic: str
    sku: str
    supplier: str
    quantity: int
    need_by: date | None
    draft: str | None
    drafted: bool


@dataclass(frozen=True)
class Purchasing:
    """The reorder tile: what a reorder run would order now (computed, nothing written)
    and the purchase orders still open."""

    as_of: date
    policies: int
    in_progress: bool
    suggestions: tuple[ReorderSuggestion, ...]
    orders: tuple[OpenPurchaseOrder, ...]

    @property
    def undrafted(self) -> int:
        return sum(1 for s in self.suggestions if not s.drafted)


@dataclass(frozen=True)
class Dashboard:
    due_days: int
    pick_days: int
    clinics: tuple[ClinicWork, ...]
    activity: tuple[Activity, ...]
    # loaded after the rest (a reorder computation): None until it arrives
    purchasing: Purchasing | None = None
    webhooks_failing: int = 0  # active outbound webhooks whose deliveries fail now


# --- pages of long lists -------------------------------------------------------------


@dataclass(frozen=True)
class StockPage:
    lines: tuple[stock_dto.StockLine, ...]
    total: int
    offset: int
    units: int | None = None  # the units on every line in all, when asked for


@dataclass(frozen=True)
class KitPage:
    """Kits without their component lists (``show_kit`` has them)."""

    kits: tuple[kits_dto.Kit, ...]
    total: int
    offset: int


@dataclass(frozen=True)
class CourseSummary:
    id: int
    patient_ref: str
    plan: str
    clinic: str
    start: date
    weekdays: str
    status: str
    kits_needed: int
    kits_held: int


@dataclass(frozen=True)
class CoursePage:
    courses: tuple[CourseSummary, ...]
    total: int
    offset: int


@dataclass(frozen=True)
class OrderSummary:
    """An order in the list (``orders.show_order`` has its lines, payments, refunds)."""

    id: int
    course_id: int
    patient_ref: str
    plan: str
    clinic: str
    status: str
    total: Money
    paid: Money
    refunded: Money
    outstanding: Money
    created_at: datetime


@dataclass(frozen=True)
class OrderPage:
    orders: tuple[OrderSummary, ...]
    total: int
    offset: int


@dataclass(frozen=True)
class CourseDetail:
    """A course with its orders (newest first): the payment status the course shows."""

    course: courses_dto.Course
    orders: tuple[payments_dto.Order, ...]


@dataclass(frozen=True)
class PurchaseOrderPage:
    orders: tuple[purchasing_dto.PurchaseOrder, ...]
    total: int


# --- previews ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScannedLabel:
    """What a scanned GS1 label says, matched to the catalogue and the lots on record."""

    sku: str
    product: str
    gtin: str
    lot: str | None
    expiry: date | None
    count: int | None
    serial: str | None
    lot_tracked: bool
    known_lot_status: str | None
    known_lot_expiry: date | None


@dataclass(frozen=True)
class CountedItem:
    """What one scan adds to a count sheet: a product's lot (a vial's or box's GS1 label,
    ``quantity`` its count (30) or one) or a kit (its label: the kit's SKU, its serial as
    the lot, one)."""

    sku: str
    lot: str
    quantity: int
    what: str  # "vial", "box of 12", "kit": for the line the sheet shows


@dataclass(frozen=True)
class ComponentShortfall:
    sku: str
    per_kit: int
    needed: int
    usable: int

    @property
    def short(self) -> int:
        return max(0, self.needed - self.usable)


@dataclass(frozen=True)
class AssemblyPreview:
    sku: str
    location: str
    quantity: int
    possible: int
    min_shelf_life_days: int
    fresh_until: date
    components: tuple[ComponentShortfall, ...]

    @property
    def enough(self) -> bool:
        return self.possible >= self.quantity


@dataclass(frozen=True)
class CoursePreview:
    plan: str
    clinic: str
    start: date
    weekdays: str
    end: date
    kits: int
    events: tuple[courses_dto.CalendarEvent, ...]
