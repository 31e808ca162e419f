"""Every API route on the demo data: what it answers for a role that may, and 403 with an
audit row for one that may not; lists walked page by page through their ``next`` links."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kitops.data.schema import PurchaseOrderRow
from kitops.services import reorder
from kitops.services.unit_of_work import UnitOfWork
from tests.web.api_support import API, assert_problem, audit_rows, bearer

pytestmark = pytest.mark.demo_data
DAY = "2026-11-22"


def _walk(client, url: str, headers: dict[str, str]) -> list[dict]:
    items: list[dict] = []
    total = None
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        total = body["total"] if total is None else total
        assert body["total"] == total
        items.extend(body["items"])
        url = body["next"]
    assert len(items) == total
    return items


def test_stock_pages_walk_every_line_once_in_a_stable_order(db, web):
    client = web.client()
    headers = bearer(db, "stock")
    whole = client.get(f"{API}/stock?limit=200&as_of={DAY}", headers=headers).json()
    assert whole["next"] is None
    walked = _walk(client, f"{API}/stock?limit=4&as_of={DAY}", headers)
    keys = [(line["location"], line["sku"], line["lot"]) for line in walked]
    assert keys == [(line["location"], line["sku"], line["lot"]) for line in whole["items"]]
    assert len(set(keys)) == len(keys) == 34
    quarantined = client.get(f"{API}/stock?status=quarantine", headers=headers).json()
    assert [(i["lot"], i["location"]) for i in quarantined["items"]] == [("PTT6-C0115", "LON-QUAR")]
    serum = _walk(client, f"{API}/stock?clinic=LON&sku=SERUM-5ML&limit=2", headers)
    assert {line["lot"] for line in serum} == {
        "PTT6-A0412", "PTT6-A0519", "PTT6-A0603", "PTT6-B0902", "PTT6-C0115"
    }  # fmt: skip
    shelf = client.get(f"{API}/stock?location=ESX-SHELF", headers=headers).json()["items"]
    assert {line["location"] for line in shelf} == {"ESX-SHELF"}


def test_lots_show_trace_and_a_recall_names_the_courses_losing_their_kit(db, web):
    client = web.client()
    manager = bearer(db, "manager")
    lot = client.get(f"{API}/lots/PTT6-B0902", headers=bearer(db, "stock")).json()
    assert (lot["sku"], lot["status"], lot["total_on_hand"]) == ("SERUM-5ML", "released", 43)
    trace = client.get(f"{API}/lots/PTT6-B0902/trace", headers=manager)
    assert trace.status_code == 200
    assert trace.json()["lot"]["lot"] == "PTT6-B0902"
    recall = client.post(f"{API}/lots/PTT6-B0902/recall", json={"reason": "supplier recall"},
                         headers=manager)  # fmt: skip
    assert recall.status_code == 200, recall.text
    body = recall.json()
    assert body["status"] == "recalled"
    assert "K0000001" in body["kits_flagged"]
    assert {(k["serial"], k["course_id"]) for k in body["released"]} == {
        ("K0000001", 1), ("K0000005", 5)
    }  # fmt: skip
    released = client.post(f"{API}/lots/PTT6-C0115/release", json={}, headers=manager)
    assert released.json()["status"] == "released"


def test_kits_and_courses_list_show_and_fulfil(db, web):
    client = web.client()
    stock = bearer(db, "stock")
    kits = _walk(client, f"{API}/kits?limit=4", stock)
    assert len(kits) == 9
    assert kits[0]["serial"] == "K0000001"
    assert client.get(f"{API}/kits/K0000001", headers=stock).json()["components"]
    assert_problem(client.get(f"{API}/kits/K9999999", headers=stock), 404, "serial")
    courses = _walk(client, f"{API}/courses?limit=3", stock)
    assert [c["id"] for c in courses][:3] == [4, 7, 1]
    assert client.get(f"{API}/courses/3", headers=stock).json()["plan"] == "home-6w"
    assert_problem(client.get(f"{API}/courses/999", headers=stock), 404, "course")
    fulfilled = client.post(f"{API}/courses/3/fulfil", headers=stock)
    assert fulfilled.status_code == 200, fulfilled.text
    (line,) = fulfilled.json()["served"]
    assert line["kit"] is not None
    (row,) = audit_rows(db, actor="stock (token stock-app)", entity="course")
    assert row.entity_key == "3"


def test_receive_with_lot_and_expiry_and_a_count_sheet(db, web):
    client = web.client()
    stock = bearer(db, "stock")
    receipt = client.post(f"{API}/receipts", headers=stock, json={
        "location": "LON-FRIDGE", "sku": "SERUM-5ML", "lot": "API-0001",
        "expiry": "2028-01-31", "quantity": 5,
    })  # fmt: skip
    assert receipt.status_code == 201, receipt.text
    got = receipt.json()
    assert (got["lot"], got["expiry"], got["quantity"], got["status"]) == (
        "API-0001",
        "2028-01-31",
        5,
        "quarantine",
    )
    count = client.post(f"{API}/counts", headers=stock, json={
        "location": "LON-SHELF", "lines": [{"sku": "CHX-0.5", "lot": "-", "counted": 20}],
    })  # fmt: skip
    assert count.status_code == 200, count.text
    bad = client.post(f"{API}/counts", headers=stock, json={
        "location": "LON-SHELF", "lines": [{"sku": "NOPE", "counted": 1}],
    })  # fmt: skip
    assert_problem(bad, 422, "NOPE")


def test_purchase_orders_list_show_approve_send_cancel_as_a_manager_only(db, web):
    reorder.run(UnitOfWork(db, "tester"), as_of=None)
    with db.read_sessions() as session:
        assert session.scalars(select(PurchaseOrderRow)).first() is not None
    client = web.client()
    manager, stock = bearer(db, "manager"), bearer(db, "stock")
    listed = client.get(f"{API}/purchase-orders", headers=stock).json()
    number = listed["items"][0]["number"]
    assert client.get(f"{API}/purchase-orders/{number}", headers=stock).json()["status"] == "draft"
    assert_problem(client.get(f"{API}/purchase-orders/PO-999999", headers=stock), 404, "po")
    refused = client.post(f"{API}/purchase-orders/{number}/approve", headers=stock)
    assert_problem(refused, 403, "may not approve a purchase order")
    assert audit_rows(db, action="access.refused")[-1].entity_key == "po.approve"
    for action, status in (("approve", "approved"), ("send", "sent")):
        done = client.post(f"{API}/purchase-orders/{number}/{action}", headers=manager)
        assert done.status_code == 200, done.text
        assert done.json()["status"] == status
    assert_problem(client.post(f"{API}/purchase-orders/{number}/cancel", json={},
                               headers=manager), 422, "reason")  # fmt: skip
    cancelled = client.post(f"{API}/purchase-orders/{number}/cancel",
                            json={"reason": "duplicate"}, headers=manager)  # fmt: skip
    assert cancelled.json()["status"] == "cancelled"
    assert [i["number"] for i in client.get(f"{API}/purchase-orders?status=cancelled",
                                            headers=stock).json()["items"]] == [number]  # fmt: skip


def test_reports_as_json_for_managers_and_refused_to_stockroom(db, web):
    client = web.client()
    names = [r["name"] for r in client.get(f"{API}/reports", headers=bearer(db, "stock")).json()]
    assert {"stock", "expiring", "valuation", "payments"} <= set(names)
    manager = bearer(db, "manager")
    report = client.get(f"{API}/reports/expiring?as_of={DAY}&within=60d&clinic=LON",
                        headers=manager)  # fmt: skip
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["report"], body["clinic"], body["as_of"]) == ("expiring", "LON", DAY)
    assert_problem(client.get(f"{API}/reports/nope", headers=manager), 404, "report 'nope'")
    assert_problem(client.get(f"{API}/reports/stock?weeks=3", headers=manager), 422, "weeks")
    assert_problem(client.get(f"{API}/reports/stock", headers=bearer(db, "stock", "s2")), 403,
                   "may not run reports")  # fmt: skip


def test_openapi_and_swagger_ui_are_served_without_a_cdn(web):
    client = web.client()
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/receipts" in spec["paths"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "/api/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    script = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.text
