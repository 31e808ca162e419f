"""Never exit 70: inputs and conditions that used to end in "internal error" now end in
one line, exit 2 for bad input or exit 1 for an unreachable or refusing database, and
nothing is written."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from identity_support import bind_identity_url
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from kitops.data.schema import AuditRow, LocationRow, ProductRow, StockMoveRow
from kitops.reports.registry import REPORTS

pytestmark = pytest.mark.demo_data()

OUT_OF_RANGE = ["9999-12-31", "0001-01-01"]
HUGE_ID = str(10**30)


def footprint(url: str) -> tuple[int, ...]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return tuple(
                conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (StockMoveRow, AuditRow, LocationRow, ProductRow)
            )
    finally:
        engine.dispose()


def one_line(result, code: int, *needles: str) -> str:
    assert result.code == code, (result.code, result.out, result.err)
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("kitops: "), lines[0]
    assert "internal error" not in lines[0]
    assert "Traceback" not in result.err + result.out
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


DATED = [
    ("reorder", "run", "--as-of"),
    ("reorder", "run", "--dry-run", "--as-of"),
    ("stock", "--as-of"),
    ("expiry", "sweep", "--dry-run", "--as-of"),
    *[("report", name, "--as-of") for name in REPORTS],
]


def test_a_date_outside_the_supported_range_is_bad_input(kitops, db_url):
    before = footprint(db_url)
    for args in DATED:  # one database for all: each command must leave it as it was
        for day in OUT_OF_RANGE:
            line = one_line(kitops(*args, day), 2, day)
            assert "as_of" in line or "as-of" in line, (args, line)
    assert footprint(db_url) == before


@pytest.mark.parametrize("day", ["9999-12-25", "0001-01-01", "2200-01-01"])
def test_a_course_starting_outside_the_supported_range_is_bad_input(kitops, db_url, day):
    before = footprint(db_url)
    args = ("course", "create", "--patient", "P-RANGE", "--plan", "home-6w", "--clinic", "LON")
    one_line(kitops(*args, "--start", day), 2, "start", day)
    assert footprint(db_url) == before


@pytest.mark.parametrize(
    "args",
    [
        ("course", "show", HUGE_ID),
        ("course", "cancel", HUGE_ID),
        ("order", "show", HUGE_ID),
        ("fulfil", HUGE_ID),
        ("course", "show", str(2**63)),
    ],
    ids=lambda a: "-".join(a)[:30],
)
def test_an_id_beyond_the_database_integer_range_is_bad_input(kitops, db_url, args):
    before = footprint(db_url)
    one_line(kitops(*args), 2, args[-1])
    assert footprint(db_url) == before


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("args", [("backup",), ("restore", "--yes")])
def test_a_file_name_too_long_for_the_system_is_bad_input(kitops, db_url, args):
    before = footprint(db_url)
    one_line(kitops("db", args[0], "A" * 5000, *args[1:]), 2, "path")
    assert footprint(db_url) == before


def test_a_five_thousand_character_time_zone_is_bad_input(kitops, db_url):
    before = footprint(db_url)
    zone = "Europe/" + "A" * 5000
    result = kitops("location", "add", "MARS", "--name", "Mars", "--timezone", zone,
                    "--currency", "GBP")  # fmt: skip
    line = one_line(result, 2, "timezone")
    assert len(line) < 400, line
    assert footprint(db_url) == before


@pytest.mark.parametrize("kind", ["products", "locations", "stock", "count"])
def test_a_csv_field_over_128_kib_is_bad_input_naming_file_line_and_field(
    kitops, db_url, tmp_path, kind
):
    path = tmp_path / "big.csv"
    header = {"products": "sku,name,kind,unit", "locations": "code,name,parent,kind",
              "stock": "sku,quantity,location,lot", "count": "sku,lot,counted"}[kind]  # fmt: skip
    path.write_text(f"{header}\nCHX-0.5,{'a' * (140 * 1024)},3,x\n", encoding="utf-8")
    before = footprint(db_url)
    args = ("count", "--location", "LON-FRIDGE", str(path)) if kind == "count" else (
        "import", kind, str(path))  # fmt: skip
    line = one_line(kitops(*args), 2, str(path), "line 2")
    assert "name" in line or "quantity" in line or "lot" in line, line
    assert len(line) < 400, line
    assert footprint(db_url) == before


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("value", ["abc", "-5", "1e3", "99999999999999999999"])
def test_a_malformed_busy_timeout_setting_is_bad_input_naming_the_variable(
    kitops, db_url, monkeypatch, value
):
    monkeypatch.setenv("KITOPS_BUSY_TIMEOUT_MS", value)
    before = footprint(db_url)
    for args in (("stock",), ("move", "CHX-0.5", "--qty", "1", "--from", "LON-SHELF",
                              "--to", "LON-STORE"), ("db", "check")):  # fmt: skip
        one_line(kitops(*args), 2, "KITOPS_BUSY_TIMEOUT_MS", value)
    monkeypatch.delenv("KITOPS_BUSY_TIMEOUT_MS")
    assert footprint(db_url) == before


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_unreachable_postgresql_server_is_one_line_exit_1(kitops):
    with socket_that_refuses() as port:
        url = f"postgresql://kitops:secret-pw@127.0.0.1:{port}/kitops"
        for args in (("stock",), ("db", "current"), ("db", "upgrade"), ("db", "check")):
            line = one_line(kitops(*args, db=url), 1, "127.0.0.1")
            assert "secret-pw" not in line


@pytest.mark.postgresql
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_missing_postgresql_database_is_one_line_exit_1(kitops, db_url):
    url = make_url(db_url).set(database=f"kitops_missing_{uuid.uuid4().hex[:8]}")
    shown = url.render_as_string(hide_password=False)
    for args in (("stock",), ("db", "current"), ("db", "check")):
        one_line(kitops(*args, db=shown), 1, str(url.database))


@pytest.mark.postgresql
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_demo_reset_as_the_application_role_is_refused_in_one_line(kitops, db_url):
    role = f"kitops_app_{uuid.uuid4().hex[:10]}"
    owner = create_engine(db_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = make_url(db_url).database
    grants = [
        f"CREATE ROLE {role} LOGIN PASSWORD 'pw-{role}'",
        f'GRANT CONNECT ON DATABASE "{name}" TO {role}',
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON stock_moves, audit_log FROM {role}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}",
    ]
    try:
        with owner.connect() as conn:
            for statement in grants:
                conn.execute(text(statement))
        app_url = make_url(db_url).set(username=role, password=f"pw-{role}")
        shown = app_url.render_as_string(hide_password=False)
        bind_identity_url(shown, "tester")  # the role is an admin's: only its rights fail
        before = footprint(db_url)
        one_line(kitops("demo", "--reset", "--yes", "--as-of", "2026-11-22", db=shown), 1)
        assert footprint(db_url) == before
    finally:
        with owner.connect() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        owner.dispose()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_restore_while_a_reader_holds_a_rollback_journal_database_is_refused(
    kitops, db_url, tmp_path, monkeypatch
):
    backup = tmp_path / "backup.db"
    assert kitops("db", "backup", str(backup)).code == 0
    live = Path(make_url(db_url).database or "")
    reader = sqlite3.connect(live, isolation_level=None)
    try:
        assert reader.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM users").fetchone()
        monkeypatch.setenv("KITOPS_BUSY_TIMEOUT_MS", "100")
        one_line(kitops("db", "restore", str(backup), "--yes"), 1, "in use")
    finally:
        reader.close()
    assert not list(tmp_path.glob(".*restoring*"))
    assert not list(tmp_path.glob("*.replaced-*"))


class socket_that_refuses:
    """A local port nothing listens on (bound, never listening: connections are refused)."""

    def __enter__(self) -> int:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        return int(self._sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self._sock.close()
