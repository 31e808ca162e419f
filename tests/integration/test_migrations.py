"""The migration history: linear, reversible, and equal to the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, update
from sqlalchemy.exc import IntegrityError

from kitops.data import migrate
from kitops.data.engine import open_database
from kitops.data.schema import Base, KitRow, LocationRow, SettingRow
from kitops.domain.locations import VIRTUAL_LOCATIONS


def test_head_revision_constant_matches_the_scripts():
    db = open_database("sqlite://")
    script = ScriptDirectory.from_config(migrate.alembic_config(db))
    assert script.get_heads() == [migrate.HEAD_REVISION]
    db.dispose()


def test_history_is_linear():
    db = open_database("sqlite://")
    script = ScriptDirectory.from_config(migrate.alembic_config(db))
    revisions = list(script.walk_revisions())
    assert all(not rev.is_merge_point and not rev.is_branch_point for rev in revisions)
    assert revisions[-1].down_revision is None
    db.dispose()


def test_upgrade_from_empty_to_head_then_down_to_base(empty_db_url):
    db = open_database(empty_db_url)
    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.HEAD_REVISION
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables

    migrate.downgrade(db, "base")
    assert migrate.current_revision(db) is None
    leftover = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert leftover == set()

    migrate.upgrade(db)  # and up again, as after a reset
    assert migrate.current_revision(db) == migrate.HEAD_REVISION
    db.dispose()


def test_autogenerate_finds_no_difference_from_the_models(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_first_migration_creates_virtual_locations_and_default_settings(db):
    with db.read_sessions() as session:
        kinds = dict(session.execute(select(LocationRow.code, LocationRow.kind)).all())
        settings = dict(session.execute(select(SettingRow.key, SettingRow.value)).all())
    assert kinds == {code: kind.value for code, (kind, _) in VIRTUAL_LOCATIONS.items()}
    assert settings["at_home_max_needle_mm"] == "0.6"
    assert settings["expiry_margin_days"] == "7"


@pytest.mark.demo_data
def test_0009_lets_a_kit_be_expired_and_keeps_every_kit_both_ways(db):
    """0009 adds `expired` to the kit statuses (SQLite rebuilds the table in batch mode);
    going back turns an expired kit into the nearest old status, `recalled` (blocked, in
    the stockroom, to be destroyed)."""

    def kits() -> dict[str, str]:
        with db.read_sessions() as session:
            return dict(session.execute(select(KitRow.serial, KitRow.status)).all())

    def expire(serial: str) -> None:
        with db.write_sessions() as session:
            session.execute(update(KitRow).where(KitRow.serial == serial).values(status="expired"))
            session.commit()

    before = kits()
    expire("K0000002")

    migrate.downgrade(db, "0008")
    assert kits() == {**before, "K0000002": "recalled"}
    with pytest.raises(IntegrityError):
        expire("K0000003")

    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.HEAD_REVISION
    assert kits() == {**before, "K0000002": "recalled"}
    expire("K0000003")
    assert kits()["K0000003"] == "expired"
    with pytest.raises(IntegrityError), db.write_sessions() as session:
        session.execute(update(KitRow).where(KitRow.serial == "K0000004").values(status="lost"))
        session.commit()
