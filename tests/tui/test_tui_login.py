"""The login (issue 8): the TUI starts with user + PIN, checked by
``kitops.services.users.authenticate``; the user who logs in is the actor of every unit of
work, shown in the header with their role; ctrl+u logs out to switch user. The demo's
users: admin 1111, manager 2222, stock 3333 (stockroom role)."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.widgets import Input, Static
from tui_support import log_in, make_app, service_uow, settle, text_of

from kitops.services import purchasing
from kitops.tui.login import LoginScreen
from kitops.tui.modals import ErrorDialog
from kitops.tui.screens.dashboard import DashboardScreen
from kitops.tui.screens.purchasing import ReorderPreview


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def _board(app: Any) -> Any:
    screen = app.screen
    return screen.board if isinstance(screen, DashboardScreen) else None


def test_the_tui_starts_with_a_login_and_the_user_acts_from_then_on(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url, user="", login=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, LoginScreen)
            assert app.user is None
            await log_in(pilot, "manager", "2222")
            assert not isinstance(app.screen, LoginScreen)
            assert _board(app) is not None
            assert "manager (manager)" in app.sub_title
            await pilot.press("f8")
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, ReorderPreview)
            await pilot.click("#confirm")
            await settle(pilot)
        [draft] = purchasing.list_orders(service_uow(demo_url))
        assert draft.created_by == "manager"

    run(scenario)


def test_a_wrong_pin_is_refused_in_place_and_nothing_loads(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url, user="manager", login=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, LoginScreen)
            user = screen.query_one("#login-user", Input)
            assert (user.value, user.placeholder) == ("", "your user name, e.g. manager")
            await log_in(pilot, "manager", "9999")
            assert app.screen is screen
            assert "wrong user name or PIN" in text_of(screen.query_one("#login-message", Static))
            assert screen.query_one("#login-pin", Input).value == ""
            assert app.user is None
            await pilot.pause(0.2)
            assert _board(app) is None
            await log_in(pilot, "manager", "2222")
            assert app.user == "manager"

    run(scenario)


def test_switching_user_makes_the_role_of_the_new_user_count(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url, user="", login=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await log_in(pilot, "manager", "2222")
            await pilot.press("ctrl+u")
            await settle(pilot)
            assert isinstance(app.screen, LoginScreen)
            assert app.user is None
            await log_in(pilot, "stock", "3333")
            assert "stock (stockroom)" in app.sub_title
            await pilot.press("f8")
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot)
            await pilot.click("#confirm")
            await settle(pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert "reorder" in app.screen.message
        assert purchasing.list_orders(service_uow(demo_url)) == []

    run(scenario)
