"""Databases for the terminal UI tests: the demo data as of a fixed day, loaded at a
fixed instant (so audit times and screenshots are the same on every run)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from tui_support import AS_OF, LOADED_AT

from kitops.data.engine import open_database
from kitops.services import demo
from kitops.services.unit_of_work import UnitOfWork


def load_demo(url: str) -> None:
    db = open_database(url)
    try:
        with time_machine.travel(LOADED_AT, tick=False):
            demo.load(UnitOfWork(db, "tester"), AS_OF)
    finally:
        db.dispose()


@pytest.fixture
def demo_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A SQLite file with the demo data, built from the migrated template."""
    target = tmp_path / "kitops.db"
    shutil.copyfile(sqlite_template, target)
    url = f"sqlite:///{target}"
    load_demo(url)
    return url


@pytest.fixture
def pg_demo_url(pg_admin, pg_template) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A PostgreSQL database of its own with the demo data."""
    import os
    import uuid

    name = f"kitops_t{os.getpid()}_tui_{uuid.uuid4().hex[:8]}"
    url = pg_admin.create(name, template=pg_template)
    load_demo(url)
    yield url
    pg_admin.drop(name)


@pytest.fixture(autouse=True)
def _reorder_tile_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's reorder tile loads a second after the first paint (so it does not
    share the start's CPU); tests and snapshots want it at once."""
    monkeypatch.setattr("tui.screens.dashboard.PURCHASING_AFTER", 0.0)
