"""``kitops stripe listen``: a small HTTP endpoint for Stripe webhooks (standard library).

It accepts ``POST <path>`` only, refuses a body over ``max_body`` bytes with 413 before
reading it, a missing, forged or stale ``Stripe-Signature`` with 400, and hands each
verified event to one handler. The answer tells Stripe whether to retry: 200 when the
event was applied, was a duplicate or does not concern kitops; 503 when the database was
busy (Stripe retries for up to three days); 500 otherwise. Each request is served in a
thread of its own, and the handler opens its own transaction.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from kitops.errors import KitopsError
from kitops.payments.gateway import BadSignature, PaymentEvent

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
DEFAULT_PATH = "/stripe/webhook"
DEFAULT_MAX_BODY = 256 * 1024  # Stripe's event payloads are a few kilobytes

Verify = Callable[[bytes, str | None], PaymentEvent]
Handle = Callable[[PaymentEvent], str]


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True
    # connections waiting to be accepted: Stripe delivers a burst of events at once after
    # an outage (socketserver's default of 5 resets the sixth caller)
    request_queue_size = 128

    def __init__(
        self, host: str, port: int, *, verify: Verify, handle: Handle, path: str = DEFAULT_PATH,
        max_body: int = DEFAULT_MAX_BODY, log: TextIO | None = None,
        retryable: tuple[type[BaseException], ...] = (),
    ) -> None:  # fmt: skip
        self.verify = verify
        self.handle = handle
        self.path = path
        self.max_body = max_body
        self.log = log if log is not None else sys.stderr
        self.retryable = retryable
        self._log_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def note(self, **fields: Any) -> None:
        with self._log_lock:
            print(json.dumps(fields, sort_keys=True), file=self.log, flush=True)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A request that failed outside the handler's own answers (the client hung up
        while we read or wrote): one JSON line, as for every request, never a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            self.note(status=499, error=f"client went away ({type(error).__name__})")
        else:
            self.note(status=500, error=f"internal error ({type(error).__name__})")


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer
    protocol_version = "HTTP/1.1"
    server_version = "kitops-webhook"
    sys_version = ""
    timeout = 15  # seconds a client may take to send its request: a stalled one is dropped

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one structured line per request instead (``note``)

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.close_connection = True
        try:
            self.end_headers()
            self.wfile.write(body)
        except (ConnectionError, TimeoutError) as error:  # the client hung up: Stripe retries
            self.server.note(status=499, error=f"answer {status} not delivered, the client "
                             f"went away ({type(error).__name__})")  # fmt: skip

    def do_GET(self) -> None:
        self._answer(405, {"error": "POST Stripe events here"})

    def do_POST(self) -> None:
        server = self.server
        if self.path.split("?", 1)[0] != server.path:
            self._answer(404, {"error": f"events go to {server.path}"})
            return
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.strip().isdigit():
            self._answer(411, {"error": "Content-Length required"})
            return
        length = int(length_text)
        if length > server.max_body:
            server.note(status=413, length=length)
            self._answer(413, {"error": f"body over {server.max_body} bytes"})
            return
        body = self.rfile.read(length)
        if len(body) < length:  # the client hung up before sending its whole body
            server.note(status=499, error=f"client went away after {len(body)} of {length} bytes")
            self.close_connection = True
            return
        try:
            event = server.verify(body, self.headers.get("Stripe-Signature"))
        except BadSignature as error:
            server.note(status=400, error=str(error))
            self._answer(400, {"error": str(error)})
            return
        try:
            outcome = server.handle(event)
        except server.retryable as error:
            server.note(status=503, event=event.event_id, type=event.type, error=str(error))
            self._answer(503, {"error": str(error)})
            return
        except KitopsError as error:
            server.note(status=500, event=event.event_id, type=event.type, error=str(error))
            self._answer(500, {"error": str(error)})
            return
        except Exception as error:  # one line, never a traceback to the caller
            message = f"internal error ({type(error).__name__})"
            server.note(status=500, event=event.event_id, type=event.type, error=message)
            self._answer(500, {"error": message})
            return
        server.note(status=200, event=event.event_id, type=event.type, outcome=outcome)
        self._answer(200, {"received": True, "outcome": outcome})
