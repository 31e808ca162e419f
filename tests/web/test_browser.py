"""A real browser on a real server: Debian's chromium, driven by Playwright, against
``kitops serve`` on the demo data, its clock at noon on the demo's day
(tests/web/browser_support.py). Screenshots are kept in test-artefacts/; axe-core checks
each page a manager uses for serious accessibility problems."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from browser_support import (
    Server,
    screenshot,
    serious_accessibility_violations,
    start_server,
)
from playwright.sync_api import Page, expect

from kitops.data.engine import Database
from kitops.services import reorder, users
from kitops.services.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.browser, pytest.mark.demo_data]

MANAGER, PIN = "maria", "1357"
DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RECALLED = "PTT6-B0902"  # the serum lot in the demo's home kits, reserved for courses


@pytest.fixture
def served(db_url: str, db: Database, tmp_path: Path) -> Iterator[Server]:
    """``kitops serve`` on this test's demo database with a manager who has a PIN, and
    the draft purchase orders the reorder job writes on the demo's day."""
    users.add_user(UnitOfWork(db, "tester"), MANAGER, "manager", PIN)
    with time_machine.travel(DEMO_NOON, tick=False):
        assert reorder.run(UnitOfWork(db, "tester")).orders_created
    server = start_server(db_url, tmp_path, clock=DEMO_NOON.isoformat())
    yield server
    log = server.stop()
    assert "Traceback" not in log, log
    # the PIN's digits may occur inside a request's random id (16 hex digits), never alone
    assert not re.search(rf"(?<![0-9a-f]){PIN}(?![0-9a-f])", log), log


def log_in(page: Page, server: Server) -> None:
    page.goto(server.url + "/stock")
    expect(page).to_have_url(f"{server.url}/login?next=%2Fstock")
    assert serious_accessibility_violations(page) == []
    page.get_by_label("User name").fill(MANAGER)
    page.get_by_label("PIN or password").fill(PIN)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"{MANAGER} (manager)")).to_be_visible()


def stock_clinics(page: Page) -> set[str]:
    return set(page.locator("#results tbody tr td:first-child").all_inner_texts())


# Each journey on one backend (the routes are tested on both in tests/web/test_pages_*.py):
# the recall on PostgreSQL, where clinics run several terminals and workers.
ON_SQLITE = pytest.mark.parametrize("backend", ["sqlite"])
ON_POSTGRESQL = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)]
)


@ON_SQLITE
def test_a_manager_logs_in_reads_the_dashboard_and_filters_stock(
    served: Server, browser_page: Page
) -> None:
    page = browser_page
    log_in(page, served)
    expect(page).to_have_url(served.url + "/stock")  # back where the login interrupted
    assert len(stock_clinics(page)) > 1
    page.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(served.url + "/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "web-dashboard")
    assert serious_accessibility_violations(page) == []

    page.get_by_role("link", name="Stock", exact=True).click()
    page.get_by_label("Clinic").select_option("LON")  # htmx swaps the table and the URL
    expect(page).to_have_url(
        f"{served.url}/stock?clinic=LON&location=&sku=&status=all&q=&sort=expiry"
    )
    expect(page.locator("#results tbody tr").first).to_be_visible()
    assert stock_clinics(page) == {"LON"}
    page.reload()  # the URL alone brings the same page back (a bookmark, a shared link)
    assert stock_clinics(page) == {"LON"}
    screenshot(page, "web-stock")
    assert serious_accessibility_violations(page) == []

    for label in ("Expiring", "Kits", "Courses", "Orders", "Reorder", "Reports", "Audit log"):
        page.get_by_role("link", name=label, exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert serious_accessibility_violations(page) == [], label

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(served.url + "/login")
    page.goto(served.url + "/stock")
    expect(page).to_have_url(f"{served.url}/login?next=%2Fstock")


@ON_POSTGRESQL
def test_a_manager_recalls_a_lot_and_sees_the_courses_it_reaches(
    served: Server, browser_page: Page
) -> None:
    page = browser_page
    log_in(page, served)
    page.goto(f"{served.url}/lots/{RECALLED}")
    assert serious_accessibility_violations(page) == []
    page.get_by_label("Reason", exact=True).last.fill("supplier notice 77")
    page.get_by_role("button", name=f"Recall lot {RECALLED}").click()
    expect(page.get_by_text("recalled (supplier notice 77)")).to_be_visible()
    expect(page.get_by_text("Courses this lot reaches")).to_be_visible()
    expect(page.locator('a[href="/courses/1"]').first).to_be_visible()
    # a recalled lot stays recalled: nothing on the page offers to change it
    expect(page.get_by_role("button", name=f"Recall lot {RECALLED}")).to_have_count(0)
    expect(page.get_by_role("button", name=f"Release lot {RECALLED}")).to_have_count(0)
    screenshot(page, "web-lot-recalled")
    assert serious_accessibility_violations(page) == []
    page.locator('a[href="/courses/1"]').first.click()
    expect(page).to_have_url(served.url + "/courses/1")
    assert serious_accessibility_violations(page) == []


@ON_SQLITE
def test_a_manager_approves_a_purchase_order(served: Server, browser_page: Page) -> None:
    page = browser_page
    log_in(page, served)
    page.get_by_role("link", name="Purchase orders").click()
    assert serious_accessibility_violations(page) == []
    page.get_by_role("link", name="PO-000001").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("draft")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("approved")
    expect(page.locator("dt:text-is('Approved by') + dd")).to_have_text(MANAGER)
    screenshot(page, "web-purchase-order")
    assert serious_accessibility_violations(page) == []
