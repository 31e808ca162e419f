"""The migration history: linear, reversible, and equal to the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from kitops.data import migrate
from kitops.data.engine import open_database
from kitops.data.schema import Base, LocationRow, SettingRow
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
