"""The kit list reads its kits as column rows in a fixed number of statements, not one or
two a kit (a 50-clinic chain's 20,009 kits took 37,672 statements once), and lists each
kit exactly as ``kit show`` (the mapped kit) describes it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from kitops.services import kits, users

AS_OF = date(2026, 11, 22)

pytestmark = pytest.mark.demo_data(AS_OF)


def _statements(db, call):  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        return call(), statements
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def test_the_kit_list_reads_kits_components_and_courses_once_for_all_kits(db, uow):
    listed, statements = _statements(db, lambda: kits.list_kits(uow(readonly=True), today=AS_OF))
    assert len(listed) >= 9  # the demo's kits
    assert sum(k.course_id is not None for k in listed) >= 2  # some serve a course
    assert all(k.components for k in listed)
    from_kits = [s for s in statements if "FROM kits" in s]
    components = [s for s in statements if "FROM kit_components" in s]
    assert len(from_kits) == 1, from_kits  # the courses' patients joined to it
    assert len(components) == 1, components
    assert not [s for s in statements if "FROM courses" in s]
    # the rest: the user, settings, locations, SKUs, and the kit products' serum lines and
    # active plans, once for all of them
    assert len(statements) <= 12, statements


def test_the_statements_do_not_grow_with_the_kits_listed(db, uow):
    _, one = _statements(
        db, lambda: kits.list_kits(uow(readonly=True), today=AS_OF, status="reserved")
    )
    every, more = _statements(db, lambda: kits.list_kits(uow(readonly=True), today=AS_OF))
    assert len(every) > 2
    assert len(more) == len(one)


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"status": "available"},
        {"status": "reserved"},
        {"location": "lon"},
        {"sku": "kit-home-6w"},
    ],
    ids=["all", "available", "reserved", "clinic", "sku"],
)
def test_each_listed_kit_is_the_kit_show_describes(uow, filters):
    listed = kits.list_kits(uow(readonly=True), today=AS_OF, **filters)
    assert listed
    assert [k.expiry for k in listed] == sorted(k.expiry for k in listed)
    for kit in listed:
        assert kits.show_kit(uow(readonly=True), kit.serial, today=AS_OF) == kit
    assert any(k.servable_plans for k in kits.list_kits(uow(readonly=True), today=AS_OF))


def test_a_user_limited_to_a_clinic_lists_its_kits_and_those_for_its_courses(uow):
    users.add_user(uow(), "sam", "stockroom")
    users.set_clinics(uow(), "sam", ["LON"])
    every = kits.list_kits(uow(readonly=True), today=AS_OF)
    mine = kits.list_kits(uow(readonly=True, actor="sam"), today=AS_OF)
    assert mine
    assert [k for k in every if k.clinic == "LON"] == [k for k in mine if k.clinic == "LON"]
    assert {k.clinic for k in mine} < {k.clinic for k in every}
    for kit in mine:
        assert kits.show_kit(uow(readonly=True, actor="sam"), kit.serial, today=AS_OF) == kit


def test_a_limit_lists_the_first_kits_with_their_components(db, uow):
    every = kits.list_kits(uow(readonly=True), today=AS_OF)
    first, statements = _statements(
        db, lambda: kits.list_kits(uow(readonly=True), today=AS_OF, limit=4)
    )
    assert first == every[:4]
    assert all(k.components for k in first)
    assert len([s for s in statements if "FROM kit_components" in s]) == 1
    available = kits.list_kits(uow(readonly=True), today=AS_OF, status="available")
    assert (
        kits.list_kits(uow(readonly=True), today=AS_OF, status="available", limit=2)
        == (available[:2])
    )
    assert kits.list_kits(uow(readonly=True), today=AS_OF, limit=len(every) + 5) == every
