"""Races on PostgreSQL, at the exact moments that matter: a recall against a kit assembly
and a clinic session, a count against a move.

One process is stopped (``KITOPS_FAULT=POINT=stop``, kitops/faults.py: SIGSTOP inside its
transaction, holding what it has locked) while the other runs; then it is continued.
Whatever the order, no kit holding a recalled lot may be left available or reserved
without its recall flag. SQLite needs no such test: its single writer lock serialises
the two commands.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable

import pytest
from fault_support import child_env, db_check_passes, kitops_argv, ok
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from kitops.data.engine import resolve_url

pytestmark = pytest.mark.demo_data


@pytest.fixture
def pg_url(db_url, backend):
    if backend != "postgresql":
        pytest.skip("SQLite's writer lock serialises an assembly and a recall")
    ok(db_url, "receive", "SERUM-5ML", "--lot", "RACE-S1", "--expiry", "2031-12-31",
       "--qty", "120", "--location", "ESX-STORE")  # fmt: skip
    ok(db_url, "lot", "release", "RACE-S1")
    ok(db_url, "receive", "STAMP-0.5", "--lot", "RACE-T1", "--expiry", "2031-12-31",
       "--qty", "20", "--location", "ESX-STORE")  # fmt: skip
    return db_url


# Assembly draws on the whole clinic (ESX-FRIDGE's demo lots too), first expiry first: a
# minimum shelf life only RACE-S1 (2031) meets keeps the race on the lot being recalled.
ASSEMBLE = ("kit", "assemble", "KIT-HOME-6W", "--qty", "10", "--location", "ESX-STORE",
            "--min-shelf-life", "400")  # fmt: skip
RECALL = ("lot", "recall", "RACE-S1", "--reason", "supplier notice 2026-114")


def _start(url: str, args: tuple[str, ...], stop_at: str | None = None) -> subprocess.Popen[str]:
    env = child_env(**({"KITOPS_FAULT": f"{stop_at}=stop"} if stop_at else {}))
    return subprocess.Popen(kitops_argv(url, *args), env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def _until(ready: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def _stopped(child: subprocess.Popen[str]) -> bool:
    with open(f"/proc/{child.pid}/stat") as stat:
        return stat.read().rsplit(") ", 1)[1].startswith("T")


def _sql(url: str, statement: str, **parameters: object) -> list[tuple[object, ...]]:
    """Rows of one query, on a connection of its own."""
    engine = create_engine(resolve_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(statement), parameters)]
    finally:
        engine.dispose()


def _waits_on_a_lock(url: str) -> bool:
    [(waiting,)] = _sql(url, "SELECT count(*) FROM pg_stat_activity "
                             "WHERE datname = :db AND wait_event_type = 'Lock'",
                        db=make_url(url).database)  # fmt: skip
    return bool(waiting)


def _finish(child: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = child.communicate(timeout=120)
    return child.returncode, out, err


def _unflagged_kits_of_the_lot(url: str) -> list[tuple[object, ...]]:
    return _sql(url, "SELECT k.serial, k.status, k.recalled FROM kits k "
                     "JOIN kit_components c ON c.kit_id = k.id JOIN lots l ON l.id = c.lot_id "
                     "WHERE l.code = 'RACE-S1' "
                     "AND (NOT k.recalled OR k.status IN ('available', 'reserved'))")  # fmt: skip


def _kits_of_the_lot(url: str) -> int:
    [(kits,)] = _sql(url, "SELECT count(DISTINCT c.kit_id) FROM kit_components c "
                          "JOIN lots l ON l.id = c.lot_id WHERE l.code = 'RACE-S1'")  # fmt: skip
    return int(str(kits))


def _race(
    url: str, first: tuple[str, ...], stop_at: str, second: tuple[str, ...]
) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """Run ``first`` until it stops at ``stop_at`` (inside its transaction), then start
    ``second`` and let it run until it has finished or waits on a lock, then continue
    ``first``. Returns (exit code, stdout, stderr) of each."""
    one = _start(url, first, stop_at=stop_at)
    try:
        _until(lambda: _stopped(one), f"{first[0]} stopped at {stop_at}")
        two = _start(url, second)
        _until(lambda: two.poll() is not None or _waits_on_a_lock(url),
               f"{second[0]} finished or waited on a lock")  # fmt: skip
    finally:
        one.send_signal(signal.SIGCONT)
    return _finish(one), _finish(two)


def test_a_recall_during_an_assembly_waits_for_it_and_flags_every_kit_it_made(pg_url):
    # before the fix the recall ran to its end while the assembly was stopped, flagging
    # none of the kits about to be committed
    assembly, recall = _race(pg_url, ASSEMBLE, "kit.assemble:after_moves", RECALL)
    assert assembly[0] == 0, assembly[2]
    assert recall[0] == 0, recall[2]
    assert _kits_of_the_lot(pg_url) == 10
    assert _unflagged_kits_of_the_lot(pg_url) == []
    db_check_passes(pg_url)


def test_an_assembly_during_a_recall_waits_for_it_and_does_not_use_the_lot(pg_url):
    recall, assembly = _race(pg_url, RECALL, "lot.status:after_change", ASSEMBLE)
    assert recall[0] == 0, recall[2]
    assert assembly[0] == 1, assembly[2]  # the only serum lasting 400 days is the recalled lot
    assert _kits_of_the_lot(pg_url) == 0
    assert _unflagged_kits_of_the_lot(pg_url) == []
    db_check_passes(pg_url)


def test_a_session_recorded_during_a_recall_of_its_lot_takes_another_lot(pg_url):
    """Course 4 is the demo's weekly clinic course in London; FEFO would give its first
    session PTT6-A0519, which is being recalled at that moment."""
    recall, session = _race(
        pg_url, ("lot", "recall", "PTT6-A0519", "--reason", "supplier notice"),
        "lot.status:after_change", ("session", "record", "4", "--date", "2026-11-23", "--json"),
    )  # fmt: skip
    assert recall[0] == 0, recall[2]
    assert session[0] == 0, session[2]
    assert json.loads(session[1])["lot"] != "PTT6-A0519", session[1]
    db_check_passes(pg_url)


def test_a_count_applies_its_differences_to_the_balances_it_read(pg_url, tmp_path):
    """A move at the place of a count waits for it: the count's adjustment lands on the
    balance it reported as expected (before, a move could slip in between the count's
    reading and its adjustment, and the report named a balance the ledger never had)."""
    sheet = tmp_path / "count.csv"
    sheet.write_text("sku,lot,counted\nSERUM-5ML,PTT6-B0902,10\n", encoding="utf-8")
    count, move = _race(
        pg_url, ("count", "--location", "ESX-FRIDGE", str(sheet), "--json"),
        "stock.count:after_reading",
        ("move", "SERUM-5ML", "--lot", "PTT6-B0902", "--qty", "2", "--from", "ESX-FRIDGE",
         "--to", "ESX-SHELF"),
    )  # fmt: skip
    assert count[0] == 0, count[2]
    assert move[0] == 0, move[2]
    [line] = json.loads(count[1])["differences"]
    [(before_count,)] = _sql(pg_url,
        "SELECT coalesce(sum(CASE WHEN m.to_location_id = f.id THEN m.quantity "
        "ELSE -m.quantity END), 0) FROM stock_moves m JOIN lots l ON l.id = m.lot_id "
        "JOIN locations f ON f.code = 'ESX-FRIDGE' "
        "WHERE l.code = 'PTT6-B0902' AND f.id IN (m.from_location_id, m.to_location_id) "
        "AND m.id < (SELECT min(c.id) FROM stock_moves c WHERE c.reason = 'count')")  # fmt: skip
    assert line["expected"] == before_count, (line, before_count)
    stock = json.loads(ok(pg_url, "stock", "--location", "ESX-FRIDGE", "--json"))
    assert [x["quantity"] for x in stock if x["lot"] == "PTT6-B0902"] == [10 - 2]
    db_check_passes(pg_url)


def test_an_assembly_whose_stamps_moved_within_the_clinic_plans_again_and_succeeds(pg_url):
    """Assembly at ESX-FRIDGE plans to bring the shelf's stamps over; meanwhile someone
    moves them into the fridge. The assembly's draw finds the shelf empty, plans again on
    what is there and makes the kit from the stamps now in the fridge (before, it refused
    with "not enough stock ... at ESX-SHELF" though the stamps were right there)."""
    [(on_shelf,)] = _sql(pg_url, "SELECT b.quantity FROM stock_balances b "
                                 "JOIN lots l ON l.id = b.lot_id "
                                 "JOIN locations p ON p.id = b.location_id "
                                 "WHERE l.code = 'DS05-2402' AND p.code = 'ESX-SHELF'")  # fmt: skip
    assert int(str(on_shelf)) > 0
    assembly, moved = _race(
        pg_url, ("kit", "assemble", "KIT-HOME-6W", "--qty", "1", "--location", "ESX-FRIDGE",
                 "--json"),
        "kit.assemble:after_plan",
        ("move", "STAMP-0.5", "--lot", "DS05-2402", "--qty", str(on_shelf), "--from",
         "ESX-SHELF", "--to", "ESX-FRIDGE"),
    )  # fmt: skip
    assert moved[0] == 0, moved[2]
    assert assembly[0] == 0, assembly[2]
    made = json.loads(assembly[1])
    assert made["drawn"] == []  # the stamps were in the fridge by then
    assert {c["lot"] for c in made["kits"][0]["components"] if c["sku"] == "STAMP-0.5"} == {
        "DS05-2402"
    }
    db_check_passes(pg_url)
