import pytest

from kitops.services import demo


@pytest.fixture(autouse=True)
def _cheap_pins(cheap_pin_hashes):
    """Every PIN hashed and checked with small argon2 costs (``cheap_pin_hashes``)."""


@pytest.fixture
def loaded(db, uow):
    """The demo data as of the fixed day ``AS_OF`` (ledger_support): the test's database
    is a clone of a template loaded once per run (``DEMO_FIXTURES`` in tests/conftest.py)."""
    assert not demo.is_empty(uow(readonly=True)), "the database should hold the demo data"
    return db
