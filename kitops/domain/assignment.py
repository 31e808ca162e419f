"""Which kit serves which course: expiry-aware assignment.

Plain FEFO ("oldest first") is not enough: a kit that expires in week 5 of a 6-week course
must not go to it, though it can serve a course that starts sooner. A kit fits a course's
share when every vial, earliest-expiring first, is in date on the last day it is used plus
the margin (``courses.fits``).

The batch serves the most demanding needs first and gives each the fitting kit that
expires earliest (best fit). When each kit's vials share a lot, fitting reduces to one
date per kit and one per need, and this greedy serves the largest possible number of
courses while keeping long-dated kits for the courses that need them; with mixed-lot kits
it remains a sound heuristic that can, in rare mixes of plans, serve fewer than the
optimum. Single-lot kits are found by bisection and mixed-lot kits by a short scan, both
through "next free" pointer tables (union-find), so a batch is near-linear in practice.
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


class _Pool:
    """The free kits of one pool, in two sorted runs.

    Single-lot kits (every vial with the same date) fit a need exactly when that date is
    on or after the need's last day, so the best one is found by bisection. Mixed-lot
    kits, rare because assembly avoids them, are scanned from the need's first day.
    """

    def __init__(self, kits: list[KitOffer]) -> None:
        uniform = [k for k in kits if k.vial_expiries[0] == k.vial_expiries[-1]]
        mixed = [k for k in kits if k.vial_expiries[0] != k.vial_expiries[-1]]
        self.uniform = sorted(uniform, key=lambda k: (k.expiry, k.kit_id))
        self.uniform_dates = [k.expiry for k in self.uniform]
        self.uniform_free = _NextFree(len(self.uniform))
        self.mixed = sorted(mixed, key=lambda k: (k.vial_expiries, k.kit_id))
        self.mixed_dates = [k.expiry for k in self.mixed]
        self.mixed_free = _NextFree(len(self.mixed))

    def take_best(self, need: KitNeed) -> int | None:
        """Reserve and return the earliest-expiring free kit that fits, or None."""
        u = self.uniform_free.find(bisect.bisect_left(self.uniform_dates, need.last_needed))
        m = self.mixed_free.find(bisect.bisect_left(self.mixed_dates, need.vial_needed_until[0]))
        while m < len(self.mixed) and not fits(self.mixed[m].vial_expiries, need):
            m = self.mixed_free.find(m + 1)
        take_uniform = u < len(self.uniform) and (
            m >= len(self.mixed)
            or (self.uniform[u].expiry, self.uniform[u].kit_id)
            <= (self.mixed[m].expiry, self.mixed[m].kit_id)
        )
        if take_uniform:
            self.uniform_free.take(u)
            return self.uniform[u].kit_id
        if m < len(self.mixed):
            self.mixed_free.take(m)
            return self.mixed[m].kit_id
        return None


def assign(needs: Sequence[NeedRequest], kits: Sequence[KitOffer]) -> Assignment:
    grouped: dict[Hashable, list[KitOffer]] = defaultdict(list)
    for kit in kits:
        grouped[kit.pool].append(kit)
    pools = {pool: _Pool(offers) for pool, offers in grouped.items()}
    served: dict[Hashable, int] = {}
    unserved: list[Hashable] = []
    ordered = sorted(
        needs,
        key=lambda r: (r.need.last_needed, r.need.vial_needed_until, str(r.key)),
        reverse=True,
    )
    for request in ordered:
        pool = pools.get(request.pool)
        kit_id = pool.take_best(request.need) if pool is not None else None
        if kit_id is None:
            unserved.append(request.key)
        else:
            served[request.key] = kit_id
    return Assignment(served, unserved)
