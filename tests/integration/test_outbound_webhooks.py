"""Outbound webhooks end to end, on SQLite and PostgreSQL: a change's audit row becomes an
event in the same transaction (a trigger), the delivery job posts it signed to a real HTTP
receiver on loopback, in order, again after a failure, and gives up after 24 hours."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select
from webhook_receiver import receiver

from kitops.data.schema import WebhookFailureRow, WebhookOutboxRow
from kitops.domain import outbound_webhooks as rules
from kitops.domain.ledger import LotStatus
from kitops.services import lots, outbound_webhooks

NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SECRET = b"whsec-test-0123456789abcdef"
LOT, SKU = "PTT6-B0902", "SERUM-5ML"

pytestmark = pytest.mark.demo_data


@pytest.fixture
def secret_file(tmp_path: Path) -> str:
    path = tmp_path / "hook.secret"
    path.write_bytes(SECRET + b"\n")
    os.chmod(path, 0o600)
    return str(path)


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def _outbox(db) -> int:
    with db.read_sessions() as session:
        return int(session.scalar(select(func.count()).select_from(WebhookOutboxRow)) or 0)


def _event(received) -> dict:
    return json.loads(received.body)


def test_a_recall_reaches_the_receiver_signed_once(db, uow, secret_file, clock):
    with receiver() as hook:
        made = outbound_webhooks.add_webhook(uow(), hook.url, "lot.recalled", secret_file)
        assert made.pending == 0  # no backlog: events from now on
        lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
        report = outbound_webhooks.deliver(uow())
        assert (report.delivered, report.failed, report.errors) == (1, 0, ())
        assert len(hook.received) == 1
        got = hook.received[0]
        header = got.headers[rules.SIGNATURE_HEADER]
        assert rules.verify(SECRET, header, got.body, int(NOON.timestamp()))
        assert not rules.verify(b"another secret", header, got.body, int(NOON.timestamp()))
        event = _event(got)
        assert event["type"] == "lot.recalled"
        assert event["id"] == got.headers[rules.EVENT_ID_HEADER]
        assert event["data"]["key"] == f"{SKU}/{LOT}"
        assert "patient_ref" not in got.body.decode()
        # delivered once: the next run has nothing to send
        again = outbound_webhooks.deliver(uow())
        assert (again.delivered, len(hook.received)) == (0, 1)
        listed = outbound_webhooks.list_webhooks(uow(readonly=True))
        assert (listed[0].delivered, listed[0].pending, listed[0].attempts) == (1, 0, 0)


def test_events_arrive_in_the_order_of_the_changes(db, uow, secret_file, clock):
    with receiver() as hook:
        outbound_webhooks.add_webhook(uow(), hook.url, "all", secret_file)
        lots.change_status(uow(), LOT, LotStatus.QUARANTINE, reason="check", sku=SKU)
        lots.change_status(uow(), LOT, LotStatus.RELEASED, sku=SKU)
        lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
        outbound_webhooks.deliver(uow())
        types = [_event(r)["type"] for r in hook.received]
        assert types == ["lot.quarantined", "lot.released", "lot.recalled"]
        ids = [int(_event(r)["id"].removeprefix("evt_")) for r in hook.received]
        assert ids == sorted(ids)


def test_a_failed_delivery_is_tried_again_after_its_back_off_with_the_same_id(
    db, uow, secret_file, clock
):
    with receiver(500) as hook:
        outbound_webhooks.add_webhook(uow(), hook.url, "lot.recalled", secret_file)
        lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
        first = outbound_webhooks.deliver(uow())
        assert (first.delivered, first.failed) == (0, 1)
        assert first.errors == (f"webhook {outbound_webhooks.list_webhooks(uow())[0].id}: "
                                "HTTP 500",)  # fmt: skip
        waiting = outbound_webhooks.list_webhooks(uow(readonly=True))[0]
        assert (waiting.attempts, waiting.pending, waiting.last_error) == (1, 1, "HTTP 500")
        assert waiting.next_attempt_at == NOON + rules.backoff(1)
        early = outbound_webhooks.deliver(uow())  # not due yet
        assert (early.delivered, early.busy, len(hook.received)) == (0, 1, 1)
        clock.shift(rules.backoff(1))
        later = outbound_webhooks.deliver(uow())
        assert later.delivered == 1
        assert len(hook.received) == 2
        assert _event(hook.received[0])["id"] == _event(hook.received[1])["id"]
        done = outbound_webhooks.list_webhooks(uow(readonly=True))[0]
        assert (done.attempts, done.pending, done.last_error) == (0, 0, None)


def test_after_24_hours_of_failures_an_event_is_given_up_and_the_next_goes(
    db, uow, secret_file, clock
):
    with receiver(*([503] * 40)) as hook:
        outbound_webhooks.add_webhook(uow(), hook.url, "all", secret_file)
        lots.change_status(uow(), LOT, LotStatus.QUARANTINE, reason="check", sku=SKU)
        outbound_webhooks.deliver(uow())
        clock.shift(timedelta(hours=24))
        hook.answers.clear()  # the receiver is back, but the first event's day is over
        hook.answers.append(503)
        lots.change_status(uow(), LOT, LotStatus.RELEASED, sku=SKU)
        report = outbound_webhooks.deliver(uow())
        assert (report.given_up, report.delivered) == (1, 1)
        assert [_event(r)["type"] for r in hook.received][-1] == "lot.released"
        with db.read_sessions() as session:
            failures = session.scalars(select(WebhookFailureRow)).all()
        assert [(f.error, f.attempts) for f in failures] == [("HTTP 503", 2)]
        listed = outbound_webhooks.list_webhooks(uow(readonly=True))[0]
        assert (listed.given_up, listed.pending) == (1, 0)


def test_a_rolled_back_change_is_never_an_event(db, uow, secret_file, clock):
    with receiver() as hook:
        outbound_webhooks.add_webhook(uow(), hook.url, "lot.recalled", secret_file)
        outer = uow()
        with pytest.raises(RuntimeError), outer:
            lots.change_status(outer, LOT, LotStatus.RECALLED, reason="oops", sku=SKU)
            raise RuntimeError("the enclosing use case fails")
        assert _outbox(db) == 0
        assert outbound_webhooks.deliver(uow()).delivered == 0
        assert hook.received == []


def test_without_a_subscription_changes_leave_no_events(db, uow, clock):
    lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
    assert _outbox(db) == 0


def test_a_run_skips_a_webhook_another_run_is_delivering(db, uow, secret_file, clock):
    with receiver() as hook:
        made = outbound_webhooks.add_webhook(uow(), hook.url, "lot.recalled", secret_file)
        lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
        assert outbound_webhooks._claim(uow(), made.id, "another-run")
        report = outbound_webhooks.deliver(uow())
        assert (report.busy, report.delivered, hook.received) == (1, 0, [])
        clock.shift(outbound_webhooks.LEASE)  # that run died: its lease runs out
        assert outbound_webhooks.deliver(uow()).delivered == 1


def test_a_removed_webhook_gets_nothing_more(db, uow, secret_file, clock):
    with receiver() as hook:
        made = outbound_webhooks.add_webhook(uow(), hook.url, "lot.recalled", secret_file)
        outbound_webhooks.remove_webhook(uow(), made.id)
        lots.change_status(uow(), LOT, LotStatus.RECALLED, reason="supplier recall", sku=SKU)
        assert outbound_webhooks.deliver(uow()).subscriptions == 0
        assert hook.received == []
