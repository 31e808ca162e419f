"""The terminal UI's language: the environment's at the login, then the user's (their own
language, else their clinic's locale) from the log-in on; the login's again after a
log-out. The demo's users: manager 2222, stock 3333."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from tui_support import log_in, make_app, service_uow, settle

from kitops.i18n import current_locale, force_locale, set_default_locale
from kitops.services import locales


@pytest.fixture(autouse=True)
def _english_again() -> Iterator[None]:
    yield
    force_locale(None)
    set_default_locale("en")


def run(scenario: Any) -> None:
    asyncio.run(scenario())


def test_the_login_speaks_the_environments_language_then_the_users(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    locales.set_user_language(service_uow(demo_url), "manager", "de")

    async def scenario() -> None:
        app = make_app(demo_url, user="", login=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert current_locale() == "en_GB"
            await log_in(pilot, "manager", "2222")
            assert app.user == "manager"
            assert current_locale() == "de"
            await pilot.press("ctrl+u")
            await settle(pilot)
            assert current_locale() == "en_GB"

    set_default_locale("en_GB")  # as `kitops tui` sets it before the app starts
    run(scenario)


def test_a_user_limited_to_vienna_reads_viennas_locale(demo_url: str) -> None:
    from kitops.services import users

    users.set_clinics(service_uow(demo_url), "stock", ["VIE"])

    async def scenario() -> None:
        app = make_app(demo_url, user="", login=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await log_in(pilot, "stock", "3333")
            assert app.user == "stock"
            assert current_locale() == "de_AT"

    run(scenario)
