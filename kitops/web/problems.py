"""Errors as RFC 9457 problem details (``application/problem+json``).

Every failure of a request leaves here, in one place, as ``type``/``title``/``status``/
``detail``/``instance``; ``detail`` is the same one line the command line prints. Bad input
is 422 naming the field and the value; a refusal 409; a role that may not 403 (the service
has written the refusal's audit row); no proof of a user 401 with ``WWW-Authenticate:
Bearer``; a busy or unreachable database 503. Anything else is a 500 with a generic line:
the traceback goes to the server's log, never to the caller.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from kitops.errors import (
    DatabaseNotReady,
    DatabaseUnavailable,
    InvalidInput,
    KitopsError,
    NotAllowed,
)
from kitops.secrets import mask
from kitops.services.tokens import Unauthenticated

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://kitops.invalid/problems/"
log = logging.getLogger("kitops.web")

TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Refused",
    411: "Length required",
    413: "Content too large",
    422: "Invalid input",
    500: "Internal error",
    503: "Database unavailable",
}
SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "not-allowed",
    404: "not-found",
    405: "method-not-allowed",
    409: "refused",
    411: "length-required",
    413: "content-too-large",
    422: "invalid-input",
    500: "internal-error",
    503: "unavailable",
}


class NotFound(KitopsError):
    """The resource a URL names does not exist (404)."""

    exit_code = 2


def problem_body(
    status: int, detail: str, instance: str, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + SLUGS.get(status, str(status)),
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": mask(detail),
        "instance": instance,
    }
    body.update(extra or {})
    return body


def problem(
    status: int,
    detail: str,
    instance: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, detail, instance, extra), status_code=status, headers=headers,
        media_type=MEDIA_TYPE,
    )  # fmt: skip


def status_of(error: KitopsError) -> int:
    if isinstance(error, Unauthenticated):
        return 401
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, NotAllowed):
        return 403
    if isinstance(error, DatabaseUnavailable | DatabaseNotReady):
        return 503
    if isinstance(error, InvalidInput) or error.exit_code == 2:
        return 422
    return 409


def error_body(error: KitopsError, instance: str) -> dict[str, Any]:
    extra = {"field": error.field} if isinstance(error, InvalidInput) else None
    return problem_body(status_of(error), str(error), instance, extra)


def for_error(error: KitopsError, instance: str) -> JSONResponse:
    status = status_of(error)
    headers = {"WWW-Authenticate": 'Bearer realm="kitops"'} if status == 401 else None
    return JSONResponse(
        error_body(error, instance), status_code=status, headers=headers, media_type=MEDIA_TYPE
    )


def _validation_line(error: RequestValidationError) -> tuple[str, str]:
    """The first thing wrong with a request, as the command line would put it:
    ``FIELD VALUE: reason``."""
    first = error.errors()[0] if error.errors() else {}
    where = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(where) or "body"
    value = first.get("input")
    shown = (
        "(missing)"
        if value is None or value == "" or first.get("type") == "missing"
        else (repr(value) if not isinstance(value, dict | list) else "(given)")
    )
    reason = str(first.get("msg", "is not valid")).lower()
    return field, f"{field} {shown}: {reason}"


def install(app: FastAPI) -> None:
    """Route every error of ``app`` through problem details."""

    @app.exception_handler(KitopsError)
    async def _kitops(request: Request, error: KitopsError) -> JSONResponse:
        return for_error(error, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        field, line = _validation_line(error)
        return problem(422, line, request.url.path, extra={"field": field})

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else TITLES.get(error.status_code)
        return problem(
            error.status_code, str(detail or "error"), request.url.path,
            headers=dict(error.headers or {}),
        )  # fmt: skip

    @app.exception_handler(Exception)
    async def _crash(request: Request, error: Exception) -> JSONResponse:
        # one masked line, no traceback: a traceback's locals could carry what the log must not
        log.error(
            "internal error on %s %s: %s: %s", request.method, request.url.path,
            type(error).__name__, mask(str(error))[:300],
        )  # fmt: skip
        return problem(
            500, "internal error; nothing more is said here, the server's log has the details",
            request.url.path,
        )  # fmt: skip
