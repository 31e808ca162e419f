"""Who may call the API: a bearer token proves its user (401 otherwise, with
``WWW-Authenticate: Bearer``), roles are the service layer's (403 and an audit row), a
read-only token changes nothing, and every error is a problem-details document with the
command line's one line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from kitops.data.schema import ApiTokenRow, LotRow
from kitops.services import tokens
from kitops.services.unit_of_work import UnitOfWork
from tests.web.api_support import API, assert_problem, audit_rows, bearer

pytestmark = pytest.mark.demo_data

RECALL = {"reason": "supplier recall"}


def _status_of_lot(db, code: str) -> str:
    with db.read_sessions() as session:
        return session.query(LotRow.status).filter(LotRow.code == code).scalar()


def test_no_token_or_a_bad_one_is_401_with_a_bearer_challenge(db, web):
    client = web.client()
    for headers in (
        {},
        {"Authorization": "Bearer kt_" + "x" * 43},
        {"Authorization": "Basic dXNlcjpwaW4="},
        {"Authorization": "Bearer"},
    ):
        response = client.get(f"{API}/stock", headers=headers)
        body = assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert body["instance"] == f"{API}/stock"
    assert "needs an API token" in client.get(f"{API}/kits").json()["detail"]


def test_revoked_and_expired_tokens_are_refused(db, web):
    client = web.client()
    revoked = bearer(db, "stock", "revoked")
    expired = bearer(db, "stock", "expired")
    assert client.get(f"{API}/kits", headers=revoked).status_code == 200
    tokens.revoke_token(UnitOfWork(db, "tester"), "revoked")
    assert_problem(client.get(f"{API}/kits", headers=revoked), 401, "revoked is revoked")
    with db.write_sessions() as session:
        session.execute(update(ApiTokenRow).where(ApiTokenRow.name == "expired")
                        .values(expires_at=datetime(2026, 1, 1, tzinfo=UTC)))  # fmt: skip
        session.commit()
    assert_problem(client.get(f"{API}/kits", headers=expired), 401, "expired is expired")


def test_a_role_that_may_not_gets_403_and_the_refusal_is_audited_with_the_token(db, web):
    client = web.client()
    response = client.post(f"{API}/lots/PTT6-A0519/recall", json=RECALL,
                           headers=bearer(db, "stock", "shelf-app"))  # fmt: skip
    assert_problem(response, 403, "stock (stockroom) may not recall a lot: a manager may")
    assert _status_of_lot(db, "PTT6-A0519") == "released"
    (refusal,) = audit_rows(db, action="access.refused")
    assert refusal.actor == "stock (token shelf-app)"
    assert refusal.entity_key == "lot.recall"


def test_a_read_only_token_reads_but_every_change_is_403_and_audited(db, web):
    client = web.client()
    headers = bearer(db, "manager", "dash", read_only=True)
    assert client.get(f"{API}/lots/PTT6-A0519", headers=headers).status_code == 200
    response = client.post(f"{API}/lots/PTT6-A0519/recall", json=RECALL, headers=headers)
    assert_problem(response, 403, "token dash is read-only")
    assert _status_of_lot(db, "PTT6-A0519") == "released"
    (refusal,) = audit_rows(db, action="access.refused")
    assert refusal.actor == "manager (token dash)"
    assert refusal.entity_key == "token.write"


def test_a_change_through_a_token_is_audited_as_user_and_token(db, web):
    client = web.client()
    response = client.post(f"{API}/lots/PTT6-A0519/quarantine", json={"reason": "cracked"},
                           headers=bearer(db, "manager", "qa-app"))  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "quarantine"
    (row,) = audit_rows(db, action="lot.quarantine")
    assert row.actor == "manager (token qa-app)"


def test_errors_are_problem_details_with_the_cli_line(db, web):
    client = web.client()
    headers = bearer(db, "manager")
    body = assert_problem(client.get(f"{API}/lots/NO-SUCH", headers=headers), 404,
                          "lot 'NO-SUCH': no lot has this code")  # fmt: skip
    assert body["title"] == "Not found"
    assert body["type"].endswith("/not-found")
    bad = assert_problem(client.post(f"{API}/lots/PTT6-A0519/recall", json={}, headers=headers),
                         422, "reason (missing): say why")  # fmt: skip
    assert bad["field"] == "reason"
    typed = assert_problem(
        client.post(f"{API}/receipts", json={"location": "LON-FRIDGE", "quantity": "many"},
                    headers=headers), 422, "quantity 'many'",
    )  # fmt: skip
    assert typed["field"] == "quantity"
    assert_problem(client.get(f"{API}/stock?status=lost", headers=headers), 422, "status 'lost'")
    assert_problem(client.get(f"{API}/stock?cursor=zz", headers=headers), 422, "cursor 'zz'")
    refused = client.post(f"{API}/lots/PTT6-A0412/release", json={}, headers=headers)
    assert_problem(refused, 409)


def test_an_unexpected_failure_is_a_generic_500_without_a_traceback(db, web, monkeypatch):
    from fastapi.testclient import TestClient

    from kitops.web.app import create_app
    from kitops.web.door import Door

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail postgresql://u:hunter2@db/kitops")

    monkeypatch.setattr("kitops.services.kits.show_kit", broken)
    with TestClient(create_app(door=Door(db)), raise_server_exceptions=False) as client:
        response = client.get(f"{API}/kits/K0000001", headers=bearer(db, "stock"))
    body = assert_problem(response, 500, "internal error")
    assert "hunter2" not in response.text
    assert "secret detail" not in body["detail"]


# every changing route, with a body it takes, and the lowest role that may not use it
CHANGES = [
    ("/receipts", {"location": "LON-FRIDGE", "sku": "SERUM-5ML", "lot": "R-1",
                   "expiry": "2028-01-31", "quantity": 1}, "cron", "stock.receive"),
    ("/counts", {"location": "LON-SHELF", "lines": [{"sku": "CHX-0.5", "lot": "-",
                                                       "counted": 20}]}, "cron", "stock.count"),
    ("/courses/3/fulfil", None, "cron", "course.fulfil"),
    ("/lots/PTT6-C0115/release", {}, "stock", "lot.release"),
    ("/lots/PTT6-A0519/quarantine", {"reason": "cracked"}, "stock", "lot.quarantine"),
    ("/lots/PTT6-A0519/recall", {"reason": "recall"}, "stock", "lot.recall"),
    ("/purchase-orders/PO-000001/approve", None, "stock", "po.approve"),
    ("/purchase-orders/PO-000001/send", None, "stock", "po.send"),
    ("/purchase-orders/PO-000001/cancel", {"reason": "duplicate"}, "stock", "po.cancel"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "who", "permission"), CHANGES,
                         ids=[c[3] for c in CHANGES])  # fmt: skip
def test_every_change_refuses_a_role_that_may_not_with_403_and_an_audit_row(
    db, web, path, body, who, permission
):
    client = web.client()
    response = client.post(f"{API}{path}", json=body, headers=bearer(db, who, "integration"))
    assert_problem(response, 403, "may not")
    (refusal,) = audit_rows(db, action="access.refused")
    assert refusal.actor == f"{who} (token integration)"
    assert refusal.entity_key == permission
    assert [r.action for r in audit_rows(db) if r.actor.endswith("(token integration)")] == [
        "access.refused"
    ]


def test_every_api_route_is_401_without_a_token(web):
    client = web.client()
    paths = client.get("/api/openapi.json").json()["paths"]
    routes = [(method.upper(), path) for path, methods in paths.items() for method in methods]
    assert len(routes) >= 20
    for method, path in routes:
        url = path.replace("{code}", "PTT6-A0519").replace("{serial}", "K0000001")
        url = url.replace("{course_id}", "3").replace("{number}", "PO-000001")
        url = url.replace("{name}", "stock")
        response = client.request(method, url, json={})
        assert response.status_code == 401, (method, url, response.text)
