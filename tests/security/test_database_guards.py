"""The database keeps kitops' invariants itself (migration 0017), whatever plain SQL an
application connection sends: balances move only with the ledger, a recall is lifted only
through quarantine, a kit never loses its recall, the last active admin stays, and
PostgreSQL stamps ledger and audit rows with the login role and the server's clock."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kitops.services import admin

pytestmark = pytest.mark.demo_data()

LOT, PLACE = "PTT6-A0603", "ESX-FRIDGE"
BALANCE = (
    "(SELECT quantity FROM stock_balances WHERE lot_id = (SELECT id FROM lots WHERE code = :lot)"
    " AND location_id = (SELECT id FROM locations WHERE code = :place))"
)


def _scalar(db, sql, **params):
    with db.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _refused(db, sql, **params) -> str:
    """Run ``sql`` in a transaction of its own; it must fail. Returns the error's text."""
    with pytest.raises(DBAPIError) as caught, db.engine.begin() as conn:
        conn.execute(text(sql), params)
    return str(caught.value.orig)


def _run(db, sql, **params) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


# --- balances follow the ledger -----------------------------------------------------------


def test_a_ledger_row_written_by_plain_sql_moves_the_balances_with_it(db, uow):
    before = _scalar(db, f"SELECT {BALANCE}", lot=LOT, place=PLACE)
    _run(db, """
        INSERT INTO stock_moves (product_id, lot_id, from_location_id, to_location_id,
                                 quantity, reason, actor, created_at)
        SELECT l.product_id, l.id, src.id, dst.id, 2, 'transfer', 'outside', :at
        FROM lots l, locations src, locations dst
        WHERE l.code = :lot AND src.code = :place AND dst.code = 'ESX-STORE'
    """, lot=LOT, place=PLACE, at="2026-11-22 09:00:00")  # fmt: skip
    assert _scalar(db, f"SELECT {BALANCE}", lot=LOT, place=PLACE) == before - 2
    assert _scalar(db, f"SELECT {BALANCE}", lot=LOT, place="ESX-STORE") == 2
    assert admin.check(uow(readonly=True)).ok


def test_a_ledger_row_taking_more_than_is_there_is_refused(db):
    before = _scalar(db, f"SELECT {BALANCE}", lot=LOT, place=PLACE)
    _refused(db, """
        INSERT INTO stock_moves (product_id, lot_id, from_location_id, to_location_id,
                                 quantity, reason, actor, created_at)
        SELECT l.product_id, l.id, src.id, dst.id, :qty, 'transfer', 'outside', :at
        FROM lots l, locations src, locations dst
        WHERE l.code = :lot AND src.code = :place AND dst.code = 'ESX-STORE'
    """, lot=LOT, place=PLACE, qty=before + 1, at="2026-11-22 09:00:00")  # fmt: skip
    assert _scalar(db, f"SELECT {BALANCE}", lot=LOT, place=PLACE) == before


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE stock_balances SET quantity = quantity + 1",
        "UPDATE stock_balances SET quantity = 0",
        "DELETE FROM stock_balances",
        "INSERT INTO stock_balances (lot_id, location_id, product_id, quantity) "
        "SELECT l.id, p.id, l.product_id, 5 FROM lots l, locations p "
        "WHERE l.code = 'PTT6-A0603' AND p.code = 'LON-SHELF'",
    ],
    ids=["add", "zero", "delete", "insert"],
)
def test_a_balance_cannot_be_changed_without_a_ledger_row(db, uow, sql):
    total = _scalar(db, "SELECT sum(quantity) FROM stock_balances")
    rows = _scalar(db, "SELECT count(*) FROM stock_balances")
    assert "stock_balances change only with the ledger" in _refused(db, sql)
    assert _scalar(db, "SELECT sum(quantity) FROM stock_balances") == total
    assert _scalar(db, "SELECT count(*) FROM stock_balances") == rows
    assert admin.check(uow(readonly=True)).ok


@pytest.mark.postgresql
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_balance_cannot_be_truncated(db):
    assert "stock_balances change only with the ledger" in _refused(
        db, "TRUNCATE stock_balances CASCADE"
    )


# --- recalls -----------------------------------------------------------------------------


def test_a_recalled_lot_leaves_recalled_only_for_quarantine(db):
    _run(db, "UPDATE lots SET status = 'recalled' WHERE code = :lot", lot=LOT)
    for status in ("released", "expired"):
        assert "a recalled lot goes to quarantine" in _refused(
            db, "UPDATE lots SET status = :status WHERE code = :lot", status=status, lot=LOT
        )
    assert _scalar(db, "SELECT status FROM lots WHERE code = :lot", lot=LOT) == "recalled"
    # the documented two steps
    _run(db, "UPDATE lots SET status = 'quarantine' WHERE code = :lot", lot=LOT)
    _run(db, "UPDATE lots SET status = 'released' WHERE code = :lot", lot=LOT)
    assert _scalar(db, "SELECT status FROM lots WHERE code = :lot", lot=LOT) == "released"


def test_a_recalled_kit_stays_recalled(db):
    serial = _scalar(db, "SELECT serial FROM kits WHERE status = 'available' ORDER BY id LIMIT 1")
    _run(db, "UPDATE kits SET recalled = true, status = 'recalled', course_id = NULL, "
             "course_part = NULL WHERE serial = :s", s=serial)  # fmt: skip
    assert "a recalled kit stays recalled" in _refused(
        db, "UPDATE kits SET recalled = false WHERE serial = :s", s=serial
    )
    for status in ("available", "reserved", "handed_over"):
        assert "a recalled kit stays recalled" in _refused(
            db, "UPDATE kits SET status = :status WHERE serial = :s", status=status, s=serial
        )
    assert _scalar(db, "SELECT status FROM kits WHERE serial = :s", s=serial) == "recalled"
    _run(db, "UPDATE kits SET status = 'written_off' WHERE serial = :s", s=serial)


# --- the last admin ----------------------------------------------------------------------


def test_the_last_active_admin_cannot_be_deleted_disabled_or_demoted(db):
    # every admin but one may go; the last one stays whatever the SQL
    assert _scalar(db, "SELECT count(*) FROM users WHERE role = 'admin' AND active") >= 3
    _run(db, "DELETE FROM users WHERE name = 'checker'")
    _run(db, "UPDATE users SET active = false WHERE role = 'admin' AND name <> 'tester'")
    for sql in (
        "DELETE FROM users WHERE name = 'tester'",
        "UPDATE users SET active = false WHERE name = 'tester'",
        "UPDATE users SET role = 'manager' WHERE name = 'tester'",
        "UPDATE users SET active = false WHERE role = 'admin'",
        "DELETE FROM users",
    ):
        assert "the last active admin stays" in _refused(db, sql)
    assert _scalar(db, "SELECT count(*) FROM users WHERE role = 'admin' AND active") == 1
    # another admin first, then the old one may go
    _run(db, "UPDATE users SET active = true WHERE name = 'fault'")
    _run(db, "DELETE FROM users WHERE name = 'tester'")


# --- who and when, as PostgreSQL knows them ----------------------------------------------


@pytest.mark.postgresql
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_stamps_ledger_and_audit_rows_with_its_login_role_and_clock(db):
    with db.engine.begin() as conn:
        role = conn.execute(text("SELECT session_user")).scalar()
        conn.execute(text(
            "INSERT INTO audit_log (at, actor, action, entity, entity_key, db_role, db_time) "
            "VALUES ('2001-01-01', 'admin', 'user.set_role', 'user', 'cron', 'admin', "
            "'2001-01-01')"
        ))  # fmt: skip
        conn.execute(text("""
            INSERT INTO stock_moves (product_id, lot_id, from_location_id, to_location_id,
                quantity, reason, actor, created_at, db_role, db_time)
            SELECT l.product_id, l.id, src.id, dst.id, 1, 'transfer', 'admin', '2001-01-01',
                   'admin', '2001-01-01'
            FROM lots l, locations src, locations dst
            WHERE l.code = 'PTT6-A0603' AND src.code = 'ESX-FRIDGE' AND dst.code = 'ESX-STORE'
        """))  # fmt: skip
    for table in ("audit_log", "stock_moves"):
        stamped = _scalar(
            db,
            f"SELECT db_role = :role AND db_time > now() - interval '1 hour' "
            f"FROM {table} ORDER BY id DESC LIMIT 1",
            role=role,
        )
        assert stamped is True, table
        assert _scalar(db, f"SELECT count(*) FROM {table} WHERE db_role IS NULL") == 0
