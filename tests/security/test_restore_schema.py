"""`db restore` checks the backup's schema objects (tables, indexes, triggers) against
its revision and refuses a mismatch; after a restore the guards kitops owns are in place,
so the live audit log and ledger stay append-only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from kitops.cli import run

pytestmark = [
    pytest.mark.demo_data(),
    pytest.mark.parametrize("backend", ["sqlite"], indirect=True),
]


def kitops(url: str, *args: str, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["--db", url, "--user", "tester", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def tampered(good: Path, tmp_path: Path, name: str, *statements: str) -> Path:
    path = tmp_path / name
    path.write_bytes(good.read_bytes())
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()
    return path


def audit_is_append_only(path: Path) -> bool:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("UPDATE audit_log SET actor = 'nobody'")
    except sqlite3.DatabaseError as error:
        return "append-only" in str(error)
    finally:
        conn.close()
    return False


# the ledger and the balances are edited to agree, so the ledger check alone passes
RECEIPT = (
    "(SELECT max(m.id) FROM stock_moves m JOIN locations l ON l.id = m.from_location_id "
    "WHERE l.kind = 'supplier')"
)
EDIT_LEDGER = [
    # the balance guards, where this revision has them (migration 0017)
    *(
        f"DROP TRIGGER IF EXISTS {guard}"
        for guard in (
            "stock_balances_follow_ledger_insert",
            "stock_balances_follow_ledger_update",
            "stock_balances_no_delete",
        )
    ),
    f"UPDATE stock_moves SET quantity = quantity + 5 WHERE id = {RECEIPT}",
    "UPDATE stock_balances SET quantity = quantity + 5 WHERE (lot_id, location_id) = "
    f"(SELECT lot_id, to_location_id FROM stock_moves WHERE id = {RECEIPT})",
]


@pytest.mark.parametrize(
    ("name", "statements", "needle"),
    [
        (
            "no-triggers.db",
            [
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
                "DROP TRIGGER stock_moves_no_update",
                "DROP TRIGGER stock_moves_no_delete",
                *EDIT_LEDGER,
            ],
            "trigger",
        ),
        ("one-trigger.db", ["DROP TRIGGER audit_log_no_update"], "audit_log_no_update"),
        (
            "weak-trigger.db",
            [
                "DROP TRIGGER audit_log_no_update",
                "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                "WHEN 0 BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
            ],
            "audit_log_no_update",
        ),
        (
            "extra-trigger.db",
            [
                "CREATE TRIGGER sneaky AFTER INSERT ON audit_log BEGIN "
                "DELETE FROM users WHERE 0; END"
            ],
            "sneaky",
        ),
        ("no-index.db", ["DROP INDEX ix_stock_moves_lot_flow"], "ix_stock_moves_lot_flow"),
        ("extra-table.db", ["CREATE TABLE notes (text)"], "notes"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_restore_refuses_a_backup_whose_schema_objects_differ_from_its_revision(
    db_url, tmp_path, capsys, name, statements, needle
):
    live = Path(make_url(db_url).database or "")
    good = tmp_path / "good.db"
    assert kitops(db_url, "db", "backup", str(good), capsys=capsys)[0] == 0
    bad = tampered(good, tmp_path, name, *statements)
    before = live.read_bytes()
    code, out, err = kitops(db_url, "db", "restore", str(bad), "--yes", capsys=capsys)
    assert code == 1, err
    line = one_line(err)
    assert "schema" in line
    assert needle in line
    assert out == ""
    assert live.read_bytes() == before
    assert audit_is_append_only(live)
    assert not list(live.parent.glob(f".{live.name}.restoring-*"))
    # the untouched backup still restores
    code, _, err = kitops(db_url, "db", "restore", str(good), "--yes", capsys=capsys)
    assert code == 0, err
    assert audit_is_append_only(live)


def test_after_any_restore_the_live_audit_log_and_ledger_refuse_updates(db_url, tmp_path, capsys):
    live = Path(make_url(db_url).database or "")
    backup = tmp_path / "backup.db"
    assert kitops(db_url, "db", "backup", str(backup), capsys=capsys)[0] == 0
    code, _, err = kitops(db_url, "db", "restore", str(backup), "--yes", capsys=capsys)
    assert code == 0, err
    assert audit_is_append_only(live)
    conn = sqlite3.connect(live, isolation_level=None)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM stock_moves")
    finally:
        conn.close()
