"""A worker process for the fulfil concurrency test: fulfil its share of the courses."""

from __future__ import annotations

from datetime import date
from typing import Any

AS_OF = date(2026, 11, 22)
BARRIER_TIMEOUT_S = 60.0

_barrier: Any = None


def init(barrier: Any) -> None:
    """Pool initializer: the barrier that releases every worker at once."""
    global _barrier
    _barrier = barrier


def fulfil_share(url: str, actor: str, course_ids: list[int]) -> dict[str, list[Any]]:
    """``fulfil_course`` for each course in turn; returns what was served and refused."""
    from sqlalchemy import text

    from kitops.data.engine import open_database
    from kitops.errors import Refused
    from kitops.services.fulfilment import fulfil_course
    from kitops.services.unit_of_work import UnitOfWork

    db = open_database(url)
    served: list[tuple[int, int, str]] = []  # course, part, kit serial
    refused: list[tuple[int, str]] = []  # course, reason
    try:
        with db.read_sessions() as session:  # connect before the start
            session.execute(text("SELECT 1"))
        if _barrier is not None:
            _barrier.wait(BARRIER_TIMEOUT_S)
        for course_id in course_ids:
            try:
                report = fulfil_course(UnitOfWork(db, actor), course_id, today=AS_OF)
            except Refused as refusal:
                refused.append((course_id, str(refusal)))
            else:
                served += [(course_id, line.part, line.kit or "") for line in report.served]
    finally:
        db.dispose()
    return {"served": served, "refused": refused}
