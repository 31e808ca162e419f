"""The terminal UI of a user limited to one clinic (`kitops user set-clinics`): its stock
and courses screens list that clinic only, as the services give them."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import DataTable
from tui_support import make_app, service_uow, settle

from kitops.services import users


def column(table: DataTable[Any], label: str) -> set[str]:
    index = next(i for i, c in enumerate(table.ordered_columns) if str(c.label) == label)
    return {str(table.get_row_at(row)[index]) for row in range(table.row_count)}


def test_a_user_limited_to_a_clinic_sees_its_stock_and_courses_only(demo_url: str) -> None:
    users.add_user(service_uow(demo_url), "sam", "stockroom")
    users.set_clinics(service_uow(demo_url), "sam", ["ESX"])

    async def scenario() -> None:
        app = make_app(demo_url, user="sam")
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            stock = app.screen.query_one("#stock", DataTable)
            assert stock.row_count > 0
            assert column(stock, "Clinic") == {"ESX"}
            await pilot.press("f6")
            await settle(pilot)
            courses = app.screen.query_one("#courses", DataTable)
            assert courses.row_count > 0
            assert column(courses, "Clinic") == {"ESX"}

    asyncio.run(scenario())


def test_without_a_limit_the_same_screens_show_every_clinic(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.press("f3")
            await settle(pilot)
            assert column(app.screen.query_one("#stock", DataTable), "Clinic") >= {"LON", "ESX"}

    asyncio.run(scenario())
