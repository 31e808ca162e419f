"""Fulfilment never reserves a kit one of whose component lots is not released.

A recall flags the lot's kits; a quarantine (or the expiry sweep) changes only the lot,
so fulfil itself must look at the kit's component lots: the one-statement path on
PostgreSQL, the general path (two-kit courses, SQLite), the batch and its preview. The
race of a fulfil with a status change on PostgreSQL is in tests/faults/test_races.py.

Demo data as of ``AS_OF``: ESX's only free kit is K0000006, LON's are K0000002-4, all
holding serum lot PTT6-B0902; course 6 (ESX) and course 2 (LON, two kits) hold none.
"""

from __future__ import annotations

import pytest
from ledger_support import AS_OF

from kitops.domain.ledger import LotStatus
from kitops.errors import Refused
from kitops.services import fulfilment, kits, lots

LOT = "PTT6-B0902"


@pytest.fixture
def quarantined(loaded, uow):
    lots.change_status(uow(), LOT, LotStatus.QUARANTINE, reason="fridge excursion", today=AS_OF)
    return loaded


def _status(uow, serial: str) -> str:
    return kits.show_kit(uow(readonly=True), serial).status


@pytest.mark.parametrize("course", [6, 2], ids=["one-kit course", "two-kit course"])
def test_a_kit_holding_a_quarantined_lot_is_not_reserved(quarantined, uow, course):
    with pytest.raises(Refused, match=f"course {course} "):
        fulfilment.fulfil_course(uow(), course, today=AS_OF)
    assert {_status(uow, serial) for serial in ("K0000002", "K0000003", "K0000006")} == {
        "available"
    }


def test_the_batch_and_its_preview_leave_kits_holding_a_quarantined_lot(quarantined, uow):
    preview = fulfilment.preview_due(uow(), within_days=30, today=AS_OF)
    batch = fulfilment.fulfil_due(uow(), within_days=30, today=AS_OF)
    for report in (preview, batch):
        served = {line.kit for line in report.served}
        assert not served & {"K0000002", "K0000003", "K0000004", "K0000006"}, served
        assert {2, 6} <= {line.course_id for line in report.unserved}
    assert _status(uow, "K0000006") == "available"


def test_once_the_lot_is_released_again_its_kit_is_reserved(quarantined, uow):
    lots.change_status(uow(), LOT, LotStatus.RELEASED, today=AS_OF)
    report = fulfilment.fulfil_course(uow(), 6, today=AS_OF)
    assert [line.kit for line in report.served] == ["K0000006"]
