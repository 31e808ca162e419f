"""The web tests: the FastAPI app in-process (Starlette's TestClient, no socket) on this
test's database (SQLite and PostgreSQL, as everywhere), with users who have PINs.

``web.client()`` is a client that has not logged in; ``web.user(name, role, pin)`` adds a
user (as the test admin ``tester``), optionally limited to some clinics.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from browser_support import browser_page, chromium  # noqa: F401  (the browser tests' page)
from fastapi.testclient import TestClient

from kitops.data.engine import Database
from kitops.services import users
from kitops.services.unit_of_work import UnitOfWork
from kitops.web.app import create_app
from kitops.web.door import Door

PIN = "2468"


@dataclass
class Web:
    db: Database
    clients: list[TestClient] = field(default_factory=list)

    def client(self) -> TestClient:
        """A browser or integration of its own (its own cookies), not logged in."""
        app = create_app(door=Door(self.db))
        client = TestClient(app, base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        self.clients.append(client)
        return client

    def user(self, name: str, role: str, pin: str = PIN) -> str:
        users.add_user(UnitOfWork(self.db, "tester"), name, role, pin)
        return name

    def close(self) -> None:
        for client in self.clients:
            client.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _cheap_pins(cheap_pin_hashes: None) -> None:
    """Every PIN hashed and checked in-process with small argon2 costs
    (``cheap_pin_hashes``): the same checks, locks and audit rows in milliseconds instead
    of over half a second per PIN (the web tests add users and log in a lot). kitops' own
    profile is checked in tests/integration/test_users.py; ``kitops serve`` in the
    browser and server tests is a process of its own and keeps it."""


@pytest.fixture
def web(db: Database) -> Iterator[Web]:
    kit = Web(db)
    yield kit
    kit.close()
