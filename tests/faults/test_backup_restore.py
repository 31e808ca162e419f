"""`kitops db backup` and `kitops db restore`: consistent copies while others write, and a
restore that is checked first and then replaces the database in one step."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest
from fault_support import (
    db_check_passes,
    kill_at_point,
    kitops_argv,
    kitops_in_process,
    ok,
    snapshot,
)
from fault_workers import shuttle
from tamper_support import SQLITE_BALANCE_GUARDS

from kitops.data import migrate
from kitops.data.engine import open_database

AS_OF = "2026-11-22"
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("kitops: ")
    assert "Traceback" not in err
    return lines[0]


def moves_in(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM stock_moves").fetchone()[0])
    finally:
        conn.close()


@sqlite_only
def test_backups_taken_while_a_writer_works_are_consistent_and_restore(db_url, tmp_path):
    ok(db_url, "demo", "--as-of", AS_OF)
    before = snapshot(db_url)["stock_moves"]
    context = multiprocessing.get_context("spawn")
    started, stop = context.Value("i", 0), context.Event()
    backups = []
    writer = context.Process(target=shuttle, args=(db_url, started, stop))
    writer.start()
    try:
        while started.value == 0 and writer.is_alive():
            time.sleep(0.01)
        for i in range(6):
            path = tmp_path / f"backup-{i}.db"
            out = ok(db_url, "db", "backup", str(path))
            assert str(path) in out
            backups.append(path)
            time.sleep(0.05)
    finally:
        stop.set()
        writer.join(120)
    assert writer.exitcode == 0
    made = started.value
    assert made > 0
    final = snapshot(db_url)["stock_moves"]
    assert final == before + made
    counts = [moves_in(path) for path in backups]
    assert counts == sorted(counts)
    assert all(before <= count <= final for count in counts)
    for path in backups:
        assert not Path(f"{path}-wal").exists()  # one self-contained file
        db_check_passes(f"sqlite:///{path}")

    # restore one taken mid-way over the live database: checked, swapped, old file kept
    chosen = backups[len(backups) // 2]
    code, out, err = kitops_in_process(db_url, "db", "restore", str(chosen), "--yes")
    assert code == 0, err
    assert "restored" in out
    assert ".replaced-" in out
    db_check_passes(db_url)
    assert snapshot(db_url)["stock_moves"] == moves_in(chosen)
    live = Path(db_url.removeprefix("sqlite:///"))
    [aside] = live.parent.glob(f"{live.name}.replaced-*")
    assert moves_in(aside) == final  # the replaced database, whole
    db_check_passes(f"sqlite:///{aside}")
    # the restored database takes the next command
    ok(db_url, "move", "SERUM-5ML", "--qty", "1", "--from", "LON-FRIDGE", "--to", "LON-SHELF",
       "--lot", "PTT6-B0902")  # fmt: skip
    db_check_passes(db_url)


@sqlite_only
def test_restore_refuses_what_is_not_a_usable_kitops_backup_and_changes_nothing(db_url, tmp_path):
    ok(db_url, "demo", "--as-of", AS_OF)
    good = tmp_path / "good.db"
    ok(db_url, "db", "backup", str(good))
    ok(db_url, "move", "SERUM-5ML", "--qty", "1", "--from", "LON-FRIDGE", "--to", "LON-SHELF")
    state = snapshot(db_url)

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is a spreadsheet, not a database\n" * 50)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE notes (text)").connection.close()
    newer = tmp_path / "newer.db"
    newer.write_bytes(good.read_bytes())
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    broken = tmp_path / "broken.db"
    broken.write_bytes(good.read_bytes())
    conn = sqlite3.connect(broken)
    guards = [conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (guard,)).fetchone()[0]
              for guard in SQLITE_BALANCE_GUARDS]  # fmt: skip
    for guard in SQLITE_BALANCE_GUARDS:  # as the file's owner could
        conn.execute(f"DROP TRIGGER {guard}")
    conn.execute("UPDATE stock_balances SET quantity = quantity + 1")
    for sql in guards:  # and put back, so only the ledger check can tell
        conn.execute(sql)
    conn.commit()
    conn.close()

    cases = [
        (tmp_path / "missing.db", 2, "no such file"),
        (junk, 2, "not a SQLite database"),
        (other, 2, "not a kitops database"),
        (newer, 1, "newer than this kitops"),
        (broken, 1, "fails the ledger check"),
    ]
    for path, code_wanted, needle in cases:
        code, out, err = kitops_in_process(db_url, "db", "restore", str(path), "--yes")
        assert code == code_wanted, (path, err)
        assert needle in one_line(err), err
        assert out == ""
    assert snapshot(db_url) == state
    live = Path(db_url.removeprefix("sqlite:///"))
    assert not list(live.parent.glob(f"{live.name}.replaced-*"))
    assert not list(live.parent.glob(f".{live.name}.restoring-*"))

    # an unanswered confirmation changes nothing; a database held open is not replaced
    code, _, err = kitops_in_process(db_url, "db", "restore", str(good))
    assert code == 1
    assert "aborted" in err
    holder = sqlite3.connect(live)
    holder.execute("SELECT count(*) FROM stock_moves").fetchone()
    try:
        code, _, err = kitops_in_process(db_url, "db", "restore", str(good), "--yes")
    finally:
        holder.close()
    assert code == 1
    assert "in use" in one_line(err)
    assert snapshot(db_url) == state
    db_check_passes(db_url)


def test_restoring_an_older_backup_upgrades_it_to_this_version(tmp_path):
    old = tmp_path / "old.db"
    db = open_database(f"sqlite:///{old}")
    migrate.upgrade(db, "0005")
    db.dispose()
    target = f"sqlite:///{tmp_path / 'new' / 'kitops.db'}"
    (tmp_path / "new").mkdir()
    code, out, err = kitops_in_process(target, "db", "restore", str(old))
    assert code == 0, err  # nothing to replace: no question asked
    assert f"upgraded from revision 0005 to {migrate.HEAD_REVISION}" in out
    assert ".replaced-" not in out
    code, out, _ = kitops_in_process(target, "db", "current", "--json")
    assert f'"revision": "{migrate.HEAD_REVISION}"' in out
    db_check_passes(target)


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)])
def test_postgresql_backup_and_restore_point_at_pg_dump_and_pg_restore(db_url, tmp_path):
    code, _, err = kitops_in_process(db_url, "db", "backup", str(tmp_path / "x.dump"))
    assert code == 1
    assert "pg_dump --format=custom" in one_line(err)
    code, _, err = kitops_in_process(db_url, "db", "restore", str(tmp_path / "x.dump"), "--yes")
    assert code == 1
    line = one_line(err)
    assert "pg_restore --clean --if-exists --no-owner" in line
    assert "kitops db check" in line


@sqlite_only
def test_copies_left_by_killed_restores_are_removed_by_the_next_restore(db_url, tmp_path):
    ok(db_url, "demo", "--as-of", AS_OF)
    backup = tmp_path / "backup.db"
    ok(db_url, "db", "backup", str(backup))
    live = Path(db_url.removeprefix("sqlite:///"))
    state = snapshot(db_url)
    for point in ("db.restore:after_copy", "uow:before_commit"):  # copied; checked too
        kill_at_point(kitops_argv(db_url, "db", "restore", str(backup), "--yes"), point)
    left = list(live.parent.glob(f".{live.name}.restoring-*"))
    assert len(left) >= 2, left  # each killed restore left its copy
    assert snapshot(db_url) == state  # and the database as it was

    # the next restore removes them, even one that is then refused
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database\n" * 100)
    code, _, err = kitops_in_process(db_url, "db", "restore", str(junk), "--yes")
    assert code == 2, err
    assert not list(live.parent.glob(f".{live.name}.restoring-*"))
    code, _, err = kitops_in_process(db_url, "db", "restore", str(backup), "--yes")
    assert code == 0, err
    assert not list(live.parent.glob(f".{live.name}.restoring-*"))
    db_check_passes(db_url)
