"""`POST /stripe/webhook` in the app `kitops serve` runs: sizes judged by Content-Length
before reading (411, 413), signatures checked (400), events applied as the webhook's job
user (200), one JSON line per request and never a body or a secret in it. (The payment
semantics behind it: tests/integration/test_payments.py; load and hang-ups through
`kitops stripe listen`: tests/security/test_webhook_load.py.)"""

from __future__ import annotations

import io
import json
import time

from fastapi.testclient import TestClient
from payments_support import WEBHOOK_SECRET, event_body, signature

from kitops.web.app import create_app
from kitops.web.door import Door
from kitops.web.webhook import WebhookConfig

pytest_plugins = ["payments_support"]
URL = "/stripe/webhook"


def test_the_served_app_checks_size_and_signature_and_answers_each_event(db, gateway):
    log = io.StringIO()
    app = create_app(door=Door(db, lambda: gateway), webhook=WebhookConfig("stripe"), log=log)
    body = event_body("customer.created", {"id": "cus_x", "object": "customer"})
    with TestClient(app) as client:
        assert client.get(URL).status_code == 405
        unsized = client.post(URL, content=iter([body]), headers={"Stripe-Signature": "x"})
        assert unsized.status_code == 411
        huge = client.post(URL, content=b"{" + b" " * (256 * 1024) + b"}",
                           headers={"Stripe-Signature": signature(body)})  # fmt: skip
        assert huge.status_code == 413
        forged_header = {"Stripe-Signature": signature(body, secret="whsec_no")}
        forged = client.post(URL, content=body, headers=forged_header)
        assert forged.status_code == 400
        stale = client.post(URL, content=body, headers={
            "Stripe-Signature": signature(body, timestamp=int(time.time()) - 3600)})  # fmt: skip
        assert stale.status_code == 400
        done = client.post(URL, content=body, headers={"Stripe-Signature": signature(body)})
        assert done.status_code == 200, done.text
        assert done.json()["outcome"].startswith("ignored")
        again = client.post(URL, content=body, headers={"Stripe-Signature": signature(body)})
        assert again.json()["outcome"].startswith("duplicate")
        assert "/api/v1/stock" in client.get("/api/openapi.json").json()["paths"]
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [line["status"] for line in lines] == [411, 413, 400, 400, 200, 200]
    assert WEBHOOK_SECRET not in log.getvalue()
    assert "cus_x" not in log.getvalue()


def test_listen_mode_serves_the_webhook_alone(db, gateway):
    app = create_app(door=Door(db, lambda: gateway), webhook=WebhookConfig("stripe"),
                     webhook_only=True, log=io.StringIO())  # fmt: skip
    with TestClient(app) as client:
        assert client.get("/api/v1/stock").status_code == 404
        body = event_body("customer.created", {"id": "cus_y", "object": "customer"})
        answer = client.post(URL, content=body, headers={"Stripe-Signature": signature(body)})
        assert answer.status_code == 200


def test_a_webhook_user_that_may_not_apply_payments_is_a_500_stripe_retries(db, gateway):
    log = io.StringIO()
    app = create_app(door=Door(db, lambda: gateway), webhook=WebhookConfig("nobody"), log=log)
    body = event_body("payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"})
    with TestClient(app) as client:
        answer = client.post(URL, content=body, headers={"Stripe-Signature": signature(body)})
    assert answer.status_code == 500
    assert "'nobody' is not a kitops user" in answer.json()["error"]
    assert json.loads(log.getvalue())["status"] == 500


def test_a_client_that_stalls_before_its_body_is_answered_408_and_let_go(listener, monkeypatch):
    import socket
    from urllib.parse import urlsplit

    monkeypatch.setattr("kitops.web.webhook.BODY_SECONDS", 0.2)
    where = urlsplit(listener.url)
    head = (
        f"POST {where.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Stripe-Signature: t=1,v1=00\r\nContent-Length: 100\r\n\r\n"
    ).encode()
    with socket.create_connection((where.hostname, where.port), timeout=20) as sock:
        sock.sendall(head + b"{")  # and nothing more
        answer = sock.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 408"), answer
