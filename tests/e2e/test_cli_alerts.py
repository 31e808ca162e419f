"""`kitops user set-email` and `kitops alert subscribe|unsubscribe|list` as an admin types
them; bad input is one line and exit 2, nothing written."""

from __future__ import annotations

import json

import pytest

from kitops.services import users
from kitops.services.unit_of_work import UnitOfWork


@pytest.fixture
def maria(db):
    users.add_user(UnitOfWork(db, "tester"), "maria", "manager", None)
    return "maria"


def test_subscribe_list_and_unsubscribe(cli, maria):
    assert cli("user", "set-email", maria, "maria@clinic.example").code == 0
    done = cli("alert", "subscribe", maria, "recall")
    assert done.code == 0, done.err
    assert "maria subscribes to recall alerts for every clinic" in done.out
    listed = json.loads(cli("alert", "list", "--json").out)
    assert listed == [{"user": "maria", "email": "maria@clinic.example", "kind": "recall",
                       "clinic": None}]  # fmt: skip
    assert cli("alert", "unsubscribe", maria, "recall").code == 0
    assert json.loads(cli("alert", "list", "--json").out) == []


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["user", "set-email", "maria", "not-an-address"], "EMAIL 'not-an-address'"),
        (["alert", "subscribe", "maria", "weather"], "KIND 'weather'"),
        (["alert", "subscribe", "nobody", "recall"], "USER 'nobody'"),
        (["alert", "unsubscribe", "maria", "digest"], "KIND 'digest'"),
    ],
)
def test_bad_input_is_one_line(cli, maria, args, says):
    result = cli(*args)
    assert result.code == 2
    assert says in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert json.loads(cli("alert", "list", "--json").out) == []


def test_the_alerts_job_needs_a_mail_server_only_when_something_is_due(cli, maria, db):
    cli("user", "set-email", maria, "maria@clinic.example")
    cli("alert", "subscribe", maria, "recall")
    quiet = cli("jobs", "run", "alerts")
    assert quiet.code == 0, quiet.err  # nothing due: no mail server asked for
    from kitops.data.schema import AuditRow

    with db.write_sessions() as session:  # a recall was recorded
        session.add(AuditRow(actor="tester", action="lot.recalled", entity="lot",
                             entity_key="SERUM-5ML/L1", after={"status": "recalled"}))  # fmt: skip
        session.commit()
    result = cli("jobs", "run", "alerts")
    assert result.code == 1
    assert "KITOPS_SMTP_HOST" in result.err


def test_jobs_run_records_its_run(cli, db):
    from sqlalchemy import select

    from kitops.data.schema import JobRunRow

    assert cli("jobs", "run", "webhooks").code == 0
    assert cli("jobs", "run", "reorder", "--dry-run").code == 0  # writes nothing
    with db.read_sessions() as session:
        runs = [(r.job, r.outcome, r.error) for r in session.scalars(select(JobRunRow))]
    assert runs == [("webhooks", "ok", None)]


def test_quiet_hours_are_set_and_refused_in_one_line(cli):
    done = cli("setting", "set", "alert_quiet_hours", "22:00-07:00 Europe/London")
    assert done.code == 0, done.err
    assert "alert_quiet_hours = 22:00-07:00 Europe/London" in done.out
    bad = cli("setting", "set", "alert_quiet_hours", "25:00-07:00")
    assert bad.code == 2
    assert "alert_quiet_hours '25:00-07:00'" in bad.err
    assert len(bad.err.strip().splitlines()) == 1
    listed = json.loads(cli("setting", "list", "--json").out)
    assert {"key": "alert_quiet_hours", "value": "22:00-07:00 Europe/London"} in [
        {"key": s["key"], "value": s["value"]} for s in listed
    ]
