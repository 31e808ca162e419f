"""Which kit serves which course: expiry-aware assignment.

Plain FEFO ("oldest first") is not enough: a kit that expires in week 5 of a 6-week course
must not go to it, though it can serve a course that starts sooner. A kit fits a course's
share when every vial, earliest-expiring first, is in date on the last day it is used plus
the margin (``courses.fits``).

The batch serves the most demanding needs first and gives each the fitting kit that
expires earliest (best fit). When each kit's vials share a lot, fitting reduces to one
date per kit and one per need, and this greedy serves the largest possible number of
courses while keeping long-dated kits for the courses that need them; with mixed-lot kits
it remains a sound, fast heuristic. Kits are scanned through a "next free" pointer table
(union-find), so 10,000 needs against 20,000 kits take a fraction of a second.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date

from kitops.domain.courses import KitNeed, fits


@dataclass(frozen=True)
class KitOffer:
    kit_id: int
    pool: Hashable  # (clinic, kit product): a need is served from its own pool only
    vial_expiries: tuple[date, ...]  # sorted, earliest first

    @property
    def expiry(self) -> date:
        return self.vial_expiries[0]


@dataclass(frozen=True)
class NeedRequest:
    key: Hashable  # (course id, part)
    pool: Hashable
    need: KitNeed


@dataclass(frozen=True)
class Assignment:
    served: dict[Hashable, int]  # need key → kit id
    unserved: list[Hashable]


class _NextFree:
    """find(i): the smallest index ≥ i not yet taken (len(items) when none is left)."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size + 1))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def take(self, i: int) -> None:
        self.parent[i] = i + 1


def best_fit(
    kits: Sequence[KitOffer], expiries: Sequence[date], free: _NextFree, need: KitNeed
) -> int | None:
    """Index of the earliest-expiring free kit that fits ``need``, or None."""
    first_need = need.vial_needed_until[0]
    last_need = need.last_needed
    i = free.find(bisect.bisect_left(expiries, first_need))
    while i < len(kits):
        if kits[i].expiry >= last_need or fits(kits[i].vial_expiries, need):
            return i
        i = free.find(i + 1)
    return None


def assign(needs: Sequence[NeedRequest], kits: Sequence[KitOffer]) -> Assignment:
    pools: dict[Hashable, list[KitOffer]] = defaultdict(list)
    for kit in kits:
        pools[kit.pool].append(kit)
    prepared = {}
    for pool, offers in pools.items():
        offers.sort(key=lambda k: (k.vial_expiries, k.kit_id))
        prepared[pool] = (offers, [k.expiry for k in offers], _NextFree(len(offers)))
    served: dict[Hashable, int] = {}
    unserved: list[Hashable] = []
    ordered = sorted(
        needs,
        key=lambda r: (r.need.last_needed, r.need.vial_needed_until, str(r.key)),
        reverse=True,
    )
    for request in ordered:
        if request.pool not in prepared:
            unserved.append(request.key)
            continue
        offers, expiries, free = prepared[request.pool]
        index = best_fit(offers, expiries, free, request.need)
        if index is None:
            unserved.append(request.key)
        else:
            free.take(index)
            served[request.key] = offers[index].kit_id
    return Assignment(served, unserved)
