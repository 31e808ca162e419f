"""The demo data tells the story of its ``as_of`` day, whatever day it is loaded on."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from kitops.data.schema import AuditRow, KitRow, StockMoveRow
from kitops.services import demo

LOADED_ON = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)


def _days(db) -> set[date]:
    with db.read_sessions() as session:
        stamps = [
            *session.scalars(select(StockMoveRow.created_at)),
            *session.scalars(select(AuditRow.at)),
            *session.scalars(select(KitRow.assembled_at)),
        ]
    assert stamps
    return {stamp.astimezone(UTC).date() for stamp in stamps}


def test_demo_loaded_as_of_an_earlier_day_dates_its_moves_and_audit_on_that_day(db, uow):
    with time_machine.travel(LOADED_ON, tick=False):
        demo.load(uow(), date(2026, 11, 22))
    assert _days(db) == {date(2026, 11, 22)}


def test_demo_loaded_as_of_today_dates_its_moves_now(db, uow):
    with time_machine.travel(LOADED_ON, tick=False):
        demo.load(uow(), LOADED_ON.date())
    assert _days(db) == {LOADED_ON.date()}
    with db.read_sessions() as session:
        assert set(session.scalars(select(StockMoveRow.created_at))) == {LOADED_ON}
