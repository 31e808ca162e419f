"""Which kit serves which course: the batch serves as many courses as possible and gives each
the earliest-expiring kit that still fits, from its own clinic's pool only."""

import itertools
import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kitops.domain.assignment as assignment_module
from kitops.domain.assignment import Assignment, KitOffer, NeedRequest, assign
from kitops.domain.courses import (
    Administered,
    KitNeed,
    Plan,
    course_calendar,
    fits,
    kit_needs,
)

property_test = settings(database=None, max_examples=200, deadline=None)

DAY0 = date(2027, 1, 1)
VIAL_UL = 5000
HOME_VIALS = 6
HOME_6W = Plan("home-6w", "At-home 6 weeks", 2, 6, 2500, Administered.HOME, "KIT-HOME-6W", 1)
HOME_12W = Plan("home-12w", "At-home 12 weeks", 2, 12, 2500, Administered.HOME, "KIT-HOME-6W", 2)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def need_until(last: int, first_use: int | None = None) -> KitNeed:
    """A home-6w-shaped need (vial k needed 7 days after vial k-1) ending on day ``last``."""
    until = tuple(day(last - 35 + 7 * k) for k in range(HOME_VIALS))
    return KitNeed(1, day(last - 45 if first_use is None else first_use), until)


def request(key, last: int, pool="LDN") -> NeedRequest:
    return NeedRequest(key, pool, need_until(last))


def single_lot_kit(kit_id: int, expiry: int, pool="LDN") -> KitOffer:
    return KitOffer(kit_id, pool, (day(expiry),) * HOME_VIALS)


def course_needs(plan: Plan, start: date, weekdays, margin_days: int = 7) -> list[KitNeed]:
    cal = course_calendar(plan, start, weekdays, "Europe/London")
    return kit_needs(plan, cal, VIAL_UL, HOME_VIALS, margin_days)


def check_sound(result: Assignment, needs, kits) -> None:
    """Every need is served or unserved exactly once, every kit serves at most one need, from
    its own pool, and fits it."""
    by_key = {n.key: n for n in needs}
    by_id = {k.kit_id: k for k in kits}
    assert sorted(map(repr, [*result.served, *result.unserved])) == sorted(map(repr, by_key))
    assert len(set(result.served.values())) == len(result.served)
    for key, kit_id in result.served.items():
        assert by_id[kit_id].pool == by_key[key].pool
        assert fits(by_id[kit_id].vial_expiries, by_key[key].need)


# --- the long-dated kit goes to the long course ---------------------------------------------


@pytest.mark.parametrize("needs_reversed", [False, True])
@pytest.mark.parametrize("kits_reversed", [False, True])
def test_a_long_dated_kit_goes_to_the_course_that_needs_it_not_to_a_short_course(
    needs_reversed, kits_reversed
):
    needs = [request("A", 45), request("B", 95)]
    kits = [single_lot_kit(50, 50), single_lot_kit(100, 100)]
    if needs_reversed:
        needs.reverse()
    if kits_reversed:
        kits.reverse()
    result = assign(needs, kits)
    assert result.served == {"A": 50, "B": 100}
    assert result.unserved == []


def test_each_course_gets_the_earliest_expiring_kit_that_still_fits():
    needs = [request("A", 45), request("B", 55)]
    kits = [single_lot_kit(1, 100), single_lot_kit(2, 60), single_lot_kit(3, 50)]
    result = assign(needs, kits)
    assert result.served == {"A": 3, "B": 2}  # kit 1, the longest, is kept back


def test_a_kit_expiring_on_the_last_needed_day_is_used_before_a_later_one():
    result = assign([request("A", 45)], [single_lot_kit(1, 46), single_lot_kit(2, 45)])
    assert result.served == {"A": 2}


def test_a_fitting_mixed_lot_kit_is_used_before_a_long_dated_single_lot_kit():
    need = need_until(45)  # vials needed until days 10, 17, 24, 31, 38, 45
    mixed = KitOffer(1, "LDN", (day(18),) * 2 + (day(200),) * 4)
    long_dated = KitOffer(2, "LDN", (day(200),) * 6)
    result = assign([NeedRequest("A", "LDN", need)], [long_dated, mixed])
    assert result.served == {"A": 1}


def test_the_two_kits_of_a_12_week_course_get_the_short_and_the_long_kit():
    first, second = course_needs(HOME_12W, date(2027, 3, 1), (MON, THU))
    assert (first.last_needed, second.last_needed) == (date(2027, 4, 15), date(2027, 5, 27))
    needs = [NeedRequest(("c1", 2), "LDN", second), NeedRequest(("c1", 1), "LDN", first)]
    kits = [
        KitOffer(7, "LDN", (date(2027, 5, 27),) * 6),
        KitOffer(8, "LDN", (date(2027, 4, 15),) * 6),
        KitOffer(9, "LDN", (date(2027, 4, 14),) * 6),  # one day short for kit 1
    ]
    result = assign(needs, kits)
    assert result.served == {("c1", 1): 8, ("c1", 2): 7}


# --- pools, nothing fits, each kit once, determinism ----------------------------------------


def test_pools_keep_clinics_apart():
    needs = [request("vienna", 45, pool="VIE"), request("london", 45, pool="LDN")]
    kits = [single_lot_kit(1, 50, pool="LDN"), single_lot_kit(2, 100, pool="LDN")]
    result = assign(needs, kits)
    assert result.served == {"london": 1}
    assert result.unserved == ["vienna"]


def test_a_need_is_served_from_its_own_pool_even_when_another_holds_a_tighter_kit():
    needs = [request("london", 45, pool="LDN")]
    kits = [single_lot_kit(1, 46, pool="VIE"), single_lot_kit(2, 90, pool="LDN")]
    assert assign(needs, kits).served == {"london": 2}


def test_when_no_kit_fits_every_course_is_unserved():
    needs = [request("A", 45), request("B", 95)]
    kits = [single_lot_kit(1, 44), single_lot_kit(2, 5), KitOffer(3, "LDN", (day(40),) * 6)]
    result = assign(needs, kits)
    assert result.served == {}
    assert sorted(result.unserved) == ["A", "B"]


def test_no_kits_at_all_leaves_every_course_unserved_and_no_needs_gives_nothing():
    assert assign([request("A", 45)], []) == Assignment({}, ["A"])
    assert assign([], [single_lot_kit(1, 50)]) == Assignment({}, [])


def test_each_kit_serves_at_most_one_course():
    needs = [request("A", 45), request("B", 45), request("C", 45)]
    kits = [single_lot_kit(1, 60), single_lot_kit(2, 70)]
    result = assign(needs, kits)
    check_sound(result, needs, kits)
    assert sorted(result.served.values()) == [1, 2]
    assert len(result.unserved) == 1


def test_the_same_input_gives_the_same_answer_whatever_its_order():
    rng = random.Random(20270301)
    needs = [request(("course", i), rng.randint(40, 120), rng.choice("LV")) for i in range(60)]
    kits = [single_lot_kit(i, rng.randint(30, 130), rng.choice("LV")) for i in range(50)]
    expected = assign(needs, kits)
    assert assign(needs, kits) == expected
    for _ in range(5):
        rng.shuffle(needs)
        rng.shuffle(kits)
        again = assign(needs, kits)
        assert again.served == expected.served
        assert again.unserved == expected.unserved
    check_sound(expected, needs, kits)


# --- maximum cardinality and least wastage against brute force -------------------------------


def max_matching(needs, kits) -> int:
    """Size of a maximum bipartite matching (augmenting paths)."""
    owner: dict[int, int] = {}
    edges = [[j for j, k in enumerate(kits) if fits(k.vial_expiries, n.need)] for n in needs]

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or augment(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    return sum(augment(i, set()) for i in range(len(needs)))


def brute_force_optimum(needs, kits) -> tuple[int, list[date]]:
    """(most needs that can be served, the earliest sorted expiries of kits serving them)."""
    best = max_matching(needs, kits)
    candidates = [
        sorted(k.expiry for k in subset)
        for subset in itertools.combinations(kits, best)
        if max_matching(needs, list(subset)) == best
    ]
    return best, min(candidates)


COURSES = st.lists(
    st.tuples(
        st.sampled_from(["LDN", "VIE"]),
        st.sampled_from([HOME_6W, HOME_12W]),
        st.integers(min_value=0, max_value=60),  # start, days after 1 March 2027
        st.integers(min_value=1, max_value=6),  # the second weekday, days after the start's
    ),
    max_size=6,
)
KITS = st.lists(
    st.tuples(st.sampled_from(["LDN", "VIE"]), st.integers(min_value=0, max_value=150)),
    max_size=6,
)


@property_test
@given(courses=COURSES, kit_specs=KITS)
def test_single_lot_kits_serve_as_many_courses_as_brute_force_with_the_least_wastage(
    courses, kit_specs
):
    needs = []
    for number, (pool, plan, offset, second) in enumerate(courses):
        start = date(2027, 3, 1) + timedelta(days=offset)
        weekdays = tuple(sorted({start.weekday(), (start.weekday() + second) % 7}))
        for need in course_needs(plan, start, weekdays):
            needs.append(NeedRequest((number, need.part), pool, need))
    needs = needs[:6]
    kits = [
        KitOffer(i, pool, (date(2027, 3, 1) + timedelta(days=e),) * HOME_VIALS)
        for i, (pool, e) in enumerate(kit_specs)
    ]
    result = assign(needs, kits)
    check_sound(result, needs, kits)
    by_id = {k.kit_id: k for k in kits}
    for pool in ("LDN", "VIE"):
        pool_needs = [n for n in needs if n.pool == pool]
        pool_kits = [k for k in kits if k.pool == pool]
        best, least_wastage = brute_force_optimum(pool_needs, pool_kits)
        used = sorted(
            by_id[result.served[n.key]].expiry for n in pool_needs if n.key in result.served
        )
        assert len(used) == best
        assert used == least_wastage
    # no served course could swap to a free kit that expires earlier and still fits; no
    # unserved course has a free kit that fits
    free = [k for k in kits if k.kit_id not in set(result.served.values())]
    for n in needs:
        better = [k for k in free if k.pool == n.pool and fits(k.vial_expiries, n.need)]
        if n.key in result.served:
            assert all(k.expiry >= by_id[result.served[n.key]].expiry for k in better)
        else:
            assert better == []


@pytest.mark.parametrize("seed", range(40))
def test_seeded_random_one_date_scenarios_match_the_brute_force_optimum(seed):
    rng = random.Random(seed)
    needs = [request(i, rng.randint(40, 100)) for i in range(rng.randint(0, 6))]
    kits = [single_lot_kit(i, rng.randint(30, 110)) for i in range(rng.randint(0, 6))]
    result = assign(needs, kits)
    check_sound(result, needs, kits)
    best, least_wastage = brute_force_optimum(needs, kits)
    assert len(result.served) == best
    assert sorted(k.expiry for k in kits if k.kit_id in result.served.values()) == (least_wastage)


# --- mixed-lot kits against the rule "as many courses as possible" --------------------------


THREE_TIMES_A_WEEK = Plan(
    "home-4w-3x", "At-home 4 weeks, three times a week", 3, 4, 2500, Administered.HOME,
    "KIT-HOME-6W", 1,
)  # fmt: skip


@pytest.mark.xfail(
    strict=True,
    reason=(
        "known limitation, documented in kitops.domain.assignment and the README: with "
        "mixed-lot kits and plans of different rhythms in one pool the greedy gives the more "
        "demanding course a kit the other course needed; optimal for single-lot kits"
    ),
)
def test_two_mixed_lot_kits_serve_both_courses_when_both_can_be_served():
    (twice,) = course_needs(HOME_6W, date(2027, 3, 8), (MON, THU))
    (thrice,) = course_needs(THREE_TIMES_A_WEEK, date(2027, 3, 15), (MON, WED, FRI))
    assert twice.vial_needed_until[:3] == (date(2027, 3, 18), date(2027, 3, 25), date(2027, 4, 1))
    assert thrice.vial_needed_until[:3] == (date(2027, 3, 24), date(2027, 3, 29), date(2027, 4, 2))
    assert twice.last_needed == date(2027, 4, 22) > thrice.last_needed == date(2027, 4, 16)
    x = KitOffer(1, "LDN", (date(2027, 3, 24),) + (date(2027, 4, 22),) * 5)  # fits both
    y = KitOffer(2, "LDN", (date(2027, 3, 25),) * 2 + (date(2027, 4, 22),) * 4)  # twice only
    assert fits(x.vial_expiries, twice)
    assert fits(x.vial_expiries, thrice)
    assert fits(y.vial_expiries, twice)
    assert not fits(y.vial_expiries, thrice)
    needs = [NeedRequest("twice", "LDN", twice), NeedRequest("thrice", "LDN", thrice)]
    result = assign(needs, [x, y])
    assert result.served == {"twice": 2, "thrice": 1}


# --- size ---------------------------------------------------------------------------------


def test_ten_thousand_needs_against_twenty_thousand_kits_are_all_served():
    # 10,000 home-6w courses starting over 100 days; 10,000 kits expired before any course
    # needs its first vial and 10,000 long-dated kits that fit any of them
    needs = [request(("course", i), 45 + i % 100) for i in range(10_000)]
    expired = [single_lot_kit(i, i % 6) for i in range(10_000)]
    long_dated = [single_lot_kit(10_000 + i, 200 + i % 400) for i in range(10_000)]
    result = assign(needs, expired + long_dated)
    assert len(result.served) == 10_000
    assert result.unserved == []
    assert len(set(result.served.values())) == 10_000
    assert min(result.served.values()) >= 10_000  # only long-dated kits were used


def test_more_needs_than_fitting_kits_serves_exactly_the_number_of_fitting_kits():
    needs = [request(("course", i), 45 + i % 100) for i in range(10_000)]
    kits = [single_lot_kit(i, i % 6) for i in range(12_000)]
    kits += [single_lot_kit(12_000 + i, 300 + i % 50) for i in range(8_000)]
    result = assign(needs, kits)
    assert len(result.served) == 8_000
    assert len(result.unserved) == 2_000


def test_kits_that_cannot_serve_any_course_are_not_examined_for_every_course(monkeypatch):
    calls = 0
    real_fits = assignment_module.fits

    def counting_fits(vials, need):
        nonlocal calls
        calls += 1
        return real_fits(vials, need)

    monkeypatch.setattr(assignment_module, "fits", counting_fits)
    # every kit is in date for a course's first vial (day 10) but not for its last (day 45)
    needs = [request(("course", i), 45) for i in range(100)]
    kits = [single_lot_kit(i, 20 + i % 20) for i in range(1_000)]
    result = assign(needs, kits)
    assert result.served == {}
    assert calls <= 10 * (len(needs) + len(kits))
