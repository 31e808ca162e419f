"""Idempotency keys: a retried request gets the first one's answer, and nothing is done
twice (the web API's ``Idempotency-Key`` header on POST).

The key is claimed first, in a transaction of its own (actor, key, the hash of the
request), then the use case runs, then its answer is kept beside the key. A retry with
the same key and the same request reads that answer back; with another request it is
refused (422); while the first is still running, 409. A request that failed for the
server's reasons (the database busy) gives its key back, so a retry runs it again.

A server that stops between doing the request and keeping its answer leaves the key
held with no answer: after ``UNANSWERED_AFTER`` a retry is told so (409), and that the
audit log says whether the first request was done; it is never run a second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta

from sqlalchemy import delete, select

from kitops.data.schema import IdempotencyKeyRow, utcnow
from kitops.errors import Conflict, InvalidInput
from kitops.i18n import _, formats
from kitops.services.unit_of_work import UnitOfWork

KEY_MAX = 200
UNANSWERED_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    """``new``: this request holds the key and runs; ``replay``: the kept answer (status
    and body) of the first request; refusals leave as errors."""

    new: bool
    status: int | None = None
    body: str | None = None


def parse_key(value: str) -> str:
    key = value.strip()
    if not 1 <= len(key) <= KEY_MAX or any(ord(c) < 33 or ord(c) == 127 for c in key):
        raise InvalidInput(
            "Idempotency-Key",
            value,
            _("must be 1-{limit} visible characters without spaces").format(limit=KEY_MAX),
        )
    return key


def claim(uow: UnitOfWork, key: str, request_hash: str) -> Claim:
    """Hold ``key`` for this request (acting as ``uow``'s user and token), or answer
    with what the first request with that key answered."""
    actor = uow.audit_name
    try:
        with uow:
            found = _find(uow, actor, key)
            if found is None:
                uow.session.add(
                    IdempotencyKeyRow(actor=actor, key=key, request_hash=request_hash,
                                      created_at=utcnow())
                )  # fmt: skip
                uow.commit()
                return Claim(new=True)
            return _answer(found, request_hash)
    except Conflict:
        pass  # another request inserted the same key at the same moment: read its row
    with uow:
        found = _find(uow, actor, key)
        if found is None:  # it failed and gave the key back: the retry may run
            raise Conflict(
                _("the request with Idempotency-Key {key} is still running; retry").format(key=key)
            )
        return _answer(found, request_hash)


def _find(uow: UnitOfWork, actor: str, key: str) -> IdempotencyKeyRow | None:
    return uow.session.scalars(
        select(IdempotencyKeyRow).where(
            IdempotencyKeyRow.actor == actor, IdempotencyKeyRow.key == key
        )
    ).first()


def _answer(row: IdempotencyKeyRow, request_hash: str) -> Claim:
    if row.request_hash != request_hash:
        raise InvalidInput(
            "Idempotency-Key", row.key, _("was used for another request; use a new key for it")
        )
    if row.status_code is None:
        started = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        if utcnow() - started > UNANSWERED_AFTER:
            raise Conflict(
                _(
                    "the request with Idempotency-Key {key} (started "
                    "{started} UTC) never recorded its answer; "
                    "the audit log says whether it was done: check it before "
                    "sending the request with a new key"
                ).format(key=row.key, started=formats.datetime(started))
            )
        raise Conflict(
            _("the request with Idempotency-Key {key} is still running; retry").format(key=row.key)
        )
    return Claim(new=False, status=row.status_code, body=row.body)


def keep_answer(uow: UnitOfWork, key: str, status: int, body: str) -> None:
    """The answer of the request that holds ``key``, for its retries."""
    with uow:
        row = _find(uow, uow.audit_name, key)
        if row is not None:
            row.status_code = status
            row.body = body
        uow.commit()


def give_back(uow: UnitOfWork, key: str) -> None:
    """The request holding ``key`` failed for the server's reasons: a retry runs again."""
    with uow:
        uow.session.execute(
            delete(IdempotencyKeyRow).where(
                IdempotencyKeyRow.actor == uow.audit_name,
                IdempotencyKeyRow.key == key,
                IdempotencyKeyRow.status_code.is_(None),
            )
        )
        uow.commit()
