"""Lots, moves and balances: the arithmetic behind the append-only stock ledger."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from kitops.errors import InvalidInput, Refused
from kitops.i18n import _


class LotStatus(StrEnum):
    QUARANTINE = "quarantine"
    RELEASED = "released"
    RECALLED = "recalled"
    EXPIRED = "expired"


class MoveReason(StrEnum):
    RECEIPT = "receipt"
    OPENING = "opening"  # opening balance loaded from a spreadsheet at onboarding
    TRANSFER = "transfer"
    COUNT = "count"
    WRITE_OFF = "write_off"
    EXPIRY = "expiry"
    KIT_ASSEMBLY = "kit_assembly"
    KIT_DISASSEMBLY = "kit_disassembly"
    DISPATCH = "dispatch"
    RETURN = "return"
    SESSION = "session"


# A product that is not lot-tracked keeps its stock under this one lot per product,
# so every balance and move names a lot and the keys never hold NULL.
UNTRACKED_LOT_CODE = "-"


def parse_lot_status(value: str, field: str = "status") -> LotStatus:
    try:
        return LotStatus(value.strip().lower())
    except ValueError:
        choices = "|".join(s.value for s in LotStatus)
        raise InvalidInput(
            field, value, _("must be one of {choices}").format(choices=choices)
        ) from None


def parse_lot_code(value: str, field: str = "lot") -> str:
    code = value.strip()
    if not code or len(code) > 20 or not code.isprintable() or code == UNTRACKED_LOT_CODE:
        raise InvalidInput(field, value, _("must be 1-20 printable characters (GS1 AI 10)"))
    return code


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)

# The days kitops accepts wherever a person types a date (--as-of, --start, --date,
# --expiry, CSV cells): defined here once, checked by ``parse_date``. Everything kitops
# works out from such a day stays far inside Python's date range (year 1-9999): a course
# is at most 104 weeks plus months of follow-ups, a shelf life at most 100 years, a report
# looks back or ahead a few years; so no computed date can overflow and no command ends in
# an internal error over a date.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2199, 12, 31)


def parse_date(value: str, field: str) -> date:
    text = value.strip()
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, value, _("must be a date written YYYY-MM-DD")) from None
    return check_day(day, field)


def check_day(day: date, field: str) -> date:
    """``day`` when it lies in the supported range (``FIRST_DAY``-``LAST_DAY``)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(
            field,
            day.isoformat(),
            _("must be a date from {first_day} to {last_day}").format(
                first_day=FIRST_DAY, last_day=LAST_DAY
            ),
        )
    return day


def days_to_expiry(expiry: date | None, today: date) -> int | None:
    return None if expiry is None else (expiry - today).days


def is_usable(status: LotStatus, expiry: date | None, on: date) -> bool:
    """Only released stock that is still in date on ``on`` may be allocated or used.
    A lot is in date through its expiry day."""
    return status is LotStatus.RELEASED and (expiry is None or expiry >= on)


@dataclass(frozen=True)
class Move:
    """One ledger line: ``quantity`` units of a lot from one location to another."""

    lot_id: int
    from_location_id: int
    to_location_id: int
    quantity: int

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise InvalidInput("quantity", self.quantity, _("must be at least 1"))
        if self.from_location_id == self.to_location_id:
            raise InvalidInput("to", self.to_location_id, _("is the same as the source location"))


BalanceKey = tuple[int, int]  # (lot_id, location_id)


def balance_changes(moves: Iterable[Move], physical: set[int]) -> dict[BalanceKey, int]:
    """Net change per (lot, physical location) that a batch of moves makes."""
    changes: dict[BalanceKey, int] = {}
    for move in moves:
        if move.from_location_id in physical:
            key = (move.lot_id, move.from_location_id)
            changes[key] = changes.get(key, 0) - move.quantity
        if move.to_location_id in physical:
            key = (move.lot_id, move.to_location_id)
            changes[key] = changes.get(key, 0) + move.quantity
    return changes


class Shortage(Refused):
    """A move would take a balance below zero."""

    def __init__(self, key: BalanceKey, on_hand: int, needed: int, what: str = "") -> None:
        self.key, self.on_hand, self.needed = key, on_hand, needed
        where = what or _("lot #{lot} at location #{location}").format(lot=key[0], location=key[1])
        super().__init__(
            _("not enough stock of {what}: {on_hand} on hand, {needed} needed").format(
                what=where, on_hand=on_hand, needed=needed
            )
        )

    def named(self, what: str) -> Shortage:
        return Shortage(self.key, self.on_hand, self.needed, what)


def apply_changes(
    current: Mapping[BalanceKey, int], changes: Mapping[BalanceKey, int]
) -> dict[BalanceKey, int]:
    """The balances after ``changes``; refuses any that would go below zero."""
    after: dict[BalanceKey, int] = {}
    for key, delta in changes.items():
        value = current.get(key, 0) + delta
        if value < 0:
            raise Shortage(key, current.get(key, 0), -delta)
        after[key] = value
    return after


@dataclass(frozen=True)
class BalanceDifference:
    lot_id: int
    location_id: int
    recorded: int | None  # None: no balance row although moves exist
    from_moves: int

    @property
    def problem(self) -> str:
        """In English, as ``kitops db check --json`` carries it; shown in the language in
        force by ``kitops.i18n.labels.stored_text``."""
        if self.recorded is None:
            return f"no balance row, moves sum to {self.from_moves}"
        if self.recorded < 0:
            return f"balance is negative ({self.recorded})"
        return f"balance says {self.recorded}, moves sum to {self.from_moves}"


def compare_balances(
    recorded: Mapping[BalanceKey, int], from_moves: Mapping[BalanceKey, int]
) -> list[BalanceDifference]:
    """Every (lot, location) whose recorded balance is negative or differs from its moves."""
    problems: list[BalanceDifference] = []
    for key in sorted(set(recorded) | set(from_moves)):
        have = recorded.get(key)
        want = from_moves.get(key, 0)
        if have is None and want == 0:
            continue
        if have is None or have != want or have < 0:
            problems.append(BalanceDifference(key[0], key[1], have, want))
    return problems
