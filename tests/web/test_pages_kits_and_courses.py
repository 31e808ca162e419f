"""The kit and course pages on the demo data, the course calendar download, and every
page for every role (and none)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from pages_support import logged_in, web_secret  # noqa: F401

pytestmark = pytest.mark.demo_data
DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo data's day
PAGES = ["/", "/stock", "/expiring?days=60", "/lots/PTT6-A0519", "/kits", "/courses",
         "/courses/1", "/courses/1/calendar.ics", "/purchase-orders", "/orders"]  # fmt: skip
MANAGER_PAGES = ["/audit", "/reports/stock"]


@pytest.fixture(autouse=True)
def at_demo_day():
    with time_machine.travel(DEMO_NOON, tick=False):
        yield


def test_kits_list_filters_by_clinic_and_status(web):
    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    everything = browser.get("/kits")
    assert everything.status_code == 200
    assert "K0000001" in everything.text
    reserved_esx = browser.get("/kits", params={"clinic": "ESX", "status": "reserved"})
    assert reserved_esx.status_code == 200
    assert "K0000001" not in reserved_esx.text  # a London kit
    assert browser.get("/kits", params={"status": "lost"}).status_code == 422


def test_courses_list_and_a_course_with_its_calendar(web):
    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    listed = browser.get("/courses", params={"clinic": "LON"})
    assert listed.status_code == 200
    assert 'href="/courses/1"' in listed.text
    course = browser.get("/courses/1")
    assert course.status_code == 200
    assert "Course 1" in course.text
    assert "K0000001" in course.text
    assert 'href="/courses/1/calendar.ics"' in course.text
    calendar = browser.get("/courses/1/calendar.ics")
    assert calendar.status_code == 200
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert 'filename="course-1.ics"' in calendar.headers["content-disposition"]
    assert calendar.text.startswith("BEGIN:VCALENDAR")
    assert "course-1-application-1@kitops" in calendar.text


def test_an_unknown_course_is_one_line(web):
    web.user("ollie", "stockroom", "1357")
    page = logged_in(web.client(), "ollie", "1357").get("/courses/9999")
    assert page.status_code in (404, 422)
    assert "9999" in page.text
    assert "Traceback" not in page.text


@pytest.mark.parametrize("role", ["stockroom", "manager", "admin"])
def test_every_page_opens_for_every_role_and_reports_and_audit_for_managers(web, role):
    web.user("someone", role, "1357")
    browser = logged_in(web.client(), "someone", "1357")
    for page in PAGES:
        answer = browser.get(page)
        assert answer.status_code == 200, (page, answer.text[:300])
    for page in MANAGER_PAGES:
        assert browser.get(page).status_code == (403 if role == "stockroom" else 200), page


def test_every_page_sends_a_browser_without_a_session_to_log_in(web):
    browser = web.client()
    for page in [*PAGES, *MANAGER_PAGES]:
        answer = browser.get(page)
        assert answer.status_code == 303, page
        assert answer.headers["location"].startswith("/login?next=%2F")


def test_a_manager_reads_the_audit_log_filtered_in_the_query_string(web):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    page = browser.get("/audit", params={"user": "maria"})
    assert page.status_code == 200
    assert "user.login" in page.text
    assert "user.session_start" in page.text
    assert "lot.release" not in page.text
    assert 'href="/audit"' in page.text  # in the navigation
    assert browser.get("/audit", params={"since": "22/11/2026"}).status_code == 422


def test_stockroom_staff_are_refused_the_audit_log_with_403_and_an_audit_row(web, db):
    from sqlalchemy import select

    from kitops.data.schema import AuditRow

    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    assert 'href="/audit"' not in browser.get("/kits").text  # not offered
    page = browser.get("/audit")
    assert page.status_code == 403
    assert "ollie" in page.text
    assert "read the audit log" in page.text
    with db.engine.connect() as conn:
        refused = list(conn.scalars(select(AuditRow.entity_key).where(
            AuditRow.actor == "ollie", AuditRow.action == "access.refused")))  # fmt: skip
    assert refused == ["audit.read"]
