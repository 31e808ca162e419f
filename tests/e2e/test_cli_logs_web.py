"""The web server's logs (README: Logs): one line per request with its method, route
template, status and time, the request id (a sane X-Request-ID, else a new one, sent
back either way) and the acting user; the Stripe webhook's receipt and outcome; never a
query string, a token, a webhook secret, a payload or a patient reference."""

from __future__ import annotations

import io
import json
import re

import pytest
from fastapi.testclient import TestClient
from payments_support import API_KEY, WEBHOOK_SECRET, event_body, signature

from kitops import logs
from kitops.services import tokens
from kitops.services.unit_of_work import UnitOfWork
from kitops.web.app import create_app
from kitops.web.door import Door
from kitops.web.webhook import WebhookConfig

pytest_plugins = ["payments_support"]


@pytest.fixture
def lines(monkeypatch):
    monkeypatch.setenv("KITOPS_LOG_FORMAT", "json")
    monkeypatch.setenv("KITOPS_LOG_LEVEL", "DEBUG")
    buffer = io.StringIO()
    logs.configure("INFO", stream=buffer)
    yield buffer
    logs.unconfigure()


def _parsed(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_request_line_has_its_id_route_status_and_user_and_no_query(db, lines):
    token = tokens.create_token(UnitOfWork(db, "tester"), "shelf-app", "tester").secret
    with TestClient(create_app(door=Door(db))) as client:
        given = client.get("/api/v1/stock", params={"patient": "P-LON-0001"},
                           headers={"Authorization": f"Bearer {token}",
                                    "X-Request-ID": "till-7.42"})  # fmt: skip
        made = client.get("/api/v1/lots/P-LON-0002", headers={"X-Request-ID": "not sane!"})
    assert given.status_code == 200, given.text
    assert given.headers["X-Request-ID"] == "till-7.42"
    assert re.fullmatch(r"[0-9a-f]{16}", made.headers["X-Request-ID"])

    requests = [line for line in _parsed(lines) if line["logger"] == "kitops.web.request_log"]
    first, second = requests
    assert (first["method"], first["path"], first["status"]) == ("GET", "/api/v1/stock", 200)
    assert (first["request_id"], first["actor"]) == ("till-7.42", "tester (token shelf-app)")
    assert isinstance(first["ms"], int)
    assert second["request_id"] == made.headers["X-Request-ID"]
    assert (second["path"], second["status"]) == ("/api/v1/lots/{code}", made.status_code)
    assert "P-LON-" not in lines.getvalue()
    assert token not in lines.getvalue()


def test_the_stripe_webhook_logs_the_event_and_its_outcome_never_its_secret(db, gateway,
                                                                           lines):  # fmt: skip
    app = create_app(door=Door(db, lambda: gateway), webhook=WebhookConfig("stripe"),
                     log=io.StringIO())  # fmt: skip
    body = event_body("customer.created", {"id": "cus_logs", "object": "customer",
                                           "metadata": {"patient": "P-VIE-0003"}})  # fmt: skip
    with TestClient(app) as client:
        wrong = {"Stripe-Signature": signature(body, secret="whsec_no")}
        forged = client.post("/stripe/webhook", content=body, headers=wrong)
        done = client.post("/stripe/webhook", content=body,
                           headers={"Stripe-Signature": signature(body)})  # fmt: skip
    assert (forged.status_code, done.status_code) == (400, 200)

    parsed = _parsed(lines)
    stripe = [line for line in parsed if line["logger"] == "kitops.services.webhooks"]
    assert [(line["level"], line.get("status")) for line in stripe] == [
        ("WARNING", 400),
        ("INFO", None),
        ("INFO", 200),
    ]
    event_id = json.loads(body)["id"]
    assert (stripe[2]["event"], stripe[2]["type"], stripe[2]["outcome"]) == (
        event_id,
        "customer.created",
        "ignored",
    )
    requests = [line for line in parsed if line["logger"] == "kitops.web.request_log"]
    assert [(line["path"], line["status"]) for line in requests] == [
        ("/stripe/webhook", 400),
        ("/stripe/webhook", 200),
    ]
    assert stripe[2]["request_id"] == requests[1]["request_id"]
    text = lines.getvalue()
    for never in (WEBHOOK_SECRET, API_KEY, "cus_logs", "P-VIE-0003"):
        assert never not in text, never


def test_logins_and_a_lockout_are_logged_by_name_never_a_pin(db, lines, monkeypatch):
    from argon2 import PasswordHasher

    from kitops.errors import Refused
    from kitops.services import users

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                          parallelism=1))  # fmt: skip
    monkeypatch.setattr(users._DUMMY, "value", None)
    users.add_user(UnitOfWork(db, "tester"), "maria", "manager", "8642")

    def log_in(name: str, pin: str) -> None:
        users.authenticate(UnitOfWork(db, "web", identify=False), name, pin)

    log_in("maria", "8642")
    with pytest.raises(Refused):
        log_in("9753", "8642")  # a PIN typed into the name field
    for _ in range(5):
        with pytest.raises(Refused):
            log_in("maria", "1111")

    said = [(line["level"], line["message"]) for line in _parsed(lines)
            if line["logger"] == "kitops.services.users"]  # fmt: skip
    assert said == [
        ("INFO", "user.login: maria"),
        ("INFO", "user.login_failed: (unknown user)"),
        *[("INFO", "user.login_failed: maria")] * 4,
        ("INFO", "user.locked: maria"),
    ]
    for never in ("8642", "9753", "1111"):
        assert never not in lines.getvalue()
