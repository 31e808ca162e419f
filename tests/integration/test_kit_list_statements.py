"""The kit list reads its kits' components and courses in a fixed number of statements,
not one or two a kit (a 50-clinic chain's 20,009 kits took 37,672 statements)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from kitops.services import kits

AS_OF = date(2026, 11, 22)

pytestmark = pytest.mark.demo_data(AS_OF)


def test_the_kit_list_reads_components_and_courses_once_for_all_kits(db, uow):
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        listed = kits.list_kits(uow(readonly=True), today=AS_OF)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(listed) >= 9  # the demo's kits
    assert sum(k.course_id is not None for k in listed) >= 2  # some serve a course
    assert all(k.components for k in listed)
    components = [s for s in statements if "FROM kit_components" in s]
    courses = [s for s in statements if "FROM courses" in s]
    assert len(components) == 1, components
    assert len(courses) == 1, courses
