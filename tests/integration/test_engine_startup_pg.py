"""PostgreSQL: what a command learns when it connects comes from what the server reports at
the start of the session (kitops.data.engine, kitops.services.identity), and matches what
the server answers when asked."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from kitops.data import migrate
from kitops.data.engine import _version_from_number, open_database
from kitops.services.identity import current_identity


def test_server_version_numbers_read_as_sqlalchemy_spells_them() -> None:
    assert _version_from_number(150020) == (15, 20)
    assert _version_from_number(180000) == (18, 0)
    assert _version_from_number(90624) == (9, 6, 24)


@pytest.mark.postgresql
class TestOnPostgreSQL:
    @pytest.fixture
    def backend(self) -> str:
        return "postgresql"

    def test_the_first_connection_learns_what_the_server_says(self, db_url):
        db = open_database(db_url)
        try:
            with db.engine.connect() as conn:
                asked = conn.execute(
                    text(
                        "SELECT current_setting('server_version_num')::int, current_schema(), "
                        "current_setting('transaction_isolation'), "
                        "current_setting('standard_conforming_strings')"
                    )
                ).one()
            dialect = db.engine.dialect
            assert dialect.server_version_info == _version_from_number(asked[0])
            assert dialect.default_schema_name == asked[1]
            assert dialect.default_isolation_level == asked[2].upper()
            assert dialect._backslash_escapes is (asked[3] == "off")
            assert dialect._has_native_hstore is False  # no HSTORE column in kitops
        finally:
            db.dispose()

    def test_the_identity_is_the_session_user(self, db_url):
        db = open_database(db_url)
        try:
            with db.engine.connect() as conn:
                session_user = conn.execute(text("SELECT session_user")).scalar_one()
            assert current_identity(db) == session_user
        finally:
            db.dispose()

    def test_a_server_that_reports_nothing_is_asked(self, db_url, monkeypatch):
        """A pooler may pass on none of the session's parameters: each answer is then asked
        for with a statement, and comes out the same."""
        monkeypatch.setattr(psycopg.ConnectionInfo, "server_version", property(lambda _: 0))
        monkeypatch.setattr(psycopg.ConnectionInfo, "parameter_status", lambda _, name: None)
        db = open_database(db_url)
        try:
            with db.engine.connect() as conn:
                info = conn.connection.driver_connection.info
                assert (info.server_version, info.parameter_status("session_authorization")) == (
                    0, None,
                )  # fmt: skip
                session_user = conn.execute(text("SELECT session_user")).scalar_one()
                version_num = conn.execute(text("SHOW server_version_num")).scalar_one()
            assert current_identity(db) == session_user
            assert db.engine.dialect.server_version_info[0] == int(version_num) // 10_000
            assert db.engine.dialect._backslash_escapes is False
        finally:
            db.dispose()

    def test_a_database_not_set_up_has_no_revision_and_its_connection_goes_on(self, pg_admin):
        name = f"kitops_t_startup_{id(self)}"
        url = pg_admin.create(name)
        db = open_database(url)
        try:
            assert migrate.current_revision(db) is None
            with db.engine.connect() as conn:  # the pooled connection is usable again
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
            assert migrate.current_revision(db) is None
        finally:
            db.dispose()
            pg_admin.drop(name)
