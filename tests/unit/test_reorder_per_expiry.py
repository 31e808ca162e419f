"""The reorder run reads stock summed per expiry date (one supply per clinic, product and
expiry) instead of lot by lot. These properties say that changes no suggestion: lots that
expire on the same day serve exactly the same needs."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kitops.domain.reorder import (
    Method,
    Requirement,
    Supply,
    Terms,
    calendar_suggestion,
    cover,
    first_shortfall,
    min_max_suggestion,
)

property_test = settings(database=None, max_examples=300, deadline=None)

AS_OF = date(2026, 11, 22)
DAYS = st.integers(min_value=-5, max_value=60).map(lambda n: AS_OF + timedelta(days=n))
# few expiry dates, so that lots often share one; None never expires
EXPIRIES = st.one_of(st.none(), st.sampled_from([AS_OF + timedelta(days=n) for n in (3, 9, 30)]))


@st.composite
def requirements(draw: st.DrawFn) -> list[Requirement]:
    found = []
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        day = draw(DAYS)
        until = day + timedelta(days=draw(st.integers(min_value=0, max_value=14)))
        found.append(Requirement(day, until, draw(st.integers(min_value=0, max_value=6))))
    return found


LOTS = st.lists(st.builds(Supply, EXPIRIES, st.integers(min_value=0, max_value=9)), max_size=8)
TERMS = st.builds(
    Terms,
    method=st.sampled_from(list(Method)),
    lead_time_days=st.integers(min_value=0, max_value=20),
    review_period_days=st.integers(min_value=0, max_value=14),
    safety_days=st.integers(min_value=0, max_value=10),
    pack_size=st.integers(min_value=1, max_value=6),
    min_order=st.integers(min_value=1, max_value=12),
    min_qty=st.integers(min_value=0, max_value=20),
    max_qty=st.integers(min_value=20, max_value=40),
)


def per_expiry(lots: list[Supply]) -> list[Supply]:
    """The lots as the reorder run now reads them: one supply per expiry date."""
    units: Counter[date | None] = Counter()
    for lot in lots:
        units[lot.expiry] += lot.quantity
    return [Supply(expiry, quantity) for expiry, quantity in units.items()]


@property_test
@given(needs=requirements(), lots=LOTS, terms=TERMS, on_order=st.integers(0, 10),
       margin=st.integers(0, 7))  # fmt: skip
def test_a_suggestion_is_the_same_from_lots_or_from_their_sums_per_expiry(
    needs, lots, terms, on_order, margin
):
    if terms.method is Method.CALENDAR:
        by_lot = calendar_suggestion(terms, AS_OF, needs, lots, on_order, margin_days=margin)
        summed = calendar_suggestion(
            terms, AS_OF, needs, per_expiry(lots), on_order, margin_days=margin
        )
    else:
        by_lot = min_max_suggestion(terms, AS_OF, lots, on_order)
        summed = min_max_suggestion(terms, AS_OF, per_expiry(lots), on_order)
    assert summed == by_lot


@property_test
@given(needs=requirements(), lots=LOTS, spare_until=DAYS)
def test_cover_and_the_first_shortfall_are_the_same_from_sums_per_expiry(needs, lots, spare_until):
    assert cover(needs, per_expiry(lots), spare_until=spare_until) == cover(
        needs, lots, spare_until=spare_until
    )
    assert first_shortfall(needs, per_expiry(lots)) == first_shortfall(needs, lots)
