"""Email alerts end to end against a real SMTP server on loopback, on SQLite and
PostgreSQL: what is sent and to whom, in the subscriber's language, each alert once
(reruns, two runs at once, a SIGKILL between sending and recording), and nothing marked
sent when the server refuses or does not answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from smtp_support import silent_server, smtp_server
from sqlalchemy import select, update

from kitops import alerting
from kitops.data.schema import AlertRow, LotRow, UserRow
from kitops.domain.ledger import LotStatus
from kitops.services import alerts, lots, users

LOT, SKU = "PTT6-B0902", "SERUM-5ML"

pytestmark = pytest.mark.demo_data


@pytest.fixture
def maria(uow):
    users.add_user(uow(), "maria", "manager", None)
    alerts.set_email(uow(), "maria", "maria@clinic.example")
    return "maria"


def _mailer(monkeypatch, env):
    from kitops.bootstrap import mailer

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return mailer()


def _rows(db):
    with db.read_sessions() as session:
        return [(r.kind, r.state, r.attempts, r.flagged) for r in session.scalars(select(AlertRow))]


def test_a_recall_is_mailed_once_to_its_subscriber(db, uow, maria, monkeypatch):
    alerts.subscribe(uow(), maria, "recall")
    with smtp_server() as box:
        send = _mailer(monkeypatch, box.env())
        lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
        first = alerting.run(uow(), send)
        assert (first.sent, first.failed) == (1, None)
        [mail] = box.messages
        assert mail["To"] == "maria@clinic.example"
        assert mail["Subject"] == f"Recall: lot {LOT} ({SKU})"
        text = mail.get_body(("plain",)).get_content()
        assert "supplier recall" in text
        assert "Kits flagged" in text
        assert mail.get_body(("html",)) is not None
        assert "P-LON" not in mail.as_string()  # no patient reference
        again = alerting.run(uow(), send)
        assert (again.sent, again.skipped, len(box.messages)) == (0, 1, 1)
    assert _rows(db) == [("recall", "sent", 1, False)]


def test_the_digest_speaks_the_subscriber_s_language(db, uow, maria, monkeypatch):
    traveller = time_machine.travel(datetime(2026, 11, 22, 9, 0, tzinfo=UTC), tick=False)
    traveller.start()
    alerts.subscribe(uow(), maria, "digest", "LON")
    with db.write_sessions() as session:
        session.execute(update(UserRow).where(UserRow.name == maria).values(language="de"))
        session.execute(  # the lot in quarantine has waited ten days
            update(LotRow).where(LotRow.status == LotStatus.QUARANTINE.value)
            .values(created_at=datetime(2026, 11, 12, 8, 0, tzinfo=UTC))
        )  # fmt: skip
        session.commit()
    with smtp_server() as box:
        report = alerting.run(uow(), _mailer(monkeypatch, box.env()))
        assert report.sent == 1
        [mail] = box.messages
        assert mail["Subject"] == "kitops-Tagesübersicht: LON · London, Harley Street, 22.11.2026"
        text = mail.get_body(("plain",)).get_content()
        assert "Ablaufende Chargen" in text
        assert "Chargen, die länger als 7 Tage auf die Freigabe warten" in text
        assert alerting.run(uow(), _mailer(monkeypatch, box.env())).sent == 0  # once a day
    traveller.stop()


def test_nobody_without_a_subscription_or_an_address_gets_mail(db, uow, monkeypatch):
    users.add_user(uow(), "omar", "stockroom", None)
    alerts.subscribe(uow(), "omar", "recall")  # no address yet
    with smtp_server() as box:
        lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
        assert alerting.run(uow(), _mailer(monkeypatch, box.env())).sent == 0
        assert box.messages == []


def test_a_refusing_server_leaves_nothing_marked_sent(db, uow, maria, monkeypatch):
    alerts.subscribe(uow(), maria, "recall")
    with smtp_server() as box:
        box.refuse = "550 mailbox unavailable"
        lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
        report = alerting.run(uow(), _mailer(monkeypatch, box.env()))
        assert report.sent == 0
        assert report.failed is not None
        assert "550" in report.failed
        assert _rows(db) == []
        box.refuse = None  # the next run sends it
        assert alerting.run(uow(), _mailer(monkeypatch, box.env())).sent == 1


def test_a_silent_server_times_out_and_nothing_is_marked_sent(db, uow, maria, monkeypatch):
    alerts.subscribe(uow(), maria, "recall")
    lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
    with silent_server() as port:
        env = {"KITOPS_SMTP_HOST": "127.0.0.1", "KITOPS_SMTP_PORT": str(port),
               "KITOPS_SMTP_SECURITY": "none", "KITOPS_SMTP_TIMEOUT": "0.5"}  # fmt: skip
        report = alerting.run(uow(), _mailer(monkeypatch, env))
    assert report.failed is not None
    assert "did not take the alert" in report.failed
    assert _rows(db) == []
