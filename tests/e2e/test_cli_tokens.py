"""`kitops token create|list|revoke`: the token printed once, listed without it, revoked;
bad input exits 2 naming the field, a refusal exits 1, and neither writes a token."""

from __future__ import annotations

import json

from e2e_support import assert_bad_input, assert_refused
from sqlalchemy import func, select

from kitops.data.schema import ApiTokenRow
from kitops.services import users
from kitops.services.unit_of_work import UnitOfWork


def _tokens(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(ApiTokenRow)).scalar_one()


def test_a_token_is_printed_once_listed_without_it_and_revoked(cli, db):
    users.add_user(UnitOfWork(db, "tester"), "shopapp", "stockroom", None)
    made = cli("token", "create", "shop", "--user", "shopapp", "--read-only",
               "--expires", "2199-12-30")  # fmt: skip
    assert made.code == 0, made.err
    secret = made.out.strip().splitlines()[-1]
    assert secret.startswith("kt_")
    assert len(secret) == 46
    assert "acts as shopapp, read-only" in made.out
    listed = cli("token", "list", "--json")
    assert listed.code == 0
    (entry,) = json.loads(listed.out)
    assert (entry["name"], entry["user"], entry["read_only"], entry["state"]) == (
        "shop",
        "shopapp",
        True,
        "active",
    )
    assert entry["expires_at"].startswith("2199-12-31T00:00:00")
    assert secret not in listed.out
    assert secret not in cli("token", "list").out
    as_json = cli("token", "create", "other", "--user", "shopapp", "--json")
    assert json.loads(as_json.out)["secret"].startswith("kt_")
    revoked = cli("token", "revoke", "shop")
    assert revoked.code == 0
    assert "revoked shop" in revoked.out
    assert json.loads(cli("token", "list", "--json").out)[1]["state"] == "revoked"
    assert_refused(cli("token", "revoke", "shop"), "token shop was revoked already")


def test_bad_input_and_refusals_write_no_token(cli, db):
    users.add_user(UnitOfWork(db, "tester"), "shopapp", "stockroom", None)
    assert_bad_input(cli("token", "create", "shop", "--user", "shopapp", "--expires", "soon"),
                     "expires 'soon'")  # fmt: skip
    assert_bad_input(cli("token", "create", "shop", "--user", "nobody"), "user 'nobody'")
    assert_bad_input(cli("token", "create", "Bad Name", "--user", "shopapp"), "NAME 'Bad Name'")
    assert_bad_input(cli("token", "revoke", "missing"), "NAME 'missing'")
    users.add_user(UnitOfWork(db, "tester"), "boss", "manager", None)
    from kitops.cli import run

    assert run(["--db", str(db.engine.url.render_as_string(hide_password=False)), "--user",
                "boss", "token", "list"]) == 1  # fmt: skip
    assert _tokens(db) == 0
