"""Kits: the states a kit goes through and which changes are allowed; kit assembly
(which component lots go into which kit)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import kitops.i18n as i18n
from kitops.errors import Refused
from kitops.i18n import N_, _


class KitStatus(StrEnum):
    """A kit's state (the ``kits.status`` CHECK constraint holds the same set)."""

    AVAILABLE = "available"
    RESERVED = "reserved"
    SHIPPED = "shipped"
    HANDED_OVER = "handed_over"
    DISASSEMBLED = "disassembled"
    WRITTEN_OFF = "written_off"
    RECALLED = "recalled"
    EXPIRED = "expired"
    QUARANTINE = "quarantine"


KIT_STATUSES = tuple(status.value for status in KitStatus)
# a kit that can still serve a course: free, or held for one
SERVING = (KitStatus.AVAILABLE.value, KitStatus.RESERVED.value)
# a kit that is with a patient
OUT = (KitStatus.SHIPPED.value, KitStatus.HANDED_OVER.value)
# a kit still in the stockroom (a shelf, or set aside there)
ON_A_SHELF = (*SERVING, KitStatus.RECALLED.value, KitStatus.EXPIRED.value,
              KitStatus.QUARANTINE.value)  # fmt: skip
# a kit that is gone for good
GONE = (*OUT, KitStatus.DISASSEMBLED.value, KitStatus.WRITTEN_OFF.value)
# the kits a recall takes off the shelf (they lose their course), and the expiry sweep
SHELVED_USABLE = (*SERVING, KitStatus.QUARANTINE.value)
RETURNED = "returned"  # the quarantine reason of a kit back sealed from a patient

# every change of a kit's status: from → the statuses it may become (a write-off takes
# any kit still on a shelf; a kit taken apart or written off stays so)
TRANSITIONS: dict[KitStatus, frozenset[KitStatus]] = {
    KitStatus.AVAILABLE: frozenset(
        {
            KitStatus.RESERVED,
            KitStatus.DISASSEMBLED,
            KitStatus.RECALLED,
            KitStatus.EXPIRED,
            KitStatus.WRITTEN_OFF,
        }
    ),
    KitStatus.RESERVED: frozenset(
        {
            KitStatus.AVAILABLE,
            KitStatus.SHIPPED,
            KitStatus.HANDED_OVER,
            KitStatus.RECALLED,
            KitStatus.EXPIRED,
            KitStatus.WRITTEN_OFF,
        }
    ),
    KitStatus.SHIPPED: frozenset({KitStatus.QUARANTINE, KitStatus.WRITTEN_OFF}),
    KitStatus.HANDED_OVER: frozenset({KitStatus.QUARANTINE, KitStatus.WRITTEN_OFF}),
    KitStatus.QUARANTINE: frozenset(
        {KitStatus.AVAILABLE, KitStatus.RECALLED, KitStatus.EXPIRED, KitStatus.WRITTEN_OFF}
    ),
    KitStatus.EXPIRED: frozenset({KitStatus.DISASSEMBLED, KitStatus.WRITTEN_OFF}),
    KitStatus.RECALLED: frozenset({KitStatus.WRITTEN_OFF}),
    KitStatus.DISASSEMBLED: frozenset(),
    KitStatus.WRITTEN_OFF: frozenset(),
}


class KitChange(StrEnum):
    """A change a person asks of one kit; each is allowed from some statuses only."""

    DISASSEMBLE = "disassemble"
    DISPATCH = "dispatch"  # ship or hand over
    TAKE_BACK = "take_back"
    RELEASE = "release"


# change → (the statuses it may start from, how a refusal ends)
_CHANGES: dict[KitChange, tuple[frozenset[KitStatus], str]] = {
    KitChange.DISASSEMBLE: (
        frozenset({KitStatus.AVAILABLE, KitStatus.EXPIRED}),
        N_("only an available or expired kit can be taken apart"),
    ),
    KitChange.DISPATCH: (
        frozenset({KitStatus.RESERVED}),
        N_("only a kit reserved for a course goes out"),
    ),
    KitChange.TAKE_BACK: (
        frozenset({KitStatus.SHIPPED, KitStatus.HANDED_OVER}),
        N_("only a kit that went out can return"),
    ),
    KitChange.RELEASE: (
        frozenset({KitStatus.QUARANTINE}),
        N_("only a kit in quarantine (back sealed from a patient) is released"),
    ),
}


def may(change: KitChange, current: str) -> bool:
    """Whether a kit in status ``current`` may undergo ``change``."""
    return current in _CHANGES[change][0]


def refusal(change: KitChange, serial: str, current: str) -> Refused:
    """The refusal of ``change`` for a kit in status ``current``."""
    return Refused(
        _("kit {serial} is {current}; {why}").format(
            serial=serial, current=current, why=i18n.gettext(_CHANGES[change][1])
        )
    )


def check_change(change: KitChange, serial: str, current: str) -> None:
    """Go on only if a kit in status ``current`` may undergo ``change``."""
    if not may(change, current):
        raise refusal(change, serial, current)


@dataclass
class LotStock:
    lot_id: int
    expiry: date | None
    quantity: int


@dataclass(frozen=True)
class ComponentNeed:
    product_id: int
    sku: str
    per_kit: int


@dataclass
class KitPlan:
    """One kit's components: (product id, lot id, quantity)."""

    parts: list[tuple[int, int, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Shortfall:
    sku: str
    needed: int
    usable: int

    @property
    def missing(self) -> int:
        return self.needed - self.usable


class NotEnoughComponents(Refused):
    def __init__(self, kits: int, shortfalls: list[Shortfall], where: str = "") -> None:
        self.kits = kits
        self.shortfalls = shortfalls
        detail = "; ".join(
            _("{sku}: {missing} short ({usable} usable, {needed} needed)").format(
                sku=s.sku, missing=s.missing, usable=s.usable, needed=s.needed
            )
            for s in shortfalls
        )
        if where:
            message = _("cannot assemble {kits} kits, none assembled: {detail} ({where})")
        else:
            message = _("cannot assemble {kits} kits, none assembled: {detail}")
        super().__init__(message.format(kits=kits, detail=detail, where=where))


def plan_assembly(
    kits: int, components: list[ComponentNeed], stock: dict[int, list[LotStock]]
) -> list[KitPlan]:
    """Components for ``kits`` kits from usable lots (already filtered for release, date
    and shelf life), all or nothing.

    Each kit takes a component from the earliest-expiring lot that can supply the whole
    quantity by itself (first expiry, first out, and one lot per kit where possible); only
    when no single lot can, it combines the earliest lots.
    """
    shortfalls = []
    for need in components:
        usable = sum(lot.quantity for lot in stock.get(need.product_id, []))
        if usable < need.per_kit * kits:
            shortfalls.append(Shortfall(need.sku, need.per_kit * kits, usable))
    if shortfalls:
        raise NotEnoughComponents(kits, shortfalls)
    remaining = {
        product_id: sorted(
            (LotStock(lot.lot_id, lot.expiry, lot.quantity) for lot in lots),
            key=lambda lot: (lot.expiry or date.max, lot.lot_id),
        )
        for product_id, lots in stock.items()
    }
    plans = []
    for _kit in range(kits):
        plan = KitPlan()
        for need in components:
            lots = remaining[need.product_id]
            whole = next((lot for lot in lots if lot.quantity >= need.per_kit), None)
            if whole is not None:
                whole.quantity -= need.per_kit
                plan.parts.append((need.product_id, whole.lot_id, need.per_kit))
            else:
                left = need.per_kit
                for lot in lots:
                    take = min(lot.quantity, left)
                    if take:
                        lot.quantity -= take
                        left -= take
                        plan.parts.append((need.product_id, lot.lot_id, take))
                    if not left:
                        break
            remaining[need.product_id] = [lot for lot in lots if lot.quantity > 0]
        plans.append(plan)
    return plans


def assemblable(components: list[ComponentNeed], stock: dict[int, list[LotStock]]) -> int:
    """How many more kits the usable stock allows: the minimum over components."""
    counts = [
        sum(lot.quantity for lot in stock.get(need.product_id, [])) // need.per_kit
        for need in components
    ]
    return min(counts, default=0)


def kit_vial_expiries(vial_expiries: list[date], other_expiries: list[date]) -> tuple[date, ...]:
    """The dates a kit's fit is judged by: each vial's expiry, earliest first, capped by
    the earliest expiry of the other components (a stamp out of date ends the kit)."""
    cap = min(other_expiries, default=None)
    capped = [min(e, cap) if cap else e for e in vial_expiries]
    return tuple(sorted(capped))


@dataclass(frozen=True)
class Draw:
    """Units of one lot to bring from another place to where the kits are made."""

    lot_id: int
    from_location_id: int
    quantity: int


def draws_for(
    taken: dict[int, int], held: dict[int, list[tuple[int, int]]], home: int
) -> list[Draw]:
    """Where the units ``taken`` of each lot come from: first what lies at ``home`` (the
    place the kits are made, no move needed), then the other places in the order given in
    ``held`` (lot → [(location, quantity)]). Refused when the places hold too few."""
    draws = []
    for lot_id, wanted in sorted(taken.items()):
        places = held.get(lot_id, [])
        left = wanted - sum(qty for loc, qty in places if loc == home)
        for location_id, qty in places:
            if left <= 0:
                break
            if location_id == home:
                continue
            take = min(qty, left)
            if take > 0:
                draws.append(Draw(lot_id, location_id, take))
                left -= take
        if left > 0:
            raise Refused(
                _("lot #{lot_id}: {left} more units needed than its places hold").format(
                    lot_id=lot_id, left=left
                )
            )
    return draws
