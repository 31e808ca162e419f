"""``db check`` holds every kit record to the ledger: a kit in the stockroom (available,
reserved, recalled, expired) has its one unit where it says; a kit that went out, was
taken apart or written off has none on hand; an available or reserved kit's own lot is
neither expired nor recalled. Each drift below is made by hand in the demo data."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from kitops.data.repositories import PostedMove
from kitops.data.schema import KitRow, LocationRow, LotRow
from kitops.domain.ledger import Move, MoveReason
from kitops.services import admin


def _set_kit(db, serial: str, **values) -> None:
    if "location" in values:
        values["location_id"] = (
            select(LocationRow.id)
            .where(LocationRow.code == values.pop("location"))
            .scalar_subquery()
        )
    with db.write_sessions() as session:
        session.execute(update(KitRow).where(KitRow.serial == serial).values(**values))
        session.commit()


def _problems(uow) -> list[tuple[str, str, int | None, str]]:
    report = admin.check(uow(readonly=True))
    return [(p.lot, p.location, p.recorded, p.problem) for p in report.problems]


def test_the_demo_kits_agree_with_the_ledger(loaded, uow):
    assert admin.check(uow(readonly=True)).ok


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            {"location": "LON-SHELF"},
            ("LON-SHELF", 0, "kit K0000002 is available at LON-SHELF but the ledger has its "
                             "unit at LON-FRIDGE"),
            id="available-on-the-wrong-shelf",
        ),
        pytest.param(
            {"status": "expired"},  # only the sweep expires a kit, with its lot
            ("LON-FRIDGE", 1, "kit K0000002 is expired at LON-FRIDGE but its own lot "
                              "K0000002 is released"),
            id="expired-on-paper-only",
        ),
        pytest.param(
            {"status": "written_off"},
            ("LON-FRIDGE", 1, "kit K0000002 is written_off but the ledger still has its unit "
                              "at LON-FRIDGE"),
            id="written-off-on-paper-only",
        ),
        pytest.param(
            {"status": "shipped"},
            ("LON-FRIDGE", 1, "kit K0000002 is shipped but the ledger still has its unit at "
                              "LON-FRIDGE"),
            id="shipped-on-paper-only",
        ),
        pytest.param(
            {"status": "disassembled"},
            ("LON-FRIDGE", 1, "kit K0000002 is disassembled but the ledger still has its "
                              "unit at LON-FRIDGE"),
            id="taken-apart-on-paper-only",
        ),
    ],
)  # fmt: skip
def test_check_finds_a_kit_record_that_drifted_from_the_ledger(loaded, uow, change, expected):
    _set_kit(loaded, "K0000002", **change)
    assert _problems(uow) == [("K0000002", *expected)]
    assert admin.check_headline(admin.check(uow(readonly=True))) == (
        "1 kit records disagree with the ledger"
    )


def test_check_finds_an_available_kit_whose_unit_left_without_it(loaded, uow):
    with uow() as u:  # the unit goes to scrap behind the kit record's back
        kit = u.session.scalar(select(KitRow).where(KitRow.serial == "K0000003"))
        assert kit is not None
        assert kit.lot_id is not None
        scrap = u.locations.get("SCRAP")
        out = PostedMove(Move(kit.lot_id, kit.location_id, scrap.id, 1), kit.product_id)
        u.ledger.post([out], reason=MoveReason.WRITE_OFF.value, detail="other", actor="tester")
        u.commit()
    assert _problems(uow) == [
        ("K0000003", "LON-FRIDGE", 0,
         "kit K0000003 is available at LON-FRIDGE but the ledger has none on hand"),
    ]  # fmt: skip


def test_check_finds_an_available_kit_whose_own_lot_expired(loaded, uow):
    """What an expiry sweep left behind where a clinic has no quarantine location, before
    kits followed their stock: the unit in place, the lot expired, the kit `available`."""
    with loaded.write_sessions() as session:
        session.execute(update(LotRow).where(LotRow.code == "K0000007").values(status="expired"))
        session.commit()
    assert _problems(uow) == [
        ("K0000007", "VIE-FRIDGE", 1,
         "kit K0000007 is available at VIE-FRIDGE but its own lot K0000007 is expired"),
    ]  # fmt: skip


def test_a_kit_holding_more_than_one_unit_is_reported_once(loaded, uow):
    with loaded.write_sessions() as session:
        session.execute(
            text("UPDATE stock_balances SET quantity = 2 WHERE lot_id = "
                 "(SELECT lot_id FROM kits WHERE serial = 'K0000004')")
        )  # fmt: skip
        session.commit()
    kits = [p for p in _problems(uow) if p[3].startswith("kit ")]
    assert [p[3] for p in kits] == ["kit K0000004 holds 2 units; a kit is one unit or none"]
