"""Fixtures for the security tests: the end-to-end runners of tests/e2e (``cli``, ``demo``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# the end-to-end helpers (assert_bad_input, json_of...) are shared with tests/e2e
sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))

from e2e_support import json_of
from sqlalchemy import select

from kitops.data.schema import Base


@pytest.fixture(autouse=True)
def _cheap_pins(cheap_pin_hashes):
    """Every PIN hashed and checked with small argon2 costs (``cheap_pin_hashes``)."""


@pytest.fixture
def cli(kitops):
    """``cli(*args)`` → Result(code, out, err); never a traceback."""

    def invoke(*args, db=None, user="tester"):
        result = kitops(*args, db=db, user=user)
        assert "Traceback" not in result.err, result.err
        assert "Traceback" not in result.out, result.out
        return result

    return invoke


@pytest.fixture
def demo(cli):
    """The ``cli`` runner on a database holding the demo data as of today (a clone of a
    template: ``DEMO_FIXTURES`` in tests/conftest.py)."""
    assert json_of(cli, "location", "list", "--json"), "the database should hold the demo data"
    return cli


@pytest.fixture
def snapshot_db(db):
    """``snapshot_db()`` → every row of every table but the audit log (what a refused
    command must leave unchanged)."""

    def take() -> dict[str, list[tuple[str, ...]]]:
        state = {}
        with db.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                if table.name != "audit_log":
                    rows = conn.execute(select(table)).all()
                    state[table.name] = sorted(tuple(map(repr, row)) for row in rows)
        return state

    return take
