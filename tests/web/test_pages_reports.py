"""Reports in the web pages (managers and admins): every report with its charts, its
options in the query string, and the CSV, JSON and HTML downloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine
from pages_support import logged_in, web_secret  # noqa: F401
from sqlalchemy import select

from kitops.data.schema import AuditRow
from kitops.reports.registry import REPORTS

pytestmark = pytest.mark.demo_data
DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo data's day


@pytest.fixture(autouse=True)
def at_demo_day():
    with time_machine.travel(DEMO_NOON, tick=False):
        yield


def test_a_manager_runs_every_report(web):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    listed = browser.get("/reports")
    assert listed.status_code == 200
    for name in REPORTS:
        assert f'href="/reports/{name}"' in listed.text
        page = browser.get(f"/reports/{name}")
        assert page.status_code == 200, (name, page.text[-400:])
        assert f'href="/reports/{name}/download.csv"' in page.text


def test_a_report_page_with_its_options_charts_and_downloads(web):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    page = browser.get("/reports/expiring", params={"clinic": "LON", "within": "60"})
    assert page.status_code == 200
    assert "<svg" in page.text
    assert "PTT6-A0519" in page.text
    assert "PTT6-A0711" not in page.text  # Vienna's
    assert 'href="/reports/expiring/download.json?clinic=LON&amp;within=60"' in page.text
    data = browser.get("/reports/expiring/download.json", params={"clinic": "LON"})
    assert data.status_code == 200
    assert data.headers["content-type"] == "application/json"
    assert json.loads(data.text)["report"] == "expiring"
    table = browser.get("/reports/stock/download.csv")
    assert table.headers["content-type"].startswith("text/csv")
    assert "attachment" in table.headers["content-disposition"]
    html = browser.get("/reports/stock/download.html")
    assert html.text.lstrip().lower().startswith("<!doctype html>")


def test_a_long_report_shows_its_first_lines_and_downloads_every_line(web, monkeypatch):
    from kitops.web.pages import reports as report_pages

    monkeypatch.setattr(report_pages, "SHOWN_ROWS", 3)
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    csv_lines = browser.get("/reports/stock/download.csv").text.strip().splitlines()
    page = browser.get("/reports/stock")
    assert page.status_code == 200
    assert "Lines 1–3 of 34; the downloads hold every line" in page.text
    assert len(csv_lines) > 4  # a header and more lines than the page shows


def test_bad_report_input_is_one_line(web):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    assert browser.get("/reports/nope").status_code == 422
    assert browser.get("/reports/expiring", params={"within": "soon"}).status_code == 422
    assert browser.get("/reports/stock/download.xls").status_code == 422


def test_stockroom_staff_are_refused_reports_with_403_and_an_audit_row(web, db):
    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    assert 'href="/reports"' not in browser.get("/kits").text
    page = browser.get("/reports/stock")
    assert page.status_code == 403
    assert "run reports" in page.text
    assert browser.get("/reports/stock/download.csv").status_code == 403
    with db.engine.connect() as conn:
        refused = list(conn.scalars(select(AuditRow.entity_key).where(
            AuditRow.actor == "ollie", AuditRow.action == "access.refused")))  # fmt: skip
    assert refused == ["report.run", "report.run"]
