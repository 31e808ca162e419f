"""Fixtures for the end-to-end CLI tests.

``cli`` wraps the ``kitops`` fixture and checks on every call that no traceback reached
the user; ``demo`` is the same runner on a database holding the demo data as of today
(by the suite's clock: ``pytest --today``);
``snapshot`` captures what a refused command must leave unchanged.
"""

from __future__ import annotations

from datetime import date

import pytest
from e2e_support import State, json_of
from sqlalchemy import func, select

from kitops.data.schema import AuditRow


@pytest.fixture(autouse=True)
def _cheap_pins(cheap_pin_hashes):
    """Every PIN hashed and checked with small argon2 costs (``cheap_pin_hashes``)."""


@pytest.fixture
def cli(kitops):
    """``cli(*args)`` → Result(code, out, err); never a traceback."""

    def invoke(*args, db=None):
        result = kitops(*args, db=db)
        assert "Traceback" not in result.err, result.err
        assert "Traceback" not in result.out, result.out
        return result

    return invoke


@pytest.fixture
def today():
    return date.today()


@pytest.fixture
def demo(cli, today):
    """The ``cli`` runner on a database holding the demo data as of today (a clone of a
    template loaded once per run and day: ``DEMO_FIXTURES`` in tests/conftest.py)."""
    loaded = json_of(cli, "location", "list", "--json")
    assert loaded, "the database should hold the demo data"
    return cli


@pytest.fixture
def snapshot(cli, db):
    """``snapshot()`` → listings and audit-log row count as they are now."""

    def take() -> State:
        with db.engine.connect() as conn:
            audit_rows = conn.execute(select(func.count()).select_from(AuditRow)).scalar_one()
        return State(
            catalog=json_of(cli, "catalog", "list", "--json"),
            locations=json_of(cli, "location", "list", "--json"),
            stock=json_of(cli, "stock", "--include-unavailable", "--json"),
            audit_rows=audit_rows,
        )

    return take
