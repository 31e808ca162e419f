"""The migration history: linear, reversible, and equal to the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, update
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


def test_migration_0011_turns_the_ledgers_receipts_into_receipt_rows(loaded, uow):
    """A database from before 0011 kept one cost per lot: its receipts become receipt rows,
    the lot's cost on the first, so every lot is worth what it was."""
    from datetime import timedelta

    from ledger_support import AS_OF

    from kitops.data.schema import LotReceiptRow, LotRow
    from kitops.services.operations import ReceiptInput, receive

    expiry = (AS_OF + timedelta(days=300)).isoformat()
    for qty, cost in ((12, "41.50"), (6, "50.00")):
        given = ReceiptInput("LON-FRIDGE", sku="SERUM-5ML", lot="MIG-1", expiry=expiry,
                             quantity=qty, cost=cost, currency="GBP")  # fmt: skip
        receive(uow(), given, today=AS_OF)

    def state() -> tuple[dict[str, int | None], list[tuple[str, int, int | None, str]]]:
        with loaded.read_sessions() as session:
            costs = dict(session.execute(select(LotRow.code, LotRow.unit_cost_minor)).all())
            rows = session.execute(
                select(LotRow.code, LotReceiptRow.quantity, LotReceiptRow.unit_cost_minor,
                       LotReceiptRow.source)
                .join(LotRow, LotRow.id == LotReceiptRow.lot_id)
                .where(LotRow.code == "MIG-1")
                .order_by(LotReceiptRow.id)
            ).all()  # fmt: skip
            return costs, [tuple(r) for r in rows]

    costs, before = state()
    assert before == [("MIG-1", 12, 4150, "receipt"), ("MIG-1", 6, 5000, "receipt")]
    migrate.downgrade(loaded, "0009")
    migrate.upgrade(loaded)
    after_costs, after = state()
    assert after_costs == costs  # lots' costs untouched: every lot is worth what it was
    assert after == [("MIG-1", 12, 4433, "receipt"), ("MIG-1", 6, None, "receipt")]
    with loaded.read_sessions() as session:
        demo_rows = session.scalar(
            select(func.count()).select_from(LotReceiptRow).where(
                LotReceiptRow.unit_cost_minor.is_not(None)
            )
        )  # fmt: skip
    assert demo_rows  # the demo's receipts came back with their lots' costs


def test_migration_0021_adds_a_clinics_locale_and_a_users_language_both_ways(db):
    """0021 adds two nullable columns; going back drops them and keeps every row."""
    from kitops.data.schema import UserRow

    def columns() -> tuple[set[str], set[str]]:
        found = inspect(db.engine)
        return ({c["name"] for c in found.get_columns("locations")},
                {c["name"] for c in found.get_columns("users")})  # fmt: skip

    with db.write_sessions() as session:
        session.execute(update(LocationRow).where(LocationRow.code == "SCRAP").values(locale="de"))
        session.execute(update(UserRow).where(UserRow.name == "tester").values(language="de_AT"))
        session.commit()
    with db.read_sessions() as session:
        before = session.scalar(select(func.count()).select_from(UserRow))
    locations, users = columns()
    assert "locale" in locations
    assert "language" in users

    migrate.downgrade(db, "0020")
    locations, users = columns()
    assert "locale" not in locations
    assert "language" not in users

    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.HEAD_REVISION
    with db.read_sessions() as session:
        assert session.scalar(select(func.count()).select_from(UserRow)) == before
        languages = set(session.scalars(select(UserRow.language)))
        locales = set(session.scalars(select(LocationRow.locale)))
    assert languages == {None}
    assert locales == {None}


def test_migration_0027_the_outbox_trigger_fires_for_events_only_and_the_kit_index_both_ways(db):
    """0027: the free-kit index ends with the kit id; on PostgreSQL the outbox trigger has
    a WHEN on the action (an event's audit row still writes its outbox row, another
    row does not even run the function); going back restores both as they were."""
    from sqlalchemy import text

    def kit_indexes() -> set[str]:
        return {index["name"] for index in inspect(db.engine).get_indexes("kits")}

    def outbox_rows_for(action: str) -> int:
        with db.write_sessions() as session:
            session.execute(
                text(
                    "INSERT INTO webhook_subscriptions (url, events, secret_file, active, "
                    "created_at, created_by, cursor, attempts, delivered, failed) "
                    "SELECT 'https://example.org/h', '*', '/dev/null', true, :at, 'tester', "
                    "0, 0, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM webhook_subscriptions)"
                ),
                {"at": "2026-12-06 12:00:00"},
            )
            session.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, entity, entity_key) "
                    "VALUES (:at, 'tester', :action, 'lot', 'L1')"
                ),
                {"at": "2026-12-06 12:00:00", "action": action},
            )
            session.commit()
            return session.scalar(text("SELECT count(*) FROM webhook_outbox")) or 0

    assert "ix_kits_status_product_id_expiry_id" in kit_indexes()
    assert "ix_kits_status_product_id_expiry" not in kit_indexes()
    assert outbox_rows_for("lot.recalled") == 1
    assert outbox_rows_for("course.fulfil") == 1
    if db.engine.dialect.name == "postgresql":
        with db.read_sessions() as session:
            definition = session.scalar(
                text(
                    "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                    "WHERE tgname = 'webhook_outbox_from_audit'"
                )
            )
        assert "WHEN" in (definition or "")

    migrate.downgrade(db, "0026")
    assert "ix_kits_status_product_id_expiry" in kit_indexes()
    assert "ix_kits_status_product_id_expiry_id" not in kit_indexes()
    assert outbox_rows_for("kit.ship") == 2
    assert outbox_rows_for("course.fulfil") == 2

    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.HEAD_REVISION
    assert "ix_kits_status_product_id_expiry_id" in kit_indexes()
    assert outbox_rows_for("po.send") == 3
    assert outbox_rows_for("order.created") == 3
