"""Kits back from patients (issue #14, "Returns and recalls as a clinic lives them").

* A kit returned sealed has been outside the clinic's control: it waits in quarantine
  (reason ``returned``) until a manager releases it, and the release reads every
  component lot again under a lock a recall must wait for.
* A kit returned opened ends its course part: the course shows the part returned opened,
  fulfilment leaves it alone, and only ``course replace-kit`` reserves a replacement.
* A reservation released inside the clinic (the kit never left) is available at once.

The demo data is loaded as of ``AS_OF``: course 1 (LON, home-6w) holds K0000001; LON-FRIDGE
has K0000002-K0000004 free; course 5 (ESX) holds K0000005 and K0000006 is free at ESX.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from ledger_support import AS_OF, writes
from sqlalchemy import select

from kitops.data.schema import AuditRow
from kitops.domain.ledger import LotStatus
from kitops.errors import InvalidInput, NotAllowed, Refused
from kitops.services import admin, courses, fulfilment, kits, lots, users

SERUM_LOT = "PTT6-B0902"  # the serum lot in K0000001-K0000006


def _audit(db, action: str) -> list[tuple[str, dict | None, dict | None]]:
    with db.engine.connect() as conn:
        return [
            (row.entity_key, row.before, row.after)
            for row in conn.execute(
                select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id)
            )
        ]


def _status(uow, serial: str) -> str:
    return kits.show_kit(uow(readonly=True), serial).status


def _ship_and_return(uow, serial: str, condition: str, *, handover: bool = False):
    if handover:
        kits.dispatch(uow(), serial, handover=True, today=AS_OF)
    else:
        kits.dispatch(uow(), serial, tracking="RM123456789GB", today=AS_OF)
    return kits.take_back(uow(), serial, condition)


# --- sealed: quarantine until a manager releases it ---------------------------------


@pytest.mark.parametrize("handover", [False, True], ids=["shipped", "handed_over"])
def test_a_kit_returned_sealed_from_home_waits_in_quarantine(loaded, uow, handover):
    back = _ship_and_return(uow, "K0000001", "sealed", handover=handover)

    assert (back.status, back.course_id, back.location) == ("quarantine", None, "LON-FRIDGE")
    lot = lots.show(uow(readonly=True), "K0000001")
    assert (lot.status, lot.status_reason, lot.total_on_hand) == ("quarantine", "returned", 1)
    assert "K0000001" not in {k.serial for k in kits.list_kits(uow(readonly=True),
                                                              status="available")}  # fmt: skip
    assert [k.serial for k in kits.list_kits(uow(readonly=True), status="quarantine")] == [
        "K0000001"
    ]
    # fulfilment does not see it: course 3 (LON) gets one of the kits that never left
    served = fulfilment.fulfil_course(uow(), 3, today=AS_OF).served
    assert [line.kit for line in served] != ["K0000001"]
    assert _status(uow, "K0000001") == "quarantine"
    [(key, _, after)] = _audit(loaded, "kit.return")
    assert (key, after["condition"], after["status"]) == ("K0000001", "sealed", "quarantine")
    assert admin.check(uow(readonly=True)).ok


def test_a_manager_releases_a_returned_kit_after_inspection(loaded, uow):
    users.add_user(uow(), "sam", "stockroom")
    users.add_user(uow(), "mia", "manager")
    _ship_and_return(uow, "K0000001", "sealed")
    before = writes(loaded)

    with pytest.raises(NotAllowed, match="a manager may"):
        kits.release(uow(actor="sam"), "K0000001", today=AS_OF)
    assert writes(loaded) == (before[0], before[1] + 1)  # the refusal's audit row only
    assert _status(uow, "K0000001") == "quarantine"

    released = kits.release(uow(actor="mia"), "K0000001", today=AS_OF)

    assert (released.status, released.location, released.course_id) == (
        "available", "LON-FRIDGE", None,
    )  # fmt: skip
    lot = lots.show(uow(readonly=True), "K0000001")
    assert (lot.status, lot.status_reason) == ("released", None)
    [(key, before_row, after_row)] = _audit(loaded, "kit.release")
    assert key == "K0000001"
    assert before_row == {"status": "quarantine", "reason": "returned"}
    assert after_row["status"] == "available"
    # stock again: a course can have it, and a second release is refused
    with pytest.raises(Refused, match="available"):
        kits.release(uow(), "K0000001", today=AS_OF)
    assert admin.check(uow(readonly=True)).ok


def test_only_a_quarantined_kit_is_released(loaded, uow):
    before = writes(loaded)
    with pytest.raises(Refused, match="K0000002 is available"):
        kits.release(uow(), "K0000002", today=AS_OF)
    with pytest.raises(Refused, match="K0000001 is reserved"):
        kits.release(uow(), "K0000001", today=AS_OF)
    with pytest.raises(InvalidInput) as err:
        kits.release(uow(), "K9999999", today=AS_OF)
    assert err.value.field == "serial"
    assert writes(loaded) == before


def test_a_returned_kit_holding_a_quarantined_lot_is_not_released(loaded, uow):
    _ship_and_return(uow, "K0000001", "sealed")
    lots.change_status(uow(), SERUM_LOT, LotStatus.QUARANTINE, reason="cracked vials",
                       today=AS_OF)  # fmt: skip
    before = writes(loaded)

    with pytest.raises(Refused, match=f"lot {SERUM_LOT} .*quarantine"):
        kits.release(uow(), "K0000001", today=AS_OF)

    assert writes(loaded) == before
    assert _status(uow, "K0000001") == "quarantine"
    assert lots.show(uow(readonly=True), "K0000001").status == "quarantine"


def test_a_returned_kit_holding_an_expired_lot_is_not_released(loaded, uow):
    _ship_and_return(uow, "K0000001", "sealed")
    expiries = {c.lot: c.expiry for c in kits.show_kit(uow(readonly=True), "K0000001").components}
    first = min(e for e in expiries.values() if e is not None)
    before = writes(loaded)

    with pytest.raises(Refused, match=f"expired on {first}"):
        kits.release(uow(), "K0000001", today=first + timedelta(days=1))

    assert writes(loaded) == before
    assert _status(uow, "K0000001") == "quarantine"
    # the day it expires it is still in date
    assert kits.release(uow(), "K0000001", today=first).status == "available"


def test_a_recall_reaches_a_returned_kit_in_quarantine_and_it_is_never_released(loaded, uow):
    _ship_and_return(uow, "K0000001", "sealed")

    lots.change_status(uow(), SERUM_LOT, LotStatus.RECALLED, reason="supplier recall",
                       today=AS_OF)  # fmt: skip

    kit = kits.show_kit(uow(readonly=True), "K0000001")
    assert (kit.status, kit.recalled) == ("recalled", True)
    before = writes(loaded)
    with pytest.raises(Refused):
        kits.release(uow(), "K0000001", today=AS_OF)
    assert writes(loaded) == before


def test_a_kit_lot_in_quarantine_is_not_released_by_lot_release(loaded, uow):
    _ship_and_return(uow, "K0000001", "sealed")
    before = writes(loaded)

    with pytest.raises(Refused, match="kitops kit release K0000001"):
        lots.change_status(uow(), "K0000001", LotStatus.RELEASED, today=AS_OF)

    assert writes(loaded) == before
    assert lots.show(uow(readonly=True), "K0000001").status == "quarantine"


def test_a_manager_writes_off_a_returned_kit_that_fails_inspection(loaded, uow):
    from kitops.services.operations import write_off

    _ship_and_return(uow, "K0000001", "sealed")

    write_off(uow(), "KIT-HOME-6W", 1, "LON-FRIDGE", "damaged", lot="K0000001")

    assert _status(uow, "K0000001") == "written_off"
    assert lots.show(uow(readonly=True), "K0000001").total_on_hand == 0
    assert admin.check(uow(readonly=True)).ok


def test_a_reservation_released_inside_the_clinic_is_available_at_once(loaded, uow):
    cancelled = courses.cancel_course(uow(), 1)

    assert cancelled.kits == ()
    assert _status(uow, "K0000001") == "available"
    assert lots.show(uow(readonly=True), "K0000001").status == "released"


# --- opened: the course part ends; a replacement only on request --------------------


def test_an_opened_return_ends_the_course_part_and_fulfilment_leaves_it(loaded, uow):
    back = _ship_and_return(uow, "K0000001", "opened")

    assert (back.status, back.course_id, back.course_part) == ("written_off", 1, 1)
    course = courses.show_course(uow(readonly=True), 1)
    # the kit went out (the course began), came back opened: the course waits for a person
    assert (course.status, course.status_reason) == ("paused", "kit 1 returned opened")
    assert course.parts_returned_opened == (1,)
    assert [(k.serial, k.status, k.course_part) for k in course.kits] == [
        ("K0000001", "written_off", 1)
    ]
    flows = lots.trace(uow(readonly=True), "K0000001").flows
    assert any(
        (f.from_location, f.to_location, f.reason, f.detail)
        == ("PATIENT", "SCRAP", "write_off", "opened")
        for f in flows
    )

    # neither the batch nor the one-course fulfil reserves a new kit for it
    preview = fulfilment.preview_due(uow(readonly=True), within_days=366, today=AS_OF)
    assert 1 not in {line.course_id for line in preview.served + preview.unserved}
    batch = fulfilment.fulfil_due(uow(), within_days=366, today=AS_OF)
    assert 1 not in {line.course_id for line in batch.served + batch.unserved}
    before = writes(loaded)
    with pytest.raises(Refused, match="course 1"):
        fulfilment.fulfil_course(uow(), 1, today=AS_OF)
    assert writes(loaded) == before
    assert [k.serial for k in courses.show_course(uow(readonly=True), 1).kits] == ["K0000001"]
    assert admin.check(uow(readonly=True)).ok


def test_replace_kit_reserves_a_replacement_for_a_part_returned_opened(loaded, uow):
    _ship_and_return(uow, "K0000001", "opened")

    line = fulfilment.replace_kit(uow(), 1, 1)

    assert (line.course_id, line.part, line.reason) == (1, 1, None)
    assert line.kit in {"K0000002", "K0000003", "K0000004"}
    course = courses.show_course(uow(readonly=True), 1)
    assert {(k.serial, k.status, k.course_part) for k in course.kits} == {
        ("K0000001", "written_off", 1),
        (line.kit, "reserved", 1),
    }
    assert course.parts_returned_opened == (1,)
    assert (course.status, course.status_reason) == ("active", None)  # the replacement resumes it
    [(key, _, after)] = _audit(loaded, "course.replace_kit")
    assert (key, after["part"], after["kit"], after["returned_opened"]) == (
        "1", 1, line.kit, ["K0000001"],
    )  # fmt: skip
    # the part is held again: a second replacement is refused, nothing written
    before = writes(loaded)
    with pytest.raises(Refused, match=f"kit 1 of course 1 is {line.kit}"):
        fulfilment.replace_kit(uow(), 1, 1)
    assert writes(loaded) == before
    # and the replacement goes out like any reserved kit
    assert kits.dispatch(uow(), line.kit, handover=True, today=AS_OF).status == "handed_over"
    assert admin.check(uow(readonly=True)).ok


def test_replace_kit_refuses_when_no_kit_fits_and_writes_nothing(loaded, uow):
    _ship_and_return(uow, "K0000005", "opened")  # course 5 at ESX; K0000006 is free there
    kits.disassemble(uow(), "K0000006")
    before = writes(loaded)

    with pytest.raises(Refused) as err:
        fulfilment.replace_kit(uow(), 5, 1)

    assert "course 5 (ESX, kit 1" in str(err.value)
    assert "no kit available at ESX" in str(err.value)
    assert writes(loaded) == before
    assert courses.show_course(uow(readonly=True), 5).parts_returned_opened == (1,)


def test_replace_kit_refuses_a_part_that_was_not_returned_opened(loaded, uow):
    before = writes(loaded)
    with pytest.raises(Refused, match="kit 1 of course 1 is K0000001"):
        fulfilment.replace_kit(uow(), 1, 1)
    with pytest.raises(Refused, match="kit 1 of course 3 was not returned opened"):
        fulfilment.replace_kit(uow(), 3, 1)
    with pytest.raises(InvalidInput) as err:
        fulfilment.replace_kit(uow(), 1, 2)  # home-6w has one kit
    assert (err.value.field, err.value.value) == ("part", 2)
    with pytest.raises(InvalidInput) as err:
        fulfilment.replace_kit(uow(), 1, "x")
    assert err.value.field == "part"
    with pytest.raises(InvalidInput) as err:
        fulfilment.replace_kit(uow(), 4, 1)  # treated in clinic
    assert err.value.field == "course"
    assert writes(loaded) == before


def test_a_stockroom_user_may_ask_for_a_replacement(loaded, uow):
    users.add_user(uow(), "sam", "stockroom")
    users.add_user(uow(), "nightly", "job")
    _ship_and_return(uow, "K0000001", "opened")

    with pytest.raises(NotAllowed):
        fulfilment.replace_kit(uow(actor="nightly"), 1, 1)
    assert fulfilment.replace_kit(uow(actor="sam"), 1, 1).kit is not None


def test_a_sealed_kit_holding_a_recalled_lot_is_destroyed_and_frees_its_part(loaded, uow):
    kits.dispatch(uow(), "K0000001", tracking="RM1", today=AS_OF)
    lots.change_status(uow(), SERUM_LOT, LotStatus.RECALLED, reason="supplier recall",
                       today=AS_OF)  # fmt: skip

    back = kits.take_back(uow(), "K0000001", "sealed")

    assert (back.status, back.course_id) == ("written_off", None)
    assert courses.show_course(uow(readonly=True), 1).parts_returned_opened == ()


def test_a_two_kit_course_replaces_only_the_part_returned_opened(loaded, uow):
    reserved = {line.part: line.kit for line in fulfilment.fulfil_course(uow(), 2).served}
    assert set(reserved) == {1, 2}  # course 2: home-12w at LON, two kits
    _ship_and_return(uow, reserved[1], "opened")

    with pytest.raises(Refused, match="course 2 is paused"):
        fulfilment.fulfil_course(uow(), 2, today=AS_OF)
    with pytest.raises(Refused, match="course 2 is paused; its kits go out only while it runs"):
        kits.dispatch(uow(), reserved[2], handover=True, today=AS_OF)
    with pytest.raises(Refused, match=f"kit 2 of course 2 is {reserved[2]} \\(reserved\\)"):
        fulfilment.replace_kit(uow(), 2, 2)
    line = fulfilment.replace_kit(uow(), 2, 1)

    course = courses.show_course(uow(readonly=True), 2)
    assert course.parts_returned_opened == (1,)
    assert [(k.course_part, k.serial, k.status) for k in course.kits] == [
        (1, reserved[1], "written_off"),
        (1, line.kit, "reserved"),
        (2, reserved[2], "reserved"),
    ]
