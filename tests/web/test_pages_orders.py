"""Orders and payments in the web pages: the list, one order, and refunds for managers
only (no Stripe call for an order with nothing to refund)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from pages_support import csrf_of, logged_in, web_secret  # noqa: F401
from sqlalchemy import select

from kitops.data.schema import AuditRow
from kitops.services import orders

pytestmark = pytest.mark.demo_data
DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo data's day


@pytest.fixture(autouse=True)
def at_demo_day():
    with time_machine.travel(DEMO_NOON, tick=False):
        yield


@pytest.fixture
def order(uow) -> int:
    """An unpaid order for the demo's clinic course 4 (LON)."""
    return orders.create_order(uow(), 4).id


def test_the_orders_list_and_an_order(web, order):
    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    listed = browser.get("/orders", params={"clinic": "LON"})
    assert listed.status_code == 200
    assert f'href="/orders/{order}"' in listed.text
    assert f'href="/orders/{order}"' not in browser.get("/orders", params={"clinic": "VIE"}).text
    assert browser.get("/orders", params={"status": "lost"}).status_code == 422
    shown = browser.get(f"/orders/{order}")
    assert shown.status_code == 200
    assert f"Order {order}" in shown.text
    assert "Refund order" not in shown.text  # nothing paid, and not a manager


def test_stockroom_staff_are_refused_a_refund_with_403_and_an_audit_row(web, db, order):
    web.user("ollie", "stockroom", "1357")
    browser = logged_in(web.client(), "ollie", "1357")
    page = browser.get(f"/orders/{order}")
    answer = browser.post(f"/orders/{order}/refund", data={"csrf": csrf_of(page)})
    assert answer.status_code == 403
    assert "refund an order" in answer.text
    with db.engine.connect() as conn:
        refused = list(conn.scalars(select(AuditRow.entity_key).where(
            AuditRow.actor == "ollie", AuditRow.action == "access.refused")))  # fmt: skip
    assert refused == ["order.refund"]


def test_refunding_an_unpaid_order_is_refused_in_one_line_without_asking_stripe(web, order):
    web.user("maria", "manager", "1357")
    browser = logged_in(web.client(), "maria", "1357")
    page = browser.get(f"/orders/{order}")
    answer = browser.post(f"/orders/{order}/refund",
                          data={"csrf": csrf_of(page), "restock": "none"})  # fmt: skip
    assert answer.status_code == 409
    assert "only a paid order can be refunded" in answer.text
    assert "Traceback" not in answer.text
    bad = browser.post(f"/orders/{order}/refund",
                       data={"csrf": csrf_of(page), "restock": "burn"})  # fmt: skip
    assert bad.status_code == 422
    assert "restock" in bad.text
