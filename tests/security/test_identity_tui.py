"""The terminal UI is for people (issue 15, Identity): it keeps its login screen (user +
PIN), and a login bound to a job user cannot open it at all."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import pytest
from identity_support import bind_identity
from sqlalchemy import select
from textual.widgets import Input, Static

from kitops.data.schema import AuditRow
from kitops.tui.app import build_app
from kitops.tui.login import LoginScreen
from kitops.tui.modals import ErrorDialog

pytestmark = pytest.mark.demo_data()


async def _quiet(pilot: Any) -> None:
    for _ in range(200):
        await pilot.pause()
        if not any(w.is_running for w in pilot.app.workers):
            await pilot.pause()
            return
        await asyncio.sleep(0.02)


def _app(url: str) -> Any:
    return build_app(db_url=url, user="", login=True, today=date(2026, 11, 22),
                     cursor_blink=False)  # fmt: skip


def test_a_login_bound_to_a_job_user_cannot_open_the_tui(db, db_url):
    bind_identity(db.engine, "cron")

    async def scenario() -> None:
        app = _app(db_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _quiet(pilot)
            dialogs = [s for s in app.screen_stack if isinstance(s, ErrorDialog)]
            assert dialogs, app.screen_stack
            message = str(dialogs[-1].query_one("#error-message", Static).render())
            assert "bound to the job user cron" in message
            assert "the TUI is for people" in message
            assert app.stockroom is None
            assert app.user is None

    asyncio.run(scenario())
    with db.engine.connect() as conn:
        last = conn.execute(
            select(AuditRow.actor, AuditRow.action).order_by(AuditRow.id.desc()).limit(1)
        ).one()
    assert tuple(last) == ("cron", "access.refused")


def test_a_person_logs_in_to_the_tui_with_a_pin(db_url):
    async def scenario() -> None:
        app = _app(db_url)
        async with app.run_test(size=(100, 30)) as pilot:
            await _quiet(pilot)
            assert isinstance(app.screen, LoginScreen)
            app.screen.query_one("#login-user", Input).value = "manager"
            app.screen.query_one("#login-pin", Input).value = "2222"
            app.screen.query_one("#login-pin", Input).focus()
            await pilot.press("enter")
            await _quiet(pilot)
            assert app.user == "manager"

    asyncio.run(scenario())
