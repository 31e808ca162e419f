"""Frozen values of a lot: its detail, its trace (where its units went, the kits built
with it, the sessions that used it, the patients holding it) and its recall.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


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
    references: tuple[str, ...]  # all, or the first few when the trace was asked for fewer
    reference_count: int  # how many distinct references the flow has in all


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
