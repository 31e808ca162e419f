"""The audit log: one row per change, with the acting user."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kitops.data.schema import AuditRow, utcnow


class Audit:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        *,
        actor: str,
        action: str,
        entity: str,
        entity_key: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> AuditRow:
        row = AuditRow(
            actor=actor,
            action=action,
            entity=entity,
            entity_key=entity_key,
            before=before,
            after=after,
            at=utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        return row
