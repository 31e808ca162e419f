"""A real Stripe-compatible server for the payment tests, and events the tests sign.

``localstripe`` (a fake but stateful Stripe server, test-only dependency) runs in a child
process bound to 127.0.0.1 on a free port, in memory (its pickle file is never written
or read), and is stopped when the test session ends. kitops reaches it only through its
own configuration: ``KITOPS_STRIPE_API_BASE`` points the adapter at it.

localstripe has no Checkout Sessions. The child process adds a small stand-in for them
to localstripe's own web app (create, retrieve, expire, and a ``/_config`` route that
plays the patient paying on the hosted page: it creates and confirms a real localstripe
PaymentIntent carrying the session's ``payment_intent_data.metadata``), so the
Checkout path and the handler's re-fetch of a session run against a server too.
Everything localstripe does not send (Checkout and refund events, duplicates, events
out of order) the tests sign themselves with the webhook secret (``signed``).

Run as a script (``python payments_support.py``) it is the child: it prints the port it
listens on, then serves until it is terminated.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

API_KEY = "sk_test_kitops_localstripe"
WEBHOOK_SECRET = "whsec_kitops_test_secret"


# --- the child process ------------------------------------------------------------------


def serve() -> None:  # pragma: no cover - runs in the child process
    import asyncio

    from aiohttp import web
    from localstripe import resources, server

    # in memory: no pickle file in the temporary directory, nothing loaded from one
    resources.store.dump_to_disk = lambda: None  # type: ignore[method-assign]
    resources.store.try_load_from_disk = lambda: None  # type: ignore[method-assign]

    sessions: dict[str, dict[str, Any]] = {}

    def session_or_404(request: web.Request) -> dict[str, Any]:
        found = sessions.get(request.match_info["id"])
        if found is None:
            raise server.UserError(404, "No such checkout.session")
        return found

    async def create_session(request: web.Request) -> web.Response:
        data = await server.get_post_data(request) or {}
        if data.get("mode") != "payment" or not data.get("line_items"):
            raise server.UserError(400, "mode=payment and line_items are required")
        total, currency = 0, None
        for item in data["line_items"]:
            price = item["price_data"]
            currency = price["currency"]
            total += int(price["unit_amount"]) * int(item.get("quantity", 1))
        session_id = "cs_test_" + resources.random_id(24)
        sessions[session_id] = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": total,
            "currency": currency,
            "payment_intent": None,
            "metadata": data.get("metadata") or {},
            "client_reference_id": data.get("client_reference_id"),
            "success_url": data.get("success_url"),
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "created": int(time.time()),
            "expires_at": int(data.get("expires_at") or time.time() + 86400),
            "_pi_metadata": (data.get("payment_intent_data") or {}).get("metadata") or {},
        }
        return server.json_response(_public(sessions[session_id]))

    async def get_session(request: web.Request) -> web.Response:
        return server.json_response(_public(session_or_404(request)))

    async def expire_session(request: web.Request) -> web.Response:
        found = session_or_404(request)
        if found["status"] != "open":
            raise server.UserError(400, "Only an open session can be expired")
        found["status"] = "expired"
        return server.json_response(_public(found))

    async def pay_session(request: web.Request) -> web.Response:
        """The patient pays on the hosted page (test control, not a Stripe API)."""
        found = session_or_404(request)
        data = await server.get_post_data(request) or {}
        if found["status"] != "open":
            raise server.UserError(400, "Only an open session can be paid")
        intent = resources.PaymentIntent(
            amount=found["amount_total"], currency=found["currency"],
            payment_method=data.get("payment_method", "pm_card_visa"),
            metadata=dict(found["_pi_metadata"]), payment_method_types=["card"],
        )  # fmt: skip
        intent._confirm(on_failure_now=lambda: None)
        found["payment_intent"] = intent.id
        if intent.status == "succeeded":
            found["status"] = "complete"
            found["payment_status"] = "paid"
        return server.json_response(_public(found))

    def _public(found: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in found.items() if not k.startswith("_")}

    app = server.app
    app.router.add_post("/v1/checkout/sessions", create_session)
    app.router.add_get("/v1/checkout/sessions/{id}", get_session)
    app.router.add_post("/v1/checkout/sessions/{id}/expire", expire_session)
    app.router.add_post("/_config/checkout_sessions/{id}/pay", pay_session)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    asyncio.set_event_loop(asyncio.new_event_loop())
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def localstripe() -> Iterator[str]:
    """The base URL of a localstripe started for this test session."""
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    if not line.isdigit():
        child.kill()
        _, err = child.communicate(timeout=10)
        pytest.fail(f"localstripe did not start: {line} {err}")
    url = f"http://127.0.0.1:{int(line)}"
    _wait_for(url)
    yield url
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _wait_for(url: str) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{url}/v1/customers", timeout=2)
        except urllib.error.HTTPError:
            return  # 401 without a key: it answers
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture
def stripe_env(localstripe: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """kitops configured for localstripe through its environment, as an operator would."""
    monkeypatch.setenv("KITOPS_STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("KITOPS_STRIPE_API_BASE", localstripe)
    monkeypatch.setenv("KITOPS_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("KITOPS_STRIPE_MAX_RETRIES", "0")
    return localstripe


@pytest.fixture
def gateway(stripe_env: str) -> Any:
    """kitops' own Stripe adapter, configured from the environment."""
    from kitops.payments.stripe_gateway import StripeGateway

    return StripeGateway.from_env(need_webhook_secret=True)


@pytest.fixture
def listener(db: Any, gateway: Any) -> Iterator[Any]:
    """The webhook endpoint of ``kitops serve`` and ``kitops stripe listen`` (the web app
    alone with its webhook, on uvicorn, as the command runs it) on a free port of
    127.0.0.1, serving this test's database from a thread as the job user "stripe"."""
    import io
    import socket
    import threading
    from types import SimpleNamespace

    import uvicorn

    from kitops.cli.web import QUIET_LOGS
    from kitops.services.webhooks import DEFAULT_MAX_BODY, DEFAULT_PATH
    from kitops.web.app import create_app
    from kitops.web.door import Door
    from kitops.web.webhook import WebhookConfig

    app = create_app(
        door=Door(db, lambda: gateway), webhook=WebhookConfig("stripe"), webhook_only=True,
        log=io.StringIO(),
    )  # fmt: skip
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # bound and listening now: requests queue until uvicorn accepts them
    port = sock.getsockname()[1]
    # uvicorn applies QUIET_LOGS to the whole process (as `kitops stripe listen` does to its
    # own): what these loggers were is put back after, so a later test hears them
    quieted = [logging.getLogger(name) for name in QUIET_LOGS["loggers"]]
    were = [(one.level, one.propagate, list(one.handlers)) for one in quieted]
    server = uvicorn.Server(uvicorn.Config(app, log_config=QUIET_LOGS, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}{DEFAULT_PATH}", max_body=DEFAULT_MAX_BODY)
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()
    for one, (level, propagate, handlers) in zip(quieted, were, strict=True):
        one.setLevel(level)
        one.propagate, one.handlers = propagate, handlers


WEBHOOK_ID = "kitops-tests"


@pytest.fixture
def localstripe_webhook(localstripe: str) -> Iterator[Any]:
    """``point(url)``: localstripe delivers its signed events to ``url`` during this test
    (one registration, replaced by each test and muted afterwards)."""

    def point(url: str) -> None:
        stripe_call(localstripe, "POST", f"/_config/webhooks/{WEBHOOK_ID}",
                    {"url": url, "secret": WEBHOOK_SECRET})  # fmt: skip

    yield point
    stripe_call(localstripe, "POST", f"/_config/webhooks/{WEBHOOK_ID}",
                {"url": "http://127.0.0.1:9/", "secret": WEBHOOK_SECRET,
                 "events[]": "kitops.none"})  # fmt: skip


def stripe_call(
    base: str, method: str, path: str, form: dict[str, str] | list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """What a patient's browser, a card terminal or the Stripe dashboard would do, straight
    over HTTP to localstripe (the tests never use kitops' adapter for this)."""
    import urllib.parse
    import urllib.request

    body = urllib.parse.urlencode(form or {}).encode() if method == "POST" else None
    request = urllib.request.Request(
        f"{base}{path}", data=body, method=method,
        headers={"Authorization": f"Bearer {API_KEY}"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return json.loads(text) if text.strip() else {}


# --- events the tests sign themselves ---------------------------------------------------


def event_body(
    event_type: str, obj: dict[str, Any], *, event_id: str | None = None,
    created: int | None = None,
) -> bytes:  # fmt: skip
    event = {
        "id": event_id or f"evt_test_{uuid.uuid4().hex[:20]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": created or int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


def signature(body: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header: t=<ts>,v1=<HMAC-SHA256 of "<ts>.<body>">."""
    import hashlib
    import hmac

    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def post_webhook(url: str, body: bytes, header: str | None) -> tuple[int, str]:
    """POST an event to ``kitops stripe listen``; returns (HTTP status, body)."""
    import urllib.error
    import urllib.request

    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":  # pragma: no cover
    serve()


def start_listener(db_url: str) -> tuple[subprocess.Popen[str], int]:
    """``kitops stripe listen`` as a child process on a free port of 127.0.0.1, once it
    says it listens: (the process, its port). The listener runs as the job user bound to
    its login (it proves who it is once, at start); the test's own commands act as tester
    again from then on."""
    from identity_support import bind_identity_url

    port = free_port()
    bind_identity_url(db_url, "webhook")
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", "from kitops.cli import main; main()", "--db", db_url,
             "--user", "webhook", "stripe", "listen", "--port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
        )  # fmt: skip
        assert child.stdout is not None
        line = child.stdout.readline()
    finally:
        bind_identity_url(db_url, "tester")
    assert "listening for Stripe events on http://127.0.0.1:" in line, (
        child.stderr.read() if child.stderr else ""
    )
    return child, port
