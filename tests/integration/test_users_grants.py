"""PostgreSQL: the application role of the README's grants may read and append to the
ledger and the audit log, never update, delete or truncate them, and kitops works as it."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from ledger_support import AS_OF
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from kitops.data.engine import open_database
from kitops.domain.ledger import LotStatus
from kitops.errors import NotAllowed
from kitops.services import admin, demo, fulfilment, lots, operations, users
from kitops.services.unit_of_work import UnitOfWork

README = Path(__file__).resolve().parents[2] / "README.md"
APPEND_ONLY = ("stock_moves", "audit_log")
# append-only too, and without a db_role column: the lots' receipts (their unit costs)
RECEIPTS = "lot_receipts"

pytestmark = pytest.mark.postgresql


def current_role_name(conn) -> str:
    return str(conn.execute(text("SELECT session_user")).scalar())


def documented_grants() -> list[str]:
    """The SQL block under the README's ``app-role-grants`` marker, one statement a line."""
    text_ = README.read_text(encoding="utf-8")
    found = re.search(r"<!-- app-role-grants[^>]*-->\s*```sql\n(.*?)```", text_, re.S)
    assert found, "the README lost its app-role-grants block"
    return [line for line in found.group(1).splitlines() if line.strip()]


@pytest.fixture
def app_role(pg_admin, pg_template):
    """A database of its own, and the README's application role on it: (owner url, app url)."""
    name = f"{pg_template[:-4]}_grants_{uuid.uuid4().hex[:6]}"
    owner_url = pg_admin.create(name, template=pg_template)
    role = f"kitops_app_{uuid.uuid4().hex[:10]}"
    password = uuid.uuid4().hex
    owner = create_engine(owner_url, isolation_level="AUTOCOMMIT")
    try:
        with owner.connect() as conn:
            for statement in documented_grants():
                conn.execute(text(
                    statement.replace("kitops_app", role)
                    .replace("DATABASE kitops ", f'DATABASE "{name}" ')
                    .replace("'choose-one'", f"'{password}'")
                ))  # fmt: skip
        app_url = make_url(owner_url).set(username=role, password=password)
        yield owner_url, app_url.render_as_string(hide_password=False)
    finally:
        owner.dispose()
        pg_admin.drop(name)
        with pg_admin.engine.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))


def test_the_application_role_works_but_cannot_rewrite_the_ledger_or_the_audit_log(app_role):
    owner_url, app_url = app_role
    db = open_database(app_url)
    try:
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar().startswith("kitops_app_")
        # kitops works as the application role: every kind of change, and a refusal
        demo.load(UnitOfWork(db, "tester"), AS_OF)
        users.add_user(UnitOfWork(db, "tester"), "sam", "stockroom")
        operations.receive(UnitOfWork(db, "sam"), operations.ReceiptInput(
            location="LON-FRIDGE", sku="SERUM-5ML", lot="GRANT-1",
            expiry=(AS_OF + timedelta(days=300)).isoformat(), quantity=6), today=AS_OF)  # fmt: skip
        operations.move(UnitOfWork(db, "sam"), "CHX-0.5", 2, "LON-SHELF", "LON-STORE")
        operations.write_off(UnitOfWork(db, "sam"), "CHX-0.5", 1, "LON-STORE", "damaged")
        fulfilment.fulfil_course(UnitOfWork(db, "sam"), 3, today=AS_OF)  # the one statement
        with pytest.raises(NotAllowed):
            lots.change_status(UnitOfWork(db, "sam"), "GRANT-1", LotStatus.RECALLED, reason="x")
        lots.change_status(UnitOfWork(db, "tester"), "GRANT-1", LotStatus.RECALLED, reason="x")
        assert admin.check(UnitOfWork(db, "tester", readonly=True)).ok

        with db.engine.connect() as conn:
            for table in (*APPEND_ONLY, RECEIPTS):
                for privilege, held in (("SELECT", True), ("INSERT", True), ("UPDATE", False),
                                        ("DELETE", False), ("TRUNCATE", False)):  # fmt: skip
                    found = conn.execute(
                        text("SELECT has_table_privilege(current_user, :t, :p)"),
                        {"t": table, "p": privilege},
                    ).scalar()
                    assert found is held, (table, privilege)
            assert conn.execute(
                text("SELECT has_table_privilege(current_user, 'alembic_version', 'UPDATE')")
            ).scalar() is False  # fmt: skip
            # balances: read, and lock (PostgreSQL wants a column's UPDATE privilege for
            # SELECT ... FOR UPDATE); every change comes from the ledger's trigger
            for privilege, held in (("SELECT", True), ("INSERT", False), ("UPDATE", False),
                                    ("DELETE", False), ("TRUNCATE", False)):  # fmt: skip
                found = conn.execute(
                    text("SELECT has_table_privilege(current_user, 'stock_balances', :p)"),
                    {"p": privilege},
                ).scalar()
                assert found is held, ("stock_balances", privilege)
            # every ledger and audit row the role wrote carries its name, stamped by the server
            for table in APPEND_ONLY:
                roles_seen = set(
                    conn.execute(text(f"SELECT DISTINCT db_role FROM {table}")).scalars()
                )
                assert current_role_name(conn) in roles_seen, table
        for statement, sqlstate in (
            (
                "INSERT INTO stock_balances SELECT lot_id, location_id + 0, product_id, 1 "
                "FROM stock_balances LIMIT 1",
                "42501",
            ),
            ("DELETE FROM stock_balances", "42501"),
            ("TRUNCATE stock_balances", "42501"),
            ("UPDATE stock_balances SET quantity = quantity + 1", "23001"),
            ("UPDATE lots SET status = 'released' WHERE code = 'GRANT-1'", "23001"),
            ("UPDATE users SET active = false WHERE role = 'admin'", "23001"),
        ):
            with db.engine.connect() as conn, pytest.raises(DBAPIError) as refused:
                conn.execute(text(statement))
            assert refused.value.orig.sqlstate == sqlstate, (statement, refused.value)
        for table in (*APPEND_ONLY, RECEIPTS):
            for statement in (
                f"UPDATE {table} SET id = id WHERE id = (SELECT min(id) FROM {table})",
                f"DELETE FROM {table} WHERE id = (SELECT min(id) FROM {table})",
                f"TRUNCATE {table}",
            ):
                with db.engine.connect() as conn, pytest.raises(DBAPIError) as refused:
                    conn.execute(text(statement))
                assert refused.value.orig.sqlstate == "42501", (statement, refused.value)
                assert "permission denied" in str(refused.value.orig)
    finally:
        db.dispose()
    # the owner holds the privilege: there the append-only trigger is what refuses
    owner = create_engine(owner_url)
    try:
        with owner.connect() as conn, pytest.raises(DBAPIError) as refused:
            conn.execute(text("DELETE FROM audit_log WHERE id = (SELECT min(id) FROM audit_log)"))
        assert refused.value.orig.sqlstate != "42501"
        assert "append-only" in str(refused.value.orig)
    finally:
        owner.dispose()
