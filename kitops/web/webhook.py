"""``POST /stripe/webhook``: Stripe's events, in the same app as the pages and the API
(and alone in it for ``kitops stripe listen``).

The body's size is judged by its ``Content-Length`` before a byte of it is read (411
without one, 413 over ``max_body``); then ``kitops.services.webhooks`` verifies the
signature and applies the event as the webhook's job user. One JSON line per request on
standard error, as Stripe's deliveries are worth a log of their own.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from dataclasses import dataclass
from typing import Any, TextIO

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from kitops.errors import KitopsError
from kitops.services import webhooks
from kitops.services.unit_of_work import UnitOfWork
from kitops.web.door import Door

BODY_SECONDS = 15  # a client has this long to send its body once its headers are in


@dataclass(frozen=True)
class WebhookConfig:
    user: str  # the job user that applies payment events
    path: str = webhooks.DEFAULT_PATH
    max_body: int = webhooks.DEFAULT_MAX_BODY


class _Log:
    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def note(self, **fields: Any) -> None:
        with self.lock:
            print(json.dumps(fields, sort_keys=True), file=self.stream or sys.stderr, flush=True)


def install_webhook(
    app: FastAPI, door: Door, config: WebhookConfig, *, log: TextIO | None = None
) -> None:
    notes = _Log(log)
    app.state.webhook = config

    def answer(status: int, payload: dict[str, Any]) -> JSONResponse:
        return JSONResponse(payload, status_code=status, headers={"Connection": "close"})

    @app.post(config.path, include_in_schema=False)
    async def stripe_webhook(request: Request) -> JSONResponse:
        length_text = request.headers.get("content-length", "")
        if not length_text.strip().isdigit():
            notes.note(status=411, error="Content-Length required")
            return answer(411, {"error": "Content-Length required"})
        length = int(length_text)
        if length > config.max_body:
            notes.note(status=413, length=length)
            return answer(413, {"error": f"body over {config.max_body} bytes"})
        try:
            body = await asyncio.wait_for(request.body(), timeout=BODY_SECONDS)
        except ClientDisconnect:
            notes.note(status=499, error="client went away before sending its whole body")
            return answer(499, {"error": "client went away"})
        except TimeoutError:  # a stalled client does not hold a connection for ever
            notes.note(status=408, error=f"body not sent within {BODY_SECONDS} s")
            return answer(408, {"error": "request body timed out"})
        if len(body) != length:
            notes.note(status=400, error=f"body of {len(body)} bytes, not {length}")
            return answer(400, {"error": "body does not match Content-Length"})
        signature = request.headers.get("stripe-signature")

        def work() -> webhooks.WebhookAnswer:
            def uow() -> UnitOfWork:
                return UnitOfWork(door.db, config.user, bootstrap=False)

            return webhooks.receive(uow, door.gateway(), body, signature)

        try:
            result = await run_in_threadpool(work)
        except Exception as error:  # the gateway could not be built: one line, a 500
            message = str(error) if isinstance(error, KitopsError) else type(error).__name__
            notes.note(status=500, error=f"internal error ({message})")
            return answer(500, {"error": "internal error"})
        notes.note(**result.note)
        return answer(result.status, result.body)

    @app.get(config.path, include_in_schema=False)
    def stripe_webhook_get() -> JSONResponse:
        return answer(405, {"error": "POST Stripe events here"})
