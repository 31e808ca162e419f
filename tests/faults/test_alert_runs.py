"""Email alert runs as cron starts them, in real processes: two at once send each alert
once, and a run killed between sending and recording leaves the alert to be tried once
more after the timeout, flagged, never a third time."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from fault_support import child_env, kitops_argv
from smtp_support import smtp_server
from sqlalchemy import select

from kitops.data.schema import AlertRow
from kitops.domain.ledger import LotStatus
from kitops.services import alerts, lots, users

LOT, SKU = "PTT6-B0902", "SERUM-5ML"

pytestmark = pytest.mark.demo_data


@pytest.fixture
def maria(uow):
    users.add_user(uow(), "maria", "manager", None)
    alerts.set_email(uow(), "maria", "maria@clinic.example")
    return "maria"


def _rows(db):
    with db.read_sessions() as session:
        return [(r.kind, r.state, r.attempts, r.flagged) for r in session.scalars(select(AlertRow))]


def _job(db_url, env, *, fault=None):
    extra = {**env, **({"KITOPS_FAULT": fault} if fault else {})}
    return subprocess.Popen(kitops_argv(db_url, "jobs", "run", "alerts"), env=child_env(**extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_two_runs_at_once_send_each_alert_once(db, db_url, uow, maria):
    alerts.subscribe(uow(), maria, "recall")
    alerts.subscribe(uow(), maria, "digest")
    lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
    with smtp_server() as box:
        runs = [_job(db_url, box.env()) for _ in range(2)]
        for run in runs:
            _out, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
        subjects = sorted(m["Subject"] for m in box.messages)
    assert len(subjects) == len(set(subjects)), subjects
    assert sum(s.startswith("Recall") for s in subjects) == 1
    assert {state for _k, state, _a, _f in _rows(db)} == {"sent"}


def test_a_kill_between_sending_and_recording_is_retried_once_and_flagged(db, db_url, uow, maria):
    alerts.subscribe(uow(), maria, "recall")
    lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
    with smtp_server() as box:
        killed = _job(db_url, box.env(), fault="alerts:after_send")
        killed.communicate(timeout=120)
        assert killed.returncode == -9
        assert len(box.messages) == 1  # it went out, and was never marked
        assert _rows(db) == [("recall", "sending", 1, False)]
        rerun = _job(db_url, box.env())
        rerun.communicate(timeout=120)
        assert rerun.returncode == 0
        assert len(box.messages) == 1  # still within the timeout: not sent again
        with db.write_sessions() as session:  # the timeout passes
            for row in session.scalars(select(AlertRow)):
                row.created_at = row.created_at - timedelta(minutes=31)
            session.commit()
        late = _job(db_url, box.env())
        late.communicate(timeout=120)
        assert late.returncode == 0
        assert len(box.messages) == 2  # once more, and flagged
        assert _rows(db) == [("recall", "sent", 2, True)]
        final = _job(db_url, box.env())
        final.communicate(timeout=120)
        assert len(box.messages) == 2  # never a third time
