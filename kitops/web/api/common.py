"""What every API route shares: who is calling (a bearer token), answers as JSON in the
DTOs' ``--json`` shape, cursor pages, idempotent POSTs, and 404 for a name in the URL that
names nothing."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from kitops.errors import InvalidInput, KitopsError
from kitops.services import idempotency, tokens
from kitops.services.dto import as_json
from kitops.services.unit_of_work import UnitOfWork
from kitops.web.door import Caller, Door
from kitops.web.problems import MEDIA_TYPE, NotFound, error_body, status_of

LIMIT_DEFAULT = 50
LIMIT_MAX = 200
T = TypeVar("T")

bearer = HTTPBearer(
    auto_error=False,
    description="An API token (`kitops token create NAME --user USER`).",
)


def door_of(request: Request) -> Door:
    door: Door = request.app.state.door
    return door


def caller(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
) -> Caller:
    """The user the request's ``Authorization: Bearer`` token acts as, or 401."""
    door = door_of(request)
    presented = credentials.credentials if credentials is not None else None
    if presented is None and request.headers.get("Authorization"):
        raise tokens.Unauthenticated("the Authorization header must be: Bearer TOKEN")
    checker = UnitOfWork(door.db, "api", readonly=True, identify=False, bootstrap=False)
    holder = tokens.verify_token(checker, presented)
    return Caller(holder.user, holder.role, holder.token, holder.read_only)


def answer(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(as_json(value), status_code=status)


@contextmanager
def found(*fields: str) -> Iterator[None]:
    """Inside, bad input naming the URL's own key (``lot``, ``course``...) is a 404."""
    try:
        yield
    except InvalidInput as error:
        if error.field in fields:
            raise NotFound(str(error)) from None
        raise


# --- cursor pages ----------------------------------------------------------------------


class Page(BaseModel, Generic[T]):
    """One page of a list: ``next`` is the link to the following page, null on the last."""

    items: list[T]
    total: int
    next: str | None


def read_cursor(cursor: str | None) -> int:
    """The position an opaque cursor (from a ``next`` link) stands for."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        offset = int(number)
        if kind != "o" or offset < 0:
            raise ValueError(text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor", cursor, "is not a cursor from a next link") from None
    return offset


def make_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def check_limit(limit: int) -> int:
    if not 1 <= limit <= LIMIT_MAX:
        raise InvalidInput("limit", limit, f"must be 1-{LIMIT_MAX}")
    return limit


def page(request: Request, items: Sequence[Any], total: int, offset: int, limit: int) -> Response:
    """A page of ``items`` starting at ``offset`` of ``total``, with its ``next`` link."""
    after = offset + len(items)
    link = (
        str(request.url.include_query_params(cursor=make_cursor(after), limit=limit))
        if after < total and items
        else None
    )
    return JSONResponse({"items": as_json(list(items)), "total": total, "next": link})


# --- changes, once ---------------------------------------------------------------------


def _finding(
    action: Callable[[UnitOfWork], Any], keys: tuple[str, ...]
) -> Callable[[UnitOfWork], Any]:
    def run(uow: UnitOfWork) -> Any:
        with found(*keys):
            return action(uow)

    return run


async def body_digest(request: Request) -> str:
    """The hash of the request (method, path and query, body) an idempotency key is bound
    to."""
    body = await request.body()
    seen = f"{request.method} {request.url.path}?{request.url.query}\n".encode() + body
    return hashlib.sha256(seen).hexdigest()


def change(
    request: Request,
    caller: Caller,
    digest: str,
    action: Callable[[UnitOfWork], Any],
    *,
    status: int = 200,
    keys: tuple[str, ...] = (),
) -> Response:
    """Run a changing use case as ``caller`` (refused, and audited, for a read-only
    token). With an ``Idempotency-Key`` header the key is claimed first and the answer
    kept: a retry gets the same status and body with ``Idempotent-Replayed: true``.
    ``keys``: the fields that name the URL's resource (unknown: 404)."""
    door = door_of(request)
    action = _finding(action, keys)
    uow = door.writing(caller)
    given = request.headers.get("Idempotency-Key")
    if given is None:
        return answer(action(uow), status)
    key = idempotency.parse_key(given)
    claimed = idempotency.claim(door.writing(caller), key, digest)
    if not claimed.new:
        code = claimed.status or 200
        return Response(
            claimed.body or "null", status_code=code,
            media_type=MEDIA_TYPE if code >= 400 else "application/json",
            headers={"Idempotent-Replayed": "true"},
        )  # fmt: skip
    try:
        code, body, media = status, as_json(action(uow)), "application/json"
    except KitopsError as error:
        code = status_of(error)
        if code >= 500 or code == 401:
            idempotency.give_back(door.writing(caller), key)
            raise
        body, media = error_body(error, request.url.path), MEDIA_TYPE
    except BaseException:
        idempotency.give_back(door.writing(caller), key)
        raise
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    idempotency.keep_answer(door.writing(caller), key, code, text)
    return Response(text, status_code=code, media_type=media)
