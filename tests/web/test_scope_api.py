"""The API for a user limited to one clinic (ESX), through a token, as stockroom staff and
as a manager: every list holds ESX only, another clinic's course or kit is not found
(404), and an action or a filter at another clinic is refused with a problem detail (403
and the service's audit row) and nothing else written."""

from __future__ import annotations

import pytest
from scope_support import limited, scope_refusals, writes
from sqlalchemy import select

from kitops.data.schema import LotRow
from kitops.services import reorder
from kitops.services.unit_of_work import UnitOfWork
from tests.web.api_support import API, assert_problem, bearer

pytestmark = pytest.mark.demo_data
DAY = "2026-11-22"
PIN = "1357"


@pytest.fixture(params=["stockroom", "manager"])
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def esx(db, role) -> dict[str, str]:
    """The Authorization header of ``esx``'s token: of this test's role, limited to ESX."""
    limited(db, "esx", role, ["ESX"], PIN)
    return bearer(db, "esx")


def _all(client, url: str, headers: dict[str, str]) -> list[dict]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next"] is None
    assert body["total"] == len(body["items"])
    return list(body["items"])


def test_every_list_holds_the_users_clinic_only(web, db, esx, role):
    reorder.run(UnitOfWork(db, "tester"), as_of=None)  # PO-000001, for ESX
    client = web.client()
    everything = _all(client, f"{API}/stock?limit=200&as_of={DAY}", bearer(db, "stock"))
    stock = _all(client, f"{API}/stock?limit=200&as_of={DAY}", esx)
    assert stock
    assert {line["clinic"] for line in stock} == {"ESX"}
    assert stock == [line for line in everything if line["clinic"] == "ESX"]
    kits = _all(client, f"{API}/kits?limit=200", esx)
    assert {kit["serial"] for kit in kits} == {"K0000005", "K0000006"}
    courses = _all(client, f"{API}/courses?limit=200", esx)
    assert {course["id"] for course in courses} == {5, 6, 11}
    assert {course["clinic"] for course in courses} == {"ESX"}
    orders = _all(client, f"{API}/purchase-orders?status=all", esx)
    assert [(o["number"], o["clinic"]) for o in orders] == [("PO-000001", "ESX")]
    report = client.get(f"{API}/reports/stock?as_of={DAY}", headers=esx)
    if role == "manager":
        assert report.status_code == 200, report.text
        body = report.json()
        assert body["clinic"] == "ESX"
        assert "LON-" not in report.text
        assert "VIE-" not in report.text
    else:
        assert_problem(report, 403, "may not run reports")


def test_another_clinics_course_and_kit_are_not_found(web, db, esx):
    client = web.client()
    before = writes(db)
    assert_problem(client.get(f"{API}/courses/4", headers=esx), 404, "no course has this number")
    assert_problem(client.get(f"{API}/kits/K0000007", headers=esx), 404, "no kit has this serial")
    fulfil = client.post(f"{API}/courses/4/fulfil", headers=esx)
    assert_problem(fulfil, 404, "no course has this number")
    assert writes(db) == before
    assert client.get(f"{API}/courses/5", headers=esx).json()["clinic"] == "ESX"
    assert client.get(f"{API}/kits/K0000005", headers=esx).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/stock?clinic=LON",
        "/stock?location=LON-FRIDGE",
        "/kits?clinic=VIE",
        "/courses?clinic=LON",
        "/purchase-orders?clinic=LON",
    ],
)
def test_a_filter_naming_another_clinic_is_refused_as_a_problem_detail(web, db, esx, url):
    before = writes(db)
    assert_problem(web.client().get(API + url, headers=esx), 403, "esx may not",
                   "esx is limited to ESX")  # fmt: skip
    assert len(scope_refusals(db, "esx (token esx-app)")) == 1
    assert writes(db) == (before[0], before[1] + 1)


def test_receiving_and_counting_at_another_clinic_are_refused_and_write_nothing(web, db, esx):
    client = web.client()
    before = writes(db)
    receipt = client.post(f"{API}/receipts", headers=esx, json={
        "location": "LON-FRIDGE", "sku": "SERUM-5ML", "lot": "API-0002",
        "expiry": "2028-01-31", "quantity": 5,
    })  # fmt: skip
    assert_problem(receipt, 403, "esx may not receive stock at clinic LON")
    count = client.post(f"{API}/counts", headers=esx, json={
        "location": "LON-SHELF", "lines": [{"sku": "CHX-0.5", "lot": "-", "counted": 0}],
    })  # fmt: skip
    assert_problem(count, 403, "esx may not count stock at clinic LON")
    assert writes(db) == (before[0], before[1] + 2)
    assert len(scope_refusals(db, "esx (token esx-app)")) == 2
    with db.read_sessions() as session:
        assert session.scalar(select(LotRow.id).where(LotRow.code == "API-0002")) is None
    done = client.post(f"{API}/receipts", headers=esx, json={
        "location": "ESX-FRIDGE", "sku": "SERUM-5ML", "lot": "API-0002",
        "expiry": "2028-01-31", "quantity": 5,
    })  # fmt: skip
    assert done.status_code == 201, done.text


def test_a_scoped_manager_may_not_release_a_lot_held_at_another_clinic(web, db):
    limited(db, "esx-manager", "manager", ["ESX"], PIN)
    headers = bearer(db, "esx-manager")
    before = writes(db)
    released = web.client().post(f"{API}/lots/PTT6-C0115/release", json={}, headers=headers)
    assert_problem(released, 403, "esx-manager may not release lot PTT6-C0115, held at clinic LON")
    assert writes(db) == (before[0], before[1] + 1)
    assert scope_refusals(db, "esx-manager (token esx-manager-app)")
    with db.read_sessions() as session:
        assert session.scalar(select(LotRow.status).where(LotRow.code == "PTT6-C0115")) == (
            "quarantine"
        )


def test_a_scoped_manager_may_not_approve_a_purchase_order_for_another_clinic(web, db):
    reorder.run(UnitOfWork(db, "tester"), as_of=None)  # PO-000001, delivered to ESX
    limited(db, "lon-manager", "manager", ["LON"], PIN)
    headers = bearer(db, "lon-manager")
    client = web.client()
    assert _all(client, f"{API}/purchase-orders?status=all", headers) == []
    assert_problem(client.get(f"{API}/purchase-orders/PO-000001", headers=headers), 403,
                   "lon-manager may not use a purchase order at clinic ESX")  # fmt: skip
    before = writes(db)
    approved = client.post(f"{API}/purchase-orders/PO-000001/approve", headers=headers)
    assert_problem(approved, 403, "lon-manager may not use a purchase order at clinic ESX")
    assert writes(db) == (before[0], before[1] + 1)
    shown = client.get(f"{API}/purchase-orders/PO-000001", headers=bearer(db, "manager"))
    assert shown.json()["status"] == "draft"


def test_stock_filters_by_location_subtree_and_sku_exactly_paged_in_the_query(web, db, esx):
    client = web.client()
    received = client.post(f"{API}/receipts", headers=esx, json={
        "location": "ESX-FRIDGE", "sku": "SERUM-5ML", "lot": "API-0003",
        "expiry": "2028-01-31", "quantity": 2,
    })  # fmt: skip
    assert received.json()["status"] == "quarantine"
    whole = _all(client, f"{API}/stock?limit=200&as_of={DAY}", esx)
    serum = [line for line in whole if line["sku"] == "SERUM-5ML"]
    assert serum
    walked: list[dict] = []
    url: str | None = f"{API}/stock?sku=SERUM-5ML&location=ESX&limit=1&as_of={DAY}"
    while url:
        body = client.get(url, headers=esx).json()
        assert body["total"] == len(serum)
        walked.extend(body["items"])
        url = body["next"]
    assert walked == serum
    fridge = _all(client, f"{API}/stock?location=esx-fridge&limit=200&as_of={DAY}", esx)
    assert fridge == [line for line in whole if line["location"] == "ESX-FRIDGE"]
    assert_problem(client.get(f"{API}/stock?sku=NOPE-1", headers=esx), 422, "NOPE-1")
    assert_problem(client.get(f"{API}/stock?location=NOWHERE", headers=esx), 422, "NOWHERE")
    unusable = _all(client, f"{API}/stock?status=unusable&limit=200&as_of={DAY}", esx)
    assert [line["lot"] for line in unusable] == ["API-0003"]
    assert unusable == [line for line in whole if not line["available"]]
    released = _all(client, f"{API}/stock?status=released&limit=200&as_of={DAY}", esx)
    assert released == [line for line in whole if line["status"] == "released"]
