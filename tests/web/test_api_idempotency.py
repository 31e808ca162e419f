"""Idempotency keys: a retried receive never receives twice, whether the retry comes
after the answer or at the same moment as the first request; a key reused for another
request is refused; a failure of the server's own gives the key back."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from kitops import i18n
from kitops.errors import DatabaseUnavailable
from kitops.services import idempotency, operations
from kitops.web.door import Caller, Door
from tests.web.api_support import API, assert_problem, audit_rows, bearer

pytestmark = pytest.mark.demo_data

RECEIPT = {
    "location": "LON-FRIDGE", "sku": "SERUM-5ML", "lot": "API-0001",
    "expiry": "2028-01-31", "quantity": 5,
}  # fmt: skip


def _receipts(db) -> int:
    return len(audit_rows(db, action="stock.receive", entity_key="SERUM-5ML/API-0001"))


def _on_hand(client, headers) -> int:
    response = client.get(f"{API}/lots/API-0001", headers=headers)
    return int(response.json()["total_on_hand"]) if response.status_code == 200 else 0


def test_a_retry_with_the_same_key_gets_the_first_answer_and_receives_nothing(db, web):
    client = web.client()
    headers = bearer(db, "stock") | {"Idempotency-Key": "delivery-4711"}
    first = client.post(f"{API}/receipts", json=RECEIPT, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = client.post(f"{API}/receipts", json=RECEIPT, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert _receipts(db) == 1
    assert _on_hand(client, headers) == 5
    other = client.post(f"{API}/receipts", json=RECEIPT | {"quantity": 6}, headers=headers)
    assert_problem(other, 422, "Idempotency-Key 'delivery-4711': was used for another request")
    without = bearer(db, "stock", "second-app")
    assert client.post(f"{API}/receipts", json=RECEIPT, headers=without).status_code == 201
    assert _receipts(db) == 2  # no key: each request is its own


def test_two_identical_requests_at_once_receive_once(db, web):
    headers = bearer(db, "stock") | {"Idempotency-Key": "same-moment"}
    clients = [web.client(), web.client()]
    start = threading.Barrier(2)
    answers: list[int] = []

    def send(client) -> None:
        start.wait()
        answers.append(client.post(f"{API}/receipts", json=RECEIPT, headers=headers).status_code)

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) in ([201, 201], [201, 409]), answers
    assert _receipts(db) == 1
    retry = clients[0].post(f"{API}/receipts", json=RECEIPT, headers=headers)
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert _on_hand(clients[0], headers) == 5


def test_a_key_of_another_request_is_422_and_a_refused_answer_is_replayed(db, web):
    client = web.client()
    headers = bearer(db, "stock") | {"Idempotency-Key": "busy"}
    door = Door(db)
    who = Caller("stock", "stockroom", "stock-app")
    digest = "the first request's hash"
    assert idempotency.claim(door.writing(who), "busy", digest).new
    assert_problem(client.post(f"{API}/receipts", json=RECEIPT, headers=headers), 422,
                   "was used for another request")  # fmt: skip
    idempotency.give_back(door.writing(who), "busy")
    bad = RECEIPT | {"location": "NOWHERE"}
    first = client.post(f"{API}/receipts", json=bad, headers=headers)
    assert_problem(first, 422, "NOWHERE")
    replay = client.post(f"{API}/receipts", json=bad, headers=headers)
    assert replay.status_code == 422
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()


def test_a_request_still_running_with_the_same_key_is_409(db, web, monkeypatch):
    client = web.client()
    headers = bearer(db, "stock") | {"Idempotency-Key": "slow"}
    entered, release = threading.Event(), threading.Event()
    real = operations.receive
    answers: list[int] = []

    def slow_receive(uow, given, **kwargs):
        entered.set()
        release.wait(timeout=30)
        return real(uow, given, **kwargs)

    monkeypatch.setattr(operations, "receive", slow_receive)
    try:
        worker = threading.Thread(
            target=lambda: answers.append(
                web.client().post(f"{API}/receipts", json=RECEIPT, headers=headers).status_code
            )
        )
        worker.start()
        assert entered.wait(timeout=30)
        assert_problem(client.post(f"{API}/receipts", json=RECEIPT, headers=headers), 409,
                       "Idempotency-Key slow is still running")  # fmt: skip
        release.set()
        worker.join()
    finally:
        release.set()
    assert answers == [201]
    assert _receipts(db) == 1


def test_a_failure_of_the_server_gives_the_key_back(db, web, monkeypatch):
    client = web.client()
    headers = bearer(db, "stock") | {"Idempotency-Key": "retry-me"}

    def busy(uow, given, **kwargs):
        raise DatabaseUnavailable("the database is busy with another writer; try again")

    monkeypatch.setattr(operations, "receive", busy)
    assert_problem(client.post(f"{API}/receipts", json=RECEIPT, headers=headers), 503, "busy")
    monkeypatch.undo()
    done = client.post(f"{API}/receipts", json=RECEIPT, headers=headers)
    assert done.status_code == 201
    assert "idempotent-replayed" not in done.headers
    assert _receipts(db) == 1


def test_a_request_whose_server_stopped_before_answering_is_never_run_again(db, web, monkeypatch):
    """The receipt is done and committed, then the server stops before it keeps its answer:
    a retry is not run again, and after a while it is told to read the audit log."""
    client = web.client()
    headers = bearer(db, "stock") | {"Idempotency-Key": "lost-answer"}

    def server_stops(uow, key, status, body):
        """The process ends here: the answer is never kept (nor is it sent; the client
        sees its connection drop and retries)."""

    monkeypatch.setattr(idempotency, "keep_answer", server_stops)
    client.post(f"{API}/receipts", json=RECEIPT, headers=headers)
    monkeypatch.undo()
    assert _receipts(db) == 1
    retry = web.client().post(f"{API}/receipts", json=RECEIPT, headers=headers)
    assert_problem(retry, 409, "Idempotency-Key lost-answer is still running")
    later = datetime.now(UTC) + idempotency.UNANSWERED_AFTER + timedelta(minutes=1)
    with time_machine.travel(later):
        retry = web.client().post(f"{API}/receipts", json=RECEIPT, headers=headers)
    assert_problem(retry, 409, "never recorded its answer; the audit log says whether")
    assert re.search(r"\(started \d{4}-\d\d-\d\d \d\d:\d\d UTC\)", retry.text)
    i18n.set_default_locale("de_AT")  # the same answer from a server that speaks German
    try:
        with time_machine.travel(later):
            german = web.client().post(f"{API}/receipts", json=RECEIPT, headers=headers)
    finally:
        i18n.set_default_locale("en")
    assert_problem(german, 409, "hat ihre Antwort nie erfasst")
    assert re.search(r"\(gestartet \d{1,2}\.\d{1,2}\.\d{4}, \d\d:\d\d UTC\)", german.text)
    assert _receipts(db) == 1
