"""A course's life on the Courses screen (F6), driven through Pilot on the demo data as
of a fixed day: `s` pauses a running course and resumes a paused one, `m` reschedules
it, `c` completes it (or ends it early, with a reason). Each dialog's Enter does the
action; what happened is said, the list and the detail follow, and a refusal reads in
one line with nothing written. Outcomes are checked through the services."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static
from tui_support import (
    AS_OF,
    make_app,
    service_uow,
    settle,
    settle_until,
    table_text,
    text_of,
    type_text,
)

from kitops.services import courses, kits
from kitops.tui.lists import ListScreen
from kitops.tui.modals import ErrorDialog, FormDialog

SIZE = (100, 30)
COURSE = 1  # P-LON-0001, home-6w at LON from Wed 25 Nov 2026, kit K0000001 (exp 2027-05-31)
PATIENT = "P-LON-0001"
KIT = "K0000001"

T = TypeVar("T")


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(scenario())


async def _course_list(pilot: Pilot[Any]) -> DataTable[Any]:
    """F6, filtered to the one course; its detail loaded."""
    await pilot.press("f6")
    await settle_until(pilot, lambda: isinstance(pilot.app.screen, ListScreen))
    screen = pilot.app.screen
    assert isinstance(screen, ListScreen)
    await pilot.press("slash")
    await type_text(pilot, PATIENT)
    await pilot.press("enter")
    table = screen.table
    await settle_until(pilot, lambda: table.row_count == 1 and PATIENT in table_text(table))
    await settle_until(pilot, lambda: f"course {COURSE} ·" in _detail(pilot))
    return table


def _detail(pilot: Pilot[Any]) -> str:
    return text_of(pilot.app.screen.query_one("#course-detail", Static))


async def _dialog(pilot: Pilot[Any], key: str, **values: str) -> tuple[str, dict[str, str]]:
    """Press the action's key, fill the form's fields, press Enter in the last one;
    returns the dialog's title and what it held."""
    await pilot.press(key)
    await settle_until(pilot, lambda: isinstance(pilot.app.screen, FormDialog))
    dialog = pilot.app.screen
    assert isinstance(dialog, FormDialog)
    for name, value in values.items():
        field = dialog.query_one(f"#field-{name}")
        assert isinstance(field, Input | Select), field
        field.value = value
    inputs = list(dialog.query(Input))
    inputs[-1].focus()
    await pilot.pause()
    held = dialog.values()
    await pilot.press("enter")
    await settle(pilot)
    return dialog.title_text, held


def _said(pilot: Pilot[Any]) -> str:
    return "\n".join(str(n.message) for n in pilot.app._notifications)


def _footer(pilot: Pilot[Any]) -> list[str]:
    return [b.description for _, b, _, _ in pilot.app.screen.active_bindings.values() if b.show]


def test_pause_then_resume_shows_the_status_and_the_history(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _course_list(pilot)
            assert ("Pause" in _footer(pilot), "Resume" in _footer(pilot)) == (True, False)
            # stepping back says so
            await pilot.press("s")
            await settle_until(pilot, lambda: isinstance(app.screen, FormDialog))
            await pilot.press("escape")
            await settle(pilot)
            assert f"Pause course {COURSE} of {PATIENT}: cancelled, nothing changed" in _said(pilot)
            title, _ = await _dialog(pilot, "s", reason="patient travelling")
            assert title == f"Pause course {COURSE} of {PATIENT}"
            await settle_until(pilot, lambda: "paused" in table_text(table))
            await settle_until(pilot, lambda: "last change" in _detail(pilot))
            detail = _detail(pilot)
            assert "· paused (patient travelling) since 2026-11-22" in detail
            assert "course.pause" in detail
            assert f"course {COURSE} paused (patient travelling)" in _said(pilot)
            # the same key now resumes it
            assert ("Pause" in _footer(pilot), "Resume" in _footer(pilot)) == (False, True)
            await _dialog(pilot, "s", start="2026-11-28", weekdays="")
            await settle_until(pilot, lambda: "scheduled" in table_text(table))
            await settle_until(pilot, lambda: "course.resume" in _detail(pilot))
            assert "restart on 2026-11-28 (wed,sat)" in _said(pilot)
            assert "2026-11-28" in table_text(table)  # the moved start
        course = courses.show_course(service_uow(demo_url), COURSE)
        assert (course.status, course.status_reason, course.paused_on) == ("scheduled", None, None)
        assert course.start.isoformat() == "2026-11-28"
        assert [h.action for h in course.history][-2:] == ["course.pause", "course.resume"]

    run(scenario)


def test_complete_early_with_a_reason_frees_the_reserved_kit(demo_url: str) -> None:
    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _course_list(pilot)
            # by the keyboard alone: the reason, then Enter
            await pilot.press("c")
            await settle_until(pilot, lambda: isinstance(app.screen, FormDialog))
            dialog = app.screen
            assert isinstance(dialog, FormDialog)
            await type_text(pilot, "patient moved abroad")
            # applications are still to come: the form proposed ending it early
            assert dialog.values() == {
                "reason": "patient moved abroad",
                "how": "ended early: applications left",
            }
            await pilot.press("enter")
            await settle_until(pilot, lambda: "ended early" in table_text(table))
            assert (
                f"course {COURSE} ended early (patient moved abroad); back to stock: {KIT}"
                in _said(pilot)
            )
            await settle_until(pilot, lambda: "course.end_early" in _detail(pilot))
        course = courses.show_course(service_uow(demo_url), COURSE)
        assert (course.status, course.status_reason) == ("ended_early", "patient moved abroad")
        kit = kits.show_kit(service_uow(demo_url), KIT)
        assert (kit.status, kit.course_id) == ("available", None)

    run(scenario)


@pytest.fixture(params=["sqlite", "postgresql"])
def either_url(request: pytest.FixtureRequest) -> str:
    """The demo on SQLite, then on PostgreSQL (skipped without KITOPS_TEST_PG_URL)."""
    name = "demo_url" if request.param == "sqlite" else "pg_demo_url"
    return str(request.getfixturevalue(name))


def test_reschedule_releases_a_kit_that_no_longer_lasts_and_says_why(either_url: str) -> None:
    demo_url = either_url

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _course_list(pilot)
            await _dialog(pilot, "m", start="2027-05-20", weekdays="mon,thu")
            await settle_until(pilot, lambda: "2027-05-" in table_text(table))
            said = _said(pilot)
            assert "restart on 2027-05-20 (mon,thu)" in said
            assert f"kit {KIT} (kit 1) released back to stock: vial" in said
            assert "needed until 2027-06" in said
            assert "0/1" in table_text(table)  # the course lacks its kit again
        course = courses.show_course(service_uow(demo_url), COURSE)
        assert course.kits == ()
        assert [h.action for h in course.history][-1] == "course.reschedule"

    run(scenario)


def test_reschedule_warns_of_a_kit_with_the_patient_that_no_longer_lasts(demo_url: str) -> None:
    kits.dispatch(service_uow(demo_url), KIT, handover=True, today=AS_OF)

    async def scenario() -> None:
        app = make_app(demo_url)
        async with app.run_test(size=SIZE) as pilot:
            table = await _course_list(pilot)
            await _dialog(pilot, "m", start="2027-05-20", weekdays="mon,thu")
            await settle_until(pilot, lambda: "2027-05-20" in table_text(table))
            said = _said(pilot)
            assert f"kit {KIT} (kit 1) is handed over and no longer lasts: vial" in said
            assert "released back to stock" not in said
        assert kits.show_kit(service_uow(demo_url), KIT).course_id == COURSE

    run(scenario)


def test_a_refused_transition_and_a_bad_date_read_in_one_line_nothing_written(
    demo_url: str,
) -> None:
    before = courses.show_course(service_uow(demo_url), COURSE)

    async def scenario() -> list[str]:
        app = make_app(demo_url)
        seen = []
        async with app.run_test(size=SIZE) as pilot:
            await _course_list(pilot)
            for key, values in (
                ("c", {"how": "completed: nothing left to do"}),  # applications to come
                ("m", {"start": "2026-11-31"}),  # no such day
            ):
                await _dialog(pilot, key, **values)
                await settle_until(pilot, lambda: isinstance(app.screen, ErrorDialog))
                seen.append(text_of(app.screen.query_one("#error-message", Static)).strip())
                await pilot.press("enter")
                await settle(pilot)
        return seen

    complete, move = run(scenario)
    # the screen's own words, not the command line's flags
    assert complete == (
        f"course {COURSE} has 12 application(s) still to come (next on 2026-11-25); "
        '"ended early" with a reason ends it'
    )
    assert move == "from '2026-11-31': must be a date written YYYY-MM-DD"
    after = courses.show_course(service_uow(demo_url), COURSE)
    assert (after.status, after.start, after.history) == (
        before.status,
        before.start,
        before.history,
    )


def test_a_user_without_the_permission_gets_the_refusal(demo_url: str) -> None:
    async def scenario() -> str:
        app = make_app(demo_url, user="cron")
        async with app.run_test(size=SIZE) as pilot:
            await _course_list(pilot)
            await _dialog(pilot, "s", reason="patient travelling")
            await settle_until(pilot, lambda: isinstance(app.screen, ErrorDialog))
            return text_of(app.screen.query_one("#error-message", Static))

    said = run(scenario)
    assert "pause a course" in said
    assert courses.show_course(service_uow(demo_url), COURSE).status == "scheduled"


def test_the_pause_dialog_at_80x24(snap_compare: Any, demo_url: str) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await _course_list(pilot)
        await pilot.press("s")
        await settle_until(pilot, lambda: isinstance(pilot.app.screen, FormDialog))
        await type_text(pilot, "patient travelling")
        await settle(pilot)

    assert snap_compare(make_app(demo_url), terminal_size=(80, 24), run_before=before)
