"""Properties of the domain rules that must hold for any input, not just the examples."""

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kitops.domain.catalog import (
    MAX_QUANTITY,
    ProductKind,
    ProductSpec,
    complete_product,
    format_mm,
    mm_to_um,
    parse_non_negative_int,
    parse_positive_int,
    parse_sku,
)
from kitops.domain.ledger import LotStatus, Move, apply_changes, balance_changes, is_usable
from kitops.domain.money import Money
from kitops.errors import InvalidInput, Refused

# No example database: these tests must leave nothing behind outside tests/unit.
property_test = settings(database=None, max_examples=300, deadline=None)

LOTS = st.integers(min_value=1, max_value=4)
LOCATIONS = st.integers(min_value=1, max_value=6)
KEYS = st.tuples(LOTS, LOCATIONS)


def attempt(function, *args):
    """(result, None) when ``function`` accepts the input, (None, error) when it refuses it;
    any other exception escapes and fails the test."""
    try:
        return function(*args), None
    except InvalidInput as error:
        return None, error


@property_test
@given(
    amount_minor=st.integers(min_value=0, max_value=10**15),
    currency=st.sampled_from(["GBP", "EUR", "JPY", "KWD", "CHF"]),
)
def test_money_survives_printing_and_parsing_back(amount_minor, currency):
    money = Money(amount_minor, currency)
    amount, code = str(money).split(" ")
    assert Money.parse(amount, code) == money


@property_test
@given(text=st.text())
def test_money_parse_of_any_text_gives_non_negative_money_or_invalid_input(text):
    money, error = attempt(Money.parse, text, "GBP")
    if error is not None:
        assert (error.field, error.value) == ("amount", text)
    else:
        assert money.amount_minor >= 0
        assert money.currency == "GBP"


@property_test
@given(value=st.one_of(st.text(), st.integers()))
def test_positive_int_of_anything_is_at_least_one_or_invalid_input(value):
    number, error = attempt(parse_positive_int, value, "quantity")
    if error is not None:
        assert (error.field, error.value) == ("quantity", value)
    else:
        assert isinstance(number, int)
        assert number >= 1


@property_test
@given(value=st.one_of(st.text(), st.integers()))
def test_non_negative_int_of_anything_is_at_least_zero_or_invalid_input(value):
    number, error = attempt(parse_non_negative_int, value, "counted")
    if error is not None:
        assert (error.field, error.value) == ("counted", value)
    else:
        assert number >= 0


@property_test
@given(number=st.integers(min_value=1, max_value=MAX_QUANTITY))
def test_every_positive_whole_number_up_to_the_limit_is_accepted_as_written(number):
    assert parse_positive_int(str(number), "quantity") == number


@property_test
@given(number=st.integers(min_value=MAX_QUANTITY + 1, max_value=10**30))
def test_a_quantity_over_the_limit_is_bad_input(number):
    with pytest.raises(InvalidInput):
        parse_positive_int(str(number), "quantity")


@property_test
@given(text=st.text(max_size=80))
def test_sku_parsing_gives_a_clean_upper_case_sku_or_invalid_input(text):
    sku, error = attempt(parse_sku, text)
    if error is not None:
        assert (error.field, error.value) == ("sku", text)
    else:
        assert re.fullmatch(r"[A-Z0-9][A-Z0-9._-]{0,63}", sku)
        assert parse_sku(sku) == sku


@property_test
@given(um=st.integers(min_value=1, max_value=5000))
def test_every_needle_length_round_trips_through_millimetres(um):
    assert mm_to_um(format_mm(um)) == um


@property_test
@given(
    needle_um=st.integers(min_value=1, max_value=5000),
    home_max_um=st.integers(min_value=1, max_value=5000),
    at_home=st.sampled_from([None, True, False]),
)
def test_a_completed_stamp_never_goes_home_with_a_needle_over_the_maximum(
    needle_um, home_max_um, at_home
):
    spec = ProductSpec(
        sku="STAMP",
        name="Derma stamp",
        kind=ProductKind.DERMA_STAMP,
        unit="",
        needle_um=needle_um,
        at_home_allowed=at_home,
    )
    product, error = attempt(complete_product, spec, home_max_um)
    if error is not None:
        assert at_home is True
        assert needle_um > home_max_um
        assert error.field == "needle_mm"
    else:
        if product.at_home_allowed:
            assert needle_um <= home_max_um
        if at_home is None:
            assert product.at_home_allowed == (needle_um <= home_max_um)


@property_test
@given(
    current=st.dictionaries(KEYS, st.integers(min_value=0, max_value=1000)),
    changes=st.dictionaries(KEYS, st.integers(min_value=-1000, max_value=1000)),
)
def test_applied_changes_never_leave_a_negative_balance(current, changes):
    try:
        after = apply_changes(current, changes)
    except Refused:
        assert any(current.get(key, 0) + delta < 0 for key, delta in changes.items())
    else:
        assert set(after) == set(changes)
        assert all(value >= 0 for value in after.values())
        for key, delta in changes.items():
            assert after[key] == current.get(key, 0) + delta


@st.composite
def move_lists(draw):
    result = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        source = draw(LOCATIONS)
        target = draw(LOCATIONS.filter(lambda loc, source=source: loc != source))
        result.append(Move(draw(LOTS), source, target, draw(st.integers(1, 50))))
    return result


@property_test
@given(batch=move_lists(), physical=st.sets(LOCATIONS))
def test_moves_only_change_physical_stock_by_what_crosses_the_boundary(batch, physical):
    changes = balance_changes(batch, physical)
    assert all(location in physical for _lot, location in changes)
    came_in = sum(
        m.quantity
        for m in batch
        if m.to_location_id in physical and m.from_location_id not in physical
    )
    went_out = sum(
        m.quantity
        for m in batch
        if m.from_location_id in physical and m.to_location_id not in physical
    )
    assert sum(changes.values()) == came_in - went_out


@property_test
@given(
    status=st.sampled_from(list(LotStatus)),
    expiry=st.one_of(st.none(), st.dates()),
    on=st.dates(min_value=date(2000, 1, 1)),
    earlier_by=st.integers(min_value=0, max_value=3650),
)
def test_a_lot_usable_on_a_day_was_usable_on_every_earlier_day(status, expiry, on, earlier_by):
    if not is_usable(status, expiry, on):
        return
    assert status is LotStatus.RELEASED
    assert is_usable(status, expiry, on - timedelta(days=earlier_by))
