"""Frozen values that cross the service boundary; the CLI and the TUI see only these.

``as_json`` gives the stable ``--json`` shape documented in the README: dates as
ISO strings, decimals as strings, enums as their values, money as
``{"amount_minor": 1250, "currency": "GBP"}`` (the shape of the reports' JSON too).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from kitops.domain.money import Money


def as_json(value: Any) -> Any:
    if isinstance(value, Money):
        return {"amount_minor": value.amount_minor, "currency": value.currency}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
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


@dataclass(frozen=True)
class Location:
    code: str
    name: str
    kind: str
    parent: str | None
    clinic: str | None
    timezone: str | None
    currency: str | None
    virtual: bool


@dataclass(frozen=True)
class StockLine:
    clinic: str | None
    location: str
    sku: str
    product: str
    lot: str
    expiry: date | None
    days_to_expiry: int | None
    status: str
    available: bool
    quantity: int


@dataclass(frozen=True)
class ImportReport:
    kind: str
    rows: int
    created: int
    dry_run: bool


@dataclass(frozen=True)
class BalanceProblem:
    sku: str
    lot: str
    location: str
    recorded: int | None
    from_moves: int
    problem: str


@dataclass(frozen=True)
class CheckReport:
    ok: bool
    balances_checked: int
    moves: int
    problems: tuple[BalanceProblem, ...]


@dataclass(frozen=True)
class DemoSummary:
    loaded: bool
    as_of: date | None
    clinics: int
    products: int
    lots: int
    moves: int


@dataclass(frozen=True)
class Receipt:
    sku: str
    lot: str
    expiry: date | None
    status: str
    new_lot: bool
    quantity: int
    location: str
    on_hand_at_location: int
    reference: str | None


@dataclass(frozen=True)
class MovedLot:
    lot: str
    expiry: date | None
    quantity: int


@dataclass(frozen=True)
class Transfer:
    sku: str
    from_location: str
    to_location: str
    quantity: int
    lots: tuple[MovedLot, ...]


@dataclass(frozen=True)
class WriteOff:
    sku: str
    lot: str
    location: str
    quantity: int
    reason: str
    on_hand_after: int


@dataclass(frozen=True)
class CountLine:
    sku: str
    lot: str
    expected: int
    counted: int
    difference: int


@dataclass(frozen=True)
class CountReport:
    location: str
    lines_counted: int
    differences: tuple[CountLine, ...]
    units_added: int
    units_removed: int


@dataclass(frozen=True)
class OnHand:
    location: str
    clinic: str | None
    quantity: int


@dataclass(frozen=True)
class LotDetail:
    sku: str
    product: str
    lot: str
    expiry: date | None
    status: str
    status_reason: str | None
    supplier: str | None
    receipt_ref: str | None
    on_hand: tuple[OnHand, ...]
    total_on_hand: int


@dataclass(frozen=True)
class Flow:
    from_location: str
    to_location: str
    reason: str
    detail: str | None
    quantity: int
    moves: int
    first: datetime
    last: datetime
    references: tuple[str, ...]


@dataclass(frozen=True)
class KitUse:
    """A kit built with units of the traced lot, and the course it went to."""

    serial: str
    status: str
    recalled: bool
    course_id: int | None
    patient_ref: str | None
    quantity: int


@dataclass(frozen=True)
class SessionUse:
    """A clinic session that used units of the traced lot."""

    course_id: int
    patient_ref: str
    session_no: int
    date: date
    quantity: int
    clinic: str | None = None


@dataclass(frozen=True)
class KitAtPatient:
    """A kit holding the lot that is with its patient now (shipped or handed over): the
    patient to contact in a recall."""

    serial: str
    course_id: int | None
    part: int | None
    clinic: str | None
    patient_ref: str | None
    status: str  # shipped | handed_over
    went_out: date | None  # the clinic's day it left
    tracking: str | None
    quantity: int  # units of the lot in the kit


@dataclass(frozen=True)
class KitReleased:
    """A reserved kit a recall of the lot took from its course: that part of the course
    had no kit any more."""

    serial: str
    course_id: int
    part: int
    clinic: str | None
    patient_ref: str | None
    needed_from: date | None  # the course's first use of that kit
    recalled_on: date
    now_kit: str | None  # the kit holding that course part now, if one was reserved since


@dataclass(frozen=True)
class Trace:
    lot: LotDetail
    received: int
    written_off: int
    delivered: int  # units that reached patients: sessions, and inside kits that went out
    adjusted: int
    flows: tuple[Flow, ...]
    in_kits: int = 0  # units of the lot now inside assembled kits (net of disassembly)
    kits: tuple[KitUse, ...] = ()
    sessions: tuple[SessionUse, ...] = ()
    delivered_in_kits: int = 0  # of ``delivered``: inside kits shipped or handed over
    at_patients: tuple[KitAtPatient, ...] = ()
    released: tuple[KitReleased, ...] = ()


@dataclass(frozen=True)
class LotRecall(LotDetail):
    """``lot recall``: the lot as ``lot show`` gives it, and every course it reaches."""

    kits_flagged: tuple[str, ...] = ()
    at_patients: tuple[KitAtPatient, ...] = ()
    released: tuple[KitReleased, ...] = ()
    sessions: tuple[SessionUse, ...] = ()


@dataclass(frozen=True)
class SweepLine:
    sku: str
    lot: str
    expiry: date | None
    marked_expired: bool
    moved: int
    from_location: str | None
    to_location: str | None
    note: str | None


@dataclass(frozen=True)
class SweepKit:
    """A kit the sweep marked expired: it follows its unit (``to_location``); a reserved
    kit loses its course (``course_id``/``course_part`` say which, ``note`` says so)."""

    serial: str
    sku: str
    status_before: str
    from_location: str
    to_location: str
    course_id: int | None
    course_part: int | None
    note: str | None


@dataclass(frozen=True)
class SweepReport:
    as_of: date
    lots_marked: int
    units_moved: int
    lines: tuple[SweepLine, ...]
    kits_expired: int = 0
    reservations_released: int = 0
    kits: tuple[SweepKit, ...] = ()


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    applications_per_week: int
    weeks: int
    applications: int
    ml_per_application: Decimal
    administered: str
    kit_sku: str | None
    kits_per_course: int
    default_weekdays: str | None
    checkin_weeks: tuple[int, ...]
    followup_months: tuple[int, ...]


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


@dataclass(frozen=True)
class CalendarEvent:
    kind: str  # application | checkin | followup
    number: int
    at: datetime
    kit_part: int | None
    vial: int | None
    note: str


@dataclass(frozen=True)
class Course:
    id: int
    patient_ref: str
    plan: str
    clinic: str
    timezone: str
    start: date
    weekdays: str
    status: str
    end: date
    events: tuple[CalendarEvent, ...]
    kits: tuple[Kit, ...]  # by part; a part returned opened lists its written-off kit too
    sessions_recorded: int
    parts_returned_opened: tuple[int, ...] = ()  # kit numbers whose kit came back opened


@dataclass(frozen=True)
class FulfilLine:
    course_id: int
    patient_ref: str
    clinic: str
    part: int
    first_use: date
    needed_until: date
    kit: str | None
    kit_expiry: date | None
    reason: str | None


@dataclass(frozen=True)
class FulfilReport:
    served: tuple[FulfilLine, ...]
    unserved: tuple[FulfilLine, ...]


@dataclass(frozen=True)
class SessionCheck:
    course_id: int
    clinic: str
    sessions_left: int
    covered: int
    enough: bool
    shortfall_dates: tuple[date, ...]


@dataclass(frozen=True)
class SessionRecord:
    course_id: int
    session_no: int
    date: date
    sku: str
    lot: str
    quantity: int
    location: str


@dataclass(frozen=True)
class PickLine:
    serial: str
    location: str
    expiry: date
    course_id: int
    patient_ref: str
    part: int
    due: date


# --- users, roles and audit ---------------------------------------------------------------


@dataclass(frozen=True)
class User:
    """A kitops user as the CLI and the TUI see it: never the PIN or its hash."""

    name: str
    role: str
    active: bool
    pin_set: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime
    created_by: str
    permissions: tuple[str, ...]
    login: str | None = None  # the login bound to this user (README: Users, roles and audit)


@dataclass(frozen=True)
class Identity:
    """``kitops whoami``: who the operating system or the database says is running kitops,
    and the kitops user that makes."""

    login: str
    bound_user: str | None
    session_user: str | None
    acting_user: str | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    description: str
