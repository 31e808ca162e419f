"""A user limited to some clinics fulfils a one-kit course of one of them: served, audited
under their name, and on PostgreSQL by the one statement (no SQLAlchemy statement at
all); a course of another clinic is not found and nothing is written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from ledger_support import AS_OF, writes
from sqlalchemy import event, select

from kitops.data.schema import AuditRow
from kitops.errors import InvalidInput
from kitops.services import courses, fulfilment, users


def _build(uow) -> None:
    users.add_user(uow(), "lea", "stockroom")
    users.set_clinics(uow(), "lea", ["LON", "ESX"])
    users.add_user(uow(), "tom", "stockroom")
    users.set_clinics(uow(), "tom", ["VIE"])


@pytest.fixture
def limited(loaded, uow):
    """lea (stockroom) limited to LON and ESX, tom (stockroom) to VIE."""
    return uow


TEMPLATE_FIXTURES = {"limited": _build}


class _Statements:
    """SQLAlchemy statements sent meanwhile (the one-statement path sends none)."""

    def __init__(self, db) -> None:
        self.db = db
        self.count = 0

    def _seen(self, *_: Any) -> None:
        self.count += 1

    def __enter__(self) -> _Statements:
        event.listen(self.db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.db.engine, "before_cursor_execute", self._seen)


def _fulfil_actors(db) -> list[tuple[str, str]]:
    with db.read_sessions() as session:
        rows = session.execute(
            select(AuditRow.actor, AuditRow.entity_key)
            .where(AuditRow.action == "course.fulfil")
            .order_by(AuditRow.id)
        ).all()
    return [(actor, key) for actor, key in rows]


@pytest.mark.parametrize("clinic", ["ESX", "LON"])
def test_a_user_limited_to_two_clinics_is_served_at_each(db, limited, clinic):
    course = courses.create_course(limited(), "P-LIMIT-1", "home-6w",
                                   AS_OF + timedelta(days=3), clinic, today=AS_OF)  # fmt: skip
    with _Statements(db) as sent:
        report = fulfilment.fulfil_course(limited(actor="lea"), course.id, today=AS_OF)
    assert [line.clinic for line in report.served] == [clinic]
    assert courses.show_course(limited(), course.id).kits
    assert _fulfil_actors(db)[-1] == ("lea", str(course.id))
    if db.engine.dialect.name == "postgresql":
        assert sent.count == 0  # the one statement served it, scope check included


def test_a_user_of_another_clinic_gets_nothing_from_the_statement(db, limited):
    course = courses.create_course(limited(), "P-LIMIT-2", "home-6w",
                                   AS_OF + timedelta(days=3), "ESX", today=AS_OF)  # fmt: skip
    before = writes(db)
    with pytest.raises(InvalidInput, match="no course has this number"):
        fulfilment.fulfil_course(limited(actor="tom"), course.id, today=AS_OF)
    assert writes(db) == before
    assert not courses.show_course(limited(), course.id).kits
