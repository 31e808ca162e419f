"""Helpers for driving the terminal UI in tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from textual.pilot import Pilot

from kitops.data.engine import open_database
from kitops.services.unit_of_work import UnitOfWork
from tui.app import KitopsApp, build_app

AS_OF = date(2026, 11, 22)
LOADED_AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def make_app(url: str, *, clinic: str | None = None, theme: str | None = None) -> KitopsApp:
    """The app as `kitops tui` builds it, on a fixed day and without cursor blink."""
    return build_app(
        db_url=url, user="tester", clinic=clinic, today=AS_OF, cursor_blink=False, theme=theme
    )


async def settle(pilot: Pilot[Any], delay: float = 0.05) -> None:
    """Let debounce timers fire and every worker finish, twice over (a worker's result
    can start another)."""
    for _ in range(3):
        await pilot.pause(delay)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type like a keyboard (or a scanner): one key per character; GS as ctrl+]."""
    for char in text:
        if char == "\x1d":
            await pilot.press("ctrl+right_square_bracket")
        elif char == " ":
            await pilot.press("space")
        else:
            await pilot.press(char)


def service_uow(url: str) -> UnitOfWork:
    """A unit of work on the same database, to check what the UI did."""
    return UnitOfWork(open_database(url), "checker")
