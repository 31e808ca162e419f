import pytest

from kitops.services import demo


@pytest.fixture
def loaded(db, uow):
    """The demo data as of the fixed day ``AS_OF`` (ledger_support): the test's database
    is a clone of a template loaded once per run (``DEMO_FIXTURES`` in tests/conftest.py)."""
    assert not demo.is_empty(uow(readonly=True)), "the database should hold the demo data"
    return db
