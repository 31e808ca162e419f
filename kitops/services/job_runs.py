"""The record of job runs (``job_runs``, migration 0024): every ``kitops jobs run`` writes
one row after the job, in a transaction of its own, so a run that failed is recorded
even though its own work was rolled back. The alerts run reads it for jobs that failed
twice in a row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from kitops.data.schema import JobRunRow, utcnow
from kitops.services.unit_of_work import UnitOfWork

__all__ = ["FailedStreak", "JobRun", "failed_streaks", "recent", "record"]

RECENT = 20  # runs per job looked at for a streak


@dataclass(frozen=True)
class JobRun:
    id: int
    job: str
    started_at: datetime
    finished_at: datetime
    outcome: str  # ok | failed
    error: str | None
    actor: str


@dataclass(frozen=True)
class FailedStreak:
    job: str
    first_run: int  # the streak's first failed run: names the streak (one alert each)
    failures: int
    since: datetime  # when the streak's first failed run started
    error: str | None  # the latest failed run's error


def record(uow: UnitOfWork, job: str, started_at: datetime, error: str | None) -> None:
    """Write one run, finished now: ``error`` None for a run that did its work (or had
    none to do)."""
    with uow:
        uow.session.add(JobRunRow(
            job=job[:40], started_at=started_at, finished_at=utcnow(),
            outcome="ok" if error is None else "failed",
            error=None if error is None else error[:300], actor=uow.audit_name[:64]))  # fmt: skip
        uow.commit()


def _row(row: JobRunRow) -> JobRun:
    return JobRun(row.id, row.job, row.started_at, row.finished_at, row.outcome, row.error,
                  row.actor)  # fmt: skip


def recent(uow: UnitOfWork, job: str, limit: int = RECENT) -> list[JobRun]:
    """A job's latest runs, oldest first."""
    with uow:
        rows = uow.session.scalars(
            select(JobRunRow).where(JobRunRow.job == job).order_by(JobRunRow.id.desc())
            .limit(limit)
        ).all()  # fmt: skip
        return [_row(r) for r in reversed(rows)]


def failed_streaks(uow: UnitOfWork) -> list[FailedStreak]:
    """The jobs whose latest two runs (or more) failed: the failed runs after the job's
    last good one, however long the streak."""
    with uow:
        uow.require("alert.send")
        last_ok = (
            select(JobRunRow.job, func.max(JobRunRow.id).label("ok_id"))
            .where(JobRunRow.outcome == "ok").group_by(JobRunRow.job).subquery()
        )  # fmt: skip
        streaks = uow.session.execute(
            select(JobRunRow.job, func.min(JobRunRow.id), func.max(JobRunRow.id),
                   func.count())
            .outerjoin(last_ok, last_ok.c.job == JobRunRow.job)
            .where(JobRunRow.outcome == "failed",
                   (last_ok.c.ok_id.is_(None)) | (JobRunRow.id > last_ok.c.ok_id))
            .group_by(JobRunRow.job).having(func.count() >= 2).order_by(JobRunRow.job)
        ).all()  # fmt: skip
        found = []
        for job, first, latest, failures in streaks:
            start = uow.session.get_one(JobRunRow, first)
            end = uow.session.get_one(JobRunRow, latest)
            found.append(FailedStreak(job, first, failures, start.started_at, end.error))
        return found
