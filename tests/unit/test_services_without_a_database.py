"""The stock rules of the move and write-off use cases, run on the in-memory unit of work
(tests/fakes.py): which lot FEFO takes, who may write off how much, and that a refused
command writes nothing. The same use cases run on SQLite and PostgreSQL in
tests/integration/test_operations.py and tests/e2e."""

from __future__ import annotations

from datetime import date

import pytest
from fakes import FakeUnitOfWork

from kitops.domain.ledger import LotStatus, MoveReason
from kitops.domain.locations import LocationKind
from kitops.domain.roles import Role
from kitops.errors import InvalidInput, NotAllowed, Refused
from kitops.services import locations, operations

TODAY = date(2026, 11, 22)


def _stockroom(role: Role = Role.MANAGER, **settings: str) -> FakeUnitOfWork:
    uow = FakeUnitOfWork("sam", role, settings=settings)
    clinic = uow.place("LON", LocationKind.CLINIC, zone="Europe/London")
    uow.place("LON-FRIDGE", LocationKind.FRIDGE, "LON")
    uow.place("LON-SHELF", LocationKind.SHELF, "LON")
    uow.place("SCRAP", LocationKind.SCRAP)
    assert clinic.id
    return uow


def _fridge_with_three_lots(uow: FakeUnitOfWork) -> None:
    serum = uow.product("SER-5ML")
    fridge = uow.locations.rows["LON-FRIDGE"]
    uow.lot(serum, "LATE", date(2027, 6, 30), on_hand={fridge: 10})
    uow.lot(serum, "EARLY", date(2027, 1, 31), on_hand={fridge: 4})
    uow.lot(serum, "HELD", date(2026, 12, 31), LotStatus.QUARANTINE, on_hand={fridge: 9})


def test_a_move_takes_released_lots_earliest_expiry_first_and_records_it():
    uow = _stockroom(Role.STOCKROOM)
    _fridge_with_three_lots(uow)

    moved = operations.move(uow, "SER-5ML", 6, "LON-FRIDGE", "LON-SHELF", today=TODAY)

    assert [(lot.lot, lot.quantity) for lot in moved.lots] == [("EARLY", 4), ("LATE", 2)]
    shelf = uow.locations.rows["LON-SHELF"].id
    on_shelf = {lot.code: qty for lot, qty in uow.ledger.on_hand(location_id=shelf)}
    assert on_shelf == {"EARLY": 4, "LATE": 2}
    assert {reason for _, reason in uow.ledger.moves} == {MoveReason.TRANSFER.value}
    assert [row["action"] for row in uow.audit_rows] == ["stock.move"]
    assert uow.commits == 1


def test_a_move_beyond_the_released_stock_is_refused_and_writes_nothing():
    uow = _stockroom(Role.STOCKROOM)
    _fridge_with_three_lots(uow)
    before = dict(uow.ledger.balance)

    with pytest.raises(Refused, match="14 available, 15 needed"):
        operations.move(uow, "SER-5ML", 15, "LON-FRIDGE", "LON-SHELF", today=TODAY)

    assert uow.ledger.balance == before
    assert uow.ledger.moves == []
    assert uow.audit_rows == []
    assert uow.commits == 0


@pytest.mark.parametrize(
    ("to", "field", "reason"),
    [("LON-FRIDGE", "to", "is the same as --from"), ("SCRAP", "to", "not a place")],
)
def test_a_move_names_the_wrong_destination(to: str, field: str, reason: str):
    uow = _stockroom()
    _fridge_with_three_lots(uow)

    with pytest.raises(InvalidInput, match=reason) as refused:
        operations.move(uow, "SER-5ML", 1, "LON-FRIDGE", to, today=TODAY)

    assert refused.value.field == field
    assert uow.ledger.moves == []


def test_a_large_write_off_needs_a_manager_and_the_refusal_is_recorded():
    uow = _stockroom(Role.STOCKROOM, writeoff_approval_units="5")
    _fridge_with_three_lots(uow)

    with pytest.raises(NotAllowed, match="sam \\(stockroom\\) may not write off more than 5"):
        operations.write_off(uow, "SER-5ML", 6, "LON-FRIDGE", "damaged", lot="LATE")

    assert [refusal.permission for refusal in uow.refusals] == ["stock.writeoff_large"]
    assert uow.ledger.moves == []
    assert uow.audit_rows == []

    small = operations.write_off(uow, "SER-5ML", 5, "LON-FRIDGE", "damaged", lot="LATE")
    assert small.on_hand_after == 5


def test_a_manager_writes_off_above_the_limit_into_scrap():
    uow = _stockroom(Role.MANAGER, writeoff_approval_units="5")
    _fridge_with_three_lots(uow)

    done = operations.write_off(uow, "SER-5ML", 10, "LON-FRIDGE", "expired", lot="LATE")

    assert done.on_hand_after == 0
    (posted, reason), *_ = uow.ledger.moves
    scrap = uow.locations.rows["SCRAP"].id
    assert (posted.move.to_location_id, posted.move.quantity, reason) == (
        scrap,
        10,
        MoveReason.WRITE_OFF.value,
    )
    assert uow.audit_rows[-1]["after"]["reason"] == "expired"


def test_a_new_location_keeps_the_placement_rules():
    uow = _stockroom()
    with uow:
        code = locations.create_location(uow, "lon-fridge2", "Second fridge", parent="LON",
                                         kind="fridge")  # fmt: skip
        uow.commit()
    assert code == "LON-FRIDGE2"
    assert uow.locations.rows["LON-FRIDGE2"].parent_id == uow.locations.rows["LON"].id

    with uow, pytest.raises(Refused, match="already exists"):
        locations.create_location(uow, "LON-FRIDGE2", "Again", parent="LON", kind="fridge")
    with uow, pytest.raises(InvalidInput) as refused:
        locations.create_location(uow, "LON-TILL", "Till", parent="LON", currency="GBP")
    assert refused.value.field == "currency"


def test_a_write_off_beyond_the_shelf_rolls_back_its_audit_row():
    uow = _stockroom(Role.MANAGER)
    _fridge_with_three_lots(uow)

    with pytest.raises(Refused, match="not enough stock"):
        operations.write_off(uow, "SER-5ML", 11, "LON-FRIDGE", "damaged", lot="LATE")

    assert uow.audit_rows == []  # written before the shortage showed, then rolled back
    assert uow.ledger.moves == []
    assert uow.commits == 0
