"""Frozen values of the expiry sweep: the lots it marked, the units and kits it moved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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
