import pytest
from ledger_support import AS_OF

from kitops.services import demo


@pytest.fixture
def loaded(db, uow):
    """The demo data, loaded as of the fixed day ``AS_OF``."""
    demo.load(uow(), AS_OF)
    return db
