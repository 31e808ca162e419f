"""One log line per web request (logger ``kitops.web.request_log``, INFO): the method, the
route's path template (``/api/v1/lots/{code}``, never the path as sent nor its query
string, which may hold a patient reference), the status and the duration in
milliseconds. Each request runs in its own log scope (``kitops.logs.scoped``): every line
logged while it is served carries its request id, taken from a sane ``X-Request-ID``
header or made here, and sent back in the response's ``X-Request-ID`` header; the user
the request acts as joins the lines once identified.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from kitops import logs

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

HEADER = b"x-request-id"
UNMATCHED = "(no route)"


def path_template(scope: Scope) -> str:
    """The template of the route that served the request, under the prefix of the app it
    is mounted in (``/api/v1/lots/{code}``); a static file as ``/static/{path}``; else
    ``(no route)``."""
    root = str(scope.get("root_path", ""))
    prefix = root.removeprefix(str(scope.get("app_root_path", ""))) if root else ""
    # recent FastAPI keeps an included router's routes as written (``/stock``) and notes
    # the route as served, with the router's prefix, beside them
    served: Any = (scope.get("fastapi") or {}).get("effective_route_context")
    full = getattr(served, "path_format", None)
    if isinstance(full, str) and full:
        return f"{prefix}{full}"
    route: Any = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str) and template:
        return f"{prefix}{template}"
    return f"{prefix}/{{path}}" if prefix else UNMATCHED


class RequestLog:
    """The ASGI middleware: a scope per request, the ``X-Request-ID`` answer header and
    the request's line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or ()).get(HEADER)
        given = sent.decode("latin-1") if sent is not None else None
        request_id = logs.sane_id(given) or logs.new_id()
        status = 500  # unless the app answers
        clock = time.perf_counter()

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                headers.append((HEADER, request_id.encode("ascii")))
                message = {**message, "headers": headers}
            await send(message)

        with logs.scoped(request_id=request_id):
            try:
                await self.app(scope, receive, answer)
            finally:
                ms = round((time.perf_counter() - clock) * 1000)
                fields = {"method": scope.get("method", ""), "path": path_template(scope),
                          "status": status, "ms": ms}  # fmt: skip
                level = logging.ERROR if status >= 500 else logging.INFO
                log.log(level, "%s %s %s", fields["method"], fields["path"], status,
                        extra=fields)  # fmt: skip
