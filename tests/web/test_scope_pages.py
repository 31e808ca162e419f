"""The pages of a user limited to one clinic (ESX), as stockroom staff and as a manager:
every list shows ESX only, another clinic's course, kit or order is not found, and an
action or a filter at another clinic is refused (403, one line, an audit row) with
nothing else written."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from pages_support import csrf_of, logged_in, web_secret  # noqa: F401
from scope_support import limited, scope_refusals, writes
from sqlalchemy import select

from kitops.data.schema import LotRow
from kitops.services import orders, reorder
from kitops.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.demo_data
DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo data's day
PIN = "1357"
# a location of another clinic, as the pages print it
ELSEWHERE = re.compile(r"\b(?:LON|VIE)-[A-Z]+\b")


@pytest.fixture(autouse=True)
def at_demo_day():
    with time_machine.travel(DEMO_NOON, tick=False):
        yield


@pytest.fixture(params=["stockroom", "manager"])
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def esx(web, db, role):
    """A browser logged in as ``esx``, of this test's role, limited to clinic ESX."""
    limited(db, "esx", role, ["ESX"], PIN)
    return logged_in(web.client(), "esx", PIN)


def test_every_list_page_shows_the_users_clinic_only(esx, db, role):
    reorder.run(UnitOfWork(db, "tester"), as_of=None)  # a draft for ESX
    lon_order = orders.create_order(UnitOfWork(db, "tester"), 4).id
    esx_order = orders.create_order(UnitOfWork(db, "tester"), 5).id
    stock = esx.get("/stock")
    assert stock.status_code == 200
    assert "ESX-FRIDGE" in stock.text
    assert not ELSEWHERE.findall(stock.text)
    assert "PTT6-A0711" not in stock.text  # Vienna's lot
    for url in ("/expiring?days=90", "/kits", "/reorder", "/"):
        page = esx.get(url)
        assert page.status_code == 200, (url, page.text[-600:])
        assert not ELSEWHERE.findall(page.text), url
    kits = esx.get("/kits").text
    assert 'href="/kits/K0000005"' in kits or "K0000005" in kits
    assert "K0000001" not in kits
    assert "K0000007" not in kits
    courses = esx.get("/courses").text
    assert {int(n) for n in re.findall(r'href="/courses/(\d+)"', courses)} == {5, 6, 11}
    listed = esx.get("/orders").text
    assert f'href="/orders/{esx_order}"' in listed
    assert f'href="/orders/{lon_order}"' not in listed
    purchase_orders = esx.get("/purchase-orders")
    assert purchase_orders.status_code == 200
    assert "PO-000001" in purchase_orders.text
    report = esx.get("/reports/stock")
    if role == "manager":
        assert report.status_code == 200, report.text
        assert not ELSEWHERE.findall(report.text)
        assert "ESX" in report.text
    else:
        assert report.status_code == 403


def test_another_clinics_course_kit_and_order_are_not_found(esx, db):
    lon_order = orders.create_order(UnitOfWork(db, "tester"), 4).id
    for url, key in (("/courses/4", "4"), ("/courses/4/calendar.ics", "4"),
                     (f"/orders/{lon_order}", str(lon_order))):  # fmt: skip
        page = esx.get(url)
        assert page.status_code == 404, (url, page.text)
        assert key in page.text
        assert "Traceback" not in page.text
    assert esx.get("/courses/5").status_code == 200


def test_filters_naming_another_clinic_are_refused_in_one_line(esx, db):
    before = writes(db)
    for url in ("/stock?clinic=LON", "/stock?location=LON-FRIDGE", "/kits?clinic=VIE",
                "/courses?clinic=LON", "/orders?clinic=LON", "/expiring?clinic=VIE",
                "/purchase-orders?clinic=LON", "/?clinic=LON"):  # fmt: skip
        page = esx.get(url)
        assert page.status_code == 403, (url, page.status_code)
        assert "is limited to ESX" in page.text, url
    reasons = scope_refusals(db, "esx")
    assert len(reasons) == 8
    assert all("esx may not" in reason for reason in reasons)
    assert writes(db) == (before[0], before[1] + 8)


def test_a_refund_of_another_clinics_order_is_not_found_and_writes_nothing(esx, db, role):
    lon_order = orders.create_order(UnitOfWork(db, "tester"), 4).id
    form = esx.get("/orders")
    before = writes(db)
    answer = esx.post(f"/orders/{lon_order}/refund",
                      data={"csrf": csrf_of(form), "restock": "none"})  # fmt: skip
    if role == "manager":  # the order does not exist for them
        assert answer.status_code == 404
        assert "no order has this number" in answer.text
        assert writes(db) == before
    else:  # stockroom staff refund nothing, whatever the clinic: refused and audited
        assert answer.status_code == 403
        assert "may not refund an order" in answer.text
        assert writes(db) == (before[0], before[1] + 1)


def test_a_scoped_manager_may_not_release_a_lot_held_at_another_clinic(web, db):
    # PTT6-C0115 is quarantined at LON-QUAR
    limited(db, "esx-manager", "manager", ["ESX"], PIN)
    browser = logged_in(web.client(), "esx-manager", PIN)
    page = browser.get("/lots/PTT6-C0115")
    before = writes(db)
    answer = browser.post("/lots/PTT6-C0115/status",
                          data={"csrf": csrf_of(page), "action": "release"})  # fmt: skip
    assert answer.status_code == 403, answer.text
    assert "esx-manager may not release lot PTT6-C0115, held at clinic LON" in answer.text
    assert writes(db) == (before[0], before[1] + 1)
    assert scope_refusals(db, "esx-manager")[-1].startswith("esx-manager may not release")
    with db.read_sessions() as session:
        assert session.scalar(select(LotRow.status).where(LotRow.code == "PTT6-C0115")) == (
            "quarantine"
        )


def test_a_scoped_manager_may_not_approve_a_purchase_order_for_another_clinic(web, db):
    reorder.run(UnitOfWork(db, "tester"), as_of=None)  # PO-000001, delivered to ESX
    limited(db, "lon-manager", "manager", ["LON"], PIN)
    browser = logged_in(web.client(), "lon-manager", PIN)
    assert "PO-000001" not in browser.get("/purchase-orders", params={"status": "all"}).text
    for url in ("/purchase-orders/PO-000001", "/purchase-orders/PO-000001/pdf"):
        shown = browser.get(url)
        assert shown.status_code == 403, url
        assert "may not use a purchase order at clinic ESX" in shown.text
    form = browser.get("/purchase-orders")
    before = writes(db)
    answer = browser.post("/purchase-orders/PO-000001/approve", data={"csrf": csrf_of(form)})
    assert answer.status_code == 403
    assert "lon-manager may not use a purchase order at clinic ESX" in answer.text
    assert writes(db) == (before[0], before[1] + 1)
    assert scope_refusals(db, "lon-manager")[-1].startswith("lon-manager may not")


def test_stock_narrows_to_a_place_of_the_users_clinic_and_one_sku(esx):
    fridge = esx.get("/stock", params={"location": "ESX-FRIDGE", "sku": "SERUM-5ML"})
    assert fridge.status_code == 200
    table = fridge.text.split("<tbody", 1)[1]
    assert set(re.findall(r"\bESX-[A-Z]+\b", table)) == {"ESX-FRIDGE"}
    assert "SERUM-5ML" in table
    assert "CHX-0.5" not in table
    unknown = esx.get("/stock", params={"sku": "NOPE-1"})
    assert unknown.status_code == 422
    assert "NOPE-1" in unknown.text
