"""Quiet hours (setting ``alert_quiet_hours``): immediate alerts wait, neither sent nor
recorded, and go with the first run after; the daily digest is not held. Pinned clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from smtp_support import smtp_server
from sqlalchemy import select

from kitops import alerting
from kitops.data.schema import AlertRow
from kitops.domain.ledger import LotStatus
from kitops.services import alerts, lots, users

LOT, SKU = "PTT6-B0902", "SERUM-5ML"

pytestmark = pytest.mark.demo_data


@pytest.fixture
def maria(uow):
    users.add_user(uow(), "maria", "manager", None)
    alerts.set_email(uow(), "maria", "maria@clinic.example")
    users.set_setting(uow(), "alert_quiet_hours", "22:00-07:00 Europe/London")
    return "maria"


def _mailer(monkeypatch, env):
    from kitops.bootstrap import mailer

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return mailer()


def _at(hour: int, minute: int = 0, day: int = 22):
    return time_machine.travel(datetime(2026, 11, day, hour, minute, tzinfo=UTC), tick=False)


def test_a_recall_in_the_quiet_hours_waits_for_the_first_run_after(db, uow, maria, monkeypatch):
    alerts.subscribe(uow(), maria, "recall")
    with smtp_server() as box:
        send = _mailer(monkeypatch, box.env())
        with _at(22, 30):  # London keeps UTC in November
            lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
            report = alerting.run(uow(), send)
            assert (report.sent, report.held) == (0, 1)
        with _at(6, 55, day=23):
            assert alerting.run(uow(), send).held == 1  # still quiet after midnight
        assert box.messages == []
        with db.read_sessions() as session:
            assert session.scalars(select(AlertRow)).all() == []  # not marked sent
        with _at(7, 0, day=23):
            report = alerting.run(uow(), send)
            assert (report.sent, report.held) == (1, 0)
        [mail] = box.messages
        assert mail["Subject"] == f"Recall: lot {LOT} ({SKU})"


def test_the_digest_is_not_held_by_the_quiet_hours(db, uow, maria, monkeypatch):
    alerts.subscribe(uow(), maria, "digest", "LON")
    with smtp_server() as box, _at(23, 0):
        assert alerting.run(uow(), _mailer(monkeypatch, box.env())).sent == 1


def test_quiet_hours_follow_the_time_zone_given(db, uow, maria, monkeypatch):
    users.set_setting(uow(), "alert_quiet_hours", "22:00-07:00 Asia/Tokyo")
    alerts.subscribe(uow(), maria, "recall")
    with smtp_server() as box:
        with _at(14, 0):  # 23:00 in Tokyo
            lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
            assert alerting.run(uow(), _mailer(monkeypatch, box.env())).held == 1
        with _at(22, 30):  # 07:30 in Tokyo (while London sleeps)
            assert alerting.run(uow(), _mailer(monkeypatch, box.env())).sent == 1


def test_quiet_hours_off_sends_at_once(db, uow, maria, monkeypatch):
    users.set_setting(uow(), "alert_quiet_hours", "off")
    alerts.subscribe(uow(), maria, "recall")
    with smtp_server() as box, _at(23, 0):
        lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
        assert alerting.run(uow(), _mailer(monkeypatch, box.env())).sent == 1
