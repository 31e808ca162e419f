"""Helpers of the API tests: tokens for users, and the audit rows a request left."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kitops.data.engine import Database
from kitops.data.schema import AuditRow
from kitops.services import tokens
from kitops.services.unit_of_work import UnitOfWork

API = "/api/v1"
PROBLEM = "application/problem+json"


def bearer(db: Database, user: str, name: str | None = None, **options: Any) -> dict[str, str]:
    """The Authorization header of a new token of ``user`` (made by the admin tester)."""
    made = tokens.create_token(UnitOfWork(db, "tester"), name or f"{user}-app", user, **options)
    return {"Authorization": f"Bearer {made.secret}"}


def audit_rows(db: Database, **where: str) -> list[AuditRow]:
    with db.read_sessions() as session:
        stmt = select(AuditRow).order_by(AuditRow.id)
        for column, value in where.items():
            stmt = stmt.where(getattr(AuditRow, column) == value)
        return list(session.scalars(stmt))


def assert_problem(response: Any, status: int, *words: str) -> dict[str, Any]:
    """A problem-details answer with ``status`` whose detail holds ``words``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= body.keys()
    assert "Traceback" not in response.text
    for word in words:
        assert word in body["detail"], body
    return body
