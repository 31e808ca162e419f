"""Job runs are recorded (ok or failed, who ran them, a short error), a failed run even
when the job's own work was rolled back; a job that failed twice in a row is mailed once
per streak to the subscribers of ``job`` alerts; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from smtp_support import smtp_server
from sqlalchemy import select

from kitops import alerting
from kitops.data.schema import AlertRow, AuditRow, JobRunRow
from kitops.jobs import run_job
from kitops.services import alerts, job_runs, users

pytestmark = pytest.mark.demo_data


@pytest.fixture
def maria(uow):
    users.add_user(uow(), "maria", "manager", None)
    alerts.set_email(uow(), "maria", "maria@clinic.example")
    alerts.subscribe(uow(), "maria", "job")
    return "maria"


def _runs(db):
    with db.read_sessions() as session:
        return [(r.job, r.outcome, r.error, r.actor)
                for r in session.scalars(select(JobRunRow).order_by(JobRunRow.id))]  # fmt: skip


def _mailer(monkeypatch, env):
    from kitops.bootstrap import mailer

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return mailer()


def _fail(uow, job="payment-sync", error="payment sync: stopped at evt_1"):
    job_runs.record(uow(), job, datetime.now(UTC), error)


def test_each_run_is_recorded_with_its_outcome_and_who_ran_it(db, uow, monkeypatch):
    for key in ("KITOPS_STRIPE_SECRET_KEY", "KITOPS_STRIPE_API_KEY", "KITOPS_SMTP_HOST"):
        monkeypatch.delenv(key, raising=False)
    record, _outcome, error = run_job(uow(), "webhooks")
    assert error is None, record.summary
    record, _outcome, error = run_job(uow(), "payment-sync")  # no Stripe settings
    assert error is not None
    [ok, failed] = _runs(db)
    assert ok == ("webhooks", "ok", None, "tester")
    assert failed[:2] == ("payment-sync", "failed")
    assert failed[2]
    assert "STRIPE" in failed[2]
    assert failed[3] == "tester"


def test_a_dry_run_or_a_refused_run_writes_no_run_either(db, uow):
    run_job(uow(), "reorder", dry_run=True)
    users.add_user(uow(), "omar", "stockroom", None)
    record, _outcome, _error = run_job(uow(actor="omar"), "reorder")
    assert record.status == "refused"
    assert _runs(db) == []


def test_a_failed_run_is_recorded_though_its_own_work_rolled_back(db, uow, maria, monkeypatch):
    monkeypatch.delenv("KITOPS_SMTP_HOST", raising=False)
    alerts.subscribe(uow(), maria, "recall")
    with db.write_sessions() as session:  # a recall was recorded
        session.add(AuditRow(actor="tester", action="lot.recalled", entity="lot",
                             entity_key="SERUM-5ML/L1", after={"status": "recalled"}))  # fmt: skip
        session.commit()
    record, _outcome, error = run_job(uow(), "alerts")
    assert error is not None
    assert record.status == "failed"
    with db.read_sessions() as session:
        assert session.scalars(select(AlertRow)).all() == []  # its claim was taken back
    [(job, outcome, said, _actor)] = _runs(db)
    assert (job, outcome) == ("alerts", "failed")
    assert said is not None
    assert "KITOPS_SMTP_HOST" in said


def test_a_job_failing_twice_in_a_row_is_mailed_once_per_streak(db, uow, maria, monkeypatch):
    with smtp_server() as box:
        send = _mailer(monkeypatch, box.env())
        _fail(uow)
        assert alerting.run(uow(), send).sent == 0  # once is not a streak
        _fail(uow)
        assert alerting.run(uow(), send).sent == 1
        [mail] = box.messages
        assert mail["To"] == "maria@clinic.example"
        assert mail["Subject"] == "Job payment-sync failed twice in a row"
        text = mail.get_body(("plain",)).get_content()
        assert "stopped at evt_1" in text
        assert "kitops jobs run payment-sync" in text
        _fail(uow)  # the same streak goes on: no second mail
        assert alerting.run(uow(), send).sent == 0
        job_runs.record(uow(), "payment-sync", datetime.now(UTC), None)  # it recovers
        _fail(uow)
        assert alerting.run(uow(), send).sent == 0
        _fail(uow)  # a new streak
        assert alerting.run(uow(), send).sent == 1
        assert len(box.messages) == 2
        _fail(uow, job="reorder")  # another job's single failure is no streak
        assert alerting.run(uow(), send).sent == 0


def test_only_subscribers_of_job_alerts_hear_of_failing_jobs(db, uow, monkeypatch):
    users.add_user(uow(), "omar", "stockroom", None)
    alerts.set_email(uow(), "omar", "omar@clinic.example")
    alerts.subscribe(uow(), "omar", "recall")
    with smtp_server() as box:
        _fail(uow)
        _fail(uow)
        assert alerting.run(uow(), _mailer(monkeypatch, box.env())).sent == 0
        assert box.messages == []


def test_the_streak_alert_is_in_the_subscriber_s_language(db, uow, maria, monkeypatch):
    from sqlalchemy import update

    from kitops.data.schema import UserRow

    with db.write_sessions() as session:
        session.execute(update(UserRow).where(UserRow.name == maria).values(language="de"))
        session.commit()
    with smtp_server() as box:
        _fail(uow)
        _fail(uow)
        assert alerting.run(uow(), _mailer(monkeypatch, box.env())).sent == 1
        [mail] = box.messages
        assert mail["Subject"] == "Job payment-sync ist zweimal hintereinander fehlgeschlagen"


def test_a_crashing_job_is_recorded_by_its_class_only_and_its_work_rolled_back(
    db, uow, monkeypatch, caplog
):
    """A job that raises something kitops does not know: the run is recorded as failed
    under the exception's class (its message may hold a secret), nothing of its own work
    stays, and the crash goes up to the caller (the cron line's exit code)."""
    import dataclasses
    import logging

    from kitops import jobs

    secret = "sk_live_" + "x" * 24

    def crash(job_uow, as_of, dry_run):
        with job_uow:
            job_uow.session.add(JobRunRow(job="half-done", started_at=datetime.now(UTC),
                                          finished_at=datetime.now(UTC), outcome="ok",
                                          actor="tester"))  # fmt: skip
            job_uow.session.flush()
            raise RuntimeError(f"gateway said no to {secret}")

    monkeypatch.setitem(
        jobs.JOBS, "webhooks", dataclasses.replace(jobs.JOBS["webhooks"], runner=crash)
    )
    caplog.set_level(logging.INFO, logger="kitops")
    with pytest.raises(RuntimeError):
        run_job(uow(), "webhooks")
    assert _runs(db) == [("webhooks", "failed", "RuntimeError", "tester")]
    messages = [record.getMessage() for record in caplog.records]
    assert "job webhooks crashed: RuntimeError" in messages
    assert not any(secret in message for message in messages)
