"""The dashboard page and the static files every page uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from pages_support import logged_in, web_secret  # noqa: F401

DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo data's day

pytestmark = pytest.mark.demo_data


@pytest.fixture
def at_demo_day():
    with time_machine.travel(DEMO_NOON, tick=False):
        yield


@pytest.mark.parametrize("role", ["stockroom", "manager", "admin"])
def test_every_role_reads_the_dashboard_tiles_of_each_clinic(web, role, at_demo_day):
    web.user("someone", role, "1357")
    page = logged_in(web.client(), "someone", "1357").get("/")
    assert page.status_code == 200
    text = page.text
    for heading in ("Kits", "To pick", "Due", "Awaiting release", "Expiry", "Latest activity"):
        assert f">{heading}" in text
    assert "LON" in text
    assert "ESX" in text
    assert 'href="/static/htmx.min.js"' not in text  # a script, not a link
    assert '<script src="/static/htmx.min.js"' in text


def test_the_clinic_filter_narrows_the_dashboard_to_one_clinic(web, at_demo_day):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    page = browser.get("/", params={"clinic": "ESX"})
    assert page.status_code == 200
    assert 'id="clinic-ESX"' in page.text
    assert 'id="clinic-LON"' not in page.text


def test_the_reorder_tile_asked_beside_the_board_shows_what_the_dry_run_orders(web, at_demo_day):
    from kitops.services.unit_of_work import UnitOfWork
    from kitops.views import dashboard

    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    for params in ({}, {"clinic": "ESX"}, {"clinic": "LON"}):
        page = browser.get("/", params=params)
        assert page.status_code == 200
        buying = dashboard.purchasing_overview(
            UnitOfWork(web.db, "maria", readonly=True), clinic=params.get("clinic")
        )
        rows = [
            f"<tr><td>{s.clinic}</td><td>{s.sku}</td><td>{s.supplier}</td>"
            f'<td class="n">{s.quantity}</td>'
            for s in buying.suggestions
        ]
        assert all(row in page.text for row in rows), params
        assert ("Nothing to reorder." in page.text) == (not rows)
    assert "<td>ESX</td><td>STAMP-0.6</td>" in browser.get("/").text  # the demo's one line


def test_an_unknown_clinic_is_one_line_naming_the_value(web, at_demo_day):
    web.user("maria", "manager", "1357")
    page = logged_in(web.client(), "maria", "1357").get("/", params={"clinic": "NOPE"})
    assert page.status_code == 422
    assert "NOPE" in page.text
    assert "Traceback" not in page.text


def test_htmx_and_the_stylesheet_are_served_from_the_package(web):
    browser = web.client()
    script = browser.get("/static/htmx.min.js")
    assert script.status_code == 200
    assert script.text.startswith("/*! htmx 2.")
    assert "Zero-Clause BSD" in script.text[:400]
    css = browser.get("/static/kitops.css")
    assert css.status_code == 200
    assert "@media print" in css.text


def test_the_dashboard_counts_failing_webhook_deliveries(web, at_demo_day):
    from kitops.data.schema import WebhookSubscriptionRow

    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    assert "webhook deliveries failing" not in browser.get("/").text
    with web.db.write_sessions() as session:
        for failing in (DEMO_NOON, None):
            session.add(WebhookSubscriptionRow(
                url="https://erp.example/hooks", events="lot.recalled", secret_file="/x/s",
                created_by="tester", failing_since=failing))  # fmt: skip
        session.commit()
    page = browser.get("/")
    assert page.status_code == 200
    assert 'id="webhooks-failing">webhook deliveries failing: 1 (kitops webhook list)' in page.text
