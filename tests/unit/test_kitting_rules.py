"""Kitting without waste, the pure rules: where an assembly's units come from within the
clinic, how long one kit of a plan must last, and which plans a kit can still serve."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kitops.domain.courses import Administered, Plan, can_serve, kit_needs_from, kit_share_days
from kitops.domain.kits import Draw, draws_for
from kitops.errors import Refused

FRIDGE, SHELF, STORE = 10, 20, 30

HOME_6W = Plan("home-6w", "6 weeks", 2, 6, 2500, Administered.HOME, "KIT", 1)
HOME_12W = Plan("home-12w", "12 weeks, two kits", 2, 12, 2500, Administered.HOME, "KIT", 2)
WEEKLY_12W = Plan("weekly-12w", "weekly, 12 weeks", 1, 12, 2500, Administered.HOME, "KIT", 1)
CLINIC = Plan("clinic-6", "clinic", 1, 6, 5000, Administered.CLINIC)
TODAY = date(2026, 11, 23)  # a Monday


def test_units_at_the_assembly_place_are_used_first_then_the_other_places_in_order():
    held = {1: [(FRIDGE, 4), (SHELF, 5), (STORE, 9)], 2: [(SHELF, 3)]}
    assert draws_for({1: 12, 2: 2}, held, FRIDGE) == [
        Draw(1, SHELF, 5),
        Draw(1, STORE, 3),
        Draw(2, SHELF, 2),
    ]


def test_nothing_is_moved_when_the_assembly_place_holds_enough():
    assert draws_for({1: 4}, {1: [(FRIDGE, 4), (SHELF, 5)]}, FRIDGE) == []
    assert draws_for({}, {}, FRIDGE) == []


def test_a_lot_whose_places_hold_too_few_is_refused():
    with pytest.raises(Refused):
        draws_for({1: 10}, {1: [(FRIDGE, 4), (SHELF, 5)]}, FRIDGE)


def test_one_kit_lasts_the_plans_weeks_shared_among_its_kits():
    assert kit_share_days(HOME_6W) == 42
    assert kit_share_days(HOME_12W) == 42  # two kits of six weeks
    assert kit_share_days(WEEKLY_12W) == 84
    assert kit_share_days(CLINIC) == 0  # no kits
    odd = Plan("odd", "5 weeks, two kits", 2, 5, 2500, Administered.HOME, "KIT", 2)
    assert kit_share_days(odd) == 18  # 35 days / 2, rounded up


def test_every_kit_need_begins_on_the_day_asked():
    needs = kit_needs_from(HOME_12W, 5000, 6, 7, TODAY)
    assert [n.part for n in needs] == [1, 2]
    assert all(n.first_use == TODAY for n in needs)
    # 12 applications at twice a week (Monday and Thursday): the last on day 38, + 7 days
    assert max(n.last_needed for n in needs) == TODAY + timedelta(days=38 + 7)
    assert kit_needs_from(CLINIC, 5000, 6, 7, TODAY) == ()
    assert kit_needs_from(WEEKLY_12W, 5000, 3, 7, TODAY) == ()  # 3 vials serve 6 of 12


def test_a_kit_can_serve_a_plan_while_every_vial_lasts_its_last_use_plus_the_margin():
    fits_6w = TODAY + timedelta(days=38 + 7)
    vials = (fits_6w,) * 6
    assert can_serve(vials, HOME_6W, 5000, 6, 7, TODAY)
    assert can_serve(vials, HOME_12W, 5000, 6, 7, TODAY)
    assert not can_serve(vials, WEEKLY_12W, 5000, 6, 7, TODAY)
    assert not can_serve(vials, HOME_6W, 5000, 6, 7, TODAY + timedelta(days=1))
    assert not can_serve(vials, HOME_6W, 5000, 6, 8, TODAY)  # a larger margin
    # vial by vial: the early vials may expire sooner than the late ones
    early = tuple(sorted((TODAY + timedelta(days=12),) + (fits_6w,) * 5))
    assert can_serve(early, HOME_6W, 5000, 6, 7, TODAY)
    assert not can_serve((TODAY + timedelta(days=5),) + (fits_6w,) * 5, HOME_6W, 5000, 6, 7, TODAY)
    long = (TODAY + timedelta(days=200),) * 6
    assert can_serve(long, WEEKLY_12W, 5000, 6, 7, TODAY)


def test_a_plan_with_default_weekdays_is_judged_from_its_next_weekday():
    thursdays = Plan("thu", "Thursdays", 1, 6, 5000, Administered.HOME, "KIT", 1,
                     default_weekdays=(3,))  # fmt: skip
    needs = kit_needs_from(thursdays, 5000, 6, 7, TODAY)
    assert [n.first_use for n in needs] == [TODAY]
    assert needs[0].last_needed == TODAY + timedelta(days=35 + 7)
