"""The stock list asked for one lot or one place by key (what a scan names), on both
backends: exactly that lot code, never another that merely contains it, by equality on
the indexed column rather than a search; and the course list asked for one course."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from kitops.views import pages

AS_OF = date(2026, 11, 22)

pytestmark = pytest.mark.demo_data(AS_OF)


def test_a_lot_asked_by_key_shows_its_lines_at_every_place(uow):
    page = pages.stock_page(uow(readonly=True), lot="PTT6-A0603", today=AS_OF, count_units=True)
    assert {(line.lot, line.location) for line in page.lines} == {
        ("PTT6-A0603", "LON-FRIDGE"),
        ("PTT6-A0603", "ESX-FRIDGE"),
    }
    assert page.total == 2
    assert page.units == sum(line.quantity for line in page.lines)


def test_a_lot_asked_by_key_is_that_code_exactly_unlike_a_search(uow):
    searched = pages.stock_page(uow(readonly=True), search="PTT6-A06", today=AS_OF)
    assert {line.lot for line in searched.lines} == {"PTT6-A0603"}
    exact = pages.stock_page(uow(readonly=True), lot="PTT6-A06", today=AS_OF, count_units=True)
    assert (exact.lines, exact.total, exact.units) == ((), 0, 0)


def test_a_lot_and_a_place_together_keep_the_lot_at_that_place(uow):
    page = pages.stock_page(uow(readonly=True), lot="PTT6-A0603", location="LON-FRIDGE",
                            today=AS_OF)  # fmt: skip
    assert [(line.lot, line.location) for line in page.lines] == [("PTT6-A0603", "LON-FRIDGE")]
    assert page.total == 1


def test_the_lot_is_asked_by_equality_not_a_search(db, uow):
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        pages.stock_page(uow(readonly=True), lot="PTT6-A0603", today=AS_OF, count_units=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    stock = [s for s in statements if "stock_balances" in s]
    assert len(stock) == 3  # the count, the page and the units
    assert all("lots.code = " in s for s in stock)
    assert not any("LIKE" in s.upper() for s in stock)


def test_a_course_asked_by_its_number_is_that_course_only_unlike_a_search(uow):
    searched = pages.courses_page(uow(readonly=True), search="1")
    assert len(searched.courses) > 1  # course 1, and every course with a 1 in its reference
    page = pages.courses_page(uow(readonly=True), course=1)
    assert [course.id for course in page.courses] == [1]
    assert page.total == 1
