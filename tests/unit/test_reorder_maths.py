"""Reorder arithmetic, checked against sums done by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kitops.domain.reorder import (
    Method,
    Requirement,
    Supply,
    Terms,
    calendar_suggestion,
    cover,
    first_shortfall,
    min_max_suggestion,
    parse_method,
    round_order,
)
from kitops.errors import InvalidInput

D = date(2026, 11, 22)


def day(n: int) -> date:
    return D + timedelta(days=n)


def need(on: int, until: int, qty: int = 1) -> Requirement:
    return Requirement(day(on), day(until), qty)


def test_a_lot_that_expires_before_it_would_be_used_is_not_counted():
    # three needs on days 1, 8, 15, each to last a week; 10 vials expiring on day 9
    needs = [need(1, 8), need(8, 15), need(15, 22)]
    result = cover(needs, [Supply(day(9), 10)], spare_until=day(30))
    assert result.demand == 3
    assert result.covered == 1  # only the day-1 need: the others outlast the lot
    assert result.short == 2
    assert result.spare == 0
    assert result.expiring_unused == 9
    assert result.usable == 1


def test_cover_gives_each_need_the_earliest_expiring_lot_that_lasts():
    # taking the long lot for the short need would leave the long need without one
    needs = [need(1, 5), need(2, 40)]
    result = cover(needs, [Supply(day(50), 1), Supply(day(6), 1)], spare_until=day(60))
    assert result.covered == 2


def test_stock_still_in_date_after_the_window_is_spare():
    result = cover([need(1, 3, 2)], [Supply(day(100), 5), Supply(None, 1)], spare_until=day(20))
    assert (result.covered, result.spare, result.expiring_unused) == (2, 4, 0)


def test_first_shortfall_walks_the_needs_day_by_day():
    needs = [need(1, 8), need(8, 15), need(15, 22)]
    short = first_shortfall(needs, [Supply(day(16), 5)])
    assert short == need(15, 22)
    assert first_shortfall(needs, [Supply(day(30), 3)]) is None


@pytest.mark.parametrize(
    ("net", "pack", "minimum", "expected"),
    [
        (0, 6, 12, 0),
        (-4, 6, 12, 0),
        (1, 6, 1, 6),  # one short: a whole pack
        (7, 6, 1, 12),  # two packs
        (3, 6, 12, 12),  # the minimum order
        (13, 6, 12, 18),  # above the minimum, rounded to packs
        (5, 10, 12, 20),  # a minimum that is not a whole number of packs
        (5, 1, 1, 5),
    ],
)
def test_orders_are_whole_packs_and_at_least_the_minimum(net, pack, minimum, expected):
    assert round_order(net, pack, minimum) == expected


def test_calendar_suggestion_explains_every_term():
    terms = Terms(Method.CALENDAR, lead_time_days=10, review_period_days=7, safety_days=0,
                  pack_size=6, min_order=12)  # fmt: skip
    # 5 needs in the 17 days (days 1, 3, 8, 10, 15); day 20 is beyond the horizon
    needs = [need(1, 8), need(3, 10), need(8, 15), need(10, 17), need(15, 22), need(20, 27)]
    stock = [Supply(day(9), 10), Supply(day(200), 1)]
    s = calendar_suggestion(terms, D, needs, stock, on_order=0, margin_days=7)
    assert s.horizon_end == day(17)
    assert s.demand == 5
    assert s.usable == 2  # the day-9 lot serves only the first need; the long lot one more
    assert s.expiring_unused == 9
    assert s.net == 3
    assert s.quantity == 12
    assert s.need_by == day(8)  # days 1 and 3 are served, day 8 is not
    assert "demand 5" in s.explanation
    assert "usable 2 (of 11 on hand; 9 expire before use)" in s.explanation
    assert "minimum order 12" in s.explanation
    assert "2 × pack of 6" in s.explanation


def test_calendar_safety_stock_is_days_of_average_demand_and_on_order_counts():
    terms = Terms(Method.CALENDAR, lead_time_days=10, review_period_days=10, safety_days=7,
                  pack_size=1, min_order=1)  # fmt: skip
    needs = [need(d, d + 7, 2) for d in range(0, 20, 2)]  # 20 units over 20 days
    s = calendar_suggestion(terms, D, needs, [], on_order=4, margin_days=7)
    assert s.demand == 20
    assert s.safety == 7  # 20 units / 20 days × 7 days
    assert s.net == 20 + 7 - 0 - 4
    assert s.quantity == 23


def test_min_max_orders_up_to_max_when_below_min():
    terms = Terms(Method.MIN_MAX, lead_time_days=5, pack_size=10, min_order=10, min_qty=5,
                  max_qty=20)  # fmt: skip
    s = min_max_suggestion(terms, D, [Supply(day(100), 3)], on_order=1)
    assert (s.on_hand, s.on_order, s.net, s.quantity) == (3, 1, 16, 20)
    s = min_max_suggestion(terms, D, [Supply(day(100), 3)], on_order=2)
    assert s.quantity == 0  # 3 + 2 is not below 5


def test_min_max_sees_enough_where_the_calendar_sees_stock_expiring_before_use():
    stock = [Supply(day(9), 10), Supply(day(200), 1)]
    needs = [need(1, 8), need(3, 10), need(8, 15), need(10, 17), need(15, 22)]
    minmax = Terms(Method.MIN_MAX, lead_time_days=10, pack_size=6, min_order=6, min_qty=4,
                   max_qty=10)  # fmt: skip
    calendar = Terms(Method.CALENDAR, lead_time_days=10, review_period_days=7, pack_size=6,
                     min_order=6)  # fmt: skip
    assert min_max_suggestion(minmax, D, stock, 0).quantity == 0
    assert calendar_suggestion(calendar, D, needs, stock, 0, margin_days=7).quantity == 6


def test_stock_already_expired_does_not_count_for_min_max():
    terms = Terms(Method.MIN_MAX, lead_time_days=5, min_qty=2, max_qty=4)
    assert min_max_suggestion(terms, D, [Supply(day(-1), 50)], 0).quantity == 4


def test_method_names_are_checked():
    assert parse_method("Min-Max") is Method.MIN_MAX
    with pytest.raises(InvalidInput, match="method 'fifo'"):
        parse_method("fifo")
