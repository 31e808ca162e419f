"""Helpers for driving the terminal UI in tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, date, datetime
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable
from textual.worker import WorkerCancelled, WorkerFailed

from kitops.data.engine import open_database
from kitops.services.unit_of_work import UnitOfWork
from kitops.tui.app import KitopsApp, build_app

AS_OF = date(2026, 11, 22)
LOADED_AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def make_app(
    url: str,
    *,
    clinic: str | None = None,
    theme: str | None = None,
    user: str = "tester",
    login: bool = False,
    scan_clock: Callable[[], float] | None = None,
) -> KitopsApp:
    """The app as `kitops tui` builds it, on a fixed day and without cursor blink.

    By default it acts as ``tester`` (the admin who loaded the demo) without the login
    screen, as the factory allows for a user the caller has authenticated; the login
    tests pass ``login=True`` and log in through the screen (``log_in``).

    Scan detection is off unless a test hands in ``scan_clock``: the burst gap is then
    judged by that clock (``KeyClock``), never by the machine's speed, and held keys
    replay when the next key comes too late by that clock or when the test says the
    person stopped typing (``press_alone``)."""
    return build_app(
        db_url=url,
        user=user,
        login=login,
        clinic=clinic,
        today=AS_OF,
        cursor_blink=False,
        theme=theme,
        scan_gap=SCAN_GAP if scan_clock else None,
        scan_clock=scan_clock,
        scan_replay_after=0,
    )


SCAN_GAP = 0.05


class KeyClock:
    """The clock a scan test judges key bursts by: each reading is ``step`` seconds after
    the one before, whatever the machine's speed (a scanner: 0.002 s; a person: 0.2 s)."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.at = 0.0

    def __call__(self) -> float:
        self.at += self.step
        return self.at


async def log_in(pilot: Pilot[Any], name: str, pin: str) -> None:
    """Log in through the login screen, as a person would."""
    from textual.widgets import Input

    await settle(pilot)
    screen = pilot.app.screen
    screen.query_one("#login-user", Input).value = name
    screen.query_one("#login-pin", Input).focus()
    await type_text(pilot, pin)
    await pilot.press("enter")
    await settle(pilot)


# One-shot timers longer than this (a toast's timeout, the collector's return) are not
# waited for; shorter ones are a debounce, a preview or a spinner, and are.
QUICK_TIMER = 1.0


async def settle(pilot: Pilot[Any], timeout: float = 30.0) -> None:
    """Wait until the app has nothing left to do, on events rather than for a fixed time:
    no worker running, no short one-shot timer (a filter's debounce, a detail or preview
    load) waiting to fire, and every table on screen has sized its columns (Textual does
    that when idle; on a loaded machine a screenshot could come first). Two quiet checks
    in a row, so a message still in flight that starts a worker is seen."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        await pilot.pause()
        # a refusal (the app shows it, the test checks that), or a load a newer one
        # replaced while we waited
        with suppress(WorkerFailed, WorkerCancelled):
            await app.workers.wait_for_complete()
        if (
            _timers_due(app)
            or _workers_running(app)
            or not _tables_sized(pilot)
            or _rows_to_draw(pilot)
        ):
            quiet = 0
            assert time.monotonic() < deadline, "the app did not settle in time"
            await pilot.pause(0.01)
        else:
            quiet += 1
    # a table's line cache can keep a line painted before its columns last widened (under
    # load): drop it, so what is on screen is painted from what the table holds now
    for table in app.screen.query(DataTable):
        table._clear_caches()
        table.refresh()
    await pilot.pause()  # and let the last changes reach the screen
    paint_frame(app.screen)  # and paint them (conftest.py ``_frames_at_checkpoints``)


def paint_frame(screen: Any) -> None:
    """Paint what changed on the screen since the last frame (Textual's own frames, when
    the tests do not defer them to ``settle``)."""


def _timers_due(app: Any) -> bool:
    """A short one-shot timer is running somewhere in the app."""
    for node in [app, *list(app._registry)]:
        for timer in list(getattr(node, "_timers", ())):
            task = timer._task
            if (
                task is not None
                and not task.done()
                and timer._repeat is not None
                and timer._interval <= QUICK_TIMER
                and timer._active.is_set()
            ):
                return True
    return False


def _rows_to_draw(pilot: Pilot[Any]) -> bool:
    """A list on screen still has the rest of its page to draw (``tui/lists.py`` draws a
    screenful first and the rest after the next refresh)."""
    return any(getattr(node, "rest_pending", False) for node in pilot.app.screen.query("*"))


def _workers_running(app: Any) -> bool:
    return any(worker.is_running for worker in app.workers)


def _tables_sized(pilot: Pilot[Any]) -> bool:
    """No table on screen has rows or cells whose column widths are still to be worked
    out (``DataTable`` keeps that work for its next idle moment)."""
    return not any(
        getattr(table, "_require_update_dimensions", False) or getattr(table, "_updated_cells", ())
        for table in pilot.app.screen.query(DataTable)
    )


async def settle_until(pilot: Pilot[Any], ready: Callable[[], bool], timeout: float = 10.0) -> None:
    """Settle until ``ready()`` holds (a result that arrives through a timer or a chain
    of workers, on a loaded machine), then once more; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    await settle(pilot)
    while not ready():
        assert time.monotonic() < deadline, "the screen did not get ready in time"
        await settle(pilot)
    await settle(pilot)


async def press_alone(pilot: Pilot[Any], *keys: str) -> None:
    """Press keys as a person who then stops typing (with scan detection on, the app
    holds a person's keys until the next one or the replay timer; here, at once)."""
    await pilot.press(*keys)
    await pilot.app.replay_keys()
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
    return UnitOfWork(open_database(url), "tester")


def text_of(widget: Any) -> str:
    """What a Static (or a tile) shows, as plain text."""
    import os

    from rich.console import Console

    content = widget.content if hasattr(widget, "content") else widget.render()
    if isinstance(content, str):
        return content
    with open(os.devnull, "w") as sink:
        console = Console(width=200, record=True, file=sink)
        console.print(content)
        return console.export_text()


def table_text(table: Any) -> str:
    """A DataTable's rows, one line each."""
    return "\n".join(" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count))


def screen_text(app: Any) -> str:
    """What the terminal shows, as lines of plain text (from the app's own screenshot)."""
    import html
    import re

    rows: dict[float, list[tuple[float, str]]] = {}
    svg = app.export_screenshot()
    for found in re.finditer(
        r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg, re.S
    ):
        text = html.unescape(re.sub(r"<[^>]+>", "", found[3]))
        rows.setdefault(float(found[2]), []).append((float(found[1]), text))
    lines = []
    for y in sorted(rows):
        line = ""
        for x, text in sorted(rows[y]):
            line = line.ljust(round(x / 12.2)) + text
        lines.append(line.rstrip())
    return "\n".join(lines).replace("\xa0", " ")
