"""Files kitops creates are readable by their owner only (0600), or by a group the admin
names (0660, ``KITOPS_FILE_GROUP``): the database and the -wal and -shm beside it, backups,
restores and the copy they keep aside, reports, labels and purchase-order exports."""

from __future__ import annotations

import grp
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from e2e_support import assert_bad_input


@pytest.fixture(autouse=True)
def _everyday_umask():
    """The umask most accounts have (022: new files 0644), whatever the test runner's."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def kitops(capsys):
    """``kitops(*args, db=URL)`` in-process, as the tester (SQLite only: file modes)."""
    from kitops.cli import run

    class Result:
        def __init__(self, code: int, out: str, err: str) -> None:
            self.code, self.out, self.err = code, out, err

    def invoke(*args: str, db: str) -> Result:
        capsys.readouterr()
        code = run(["--db", db, "--user", "tester", *args])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Result(code, captured.out, captured.err)

    return invoke


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def fresh(kitops, tmp_path):
    """A SQLite database kitops itself creates (``db upgrade``) with the demo data."""
    url = f"sqlite:///{tmp_path / 'data' / 'kitops.db'}"
    for args in (("db", "upgrade"), ("demo",)):
        done = kitops(*args, db=url)
        assert done.code == 0, done.err
    return url, tmp_path / "data" / "kitops.db"


def test_the_database_its_wal_and_shm_are_private(fresh):
    _, path = fresh
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700  # the folder kitops made for it
    # SQLite gives its -wal and -shm files the database file's mode, whoever opens it
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TEMP TABLE t (x)")
        conn.execute("SELECT count(*) FROM stock_moves").fetchone()
        for end in ("-wal", "-shm"):
            side = path.with_name(path.name + end)
            assert side.exists(), side
            assert mode(side) == 0o600, side
    finally:
        conn.close()


def test_backups_restores_reports_labels_and_exports_are_private(kitops, fresh, tmp_path):
    url, path = fresh
    out = tmp_path / "out"
    out.mkdir()
    made = []
    for args, target in (
        (("db", "backup", str(out / "nightly.db")), out / "nightly.db"),
        (("report", "stock", "--out", str(out / "stock.csv")), out / "stock.csv"),
        (("report", "stock", "--out", str(out / "stock.html")), out / "stock.html"),
        (("kit", "label", "K0000001", "--out", str(out / "label.pdf")), out / "label.pdf"),
    ):
        done = kitops(*args, db=url)
        assert done.code == 0, (args, done.err)
        made.append(target)
    assert kitops("reorder", "run", db=url).code == 0
    po = out / "po.csv"
    assert (
        kitops("po", "export", "PO-000001", "--format", "csv", "--out", str(po), db=url).code == 0
    )
    made.append(po)
    for target in made:
        assert mode(target) == 0o600, target
    restored = kitops("db", "restore", str(out / "nightly.db"), "--yes", "--json", db=url)
    assert restored.code == 0, restored.err
    assert mode(path) == 0o600
    kept = list(path.parent.glob("kitops.db.replaced-*"))
    assert kept
    assert all(mode(copy) == 0o600 for copy in kept)


def test_a_group_named_by_the_admin_gets_read_and_write(kitops, tmp_path, monkeypatch):
    group = grp.getgrgid(os.getegid()).gr_name
    monkeypatch.setenv("KITOPS_FILE_GROUP", group)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    assert kitops("db", "upgrade", db=url).code == 0
    assert mode(tmp_path / "shared.db") == 0o660
    monkeypatch.setenv("KITOPS_FILE_GROUP", "no-such-group-kitops")
    assert_bad_input(kitops("db", "current", db=url), "KITOPS_FILE_GROUP", "no such group")


def test_the_test_process_keeps_its_own_umask(kitops, tmp_path):
    assert kitops("db", "upgrade", db=f"sqlite:///{tmp_path / 'k.db'}").code == 0
    (tmp_path / "mine.txt").write_text("x", encoding="utf-8")
    assert mode(tmp_path / "mine.txt") == 0o644
