"""``kitops db`` (upgrade, current, check, backup) and ``kitops demo``."""

from __future__ import annotations

import json

from e2e_support import assert_bad_input, assert_refused, json_of, keys_and_types
from sqlalchemy import text
from tamper_support import drop_balance_guard

CHECK_KEYS = {"ok": bool, "balances_checked": int, "moves": int, "problems": list}
PROBLEM_KEYS = {
    "sku": str,
    "lot": str,
    "location": str,
    "recorded": (int, type(None)),
    "from_moves": int,
    "problem": str,
}
# stock lines of the demo (lots per place, kits included), --include-unavailable
DEMO_STOCK_LINES = 34
DEMO_KEYS = {
    "loaded": bool,
    "as_of": str,
    "clinics": int,
    "products": int,
    "lots": int,
    "moves": int,
}


def break_one_balance(db, lot="PTT6-A0603", location="ESX-FRIDGE"):
    """Add one unit to a balance behind the ledger's back."""
    with db.engine.begin() as conn:
        drop_balance_guard(conn)
        changed = conn.execute(
            text(
                "UPDATE stock_balances SET quantity = quantity + 1 "
                "WHERE lot_id = (SELECT id FROM lots WHERE code = :lot) "
                "AND location_id = (SELECT id FROM locations WHERE code = :location)"
            ),
            {"lot": lot, "location": location},
        ).rowcount
    assert changed == 1


# --- db check ----------------------------------------------------------------------------


def test_db_check_finds_balances_changed_behind_the_ledger(demo, db):
    break_one_balance(db)
    result = demo("db", "check")
    assert_refused(result, "1 balances do not match")
    assert "PTT6-A0603" in result.out
    assert "ESX-FRIDGE" in result.out

    result = demo("db", "check", "--json")
    assert result.code == 1
    report = json.loads(result.out)
    keys_and_types(report, CHECK_KEYS)
    assert report["ok"] is False
    [problem] = report["problems"]
    keys_and_types(problem, PROBLEM_KEYS)
    assert (problem["sku"], problem["lot"], problem["location"]) == (
        "SERUM-5ML", "PTT6-A0603", "ESX-FRIDGE",
    )  # fmt: skip
    assert problem["recorded"] == problem["from_moves"] + 1

    said = f"balance says {problem['recorded']}, moves sum to {problem['from_moves']}"
    assert problem["problem"] == said
    # in German: the table says it in German, --json keeps the English it carries
    german = demo("--locale", "de", "db", "check")
    assert "Bestand sagt" in german.out, german.out
    assert "balance says" not in german.out
    assert json.loads(demo("--locale", "de", "db", "check", "--json").out)["problems"] == [problem]

    with db.engine.begin() as conn:
        drop_balance_guard(conn)
        conn.execute(text("UPDATE stock_balances SET quantity = quantity + 1"))
    result = demo("db", "check", "--json")
    assert result.code == 1
    report = json.loads(result.out)
    off = [p for p in report["problems"] if not p["problem"].startswith("kit ")]
    assert len(off) == report["balances_checked"]  # every balance is off
    # and every kit in the stockroom now holds two units
    assert {p["lot"] for p in report["problems"] if p["problem"].startswith("kit ")} >= {"K0000002"}
    assert "PTT6-A0412" in {problem["lot"] for problem in report["problems"]}


def test_db_check_finds_a_kit_that_is_more_than_one_unit(demo, db):
    """Kits come only from assembly, one unit each; stock posted onto a kit's serial
    (as `import stock` once allowed) is found."""
    from kitops.data.repositories import PostedMove
    from kitops.domain.ledger import Move, MoveReason
    from kitops.services.unit_of_work import UnitOfWork

    with UnitOfWork(db, "tester") as uow:
        kit = uow.kits.get("K0000002")
        opening = uow.locations.get("ADJUSTMENT")
        assert kit.lot_id is not None
        uow.ledger.post([PostedMove(Move(kit.lot_id, opening.id, kit.location_id, 5),
                                    kit.product_id)],
                        reason=MoveReason.OPENING.value, actor="tester")  # fmt: skip
        uow.commit()
    result = demo("db", "check")
    assert_refused(result, "1 kits are not one unit or none")
    report = json.loads(demo("db", "check", "--json").out)
    assert [(p["lot"], p["recorded"]) for p in report["problems"]] == [("K0000002", 6)]
    assert "kit K0000002 holds 6 units" in report["problems"][0]["problem"]


# --- db current and db upgrade ---------------------------------------------------------


def test_never_migrated_database_is_refused_until_upgraded(cli, empty_db_url):
    for args in (["stock"], ["catalog", "list", "--json"], ["demo"]):
        result = cli(*args, db=empty_db_url)
        assert_refused(result, "kitops db upgrade")
        assert result.out == ""
    current = json_of(cli, "db", "current", "--json", db=empty_db_url)
    keys_and_types(current, {"url": str, "revision": type(None), "head": str})
    assert "kitops db upgrade" in cli("db", "current", db=empty_db_url).out

    upgraded = cli("db", "upgrade", db=empty_db_url)
    assert upgraded.code == 0, upgraded.err
    assert "migrated from empty" in upgraded.out
    after = json_of(cli, "db", "current", "--json", db=empty_db_url)
    keys_and_types(after, {"url": str, "revision": str, "head": str})
    assert after["revision"] == after["head"] == current["head"]
    assert "up to date" in cli("db", "current", db=empty_db_url).out
    again = cli("db", "upgrade", db=empty_db_url)
    assert again.code == 0, again.err
    assert f"already at revision {after['head']}" in again.out

    # a new database has no users: it says how to create the first admin
    assert json_of(cli, "db", "check", "--json", db=empty_db_url) == {
        "ok": True, "balances_checked": 0, "moves": 0, "problems": [],
    }  # fmt: skip
    assert_refused(cli("stock", db=empty_db_url), "kitops user add NAME --role admin")
    added = cli("user", "add", "tester", "--role", "admin", "--no-pin", db=empty_db_url)
    assert added.code == 0, added.err
    assert json_of(cli, "stock", "--include-unavailable", "--json", db=empty_db_url) == []
    assert "no stock matches" in cli("stock", db=empty_db_url).out
    assert json_of(cli, "catalog", "list", "--json", db=empty_db_url) == []


# --- db backup -------------------------------------------------------------------------


def test_db_backup_copies_sqlite_and_points_postgresql_to_pg_dump(demo, backend, tmp_path):
    target = tmp_path / "backup.db"
    if backend == "postgresql":
        result = demo("db", "backup", str(target))
        assert_refused(result, "pg_dump")
        assert str(target) in result.err
        assert not target.exists()
        return

    result = demo("db", "backup", str(target))
    assert result.code == 0, result.err
    assert str(target) in result.out
    assert target.is_file()
    copy = f"sqlite:///{target}"
    assert demo("db", "check", db=copy).code == 0
    for listing in (["stock", "--include-unavailable", "--json"], ["catalog", "list", "--json"]):
        assert json_of(demo, *listing, db=copy) == json_of(demo, *listing)

    written = target.read_bytes()
    assert_refused(demo("db", "backup", str(target)), "already exists")
    assert target.read_bytes() == written
    nowhere = tmp_path / "no-such-folder" / "backup.db"
    assert_bad_input(demo("db", "backup", str(nowhere)), "path", str(nowhere))
    assert not nowhere.parent.exists()


# --- demo --------------------------------------------------------------------------------


def test_demo_loads_three_clinics_reports_json_and_passes_db_check(cli):
    result = cli("demo", "--as-of", "2026-11-22", "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    keys_and_types(summary, DEMO_KEYS)
    assert summary == {
        "loaded": True,
        "as_of": "2026-11-22",
        "clinics": 3,
        "products": 9,
        "lots": 13,
        "moves": 25,
    }
    clinics = [loc for loc in json_of(cli, "location", "list", "--json") if loc["kind"] == "clinic"]
    assert sorted(loc["code"] for loc in clinics) == ["ESX", "LON", "VIE"]
    lines = json_of(cli, "stock", "--include-unavailable", "--json")
    by_lot = {line["lot"]: line for line in lines}
    assert by_lot["PTT6-A0412"]["expiry"] == "2026-11-13"
    assert by_lot["PTT6-A0519"]["expiry"] == "2026-12-16"

    check = cli("db", "check")
    assert check.code == 0, check.err
    assert check.out.startswith("ok: 37 balances match 55 ledger moves")
    report = json_of(cli, "db", "check", "--json")
    keys_and_types(report, CHECK_KEYS)
    assert report == {"ok": True, "balances_checked": 37, "moves": 55, "problems": []}


def test_demo_into_a_database_holding_data_is_refused_and_changes_nothing(cli, snapshot):
    added = cli("catalog", "add-product", "GLOVES", "--name", "Gloves", "--kind", "consumable")
    assert added.code == 0, added.err
    before = snapshot()
    assert_refused(cli("demo"), "already holds data")
    assert snapshot() == before

    assert cli("demo", "--reset", "--yes").code == 0
    before = snapshot()
    assert_refused(cli("demo"), "kitops demo --reset")
    assert_refused(cli("demo", "--as-of", "2026-11-22", "--json"), "already holds data")
    assert snapshot() == before


def test_demo_if_empty_loads_once_then_does_nothing(cli, snapshot):
    first = cli("demo", "--if-empty")
    assert first.code == 0, first.err
    assert "demo data loaded" in first.out
    before = snapshot()
    assert len(before.stock) == DEMO_STOCK_LINES
    second = cli("demo", "--if-empty")
    assert second.code == 0, second.err
    assert "not loaded" in second.out
    assert snapshot() == before


def test_demo_reset_yes_erases_everything_and_reloads(demo, db, snapshot):
    added = demo("catalog", "add-product", "GLOVES", "--name", "Gloves", "--kind", "consumable")
    assert added.code == 0, added.err
    break_one_balance(db)
    assert demo("db", "check").code == 1

    result = demo("demo", "--reset", "--yes", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["moves"] == 25
    assert demo("db", "check").code == 0
    after = snapshot()
    assert "GLOVES" not in {p["sku"] for p in after.catalog}
    assert len(after.catalog) == 9
    assert len(after.stock) == DEMO_STOCK_LINES


def test_demo_if_empty_json_prints_json_even_when_it_loads_nothing(demo):
    result = demo("demo", "--if-empty", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["loaded"] is False
