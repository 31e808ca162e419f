"""Who may do what, from the command line: every permission in the role table, tried by
each role on the demo data; the first admin of a new database; disabled and unknown users;
the audit command; users and PINs."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from e2e_support import assert_bad_input, assert_refused, open_day, write_csv
from identity_support import bind_identity, identity_of_url
from sqlalchemy import select

from kitops.data.schema import AuditRow, Base, UserRow
from kitops.domain.roles import PERMISSIONS, Role

# the demo's users, one per role (README: Users, roles and audit)
AS_ROLE = {Role.JOB: "cron", Role.STOCKROOM: "stock", Role.MANAGER: "manager", Role.ADMIN: "admin"}
IN_DAYS = (date.today() + timedelta(days=400)).isoformat()
SOON = open_day(date.today() + timedelta(days=10)).isoformat()
WEEK_AGO = (date.today() - timedelta(days=7)).isoformat()


@pytest.fixture
def as_user(db_url, db, capsys):
    """``as_user(name, *args)`` → Result of ``kitops --user name ARGS`` run by a login bound
    to ``name`` (as an admin binds it: `kitops user bind`), if such a user exists; the
    login is bound to "tester" again afterwards."""
    from kitops.cli import run

    def invoke(who: str, *args: str) -> Result:
        with db.engine.connect() as conn:
            exists = conn.execute(select(UserRow.id).where(UserRow.name == who)).first()
        if exists:
            bind_identity(db.engine, who)
        capsys.readouterr()
        try:
            code = run(["--db", db_url, "--user", who, *args])
        finally:
            if exists:
                bind_identity(db.engine, "tester")
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Result(code, captured.out, captured.err)

    return invoke


def fingerprint(db) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the audit log: what a refused command must not change."""
    state = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            rows = conn.execute(select(table)).all()
            state[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return state


def audit_since(db, last_id: int) -> list[tuple[str, str, str]]:
    with db.engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                select(AuditRow.actor, AuditRow.action, AuditRow.entity_key)
                .where(AuditRow.id > last_id)
                .order_by(AuditRow.id)
            )
        ]


def last_audit_id(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(AuditRow.id).order_by(AuditRow.id.desc())).scalar() or 0


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Case:
    permission: str
    args: tuple[str, ...]
    setup: tuple[tuple[str, ...], ...] = ()
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> CSV lines
    stripe: bool = False  # needs the Stripe settings (pointed at a closed port)
    first: str | None = None  # a permission the command checks before this one
    not_owner: bool = False  # run as an account that does not own the database


CASES = [
    Case("stock.receive", ("receive", "SERUM-5ML", "--lot", "T-NEW", "--expiry", IN_DAYS,
                           "--qty", "5", "--location", "LON-FRIDGE")),
    Case("stock.move", ("move", "CHX-0.5", "--qty", "1", "--from", "LON-SHELF",
                        "--to", "LON-STORE")),
    Case("stock.count", ("count", "--location", "LON-SHELF", "{sheet}"),
         files={"sheet": ("sku,lot,counted", "CHX-0.5,-,20")}),
    Case("stock.writeoff", ("writeoff", "CHX-0.5", "--qty", "1", "--location", "LON-SHELF",
                            "--reason", "damaged")),
    Case("stock.writeoff_large", ("writeoff", "CHX-0.5", "--qty", "11",
                                  "--location", "LON-SHELF", "--reason", "damaged"),
         first="stock.writeoff"),
    Case("kit.assemble", ("kit", "assemble", "KIT-HOME-6W", "--qty", "1",
                          "--location", "LON-FRIDGE")),
    Case("kit.disassemble", ("kit", "disassemble", "K0000002")),
    Case("kit.dispatch", ("kit", "handover", "K0000001")),
    Case("kit.return", ("kit", "return", "K0000005", "--condition", "sealed"),
         setup=(("kit", "handover", "K0000005"),)),
    Case("kit.relabel", ("kit", "label", "K0000005", "--out", "{tmp}/again.pdf", "--reprint"),
         setup=(("kit", "handover", "K0000005"),)),
    Case("kit.release", ("kit", "release", "K0000005"),
         setup=(("kit", "handover", "K0000005"),
                ("kit", "return", "K0000005", "--condition", "sealed"))),
    Case("course.create", ("course", "create", "--patient", "P-NEW-1", "--plan", "home-6w",
                           "--start", SOON, "--clinic", "LON")),
    Case("course.cancel", ("course", "cancel", "9")),
    Case("course.reschedule", ("course", "reschedule", "8", "--from", SOON)),
    Case("course.pause", ("course", "pause", "7", "--reason", "travelling")),
    Case("course.resume", ("course", "resume", "7", "--from", SOON),
         setup=(("course", "pause", "7"),)),
    Case("course.complete", ("course", "complete", "6", "--early", "--reason", "moved")),
    Case("course.fulfil", ("fulfil", "3")),
    Case("session.record", ("session", "record", "4")),
    Case("order.create", ("order", "create", "--course", "3")),
    Case("order.pay", ("order", "pay", "1", "--payment-method", "pm_card_visa"),
         setup=(("order", "create", "--course", "3"),), stripe=True),
    Case("order.cancel", ("order", "cancel", "1"), setup=(("order", "create", "--course", "3"),)),
    Case("order.refund", ("order", "refund", "1"),
         setup=(("order", "create", "--course", "3"),), stripe=True),
    Case("lot.release", ("lot", "release", "PTT6-C0115")),
    Case("lot.quarantine", ("lot", "quarantine", "PTT6-A0519", "--reason", "a cracked vial")),
    Case("lot.recall", ("lot", "recall", "PTT6-A0519", "--reason", "supplier recall")),
    Case("po.approve", ("po", "approve", "PO-000001"), setup=(("reorder", "run"),)),
    Case("po.send", ("po", "send", "PO-000001"),
         setup=(("reorder", "run"), ("po", "approve", "PO-000001"))),
    Case("po.cancel", ("po", "cancel", "PO-000001", "--reason", "not needed"),
         setup=(("reorder", "run"),)),
    Case("supplier.edit", ("supplier", "add", "NEWSUP", "--name", "New supplier",
                           "--lead-time", "5", "--currency", "GBP")),
    Case("policy.edit", ("policy", "remove", "STAMP-0.5", "--clinic", "LON")),
    Case("report.run", ("report", "stock")),
    Case("clinic.close", ("clinic", "closure", "LON", "--from", SOON, "--to", SOON,
                          "--reason", "staff training")),
    Case("audit.read", ("audit", "--limit", "5")),
    Case("reorder.run", ("jobs", "run", "reorder")),
    Case("expiry.sweep", ("jobs", "run", "expiry-sweep")),
    # the job sweeps as of today; a sweep dated another day is a manager's
    Case("expiry.sweep_as_of", ("expiry", "sweep", "--as-of", WEEK_AGO), first="expiry.sweep"),
    Case("payment.sync", ("stripe", "sync"), stripe=True),
    Case("catalog.edit", ("catalog", "add-product", "GLOVES", "--name", "Gloves",
                          "--kind", "consumable")),
    Case("location.edit", ("location", "add", "LON-BOX", "--name", "Box", "--parent", "LON",
                           "--kind", "shelf")),
    Case("plan.edit", ("plan", "add", "home-4w", "--name", "Four weeks", "--per-week", "2",
                       "--weeks", "4", "--ml", "2.5", "--administered", "home",
                       "--kit", "KIT-HOME-6W", "--kits", "1")),
    Case("price.set", ("price", "set", "KIT-HOME-6W", "320.00", "GBP")),
    Case("vat.set", ("vat", "set", "GB", "kit", "5.5")),
    Case("setting.set", ("setting", "set", "writeoff_approval_units", "12")),
    Case("import.run", ("import", "products", "{products}"),
         files={"products": ("sku,name,kind", "GLOVES,Gloves,consumable")}),
    Case("user.manage", ("user", "add", "newbie", "--role", "stockroom", "--no-pin")),
    Case("token.manage", ("token", "create", "new-app", "--user", "stock")),
    Case("webhook.manage", ("webhook", "list")),
    Case("webhook.deliver", ("jobs", "run", "webhooks")),
    Case("alert.send", ("jobs", "run", "alerts")),
    Case("demo.load", ("demo",)),
    # the nightly backup: a job may (on PostgreSQL the allowed are pointed to pg_dump)
    Case("db.backup", ("db", "backup", "{tmp}/nightly.db")),
    # whoever owns the database may upgrade it; anyone else needs to be an admin
    Case("db.upgrade", ("db", "upgrade"), not_owner=True),
]  # fmt: skip

# Permissions with no command in this table, and where they are proven instead.
ELSEWHERE = {
    "db.reset": "kitops demo --reset: test_demo_reset_needs_an_admin",
    "db.restore": "kitops db restore: test_backups_by_admin_or_job_restores_by_admin_only",
}


def test_every_permission_is_tried_by_every_role():
    assert {case.permission for case in CASES} | set(ELSEWHERE) == set(PERMISSIONS)


@pytest.mark.parametrize("case", CASES, ids=[case.permission for case in CASES])
def test_each_role_is_allowed_or_refused_as_the_table_says(
    case, demo, as_user, db, tmp_path, monkeypatch
):
    if case.stripe:
        monkeypatch.setenv("KITOPS_STRIPE_API_KEY", "sk_test_kitops_roles")
        monkeypatch.setenv("KITOPS_STRIPE_API_BASE", "http://127.0.0.1:9")
        monkeypatch.setenv("KITOPS_STRIPE_MAX_RETRIES", "0")
    for step in case.setup:
        done = demo(*step)
        assert done.code == 0, (step, done.err)
    if case.not_owner:
        monkeypatch.setattr("kitops.services.admin.is_database_owner", lambda db: False)
    paths = {name: write_csv(tmp_path, f"{name}.csv", *lines) for name, lines in case.files.items()}
    args = [arg.format(tmp=tmp_path, **paths) for arg in case.args]
    wanted = PERMISSIONS[case.permission]
    # refused roles first (they must change nothing), then the roles that may
    for role in sorted(Role, key=wanted.allows):
        who = AS_ROLE[role]
        before, mark = fingerprint(db), last_audit_id(db)
        result = as_user(who, *args)
        if wanted.allows(role):
            assert "may not" not in result.err, (who, result.err)
            continue
        if case.first and not PERMISSIONS[case.first].allows(role):
            wanted = PERMISSIONS[case.first]
        assert result.code == 1, (who, result.code, result.out, result.err)
        assert f"{who} ({role.value}) may not " in result.err, result.err
        assert f": {wanted.holders} may" in result.err, result.err
        if case.args[0] != "jobs":  # `jobs run` adds its JSON line for cron's log
            assert len(result.err.strip().splitlines()) == 1, result.err
        assert fingerprint(db) == before, (who, "a refused command changed something")
        assert audit_since(db, mark) == [(who, "access.refused", wanted.name)]
        wanted = PERMISSIONS[case.permission]


READS = [
    ("stock", "--include-unavailable"), ("lot", "show", "PTT6-A0519"), ("trace", "PTT6-A0519"),
    ("kit", "list"), ("kit", "show", "K0000001"), ("course", "list"), ("course", "show", "1"),
    ("catalog", "list"), ("location", "list"), ("plan", "list"), ("supplier", "list"),
    ("policy", "list"), ("price", "list"), ("order", "list"), ("po", "list"), ("jobs", "list"),
    ("pick-list", "--clinic", "LON"), ("kit", "available", "KIT-HOME-6W", "--location", "LON"),
    ("reorder", "run", "--dry-run"), ("db", "check"), ("user", "show", "stock"),
]  # fmt: skip


def test_every_active_user_reads(demo, as_user, db):
    mark = last_audit_id(db)
    for role, who in AS_ROLE.items():
        for args in READS:
            result = as_user(who, *args)
            assert result.code == 0, (role, args, result.err)
    assert audit_since(db, mark) == []


def test_the_job_user_runs_jobs_and_nothing_else(demo, as_user):
    assert as_user("cron", "jobs", "run", "reorder").code == 0
    assert as_user("cron", "reorder", "run").code == 0
    assert as_user("cron", "expiry", "sweep").code == 0
    assert_refused(
        as_user("cron", "receive", "SERUM-5ML", "--lot", "T-1", "--expiry", IN_DAYS,
                "--qty", "1", "--location", "LON-FRIDGE"),
        "cron (job) may not receive stock: stockroom staff may",
    )  # fmt: skip
    assert_refused(as_user("cron", "kit", "handover", "K0000001"), "cron (job) may not")


def test_a_manager_writes_off_more_than_the_threshold_and_admins_move_it(demo, as_user):
    refused = as_user("stock", "writeoff", "CHX-0.5", "--qty", "11", "--location", "LON-SHELF",
                      "--reason", "damaged")  # fmt: skip
    assert_refused(refused, "may not write off more than 10 units at once (11): a manager may")
    ok = as_user("stock", "writeoff", "CHX-0.5", "--qty", "10", "--location", "LON-SHELF",
                 "--reason", "damaged")  # fmt: skip
    assert ok.code == 0, ok.err
    assert demo("setting", "set", "writeoff_approval_units", "12").code == 0
    ok = as_user("stock", "writeoff", "CHX-0.5", "--qty", "11", "--location", "LON-SHELF",
                 "--reason", "damaged")  # fmt: skip
    assert ok.code == 0, ok.err


def test_unknown_and_disabled_users_are_refused_and_audited(demo, as_user, db):
    mark = last_audit_id(db)
    assert_refused(as_user("mallory", "stock"), "'mallory' is not a kitops user")
    assert demo("user", "disable", "stock").code == 0
    assert_refused(as_user("stock", "stock"), "user stock is disabled")
    assert audit_since(db, mark) == [
        ("tester", "access.refused", "user.identity"),  # refused as the login's own user
        ("tester", "user.disable", "stock"),
        ("stock", "access.refused", "user.active"),
    ]
    assert demo("user", "enable", "stock").code == 0
    assert as_user("stock", "stock").code == 0


def test_a_new_database_lets_in_only_its_first_admin(cli, empty_db_url, monkeypatch):
    assert cli("db", "upgrade", db=empty_db_url).code == 0
    for args in (["stock"], ["catalog", "list"], ["user", "list"], ["audit"]):
        assert_refused(cli(*args, db=empty_db_url), "no users yet", "--role admin")
    assert_refused(
        cli("user", "add", "boss", "--role", "stockroom", "--no-pin", db=empty_db_url),
        "create the first admin",
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("8642\n"))
    added = cli("user", "add", "boss", "--role", "admin", "--pin-stdin", db=empty_db_url)
    assert added.code == 0, added.err
    assert "boss: admin, active, PIN set, bound to login" in added.out  # the creator's
    assert_refused(cli("stock", db=empty_db_url), "'tester' is not a kitops user")
    assert_refused(
        cli("user", "add", "tester", "--role", "admin", "--no-pin", db=empty_db_url),
        "'tester' is not a kitops user",
    )


def test_the_demo_brings_its_users_and_makes_its_loader_an_admin(
    cli, empty_db_url, capsys, monkeypatch
):
    from kitops.cli import run

    assert cli("db", "upgrade", db=empty_db_url).code == 0
    assert cli("demo", db=empty_db_url).code == 0
    # the loader's admin ("tester" here, the login's name under `make run`) is bound to
    # the login that loaded it: commands run without --user act as it at once
    monkeypatch.delenv("KITOPS_USER", raising=False)
    capsys.readouterr()
    assert run(["--db", empty_db_url, "user", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    login = identity_of_url(empty_db_url)
    assert {(u["name"], u["role"], u["pin_set"], u["login"]) for u in listed} == {
        ("admin", "admin", True, None), ("manager", "manager", True, None),
        ("stock", "stockroom", True, None), ("cron", "job", False, None),
        ("tester", "admin", False, login),
    }  # fmt: skip


def test_demo_reset_needs_an_admin(demo, as_user, db):
    before = fingerprint(db)
    refused = as_user("manager", "demo", "--reset", "--yes")
    assert_refused(refused, "manager (manager) may not erase the database")
    assert fingerprint(db) == before


def test_backups_by_admin_or_job_restores_by_admin_only(demo, as_user, db, backend, tmp_path):
    for who, role in (("stock", "stockroom"), ("manager", "manager")):
        refused = as_user(who, "db", "backup", str(tmp_path / f"{who}.db"))
        assert_refused(refused, f"{who} ({role}) may not back up the database")
        assert not (tmp_path / f"{who}.db").exists()
    for who in ("cron", "admin"):
        made = as_user(who, "db", "backup", str(tmp_path / f"{who}.db"))
        if backend == "sqlite":
            assert made.code == 0, made.err
            assert (tmp_path / f"{who}.db").is_file()
        else:  # allowed, then told to use pg_dump
            assert (made.code, "pg_dump" in made.err) == (1, True), made.err
    if backend == "sqlite":
        before = fingerprint(db)
        for who, role in (("manager", "manager"), ("cron", "job")):
            refused = as_user(who, "db", "restore", str(tmp_path / "admin.db"), "--yes")
            assert_refused(refused, f"{who} ({role}) may not restore a backup")
        assert fingerprint(db) == before


def test_users_are_managed_from_the_command_line(demo, as_user, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("1357\n"))
    added = demo("user", "add", "nina", "--role", "stockroom", "--pin-stdin", "--json")
    assert added.code == 0, added.err
    shown = json.loads(added.out)
    assert (shown["name"], shown["role"], shown["active"], shown["pin_set"]) == (
        "nina", "stockroom", True, True,
    )  # fmt: skip
    assert "1357" not in added.out
    assert "secret" not in json.dumps(shown)
    assert "hash" not in json.dumps(shown)
    assert_refused(demo("user", "add", "nina", "--role", "manager", "--no-pin"), "already exists")
    assert_bad_input(demo("user", "add", "Nina X", "--role", "manager"), "name 'Nina X'")
    assert_bad_input(demo("user", "set-role", "nina", "chief"), "role 'chief'")
    assert demo("user", "set-role", "nina", "manager").code == 0
    assert as_user("nina", "report", "stock").code == 0
    assert_refused(as_user("nina", "user", "list"), "nina (manager) may not list users")
    monkeypatch.setattr("sys.stdin", io.StringIO("1357\n2468\n"))
    changed = as_user("nina", "user", "set-pin", "nina", "--pin-stdin")
    assert changed.code == 0, changed.err
    listed = json.loads(demo("user", "list", "--json").out)
    assert {u["name"]: u["role"] for u in listed}["nina"] == "manager"
    assert demo("user", "disable", "nina").code == 0
    assert_refused(demo("user", "disable", "nina"), "already disabled")


def test_the_audit_command_filters_and_prints_json(demo, as_user):
    as_user("stock", "lot", "recall", "PTT6-A0519", "--reason", "x")  # refused, audited
    result = as_user("manager", "audit", "--user", "stock", "--json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert [(r["actor"], r["action"], r["key"]) for r in rows] == [
        ("stock", "access.refused", "lot.recall")
    ]
    assert set(rows[0]) == {"id", "at", "actor", "action", "entity", "key", "before", "after"}
    assert rows[0]["after"]["reason"].startswith("stock (stockroom) may not recall a lot")
    by_action = json.loads(as_user("admin", "audit", "--action", "demo.", "--json").out)
    assert [r["action"] for r in by_action] == ["demo.load"]
    assert json.loads(as_user("admin", "audit", "--since", SOON, "--json").out) == []
    table = as_user("manager", "audit", "--limit", "3")
    assert table.code == 0
    assert "access.refused" in table.out
    assert_bad_input(as_user("manager", "audit", "--since", "yesterday"), "since 'yesterday'")
    assert_bad_input(as_user("manager", "audit", "--limit", "0"), "limit 0")
