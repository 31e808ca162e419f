"""Frozen values of a scan: what the scanned code names and what can be done with it now.

Each kind carries ``kind`` (``lot``, ``kit``, ``location``, ``course``), ``code`` (the
scan as read: the element string, or the plain code) and ``next_step`` (what to do, in
words); ``actions`` names the commands that apply now, for a screen to offer (the
terminal UI binds keys to them): ``release``, ``quarantine``, ``recall``, ``move``,
``count``, ``writeoff``, ``assemble``, ``fulfil``, ``pick``, ``handover``, ``ship``,
``return``, ``disassemble``, ``receive``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class PlaceQuantity:
    """How many units of the lot a place holds."""

    location: str
    clinic: str | None
    quantity: int


@dataclass(frozen=True)
class ScannedLot:
    code: str
    sku: str
    product: str
    lot: str
    expiry: date | None
    status: str
    status_reason: str | None
    on_hand: tuple[PlaceQuantity, ...]  # the acting user's clinics only
    total_on_hand: int
    next_step: str
    actions: tuple[str, ...]
    kind: str = "lot"


@dataclass(frozen=True)
class ScannedKit:
    code: str
    serial: str
    sku: str
    gtin: str | None
    status: str
    recalled: bool
    expiry: date
    location: str
    clinic: str | None
    course_id: int | None
    course_part: int | None
    next_step: str
    actions: tuple[str, ...]
    kind: str = "kit"


@dataclass(frozen=True)
class ProductHere:
    """One product at a place: its lots with stock, the units, the earliest expiry."""

    sku: str
    lots: int
    quantity: int
    earliest_expiry: date | None


@dataclass(frozen=True)
class ScannedLocation:
    code: str
    location: str
    name: str
    place_kind: str  # clinic, fridge, shelf, quarantine...
    clinic: str | None
    products: tuple[ProductHere, ...]  # here and in the places inside it
    kits: tuple[tuple[str, int], ...]  # (status, how many) of the kits held here
    next_step: str
    actions: tuple[str, ...]
    kind: str = "location"


@dataclass(frozen=True)
class CourseKitLine:
    serial: str
    part: int
    status: str


@dataclass(frozen=True)
class ScannedCourse:
    """A course card's course, without its patient reference (the card is on a desk)."""

    code: str
    course_id: int
    plan: str
    clinic: str
    status: str
    kits: tuple[CourseKitLine, ...]
    next_date: datetime | None  # the next application or clinic visit from now
    next_event: str | None  # what happens then, in words
    next_step: str
    actions: tuple[str, ...]
    kind: str = "course"


Scanned = ScannedLot | ScannedKit | ScannedLocation | ScannedCourse


@dataclass(frozen=True)
class LocationCard:
    """What a location's label says: its code (in the symbol too), name, kind, clinic."""

    code: str
    name: str
    place_kind: str
    clinic: str | None


@dataclass(frozen=True)
class CourseCard:
    """What a course card says. Only the number goes into the symbol; the patient
    reference is printed as text for the front desk, never encoded."""

    course_id: int
    plan: str
    clinic: str
    patient_ref: str
    start: date
