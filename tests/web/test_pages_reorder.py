"""The reorder preview: what the reorder job would order now, per clinic and supplier,
with the arithmetic and the cost; nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from markupsafe import escape
from pages_support import logged_in, web_secret  # noqa: F401
from sqlalchemy import func, select

from kitops.data.schema import PurchaseOrderRow
from kitops.services import reorder
from kitops.services.unit_of_work import UnitOfWork

DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo data's day

pytestmark = pytest.mark.demo_data


@pytest.fixture
def at_demo_day():
    with time_machine.travel(DEMO_NOON, tick=False):
        yield


def order_count(db) -> int:
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(PurchaseOrderRow)) or 0


def browser_as(web, role: str):
    web.user(role + "-user", role, "1357")
    return logged_in(web.client(), role + "-user", "1357")


@pytest.mark.parametrize("role", ["stockroom", "manager", "admin"])
def test_every_role_previews_the_reorder_run_without_writing(web, db, at_demo_day, role):
    expected = reorder.run(UnitOfWork(db, "tester", readonly=True), dry_run=True)
    assert expected.suggestions
    page = browser_as(web, role).get("/reorder")
    assert page.status_code == 200
    for line in expected.suggestions:
        assert f'id="order-{line.clinic}-{line.supplier}"' in page.text
        assert line.sku in page.text
        assert str(escape(line.explanation)) in page.text
    assert " GBP" in page.text  # the cost, with its currency
    assert order_count(db) == 0


def test_the_preview_filters_by_clinic_and_supplier_in_the_query(web, db, at_demo_day):
    lines = reorder.run(UnitOfWork(db, "tester", readonly=True), dry_run=True).suggestions
    pairs = {(s.clinic, s.supplier) for s in lines}
    clinic, supplier = sorted(pairs)[0]
    page = browser_as(web, "manager").get(
        "/reorder", params={"clinic": clinic.lower(), "supplier": supplier}
    )
    assert page.status_code == 200
    assert f'id="order-{clinic}-{supplier}"' in page.text
    for other_clinic, other_supplier in pairs - {(clinic, supplier)}:
        assert f'id="order-{other_clinic}-{other_supplier}"' not in page.text
    other = "LON" if clinic != "LON" else "ESX"
    elsewhere = browser_as(web, "admin").get("/reorder", params={"clinic": other})
    assert elsewhere.status_code == 200
    assert f'<option value="{other}" selected>' in elsewhere.text
    for line in lines:
        shown = f'id="order-{line.clinic}-{line.supplier}"' in elsewhere.text
        assert shown == (line.clinic == other)


def test_a_line_already_drafted_links_to_its_draft(web, db, at_demo_day):
    run = reorder.run(UnitOfWork(db, "tester"))
    assert run.orders_created
    page = browser_as(web, "manager").get("/reorder")
    assert page.status_code == 200
    for number in run.orders_created:
        assert f'href="/purchase-orders/{number}"' in page.text


def test_an_unknown_clinic_or_supplier_is_one_line_naming_it(web, at_demo_day):
    browser = browser_as(web, "manager")
    page = browser.get("/reorder", params={"clinic": "NOPE"})
    assert page.status_code == 422
    assert "NOPE" in page.text
    page = browser.get("/reorder", params={"supplier": "NOBODY"})
    assert page.status_code == 422
    assert "NOBODY" in page.text


def test_without_a_session_the_preview_sends_the_browser_to_log_in(web):
    answer = web.client().get("/reorder", params={"clinic": "LON"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Freorder%3Fclinic%3DLON"
