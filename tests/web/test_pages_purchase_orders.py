"""Purchase orders in the web pages: the list, one order, approve / send / cancel for
managers only, and the order's PDF."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from pages_support import cheap_pin_hashes, csrf_of, logged_in, web_secret  # noqa: F401
from sqlalchemy import select

from kitops.data.schema import AuditRow
from kitops.services import reorder

pytestmark = pytest.mark.demo_data
DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo data's day


@pytest.fixture
def drafts(uow) -> list[str]:
    """The reorder job's drafts on the demo data (run as the test admin)."""
    with time_machine.travel(DEMO_NOON, tick=False):
        run = reorder.run(uow(), dry_run=False)
    assert run.orders_created, "the demo data should have something to reorder"
    return list(run.orders_created)


@pytest.fixture(autouse=True)
def at_demo_day():
    with time_machine.travel(DEMO_NOON, tick=False):
        yield


def first_draft(browser) -> str:
    page = browser.get("/purchase-orders", params={"status": "draft"})
    assert page.status_code == 200
    numbers = re.findall(r'href="/purchase-orders/([^"?/]+)"', page.text)
    assert numbers, "the reorder run should have made drafts"
    return numbers[0]


def test_the_list_shows_the_drafts_and_filters_by_status(web, drafts):
    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    listed = browser.get("/purchase-orders", params={"status": "draft"})
    for number in drafts:
        assert f'href="/purchase-orders/{number}"' in listed.text
    assert drafts[0] not in browser.get("/purchase-orders", params={"status": "sent"}).text
    assert browser.get("/purchase-orders", params={"status": "lost"}).status_code == 422


def test_a_manager_approves_sends_and_downloads_a_purchase_order(web, drafts):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    number = first_draft(browser)
    page = browser.get(f"/purchase-orders/{number}")
    assert page.status_code == 200
    assert f"Approve {number}" in page.text
    answer = browser.post(f"/purchase-orders/{number}/status",
                          data={"csrf": csrf_of(page), "action": "approve"})  # fmt: skip
    assert answer.status_code == 303
    approved = browser.get(answer.headers["location"])
    assert "is now approved" in approved.text
    assert "maria" in approved.text  # approved by
    sent = browser.post(f"/purchase-orders/{number}/status",
                        data={"csrf": csrf_of(approved), "action": "send"})  # fmt: skip
    assert sent.status_code == 303
    assert "is now sent" in browser.get(sent.headers["location"]).text
    pdf = browser.get(f"/purchase-orders/{number}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_cancelling_needs_a_reason(web, drafts):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    number = first_draft(browser)
    page = browser.get(f"/purchase-orders/{number}")
    answer = browser.post(f"/purchase-orders/{number}/status",
                          data={"csrf": csrf_of(page), "action": "cancel"})  # fmt: skip
    assert answer.status_code == 422
    assert "reason" in answer.text
    done = browser.post(f"/purchase-orders/{number}/status",
                        data={"csrf": csrf_of(page), "action": "cancel",
                              "reason": "ordered by phone"})  # fmt: skip
    assert done.status_code == 303
    assert "is now cancelled" in browser.get(done.headers["location"]).text


def test_stockroom_staff_read_orders_but_are_refused_approval_with_403(web, db, drafts):
    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    number = first_draft(browser)
    page = browser.get(f"/purchase-orders/{number}")
    assert page.status_code == 200
    assert f"Approve {number}" not in page.text
    answer = browser.post(f"/purchase-orders/{number}/status",
                          data={"csrf": csrf_of(page), "action": "approve"})  # fmt: skip
    assert answer.status_code == 403
    assert "approve a purchase order" in answer.text
    with db.engine.connect() as conn:
        refused = list(conn.scalars(select(AuditRow.entity_key).where(
            AuditRow.actor == "ollie", AuditRow.action == "access.refused")))  # fmt: skip
    assert refused == ["po.approve"]
    assert "draft" in browser.get(f"/purchase-orders/{number}").text


def test_an_unknown_purchase_order_is_one_line(web):
    web.user("ollie", "stockroom", "1357")
    page = logged_in(web.client(), "ollie", "1357").get("/purchase-orders/PO-99999")
    assert page.status_code == 422
    assert "PO-99999" in page.text
