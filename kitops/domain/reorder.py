"""Reorder arithmetic: what scheduled demand the stock on hand can really serve, and how
much to order under a min/max or a calendar policy. Plain functions over plain data.

The calendar policy is where expiry matters. A unit of stock serves a need only if it is
still in date on the need's last day (its ``until``, the expiry margin included); a need
on day 30 cannot be served by a vial that expires on day 20, however many of them are on
the shelf. Matching needs to lots is then a matching over nested sets (a lot that serves
a need with a later ``until`` serves every need with an earlier one), for which taking
needs in order of ``until`` and giving each the earliest-expiring lot that lasts is
optimal: no other assignment serves more units.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from kitops.errors import InvalidInput
from kitops.i18n import _


class Method(StrEnum):
    MIN_MAX = "min_max"
    CALENDAR = "calendar"


def parse_method(value: str, field: str = "method") -> Method:
    try:
        return Method(value.strip().lower().replace("-", "_"))
    except ValueError:
        raise InvalidInput(field, value, _("must be min_max or calendar")) from None


@dataclass(frozen=True)
class Requirement:
    """Units of one product needed at one clinic."""

    day: date  # must be on the shelf this day
    until: date  # and still in date on this day (expiry margin included)
    quantity: int


@dataclass(frozen=True)
class Supply:
    """Units on hand of one lot; ``expiry`` None never expires."""

    expiry: date | None
    quantity: int


@dataclass(frozen=True)
class Coverage:
    demand: int  # units required
    covered: int  # units of it that stock still in date when needed can serve
    spare: int  # stock left over and still in date on ``spare_until`` (serves safety stock)
    expiring_unused: int  # stock that expires before any need it could serve: not counted
    on_hand: int  # all the stock offered (in date on the first day)

    @property
    def short(self) -> int:
        return self.demand - self.covered

    @property
    def usable(self) -> int:
        return self.covered + self.spare


def cover(
    requirements: Iterable[Requirement], supplies: Iterable[Supply], *, spare_until: date
) -> Coverage:
    """The most demand the stock can serve, each unit in date on its need's ``until``.

    Needs are taken in order of ``until`` and each takes the earliest-expiring lot that
    still lasts (optimal for nested compatibility: see the module docstring). What is left
    counts as spare if it is still in date on ``spare_until``, and as expiring unused
    otherwise.
    """
    needs = sorted((r.until, r.quantity) for r in requirements if r.quantity > 0)
    if not needs:  # nothing to serve: what lasts is spare, the rest expires unused
        on_hand = spare = 0
        for s in supplies:
            on_hand += s.quantity
            if s.expiry is None or s.expiry >= spare_until:
                spare += s.quantity
        return Coverage(0, 0, spare, on_hand - spare, on_hand)
    ordered = sorted((s.expiry or date.max, s.quantity) for s in supplies if s.quantity > 0)
    expiries = [e for e, _ in ordered]
    left_in = [q for _, q in ordered]
    demand = sum(q for _, q in needs)
    on_hand = sum(left_in)
    covered = 0
    i = 0
    for until, quantity in needs:
        left = quantity
        while left and i < len(left_in):
            if expiries[i] < until or left_in[i] == 0:
                i += 1
                continue
            take = min(left, left_in[i])
            left_in[i] -= take
            left -= take
            covered += take
    spare = sum(q for e, q in zip(expiries, left_in, strict=True) if e >= spare_until)
    return Coverage(demand, covered, spare, on_hand - covered - spare, on_hand)


def first_shortfall(
    requirements: Iterable[Requirement], supplies: Iterable[Supply]
) -> Requirement | None:
    """The first need, in day order, that the stock cannot serve when it is used day by
    day, each need taking the earliest-expiring lot still in date on its ``until``.
    None when every need is served: "days of cover" is the day of this need."""
    needs = sorted((r for r in requirements if r.quantity > 0), key=lambda r: (r.day, r.until))
    ordered = sorted((s.expiry or date.max, s.quantity) for s in supplies if s.quantity > 0)
    expiries = [e for e, _ in ordered]
    left_in = [q for _, q in ordered]
    nxt = list(range(len(left_in) + 1))  # next lot with stock left, union-find style

    def find(k: int) -> int:
        root = k
        while nxt[root] != root:
            root = nxt[root]
        while nxt[k] != root:
            nxt[k], k = root, nxt[k]
        return root

    for need in needs:
        left = need.quantity
        k = find(bisect.bisect_left(expiries, need.until))
        while left and k < len(left_in):
            take = min(left, left_in[k])
            left_in[k] -= take
            left -= take
            if left_in[k] == 0:
                nxt[k] = k + 1
                k = find(k + 1)
        if left:
            return need
    return None


def round_order(quantity: int, pack_size: int, min_order: int) -> int:
    """Whole packs, at least the supplier's minimum order; 0 when nothing is needed."""
    if pack_size < 1:
        raise InvalidInput("pack_size", pack_size, _("must be at least 1"))
    if quantity <= 0:
        return 0
    wanted = max(quantity, min_order)
    return -(-wanted // pack_size) * pack_size


@dataclass(frozen=True)
class Terms:
    """How one product is bought for one clinic."""

    method: Method
    lead_time_days: int
    review_period_days: int = 7
    safety_days: int = 0
    pack_size: int = 1
    min_order: int = 1
    min_qty: int | None = None
    max_qty: int | None = None


@dataclass(frozen=True)
class Suggestion:
    """What to order and why, every term of the sum kept for the explanation."""

    method: Method
    as_of: date
    horizon_end: date  # demand counted on days as_of ≤ day < horizon_end (calendar)
    demand: int
    safety: int
    usable: int  # stock that serves the demand or is still in date at the horizon
    on_hand: int
    expiring_unused: int
    on_order: int
    net: int  # the raw need before rounding (may be negative)
    quantity: int  # rounded to packs and the minimum order; 0: nothing to order
    need_by: date | None  # first day the stock falls short (calendar), else None
    explanation: str


def _packs(terms: Terms, net: int, quantity: int) -> str:
    if quantity <= 0:
        return "nothing to order"
    parts = []
    if terms.min_order > 1 and net < terms.min_order:
        parts.append(f"minimum order {terms.min_order}")
    if terms.pack_size > 1:
        parts.append(f"{quantity // terms.pack_size} × pack of {terms.pack_size}")
    return f"order {quantity}" + (f" ({', '.join(parts)})" if parts else "")


def calendar_suggestion(
    terms: Terms,
    as_of: date,
    requirements: Sequence[Requirement],
    supplies: Sequence[Supply],
    on_order: int,
    *,
    margin_days: int,
) -> Suggestion:
    """Demand over lead time + review period, plus safety stock (days of average daily
    demand), minus the stock that will still be in date when it is needed (or at the
    horizon, for the safety stock), minus what is already on order; rounded up to whole
    packs and the minimum order.

    An order placed today arrives after the lead time and the next review's order one
    review period later, so this order must carry the clinic until then."""
    period = terms.lead_time_days + terms.review_period_days
    end = as_of + timedelta(days=period)
    window = [r for r in requirements if as_of <= r.day < end]
    coverage = cover(window, supplies, spare_until=end + timedelta(days=margin_days))
    demand = coverage.demand
    safety = math.ceil(demand * terms.safety_days / period) if period else 0
    usable = coverage.usable
    net = demand + safety - usable - on_order
    quantity = round_order(net, terms.pack_size, terms.min_order)
    short = first_shortfall(window, supplies) if coverage.short else None
    text = (
        f"demand {demand} from {as_of} to {end - timedelta(days=1)} "
        f"(lead {terms.lead_time_days} + review {terms.review_period_days} days) "
        f"+ safety {safety} ({terms.safety_days} days) "
        f"- usable {usable} (of {coverage.on_hand} on hand; "
        f"{coverage.expiring_unused} expire before use) "
        f"- on order {on_order} = {net}: {_packs(terms, net, quantity)}"
    )
    return Suggestion(
        method=Method.CALENDAR, as_of=as_of, horizon_end=end, demand=demand, safety=safety,
        usable=usable, on_hand=coverage.on_hand, expiring_unused=coverage.expiring_unused,
        on_order=on_order, net=net, quantity=quantity,
        need_by=short.day if short is not None else None, explanation=text,
    )  # fmt: skip


def min_max_suggestion(
    terms: Terms, as_of: date, supplies: Sequence[Supply], on_order: int
) -> Suggestion:
    """When stock in date today + on order falls below the minimum, order up to the
    maximum; rounded up to whole packs and the minimum order. Blind to when stock expires
    and when it will be needed: the calendar policy is the one that sees both."""
    if terms.min_qty is None or terms.max_qty is None:
        raise InvalidInput("min", terms.min_qty, _("a min_max policy needs --min and --max"))
    on_hand = sum(s.quantity for s in supplies if s.expiry is None or s.expiry >= as_of)
    position = on_hand + on_order
    if position < terms.min_qty:
        net = terms.max_qty - position
        quantity = round_order(net, terms.pack_size, terms.min_order)
        text = (
            f"on hand {on_hand} + on order {on_order} = {position} < min {terms.min_qty}: "
            f"up to max {terms.max_qty} = {net}: {_packs(terms, net, quantity)}"
        )
    else:
        net, quantity = 0, 0
        text = (
            f"on hand {on_hand} + on order {on_order} = {position}, not below min "
            f"{terms.min_qty}: nothing to order"
        )
    return Suggestion(
        method=Method.MIN_MAX, as_of=as_of, horizon_end=as_of, demand=0, safety=0,
        usable=on_hand, on_hand=on_hand, expiring_unused=0, on_order=on_order, net=net,
        quantity=quantity, need_by=None, explanation=text,
    )  # fmt: skip
