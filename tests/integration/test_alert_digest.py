"""What the daily digest holds, from the demo data on its day (pinned clock): lots
expiring with units and value, lots waiting for release longer than the setting, course
kits that no kit fits and why, purchase orders waiting for approval, products whose cover
falls below their lead time; in the clinic's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from smtp_support import smtp_server
from sqlalchemy import select

from kitops import alerting
from kitops.data.schema import LotRow
from kitops.domain.ledger import LotStatus
from kitops.services import alerts, reorder, users

pytestmark = pytest.mark.demo_data


@pytest.fixture
def digests(db, uow, monkeypatch):
    """The digests of every clinic as maria receives them, by clinic code (plain text)."""
    users.add_user(uow(), "maria", "manager", None)
    alerts.set_email(uow(), "maria", "maria@clinic.example")
    alerts.subscribe(uow(), "maria", "digest")

    def read() -> dict[str, str]:
        from kitops.bootstrap import mailer

        with smtp_server() as box:
            for key, value in box.env().items():
                monkeypatch.setenv(key, value)
            alerting.run(uow(), mailer())
            found = {}
            for mail in box.messages:
                clinic = mail["Subject"].split(": ", 1)[1].split(" ", 1)[0]
                found[clinic] = mail.get_body(("plain",)).get_content()
            return found

    with time_machine.travel(datetime(2026, 11, 22, 9, 0, tzinfo=UTC), tick=False):
        yield read


def _age_quarantined_lots(db, days):
    with db.write_sessions() as session:
        for lot in session.scalars(
            select(LotRow).where(LotRow.status == LotStatus.QUARANTINE.value)
        ):
            lot.created_at = datetime(2026, 11, 22, 8, 0, tzinfo=UTC) - timedelta(days=days)
        session.commit()


def test_expiring_lots_come_with_units_and_value(digests):
    london = digests()["LON"]
    assert "Lots expiring" in london
    assert "- within 30 days: 1 lot, 18 units, worth 630.00 GBP" in london
    assert "- past expiry: 1 lot, 8 units, worth 280.00 GBP" in london


def test_a_lot_waiting_for_release_longer_than_the_setting_is_named(db, uow, digests):
    assert "waiting for release" not in "".join(digests().values())  # arrived this week
    _age_quarantined_lots(db, 8)
    with db.write_sessions() as session:  # the next day's digest
        from kitops.data.schema import AlertRow

        for row in session.scalars(select(AlertRow)):
            session.delete(row)
        session.commit()
    text = "".join(digests().values())
    assert "Lots waiting for release longer than 7 days" in text
    assert "waiting since 2026-11-14" in text
    users.set_setting(uow(), "alert_release_wait_days", "10")
    with db.write_sessions() as session:
        from kitops.data.schema import AlertRow

        for row in session.scalars(select(AlertRow)):
            session.delete(row)
        session.commit()
    assert "waiting for release" not in "".join(digests().values())


def test_products_whose_cover_falls_below_lead_time_and_orders_waiting(db, uow, digests):
    reorder.run(uow(), as_of=datetime(2026, 11, 22, tzinfo=UTC).date())  # drafts the orders
    essex = digests()["ESX"]
    assert "Products whose cover falls below their lead time" in essex
    assert "STAMP-0.6:" in essex
    assert "order 20 from DERMASUPPLY" in essex
    assert "Purchase orders waiting for approval" in essex


def test_course_kits_no_kit_fits_say_why_in_the_clinic_s_language(digests):
    vienna = digests()["VIE"]
    assert "In 14 Tagen fällige Kur-Kits, für die kein Kit passt" in vienna
    assert "Kur 8, Teil 1, ab 30.11.2026" in vienna
    assert "kein Kit verfügbar in VIE" in vienna
    assert "28 Stück, im Wert von €" in vienna
    assert "1.148,00" in vienna
