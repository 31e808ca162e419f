"""Clinic scoping from the command line: `kitops user set-clinics`, its bad input, and
what a user limited to one clinic sees and may do (the demo's users: README, Users, roles
and audit)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from e2e_support import assert_bad_input, assert_refused, json_of
from identity_support import bind_identity
from sqlalchemy import func, select

from kitops.data.schema import AuditRow, UserClinicRow


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def as_user(demo, db_url, db, capsys):
    """``as_user(name, *args)`` → Result of ``kitops ARGS`` run by a login bound to
    ``name``; the login is bound to "tester" again afterwards."""
    from kitops.cli import run

    def invoke(who: str, *args: str) -> Result:
        bind_identity(db.engine, who)
        capsys.readouterr()
        try:
            code = run(["--db", db_url, "--user", who, *args])
        finally:
            bind_identity(db.engine, "tester")
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Result(code, captured.out, captured.err)

    return invoke


def limits(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(UserClinicRow)).scalar_one()


def refusals(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(AuditRow).where(AuditRow.action == "access.refused")
        ).scalar_one()


def test_set_clinics_limits_a_user_and_shows_it(demo):
    done = demo("user", "set-clinics", "stock", "esx,LON")
    assert done.code == 0, done.err
    assert "stock: stockroom" in done.out
    assert "clinics ESX,LON" in done.out
    shown = json_of(demo, "user", "show", "stock", "--json")
    assert shown["clinics"] == ["ESX", "LON"]
    listed = {u["name"]: u["clinics"] for u in json_of(demo, "user", "list", "--json")}
    assert listed["stock"] == ["ESX", "LON"]
    assert listed["manager"] == []
    table = demo("user", "list").out
    assert "ESX,LON" in table
    cleared = demo("user", "set-clinics", "stock", "--all")
    assert cleared.code == 0
    assert "every clinic" in cleared.out
    assert json_of(demo, "user", "show", "stock", "--json")["clinics"] == []


def test_set_clinics_bad_input_is_one_line_and_changes_nothing(demo, db):
    assert_bad_input(demo("user", "set-clinics", "stock", "LON,NOPE"), "clinics", "NOPE")
    assert_bad_input(demo("user", "set-clinics", "stock", "LON-FRIDGE"), "LON-FRIDGE", "clinic")
    assert_bad_input(demo("user", "set-clinics", "stock", "LON", "--all"), "clinics", "--all")
    assert_bad_input(demo("user", "set-clinics", "stock", "LON;ESX"), "clinics")
    assert limits(db) == 0


def test_only_an_admin_sets_clinics(demo, as_user, db):
    before = refusals(db)
    assert_refused(as_user("manager", "user", "set-clinics", "stock", "ESX"),
                   "manager (manager) may not")  # fmt: skip
    assert limits(db) == 0
    assert refusals(db) == before + 1


def test_a_user_limited_to_a_clinic_sees_and_acts_there_only(demo, as_user, db):
    assert demo("user", "set-clinics", "stock", "ESX").code == 0
    seen = as_user("stock", "stock", "--json")
    assert seen.code == 0, seen.err
    lines = json.loads(seen.out)
    assert lines
    assert {line["clinic"] for line in lines} == {"ESX"}
    courses = json.loads(as_user("stock", "course", "list", "--json").out)
    assert {c["clinic"] for c in courses} == {"ESX"}
    every = json_of(demo, "course", "list", "--json")
    london = next(c["id"] for c in every if c["clinic"] == "LON")
    assert_bad_input(as_user("stock", "course", "show", str(london)), "no course has this number")
    before = refusals(db)
    refused = as_user("stock", "move", "CHX-0.5", "--qty", "1", "--from", "ESX-SHELF",
                      "--to", "LON-SHELF")  # fmt: skip
    assert_refused(refused, "stock may not move stock at clinic LON", "limited to ESX")
    assert refusals(db) == before + 1
