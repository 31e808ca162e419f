"""A real browser on a real server: Debian's chromium, driven by Playwright, against
``kitops serve`` on the demo data as of the suite's today (tests/web/browser_support.py).
Screenshots are kept in test-artefacts/; axe-core checks the main pages for serious
accessibility problems."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (
    Server,
    browser_page,  # noqa: F401
    screenshot,
    serious_accessibility_violations,
    start_server,
)
from playwright.sync_api import Page, expect

from kitops.data.engine import Database
from kitops.services import users
from kitops.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.browser

MANAGER, PIN = "maria", "1357"


@pytest.fixture
def served(db_url: str, db: Database, tmp_path: Path) -> Iterator[Server]:
    """``kitops serve`` on this test's demo database, with a manager who has a PIN."""
    users.add_user(UnitOfWork(db, "tester"), MANAGER, "manager", PIN)
    server = start_server(db_url, tmp_path)
    yield server
    log = server.stop()
    assert "Traceback" not in log, log
    assert PIN not in log


def log_in(page: Page, server: Server, path: str = "/") -> None:
    page.goto(server.url + path)
    expect(page).to_have_url(f"{server.url}/login?next={path.replace('/', '%2F')}")
    page.get_by_label("User name").fill(MANAGER)
    page.get_by_label("PIN or password").fill(PIN)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"{MANAGER} (manager)")).to_be_visible()


def test_a_manager_logs_in_and_reads_the_dashboard(served: Server, browser_page: Page) -> None:
    page = browser_page
    log_in(page, served)
    expect(page).to_have_url(served.url + "/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "web-dashboard")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(served.url + "/login")
    assert serious_accessibility_violations(page) == []
