"""Ledger arithmetic: moves, balance changes, integrity checks and lot usability."""

from datetime import date

import pytest

from kitops.domain.ledger import (
    UNTRACKED_LOT_CODE,
    BalanceDifference,
    LotStatus,
    Move,
    apply_changes,
    balance_changes,
    compare_balances,
    days_to_expiry,
    is_usable,
    parse_date,
    parse_lot_code,
    parse_lot_status,
)
from kitops.errors import InvalidInput, Refused

# Location ids: physical stockroom locations and the virtual ones around them.
SUPPLIER, PATIENT, SCRAP = 1, 2, 3
STOCKROOM, FRIDGE, SHELF = 10, 11, 12
PHYSICAL = {STOCKROOM, FRIDGE, SHELF}

SERUM_LOT = 100  # lot id of a serum vial lot
STAMP_LOT = 200

EXPIRY = date(2026, 11, 30)


# --- Move ---------------------------------------------------------------------------------


def test_a_move_of_zero_units_is_refused():
    with pytest.raises(InvalidInput) as err:
        Move(SERUM_LOT, SUPPLIER, FRIDGE, 0)
    assert (err.value.field, err.value.value) == ("quantity", 0)


def test_a_move_of_negative_units_is_refused():
    with pytest.raises(InvalidInput) as err:
        Move(SERUM_LOT, FRIDGE, PATIENT, -2)
    assert (err.value.field, err.value.value) == ("quantity", -2)


def test_a_move_to_the_same_location_is_refused():
    with pytest.raises(InvalidInput) as err:
        Move(SERUM_LOT, FRIDGE, FRIDGE, 1)
    assert (err.value.field, err.value.value) == ("to", FRIDGE)


# --- balance_changes ------------------------------------------------------------------------


def test_receipt_adds_to_the_fridge_and_ignores_the_supplier():
    changes = balance_changes([Move(SERUM_LOT, SUPPLIER, FRIDGE, 12)], PHYSICAL)
    assert changes == {(SERUM_LOT, FRIDGE): 12}


def test_dispatch_to_a_patient_takes_from_the_fridge_only():
    changes = balance_changes([Move(SERUM_LOT, FRIDGE, PATIENT, 6)], PHYSICAL)
    assert changes == {(SERUM_LOT, FRIDGE): -6}


def test_a_transfer_between_physical_locations_changes_both():
    changes = balance_changes([Move(STAMP_LOT, STOCKROOM, SHELF, 3)], PHYSICAL)
    assert changes == {(STAMP_LOT, STOCKROOM): -3, (STAMP_LOT, SHELF): 3}


def test_moves_between_virtual_locations_change_no_balance():
    assert balance_changes([Move(SERUM_LOT, SUPPLIER, SCRAP, 5)], PHYSICAL) == {}


def test_changes_net_out_per_lot_and_location():
    moves = [
        Move(SERUM_LOT, SUPPLIER, FRIDGE, 12),
        Move(SERUM_LOT, FRIDGE, PATIENT, 6),
        Move(SERUM_LOT, FRIDGE, SCRAP, 1),
        Move(STAMP_LOT, SUPPLIER, FRIDGE, 4),
    ]
    assert balance_changes(moves, PHYSICAL) == {(SERUM_LOT, FRIDGE): 5, (STAMP_LOT, FRIDGE): 4}


def test_moves_that_cancel_leave_a_zero_change():
    moves = [Move(SERUM_LOT, STOCKROOM, FRIDGE, 2), Move(SERUM_LOT, FRIDGE, STOCKROOM, 2)]
    assert balance_changes(moves, PHYSICAL) == {(SERUM_LOT, STOCKROOM): 0, (SERUM_LOT, FRIDGE): 0}


def test_no_moves_make_no_changes():
    assert balance_changes([], PHYSICAL) == {}


# --- apply_changes --------------------------------------------------------------------------


def test_applying_changes_returns_the_new_balances_of_the_changed_keys():
    current = {(SERUM_LOT, FRIDGE): 10, (STAMP_LOT, SHELF): 4}
    after = apply_changes(current, {(SERUM_LOT, FRIDGE): -6})
    assert after == {(SERUM_LOT, FRIDGE): 4}


def test_applying_changes_leaves_the_current_balances_untouched():
    current = {(SERUM_LOT, FRIDGE): 10}
    apply_changes(current, {(SERUM_LOT, FRIDGE): -6})
    assert current == {(SERUM_LOT, FRIDGE): 10}


def test_a_change_to_a_location_without_a_balance_starts_from_zero():
    assert apply_changes({}, {(SERUM_LOT, FRIDGE): 12}) == {(SERUM_LOT, FRIDGE): 12}


def test_taking_everything_on_hand_leaves_zero():
    assert apply_changes({(SERUM_LOT, FRIDGE): 6}, {(SERUM_LOT, FRIDGE): -6}) == {
        (SERUM_LOT, FRIDGE): 0
    }


def test_taking_more_than_is_on_hand_is_refused():
    with pytest.raises(Refused) as err:
        apply_changes({(SERUM_LOT, FRIDGE): 5}, {(SERUM_LOT, FRIDGE): -6})
    assert not isinstance(err.value, InvalidInput)
    assert err.value.exit_code == 1
    assert "5 on hand, 6 needed" in str(err.value)


def test_taking_from_a_location_with_no_balance_is_refused():
    with pytest.raises(Refused):
        apply_changes({}, {(STAMP_LOT, SHELF): -1})


def test_one_shortfall_refuses_the_whole_batch():
    current = {(SERUM_LOT, FRIDGE): 10, (STAMP_LOT, SHELF): 0}
    with pytest.raises(Refused):
        apply_changes(current, {(SERUM_LOT, FRIDGE): -1, (STAMP_LOT, SHELF): -1})


# --- compare_balances -----------------------------------------------------------------------


def test_matching_balances_report_nothing():
    data = {(SERUM_LOT, FRIDGE): 5, (STAMP_LOT, SHELF): 0}
    assert compare_balances(data, dict(data)) == []


def test_a_zero_balance_row_without_moves_reports_nothing():
    assert compare_balances({(SERUM_LOT, FRIDGE): 0}, {}) == []


def test_a_zero_sum_of_moves_without_a_balance_row_reports_nothing():
    assert compare_balances({}, {(SERUM_LOT, FRIDGE): 0}) == []


def test_a_missing_balance_row_is_reported():
    problems = compare_balances({}, {(SERUM_LOT, FRIDGE): 5})
    assert problems == [BalanceDifference(SERUM_LOT, FRIDGE, None, 5)]
    assert problems[0].problem == "no balance row, moves sum to 5"


def test_a_balance_that_differs_from_its_moves_is_reported():
    problems = compare_balances({(SERUM_LOT, FRIDGE): 7}, {(SERUM_LOT, FRIDGE): 5})
    assert problems == [BalanceDifference(SERUM_LOT, FRIDGE, 7, 5)]
    assert problems[0].problem == "balance says 7, moves sum to 5"


def test_a_balance_row_without_any_moves_is_reported():
    problems = compare_balances({(SERUM_LOT, FRIDGE): 3}, {})
    assert problems == [BalanceDifference(SERUM_LOT, FRIDGE, 3, 0)]


def test_a_negative_balance_is_reported_even_when_the_moves_agree():
    problems = compare_balances({(SERUM_LOT, FRIDGE): -2}, {(SERUM_LOT, FRIDGE): -2})
    assert problems == [BalanceDifference(SERUM_LOT, FRIDGE, -2, -2)]
    assert problems[0].problem == "balance is negative (-2)"


def test_problems_are_listed_in_lot_then_location_order():
    recorded = {(STAMP_LOT, SHELF): 1, (SERUM_LOT, SHELF): 1, (SERUM_LOT, FRIDGE): 1}
    problems = compare_balances(recorded, {})
    assert [(p.lot_id, p.location_id) for p in problems] == [
        (SERUM_LOT, FRIDGE),
        (SERUM_LOT, SHELF),
        (STAMP_LOT, SHELF),
    ]


# --- is_usable / days_to_expiry ---------------------------------------------------------------


def test_released_lot_in_date_is_usable():
    assert is_usable(LotStatus.RELEASED, EXPIRY, date(2026, 11, 1))


def test_released_lot_is_usable_on_its_expiry_day():
    assert is_usable(LotStatus.RELEASED, EXPIRY, EXPIRY)


def test_released_lot_is_not_usable_the_day_after_expiry():
    assert not is_usable(LotStatus.RELEASED, EXPIRY, date(2026, 12, 1))


def test_released_lot_without_expiry_is_usable():
    assert is_usable(LotStatus.RELEASED, None, date(2030, 1, 1))


@pytest.mark.parametrize("status", [LotStatus.QUARANTINE, LotStatus.RECALLED, LotStatus.EXPIRED])
@pytest.mark.parametrize("expiry", [EXPIRY, None])
def test_lots_that_are_not_released_are_never_usable(status, expiry):
    assert not is_usable(status, expiry, date(2026, 1, 1))


def test_days_to_expiry_counts_down_to_zero_on_the_day():
    assert days_to_expiry(EXPIRY, date(2026, 11, 22)) == 8
    assert days_to_expiry(EXPIRY, EXPIRY) == 0
    assert days_to_expiry(EXPIRY, date(2026, 12, 1)) == -1


def test_a_lot_without_expiry_has_no_days_to_expiry():
    assert days_to_expiry(None, date(2026, 11, 22)) is None


# --- parsing ----------------------------------------------------------------------------


def test_iso_date_is_parsed():
    assert parse_date(" 2026-11-22 ", "expiry") == date(2026, 11, 22)


@pytest.mark.parametrize("text", ["2026-13-01", "22/11/2026", "2026-02-30", "", "tomorrow"])
def test_dates_that_are_not_real_iso_dates_are_refused(text):
    with pytest.raises(InvalidInput) as err:
        parse_date(text, "expiry")
    assert (err.value.field, err.value.value) == ("expiry", text)


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("released", LotStatus.RELEASED),
        (" Quarantine ", LotStatus.QUARANTINE),
        ("RECALLED", LotStatus.RECALLED),
        ("expired", LotStatus.EXPIRED),
    ],
)
def test_lot_status_is_read_case_insensitively(text, status):
    assert parse_lot_status(text) is status


@pytest.mark.parametrize("text", ["ok", "", "release"])
def test_unknown_lot_status_is_refused(text):
    with pytest.raises(InvalidInput) as err:
        parse_lot_status(text)
    assert (err.value.field, err.value.value) == ("status", text)


def test_lot_code_is_trimmed_but_keeps_its_case():
    assert parse_lot_code("  ab2411x ") == "ab2411x"


def test_lot_code_of_twenty_characters_is_the_longest_accepted():
    assert parse_lot_code("L" * 20) == "L" * 20


@pytest.mark.parametrize("text", ["", "   ", "L" * 21, "LOT\t1", UNTRACKED_LOT_CODE])
def test_bad_lot_codes_are_refused(text):
    with pytest.raises(InvalidInput) as err:
        parse_lot_code(text)
    assert (err.value.field, err.value.value) == ("lot", text)
