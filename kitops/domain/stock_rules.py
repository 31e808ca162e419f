"""The rules of a stockroom's daily work: receipts, FEFO picking, counts, expiry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

import kitops.i18n as i18n
from kitops.domain.ledger import LotStatus, is_usable
from kitops.errors import InvalidInput, Refused
from kitops.i18n import _


class WriteOffReason(StrEnum):
    DAMAGED = "damaged"
    EXPIRED = "expired"
    OPENED = "opened"
    OTHER = "other"


def parse_write_off_reason(value: str, field: str = "reason") -> WriteOffReason:
    try:
        return WriteOffReason(value.strip().lower())
    except ValueError:
        choices = "|".join(r.value for r in WriteOffReason)
        raise InvalidInput(
            field, value, _("must be one of {choices}").format(choices=choices)
        ) from None


def status_of_new_lot(requires_release: bool) -> LotStatus:
    """A new lot of a product that needs release waits in quarantine."""
    return LotStatus.QUARANTINE if requires_release else LotStatus.RELEASED


class ShortDated(Refused):
    """Stock that is expired, or inside the minimum shelf life on receipt. The message
    says what and why; each front end adds how its user accepts it anyway (a flag, a
    checkbox)."""


def check_receipt_expiry(
    expiry: date | None,
    today: date,
    min_shelf_life_days: int,
    *,
    accept_short_dated: bool,
) -> None:
    """Refuse stock that is expired, or expires within the minimum shelf life on receipt."""
    if expiry is None or accept_short_dated:
        return
    if expiry < today:
        raise ShortDated(
            _("this stock expired on {expiry}").format(expiry=i18n.format_date(expiry))
        )
    earliest = today + timedelta(days=min_shelf_life_days)
    if expiry < earliest:
        raise ShortDated(
            _(
                "this stock expires on {expiry}, within the "
                "{min_shelf_life_days}-day minimum shelf life on receipt "
                "(needs {earliest} or later)"
            ).format(
                expiry=i18n.format_date(expiry),
                min_shelf_life_days=min_shelf_life_days,
                earliest=i18n.format_date(earliest),
            )
        )


def check_existing_lot(
    code: str, recorded_expiry: date | None, status: LotStatus, given_expiry: date | None
) -> None:
    """Receiving more of a known lot: same expiry, and never into a recalled lot."""
    if given_expiry is not None and recorded_expiry != given_expiry:
        raise Refused(
            _(
                "lot {code} is recorded with expiry {recorded_expiry}, the "
                "receipt says {given_expiry}; check the label, this is a "
                "conflict"
            ).format(code=code, recorded_expiry=recorded_expiry, given_expiry=given_expiry)
        )
    if status is LotStatus.RECALLED:
        raise Refused(_("lot {code} is recalled; it cannot be received").format(code=code))


# target status → the statuses it may be reached from. Releasing needs quarantine
# first, so lifting a recall is two deliberate steps: quarantine, then release.
_TRANSITIONS: dict[LotStatus, frozenset[LotStatus]] = {
    LotStatus.RELEASED: frozenset({LotStatus.QUARANTINE}),
    LotStatus.QUARANTINE: frozenset({LotStatus.RELEASED, LotStatus.RECALLED}),
    LotStatus.RECALLED: frozenset({LotStatus.QUARANTINE, LotStatus.RELEASED, LotStatus.EXPIRED}),
    LotStatus.EXPIRED: frozenset({LotStatus.QUARANTINE, LotStatus.RELEASED}),
}


def check_status_change(
    code: str, current: LotStatus, target: LotStatus, expiry: date | None, today: date
) -> None:
    if current is target:
        raise Refused(_("lot {code} is already {current}").format(code=code, current=current.value))
    if current not in _TRANSITIONS[target]:
        raise Refused(
            _("lot {code} is {current}; it cannot become {target}").format(
                code=code, current=current.value, target=target.value
            )
        )
    if target is LotStatus.RELEASED and expiry is not None and expiry < today:
        raise Refused(
            _("lot {code} expired on {expiry}; expired stock cannot be released").format(
                code=code, expiry=i18n.format_date(expiry)
            )
        )


@dataclass(frozen=True)
class LotOnHand:
    lot_id: int
    code: str
    expiry: date | None
    status: LotStatus
    quantity: int


def fefo_pick(candidates: Iterable[LotOnHand], quantity: int, today: date) -> list[tuple[int, int]]:
    """First expiry, first out: take ``quantity`` from released, in-date lots, earliest
    expiry first (lot code breaks ties), splitting across lots when one is not enough."""
    usable = sorted(
        (c for c in candidates if c.quantity > 0 and is_usable(c.status, c.expiry, today)),
        key=lambda c: (c.expiry or date.max, c.code),
    )
    picks: list[tuple[int, int]] = []
    left = quantity
    for lot in usable:
        if left == 0:
            break
        take = min(lot.quantity, left)
        picks.append((lot.lot_id, take))
        left -= take
    if left:
        have = quantity - left
        raise Refused(
            _("not enough released, in-date stock: {have} available, {quantity} needed").format(
                have=have, quantity=quantity
            )
        )
    return picks


@dataclass(frozen=True)
class CountDifference:
    lot_id: int
    expected: int
    counted: int

    @property
    def delta(self) -> int:
        return self.counted - self.expected


def count_differences(
    expected: Mapping[int, int], counted: Mapping[int, int], *, full: bool
) -> list[CountDifference]:
    """Counted against recorded, per lot. With ``full`` a lot not on the sheet counts zero."""
    lots = set(counted) | (set(expected) if full else set())
    return [
        CountDifference(lot, expected.get(lot, 0), counted.get(lot, 0))
        for lot in sorted(lots)
        if expected.get(lot, 0) != counted.get(lot, 0)
    ]


def needs_expiring(status: LotStatus, expiry: date | None, as_of: date) -> bool:
    """The sweep marks released or quarantined lots past their expiry day as expired."""
    return (
        expiry is not None
        and expiry < as_of
        and status in (LotStatus.RELEASED, LotStatus.QUARANTINE)
    )
