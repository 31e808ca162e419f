"""The stock list's pages, soonest expiry first, read on SQLite by walking the lots in
expiry order (``ix_lots_expiry``, migration 0025) when that visits fewer lots than
there are lines to sort: the same lines in the same order as the sorted query, page by
page, the lot without an expiry last; and on PostgreSQL the same pages from its own
plan."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from kitops.views import pages

AS_OF = date(2026, 11, 22)

pytestmark = pytest.mark.demo_data(AS_OF)

# (filters, page size): the demo's 22 lots, 34 lines; every case walks on SQLite
CASES = [
    ({}, 3),
    ({"clinic": "LON"}, 2),
    ({"location": "LON-SHELF"}, 1),  # holds the lot without an expiry
    ({"location": "LON-STORE"}, 2),  # a place and the places below it
    ({"show": "usable"}, 4),
    ({"search": "STAMP"}, 2),
]


def _key(line):  # type: ignore[no-untyped-def]
    return (line.sku, line.lot, line.location, line.quantity, line.status)


@pytest.mark.parametrize(("filters", "size"), CASES)
def test_pages_walked_by_expiry_are_the_sorted_list_cut_in_pages(db, uow, filters, size):
    whole = pages.stock_page(uow(readonly=True), today=AS_OF, **filters)
    assert whole.total > size
    expected = [(line.expiry or date.max, line.sku, line.lot, line.location)
                for line in whole.lines]  # fmt: skip
    assert expected == sorted(expected)  # soonest first, no expiry last
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        walked = []
        for offset in range(0, whole.total, size):
            page = pages.stock_page(uow(readonly=True), today=AS_OF, offset=offset,
                                    limit=size, **filters)  # fmt: skip
            assert page.total == whole.total
            walked += page.lines
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert [_key(line) for line in walked] == [_key(line) for line in whole.lines]
    hinted = [s for s in statements if "INDEXED BY ix_lots_expiry" in s]
    if db.is_sqlite:
        assert hinted  # the walk was taken, so the test compares the two ways
        with db.engine.connect() as conn:
            raw = conn.connection.driver_connection
            params = (0, *range(1, hinted[0].count("?")))  # any values: the plan only
            plan = [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + hinted[0], params)]
        # the lots are the outer loop, in the index's order: never a walk of every lot
        # for each of the place's lines
        assert plan[0] == "SCAN lots USING INDEX ix_lots_expiry", plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
    else:
        assert not hinted


def test_a_few_lines_are_sorted_not_walked(db, uow):
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        page = pages.stock_page(uow(readonly=True), location="LON-QUAR", today=AS_OF)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert page.total == len(page.lines) >= 1
    assert not any("INDEXED BY" in s for s in statements)
