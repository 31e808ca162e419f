"""Kit assembly: which component lots go into which kit (first expiry first out, one lot per
kit where possible), all or nothing, and the vial dates a kit is judged by."""

import copy
from datetime import date

import pytest

from kitops.domain.kits import (
    ComponentNeed,
    KitPlan,
    LotStock,
    NotEnoughComponents,
    Shortfall,
    assemblable,
    kit_vial_expiries,
    plan_assembly,
)
from kitops.errors import Refused

SERUM, STAMP, LEAFLET = 1, 2, 3
HOME_KIT = [ComponentNeed(SERUM, "SERUM-5ML", 6), ComponentNeed(STAMP, "STAMP-0.5", 1)]
PTT6_KIT = [ComponentNeed(SERUM, "SERUM-5ML", 12), ComponentNeed(STAMP, "STAMP-0.5", 1)]
STAMPS = [LotStock(21, date(2029, 1, 31), 10)]


def d(text: str) -> date:
    return date.fromisoformat(text)


def parts(plans: list[KitPlan]) -> list[list[tuple[int, int, int]]]:
    return [plan.parts for plan in plans]


# --- one lot per kit, first expiry first ----------------------------------------------------


def test_each_kit_takes_its_vials_from_the_earliest_lot_that_covers_the_whole_kit():
    stock = {
        SERUM: [
            LotStock(13, d("2028-01-31"), 6),
            LotStock(12, d("2027-09-30"), 12),
            LotStock(11, d("2027-06-30"), 9),
        ],
        STAMP: STAMPS,
    }
    plans = plan_assembly(3, HOME_KIT, stock)
    assert parts(plans) == [
        [(SERUM, 11, 6), (STAMP, 21, 1)],
        # lot 11 has 3 vials left: kit 2 does not mix them in, it takes lot 12 whole
        [(SERUM, 12, 6), (STAMP, 21, 1)],
        [(SERUM, 12, 6), (STAMP, 21, 1)],
    ]


def test_a_remainder_too_small_for_a_kit_is_left_untouched_while_another_lot_covers():
    stock = {SERUM: [LotStock(11, d("2027-06-30"), 9), LotStock(12, d("2027-09-30"), 6)]}
    stock[STAMP] = STAMPS
    plans = plan_assembly(2, HOME_KIT, stock)
    used = [(lot, qty) for plan in plans for pid, lot, qty in plan.parts if pid == SERUM]
    assert used == [(11, 6), (12, 6)]  # 3 vials of lot 11 stay on the shelf


def test_lots_are_mixed_only_when_no_single_lot_can_cover_a_kit():
    stock = {
        SERUM: [
            LotStock(11, d("2027-06-30"), 3),
            LotStock(12, d("2027-09-30"), 4),
            LotStock(13, d("2028-01-31"), 5),
        ],
        STAMP: STAMPS,
    }
    plans = plan_assembly(2, HOME_KIT, stock)
    assert parts(plans) == [
        [(SERUM, 11, 3), (SERUM, 12, 3), (STAMP, 21, 1)],  # the earliest lots combined
        [(SERUM, 12, 1), (SERUM, 13, 5), (STAMP, 21, 1)],
    ]


def test_a_ptt6_kit_of_12_vials_mixes_lots_only_when_none_holds_12():
    stock = {
        SERUM: [LotStock(31, d("2027-05-31"), 7), LotStock(32, d("2027-08-31"), 12)],
        STAMP: STAMPS,
    }
    assert parts(plan_assembly(1, PTT6_KIT, stock)) == [[(SERUM, 32, 12), (STAMP, 21, 1)]]
    stock = {
        SERUM: [LotStock(31, d("2027-05-31"), 7), LotStock(32, d("2027-08-31"), 11)],
        STAMP: STAMPS,
    }
    assert parts(plan_assembly(1, PTT6_KIT, stock)) == [
        [(SERUM, 31, 7), (SERUM, 32, 5), (STAMP, 21, 1)]
    ]


def test_a_lot_without_an_expiry_is_used_after_every_dated_lot():
    stock = {
        SERUM: [LotStock(10, None, 6), LotStock(11, d("2030-12-31"), 6)],
        STAMP: [LotStock(20, None, 1), LotStock(21, d("2029-01-31"), 1)],
    }
    plans = plan_assembly(2, HOME_KIT, stock)
    assert parts(plans) == [
        [(SERUM, 11, 6), (STAMP, 21, 1)],
        [(SERUM, 10, 6), (STAMP, 20, 1)],
    ]


def test_lots_with_the_same_expiry_are_taken_in_lot_order():
    stock = {
        SERUM: [LotStock(15, d("2027-06-30"), 6), LotStock(14, d("2027-06-30"), 6)],
        STAMP: STAMPS,
    }
    assert parts(plan_assembly(1, HOME_KIT, stock)) == [[(SERUM, 14, 6), (STAMP, 21, 1)]]


def test_planning_leaves_the_callers_stock_unchanged():
    stock = {SERUM: [LotStock(11, d("2027-06-30"), 9)], STAMP: [LotStock(21, d("2029-01-31"), 1)]}
    before = copy.deepcopy(stock)
    plan_assembly(1, HOME_KIT, stock)
    assert stock == before


def test_exactly_enough_stock_assembles_every_kit_and_uses_it_all():
    stock = {
        SERUM: [LotStock(11, d("2027-06-30"), 4), LotStock(12, d("2027-09-30"), 8)],
        STAMP: [LotStock(21, d("2029-01-31"), 2)],
    }
    plans = plan_assembly(2, HOME_KIT, stock)
    assert len(plans) == 2
    used: dict[tuple[int, int], int] = {}
    for plan in plans:
        for pid, lot, qty in plan.parts:
            used[pid, lot] = used.get((pid, lot), 0) + qty
    assert used == {(SERUM, 11): 4, (SERUM, 12): 8, (STAMP, 21): 2}
    for plan in plans:
        assert sum(q for pid, _, q in plan.parts if pid == SERUM) == 6
        assert sum(q for pid, _, q in plan.parts if pid == STAMP) == 1


def test_no_kits_asked_for_gives_no_plans():
    assert plan_assembly(0, HOME_KIT, {SERUM: [], STAMP: []}) == []


# --- all or nothing -------------------------------------------------------------------------


def test_a_shortfall_refuses_all_kits_and_lists_each_short_component_with_its_missing_count():
    components = [*HOME_KIT, ComponentNeed(LEAFLET, "LEAFLET-EN", 1)]
    stock = {
        SERUM: [LotStock(11, d("2027-06-30"), 9), LotStock(12, d("2027-09-30"), 6)],
        STAMP: [LotStock(21, d("2029-01-31"), 1)],
    }
    before = copy.deepcopy(stock)
    with pytest.raises(NotEnoughComponents) as caught:
        plan_assembly(3, components, stock)
    error = caught.value
    assert isinstance(error, Refused)
    assert error.kits == 3
    assert error.shortfalls == [
        Shortfall("SERUM-5ML", 18, 15),
        Shortfall("STAMP-0.5", 3, 1),
        Shortfall("LEAFLET-EN", 3, 0),
    ]
    assert [s.missing for s in error.shortfalls] == [3, 2, 3]
    assert str(error) == (
        "cannot assemble 3 kits, none assembled: "
        "SERUM-5ML: 3 short (15 usable, 18 needed); "
        "STAMP-0.5: 2 short (1 usable, 3 needed); "
        "LEAFLET-EN: 3 short (0 usable, 3 needed)"
    )
    assert stock == before


def test_only_the_components_that_are_short_are_listed():
    stock = {SERUM: [LotStock(11, d("2027-06-30"), 60)], STAMP: [LotStock(21, d("2029-01-31"), 4)]}
    with pytest.raises(NotEnoughComponents) as caught:
        plan_assembly(5, HOME_KIT, stock)
    assert caught.value.shortfalls == [Shortfall("STAMP-0.5", 5, 4)]


# --- how many kits the stock allows ----------------------------------------------------------


def test_assemblable_is_the_minimum_over_components():
    stock = {
        SERUM: [LotStock(11, d("2027-06-30"), 9), LotStock(12, d("2027-09-30"), 11)],  # 20 → 3
        STAMP: [LotStock(21, d("2029-01-31"), 5)],  # 5
    }
    assert assemblable(HOME_KIT, stock) == 3
    assert assemblable(PTT6_KIT, stock) == 1  # 20 vials → one kit of 12


def test_assemblable_agrees_with_what_plan_assembly_accepts():
    stock = {
        SERUM: [LotStock(11, d("2027-06-30"), 9), LotStock(12, d("2027-09-30"), 11)],
        STAMP: [LotStock(21, d("2029-01-31"), 5)],
    }
    n = assemblable(HOME_KIT, stock)
    assert len(plan_assembly(n, HOME_KIT, stock)) == n
    with pytest.raises(NotEnoughComponents):
        plan_assembly(n + 1, HOME_KIT, stock)


def test_a_component_with_no_stock_allows_no_kits():
    assert assemblable(HOME_KIT, {SERUM: [LotStock(11, d("2027-06-30"), 60)]}) == 0
    assert assemblable([], {SERUM: [LotStock(11, d("2027-06-30"), 60)]}) == 0


# --- the vial dates a kit is judged by ------------------------------------------------------


def test_a_stamp_expiring_before_the_vials_caps_every_vial_date():
    vials = [d("2028-06-30")] * 6
    assert kit_vial_expiries(vials, [d("2028-01-31")]) == (d("2028-01-31"),) * 6


def test_a_stamp_caps_only_the_vials_that_outlast_it():
    vials = [d("2028-06-30")] * 4 + [d("2027-05-31")] * 2
    assert kit_vial_expiries(vials, [d("2027-12-31"), d("2029-01-31")]) == (
        (d("2027-05-31"),) * 2 + (d("2027-12-31"),) * 4
    )


def test_without_other_components_the_vial_dates_are_returned_earliest_first():
    vials = [d("2028-06-30"), d("2027-05-31"), d("2027-09-30")]
    assert kit_vial_expiries(vials, []) == (d("2027-05-31"), d("2027-09-30"), d("2028-06-30"))


def test_a_stamp_outlasting_every_vial_changes_nothing():
    vials = [d("2027-09-30")] * 6
    assert kit_vial_expiries(vials, [d("2029-01-31")]) == (d("2027-09-30"),) * 6
