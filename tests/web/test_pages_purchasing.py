"""The purchase order pages: the list with its filters, one order with its lines and
money, approve / send / cancel for managers (refused with 403 and an audit row for
stockroom staff), and the PDF the supplier receives."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pages_support import csrf_of, logged_in, web_secret  # noqa: F401
from sqlalchemy import select

from kitops.data.schema import AuditRow
from kitops.services import locations, purchasing, reorder
from kitops.services.unit_of_work import UnitOfWork

DEMO_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the demo data's day

pytestmark = pytest.mark.demo_data


@pytest.fixture
def at_demo_day():
    with time_machine.travel(DEMO_NOON, tick=False):
        yield


def _build_drafts(uow) -> None:
    """The reorder job's run on the demo day, on top of the demo data (which holds no
    purchase order): every order it writes is a draft."""
    with time_machine.travel(DEMO_NOON, tick=False):
        run = reorder.run(uow())
    assert run.orders_created, run.summary
    assert sorted(run.orders_created) == sorted(
        order.number for order in purchasing.list_orders(uow(readonly=True))
    )


@pytest.fixture
def drafts(db, at_demo_day) -> list[str]:
    """The demo's draft purchase orders, as the reorder job writes them: the job runs once
    per run and backend on a template, cloned per test (``TEMPLATE_FIXTURES``,
    tests/conftest.py)."""
    reader = UnitOfWork(db, "tester", readonly=True)
    numbers = sorted(order.number for order in purchasing.list_orders(reader, status="draft"))
    assert numbers
    return numbers


# the fixtures whose data is built once per run and backend, then cloned per test
TEMPLATE_FIXTURES = {"drafts": _build_drafts}


def refusals(db, actor: str) -> list[str]:
    with db.engine.connect() as conn:
        return list(
            conn.scalars(
                select(AuditRow.entity_key)
                .where(AuditRow.actor == actor, AuditRow.action == "access.refused")
                .order_by(AuditRow.id)
            )
        )


def status_of(db, number: str) -> str:
    return purchasing.show_order(UnitOfWork(db, "tester", readonly=True), number).status


def browser_as(web, role: str):
    web.user(role + "-user", role, "1357")
    return logged_in(web.client(), role + "-user", "1357")


@pytest.mark.parametrize("role", ["stockroom", "manager", "admin"])
def test_every_role_lists_the_orders_with_their_totals_in_currency(web, drafts, role):
    page = browser_as(web, role).get("/purchase-orders")
    assert page.status_code == 200
    for number in drafts:
        assert f'href="/purchase-orders/{number}"' in page.text
    assert "GBP" in page.text
    assert 'href="/purchase-orders" aria-current="page"' in page.text


def test_the_filters_are_in_the_query_so_the_list_can_be_bookmarked(web, db, drafts):
    number = drafts[0]
    order = purchasing.show_order(UnitOfWork(db, "tester", readonly=True), number)
    other_clinic = "LON" if order.clinic != "LON" else "ESX"
    purchasing.change_status(UnitOfWork(db, "tester"), number, "approve")
    browser = browser_as(web, "manager")

    def listed(**query: str) -> bool:
        page = browser.get("/purchase-orders", params=query)
        assert page.status_code == 200
        return f">{number}</a>" in page.text

    assert listed(status="approved", supplier=order.supplier, clinic=order.clinic)
    assert listed(status="open")
    assert not listed(status="draft")
    assert not listed(clinic=other_clinic)
    page = browser.get("/purchase-orders", params={"status": "approved", "clinic": order.clinic})
    assert '<option value="approved" selected>' in page.text
    assert f'<option value="{order.clinic}" selected>' in page.text


def test_an_unknown_filter_value_is_one_line_naming_it(web, drafts):
    browser = browser_as(web, "manager")
    page = browser.get("/purchase-orders", params={"status": "lost"})
    assert page.status_code == 422
    assert "status" in page.text
    assert "lost" in page.text
    page = browser.get("/purchase-orders", params={"supplier": "NOBODY"})
    assert page.status_code == 422
    assert "NOBODY" in page.text
    assert "Traceback" not in page.text


def test_an_order_shows_its_lines_and_money_and_a_manager_the_buttons(web, db, drafts):
    order = purchasing.show_order(UnitOfWork(db, "tester", readonly=True), drafts[0])
    page = browser_as(web, "manager").get(f"/purchase-orders/{order.number}")
    assert page.status_code == 200
    assert str(order.total) in page.text
    for line in order.lines:
        assert line.sku in page.text
        assert str(line.line_total) in page.text
    assert f'action="/purchase-orders/{order.number}/approve"' in page.text
    assert f'action="/purchase-orders/{order.number}/cancel"' in page.text


def test_an_orders_moments_are_shown_on_its_clinics_clock(web, db, drafts):
    order = purchasing.show_order(UnitOfWork(db, "tester", readonly=True), drafts[0])
    places = locations.list_locations(UnitOfWork(db, "tester", readonly=True))
    zone = next(p.timezone for p in places if p.code == order.clinic)
    made = DEMO_NOON.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
    page = browser_as(web, "manager").get(f"/purchase-orders/{order.number}")
    assert f"<dd>{made} by tester" in page.text


def test_stockroom_staff_see_an_order_without_the_managers_buttons(web, drafts):
    page = browser_as(web, "stockroom").get(f"/purchase-orders/{drafts[0]}")
    assert page.status_code == 200
    assert "/approve" not in page.text
    assert "/cancel" not in page.text


def test_an_unknown_order_number_is_one_line_naming_it(web, drafts):
    page = browser_as(web, "manager").get("/purchase-orders/PO-999999")
    assert page.status_code == 422
    assert "PO-999999" in page.text


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_a_manager_or_admin_approves_then_sends_an_order(web, db, drafts, role):
    number = drafts[0]
    browser = browser_as(web, role)
    page = browser.get(f"/purchase-orders/{number}")
    answer = browser.post(f"/purchase-orders/{number}/approve", data={"csrf": csrf_of(page)})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/purchase-orders/{number}"
    assert status_of(db, number) == "approved"
    page = browser.get(f"/purchase-orders/{number}")
    assert f"<dd>{role}-user</dd>" in page.text  # approved by
    assert f'action="/purchase-orders/{number}/send"' in page.text
    answer = browser.post(f"/purchase-orders/{number}/send", data={"csrf": csrf_of(page)})
    assert answer.status_code == 303
    assert status_of(db, number) == "sent"


def test_a_manager_cancels_an_order_with_a_reason_kept_on_it(web, db, drafts):
    number = drafts[0]
    browser = browser_as(web, "manager")
    csrf = csrf_of(browser.get(f"/purchase-orders/{number}"))
    answer = browser.post(
        f"/purchase-orders/{number}/cancel", data={"csrf": csrf, "reason": "supplier closed"}
    )
    assert answer.status_code == 303
    assert status_of(db, number) == "cancelled"
    assert "supplier closed" in browser.get(f"/purchase-orders/{number}").text


def test_cancelling_without_a_reason_is_refused_in_place_and_changes_nothing(web, db, drafts):
    number = drafts[0]
    browser = browser_as(web, "manager")
    csrf = csrf_of(browser.get(f"/purchase-orders/{number}"))
    answer = browser.post(f"/purchase-orders/{number}/cancel", data={"csrf": csrf, "reason": " "})
    assert answer.status_code == 422
    assert "reason" in answer.text
    assert 'role="alert"' in answer.text
    assert status_of(db, number) == "draft"


def test_sending_a_draft_is_refused_with_409_and_changes_nothing(web, db, drafts):
    number = drafts[0]
    browser = browser_as(web, "manager")
    csrf = csrf_of(browser.get(f"/purchase-orders/{number}"))
    answer = browser.post(f"/purchase-orders/{number}/send", data={"csrf": csrf})
    assert answer.status_code == 409
    assert number in answer.text
    assert status_of(db, number) == "draft"


@pytest.mark.parametrize("action", ["approve", "send", "cancel"])
def test_stockroom_staff_are_refused_with_403_and_an_audit_row(web, db, drafts, action):
    number = drafts[0]
    browser = browser_as(web, "stockroom")
    csrf = csrf_of(browser.get(f"/purchase-orders/{number}"))
    answer = browser.post(
        f"/purchase-orders/{number}/{action}", data={"csrf": csrf, "reason": "not needed"}
    )
    assert answer.status_code == 403
    assert "may not" in answer.text
    assert refusals(db, "stockroom-user") == [f"po.{action}"]
    assert status_of(db, number) == "draft"


def test_an_action_without_the_forms_csrf_token_is_refused(web, db, drafts):
    number = drafts[0]
    browser = browser_as(web, "manager")
    answer = browser.post(f"/purchase-orders/{number}/approve", data={"csrf": "0" * 64})
    assert answer.status_code == 403
    assert status_of(db, number) == "draft"


def test_without_a_session_the_pages_send_the_browser_to_log_in(web, drafts):
    browser = web.client()
    for path in ("/purchase-orders", f"/purchase-orders/{drafts[0]}",
                 f"/purchase-orders/{drafts[0]}/pdf"):  # fmt: skip
        answer = browser.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=")
    answer = browser.post(f"/purchase-orders/{drafts[0]}/approve", data={"csrf": "x"})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")


def test_the_pdf_is_the_document_the_cli_writes(web, db, drafts, tmp_path):
    from kitops.documents.purchase_orders import export_order

    number = drafts[0]
    answer = browser_as(web, "stockroom").get(f"/purchase-orders/{number}/pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert f'filename="{number}.pdf"' in answer.headers["content-disposition"]
    assert answer.content.startswith(b"%PDF")
    written = export_order(UnitOfWork(db, "tester", readonly=True), number, "pdf",
                           str(tmp_path / "po.pdf"))  # fmt: skip
    assert len(answer.content) == written.bytes


def test_a_cancelled_order_has_no_pdf_to_send(web, db, drafts):
    number = drafts[0]
    purchasing.change_status(UnitOfWork(db, "tester"), number, "cancel", reason="not needed")
    answer = browser_as(web, "manager").get(f"/purchase-orders/{number}/pdf")
    assert answer.status_code == 409
    assert "cancelled" in answer.text
