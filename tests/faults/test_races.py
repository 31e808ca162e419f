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
import os
import random
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fault_support import VICTIM, child_env, db_check_passes, kitops_argv, ok
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from kitops.data.engine import resolve_url
from kitops.domain.locations import clinic_today

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


_ENGINES: dict[str, Engine] = {}


@pytest.fixture(autouse=True)
def _checking_engines() -> Iterator[None]:
    """The checks' engines (``_sql``) last one test: closed at its end."""
    yield
    while _ENGINES:
        _ENGINES.popitem()[1].dispose()


def _sql(url: str, statement: str, **parameters: object) -> list[tuple[object, ...]]:
    """Rows of one query, in a transaction of its own, on a connection the test's checks
    share (kept open between them: the waits poll several times a second)."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = create_engine(resolve_url(url), pool_size=1, max_overflow=2)
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(statement), parameters)]


def _waits_on_a_lock(url: str) -> bool:
    [(waiting,)] = _sql(url, "SELECT count(*) FROM pg_stat_activity "
                             "WHERE datname = :db AND wait_event_type = 'Lock'",
                        db=make_url(url).database)  # fmt: skip
    return bool(waiting)


def _finish(child: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = child.communicate(timeout=120)
    return child.returncode, out, err


def _unflagged_kits_of(url: str, lot: str) -> list[tuple[object, ...]]:
    """Kits holding the (recalled) lot that are not flagged, or still available or
    reserved."""
    return _sql(url, "SELECT k.serial, k.status, k.recalled FROM kits k "
                     "JOIN kit_components c ON c.kit_id = k.id JOIN lots l ON l.id = c.lot_id "
                     "WHERE l.code = :lot "
                     "AND (NOT k.recalled OR k.status IN ('available', 'reserved'))",
                lot=lot)  # fmt: skip


def _unflagged_kits_of_the_lot(url: str) -> list[tuple[object, ...]]:
    return _unflagged_kits_of(url, "RACE-S1")


def _kits_of_the_lot(url: str) -> int:
    [(kits,)] = _sql(url, "SELECT count(DISTINCT c.kit_id) FROM kit_components c "
                          "JOIN lots l ON l.id = c.lot_id WHERE l.code = 'RACE-S1'")  # fmt: skip
    return int(str(kits))


def _race(
    url: str, first: tuple[str, ...], stop_at: str, second: tuple[str, ...],
    *, second_waits: bool = False,
) -> tuple[tuple[int, str, str], tuple[int, str, str]]:  # fmt: skip
    """Run ``first`` until it stops at ``stop_at`` (inside its transaction), then start
    ``second`` and let it run until it has finished or waits on a lock, then continue
    ``first``. Returns (exit code, stdout, stderr) of each. With ``second_waits``, the
    second must have been waiting on a lock (not finished) when the first went on."""
    one = _start(url, first, stop_at=stop_at)
    try:
        _until(lambda: one.poll() is not None or _stopped(one),
               f"{first[0]} stopped at {stop_at}")  # fmt: skip
        assert one.poll() is None, f"{' '.join(first)} ended before {stop_at}: {_finish(one)}"
        two = _start(url, second)
        _until(lambda: two.poll() is not None or _waits_on_a_lock(url),
               f"{second[0]} finished or waited on a lock")  # fmt: skip
        finished_first = two.poll() is not None
    finally:
        one.send_signal(signal.SIGCONT)
    results = _finish(one), _finish(two)
    if second_waits:
        assert not finished_first, (
            f"{' '.join(second)} ran to its end while {first[0]} was stopped: {results[1]}"
        )
    return results


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


def test_a_session_recorded_during_a_recall_of_its_stamp_lot_takes_another_stamp(pg_url):
    """The same for a session supply: course 4's sessions use a STAMP-2.0; FEFO would
    give DS20-2311, being recalled at that moment, so the session goes round again and
    takes the later lot."""
    ok(pg_url, "policy", "session-supplies", "clinic-weekly-6", "STAMP-2.0=1")
    ok(pg_url, "receive", "STAMP-2.0", "--lot", "RACE-D20", "--expiry", "2031-12-31",
       "--qty", "5", "--location", "LON-SHELF")  # fmt: skip
    recall, session = _race(
        pg_url, ("lot", "recall", "DS20-2311", "--reason", "supplier notice"),
        "lot.status:after_change", ("session", "record", "4", "--date", "2026-11-23", "--json"),
    )  # fmt: skip
    assert recall[0] == 0, recall[2]
    assert session[0] == 0, session[2]
    [stamp] = json.loads(session[1])["supplies"]
    assert (stamp["sku"], stamp["lot"]) == ("STAMP-2.0", "RACE-D20"), session[1]
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


# --- fulfil against a status change of a kit's lot ------------------------------------
# ESX holds one demo kit, K0000006 (serum PTT6-B0902, expiring 2027-05-31): FEFO's choice
# for course 6 (P-ESX-0002, home-6w from 2026-12-12). The fixture adds two RACE-S1 kits
# at ESX-STORE (expiring 2031) that may serve instead.

KIT_LOT = "PTT6-B0902"
LOT_CHANGES = {
    "recall": ("lot", "recall", KIT_LOT, "--reason", "supplier notice 2026-117"),
    "quarantine": ("lot", "quarantine", KIT_LOT, "--reason", "fridge excursion"),
}
FULFIL_ONE = ("fulfil", "6", "--json")
FULFIL_BATCH = ("fulfil", "--due-within", "60", "--clinic", "ESX", "--json")


@pytest.fixture
def kits_url(pg_url):
    # RACE-S1 kits only (assembly takes the clinic's earliest lots first, the demo's
    # PTT6-B0902 among them, unless the shelf life asked for rules them out)
    ok(pg_url, "kit", "assemble", "KIT-HOME-6W", "--qty", "2", "--location", "ESX-STORE",
       "--min-shelf-life", "400")  # fmt: skip
    return pg_url


def _lots_not_released_in_the_kit_of(url: str, course: int) -> list[tuple[object, ...]]:
    return _sql(url, "SELECT k.serial, l.code, l.status FROM kits k "
                     "JOIN kit_components c ON c.kit_id = k.id JOIN lots l ON l.id = c.lot_id "
                     "WHERE k.course_id = :course AND l.status <> 'released'",
                course=course)  # fmt: skip


def _kit_of_course_6(url: str) -> str | None:
    rows = _sql(url, "SELECT serial FROM kits WHERE course_id = 6 AND status = 'reserved'")
    return str(rows[0][0]) if rows else None


@pytest.mark.parametrize("change", sorted(LOT_CHANGES))
@pytest.mark.parametrize("fulfil", [FULFIL_ONE, FULFIL_BATCH], ids=["course", "batch"])
def test_a_fulfil_during_a_status_change_of_a_kit_lot_takes_another_kit(kits_url, change, fulfil):
    """The status change is written, not committed, when fulfil starts: fulfil must not
    reserve K0000006 (before the fix, a quarantine under way did not stop it)."""
    lot_change, fulfilled = _race(kits_url, LOT_CHANGES[change], "lot.status:after_change",
                                  fulfil)  # fmt: skip
    assert lot_change[0] == 0, lot_change[2]
    assert fulfilled[0] == 0, fulfilled[2]
    [line] = json.loads(fulfilled[1])["served"]
    assert line["course_id"] == 6, line
    assert line["kit"] not in (None, "K0000006"), line
    assert _kit_of_course_6(kits_url) == line["kit"]
    assert _lots_not_released_in_the_kit_of(kits_url, 6) == []
    if change == "recall":
        assert _unflagged_kits_of(kits_url, KIT_LOT) == []
    db_check_passes(kits_url)


@pytest.mark.parametrize("change", sorted(LOT_CHANGES))
def test_a_status_change_of_a_kit_lot_during_a_fulfil_batch_waits_for_it(kits_url, change):
    """The batch has reserved K0000006 for course 6, not committed: the recall or
    quarantine waits for it (before the fix a quarantine ran to its end, and the batch
    then committed the reservation of a kit whose lot was already quarantined); a recall
    then takes the kit back from the course."""
    batch, lot_change = _race(kits_url, FULFIL_BATCH, "fulfil.batch:after_reserve",
                              LOT_CHANGES[change], second_waits=True)  # fmt: skip
    assert batch[0] == 0, batch[2]
    assert lot_change[0] == 0, lot_change[2]
    [line] = json.loads(batch[1])["served"]
    assert line["kit"] == "K0000006", line
    if change == "recall":
        assert _kit_of_course_6(kits_url) is None
        assert _unflagged_kits_of(kits_url, KIT_LOT) == []
    else:
        assert _kit_of_course_6(kits_url) == "K0000006"  # ship and hand-over refuse it
    db_check_passes(kits_url)


def test_a_recall_during_a_course_fulfil_waits_for_it_and_takes_the_kit_back(kits_url):
    """Course 2 (home-12w, two kits, London) takes the transactional path."""
    fulfilled, recall = _race(kits_url, ("fulfil", "2", "--json"),
                              "fulfil.course:after_reserve", LOT_CHANGES["recall"],
                              second_waits=True)  # fmt: skip
    assert fulfilled[0] == 0, fulfilled[2]
    assert recall[0] == 0, recall[2]
    assert _sql(kits_url, "SELECT serial FROM kits WHERE course_id = 2") == []
    assert _unflagged_kits_of(kits_url, KIT_LOT) == []
    db_check_passes(kits_url)


def _deadlocks(url: str) -> int:
    [(count,)] = _sql(url, "SELECT deadlocks FROM pg_stat_database WHERE datname = :db",
                      db=make_url(url).database)  # fmt: skip
    return int(str(count))


def test_a_recall_during_a_shipment_waits_for_it_without_a_deadlock(kits_url):
    """The ship holds what it locks (the kit's lots, then the kit) when the recall of one
    of its lots starts: the recall waits for the lot and then flags the shipped kit.
    Before, the ship locked the kit first and its lots after: the recall (lot, then its
    kits) and the ship waited on each other until PostgreSQL broke the deadlock."""
    ok(kits_url, "fulfil", "6")  # K0000006, of lot PTT6-B0902
    before = _deadlocks(kits_url)
    ship, recall = _race(kits_url, ("kit", "ship", "K0000006", "--tracking", "T-1"),
                         "kit.dispatch:after_kit_lock", LOT_CHANGES["recall"],
                         second_waits=True)  # fmt: skip
    assert ship[0] == 0, ship[2]
    assert recall[0] == 0, recall[2]
    [(status, recalled)] = _sql(kits_url, "SELECT status, recalled FROM kits "
                                          "WHERE serial = 'K0000006'")  # fmt: skip
    assert (status, recalled) == ("shipped", True)
    _until(lambda: not _sql(kits_url, "SELECT 1 FROM pg_stat_activity WHERE datname = :db "
                                      "AND application_name = :name",
                            db=make_url(kits_url).database, name=VICTIM),
           "the two sessions ended (and reported their statistics)")  # fmt: skip
    assert _deadlocks(kits_url) == before
    db_check_passes(kits_url)


# --- recall at random moments against everything that lets a kit or a vial go ----------
# Per operation one database, 20 rounds. Each round gets a lot of its own (the demo's
# serum lots are quarantined first, so nothing else is usable), starts the operation and
# the recall of that lot in two ready worker processes, the recall from 0.1 s before to
# 0.6 s after the operation (an assembly of 20 kits takes 0.2-0.45 s here, so the window
# covers its whole transaction and the recall wins some rounds: an assembly of 80 kits in
# a 2 s window proved the same in four times the time, and the recall never won;
# seeded: the same offsets on every run), and then checks, whoever
# won: no kit holding the lot is available, reserved or anywhere unflagged, and whatever
# the operation did with the lot (a session given from it, a kit reserved, shipped or
# handed over) was written before the recall (its audit row comes first: each takes the
# lot's share lock before writing it, the recall the conflicting lock before its own).
# The verdict does not depend on the machine's speed; only which side wins a round does.

ROUNDS = 20
ASSEMBLY_KITS = 20
OPERATIONS = ("assemble", "session", "fulfil", "ship", "handover")
ACTIONS = {"session": "session.record", "fulfil": "course.fulfil", "ship": "kit.ship",
           "handover": "kit.handover"}  # fmt: skip


class _Runners:
    """Two worker processes (tests/faults/fault_workers.py) that run commands on request."""

    def __init__(self, url: str) -> None:
        import multiprocessing

        from fault_workers import command_runner

        context = multiprocessing.get_context("spawn")
        self.pairs = []
        self.processes = []
        for _ in range(2):
            requests, replies = context.Queue(), context.Queue()
            process = context.Process(target=command_runner, args=(url, requests, replies))
            process.start()
            self.pairs.append((requests, replies))
            self.processes.append(process)

    def race(self, operation: tuple[str, ...], recall: tuple[str, ...], offset: float):
        """Start ``operation`` and, ``offset`` seconds later (before, when negative),
        ``recall``; answer both (exit code, stdout, stderr)."""
        (op_requests, op_replies), (recall_requests, recall_replies) = self.pairs
        first, second = (op_requests, recall_requests) if offset >= 0 else (
            recall_requests, op_requests)  # fmt: skip
        first.put(operation if first is op_requests else recall)
        time.sleep(abs(offset))
        second.put(recall if second is recall_requests else operation)
        return op_replies.get(timeout=300), recall_replies.get(timeout=300)

    def close(self) -> None:
        for (requests, _), process in zip(self.pairs, self.processes, strict=True):
            requests.put(None)
            process.join(timeout=60)
            if process.is_alive():
                process.kill()


class _Preparation:
    """What a round needs, made through the services on one database connection pool kept
    for the whole test (a command per step would open the database, look its user up and
    compile its SQL again every time); the race itself runs as commands in the workers."""

    def __init__(self, url: str) -> None:
        from kitops.data.engine import open_database

        self.db = open_database(url)

    def uow(self) -> Any:
        from kitops.services.unit_of_work import UnitOfWork

        return UnitOfWork(self.db, "tester")

    def close(self) -> None:
        self.db.dispose()

    def round(self, operation: str, lot: str, stamps: str, n: int) -> tuple[str, ...]:
        """The round's stock (a released serum lot of its own, imported with its stamps in
        one file) and what the operation needs; answers the operation's command."""
        from kitops.services.fulfilment import fulfil_course
        from kitops.services.kits import assemble

        if operation == "session":
            self.stock(n, ("SERUM-5ML", lot, 2, "LON-FRIDGE"))
            day = clinic_today("Europe/London").isoformat()  # a course starts today or later
            course = self.new_course("clinic-weekly-6", "LON", day, n)
            return ("session", "record", course, "--date", day, "--json")
        kits = ASSEMBLY_KITS if operation == "assemble" else 1
        self.stock(n, ("SERUM-5ML", lot, 6 * kits, "ESX-STORE"),
                   ("STAMP-0.5", stamps, kits, "ESX-STORE"))  # fmt: skip
        if operation == "assemble":
            return ("kit", "assemble", "KIT-HOME-6W", "--qty", str(kits), "--location",
                    "ESX-STORE")  # fmt: skip
        [kit] = assemble(self.uow(), "KIT-HOME-6W", kits, "ESX-STORE").kits
        soon = clinic_today("Europe/London") + timedelta(days=8)
        course = self.new_course("home-6w", "ESX", soon.isoformat(), n)
        if operation == "fulfil":
            return ("fulfil", course, "--json")
        fulfil_course(self.uow(), course)
        if operation == "ship":
            return ("kit", "ship", kit.serial, "--tracking", f"TRACK-{n}", "--json")
        return ("kit", "handover", kit.serial, "--json")

    def stock(self, n: int, *lines: tuple[str, str, int, str]) -> None:
        """Released stock expiring 2031-12-31, as `import stock` takes it."""
        from kitops.services.imports import import_file

        sheet = Path(tempfile.gettempdir()) / f"kitops-race-{os.getpid()}-{n}.csv"
        rows = [f"{sku},{qty},{where},{lot},2031-12-31,released" for sku, lot, qty, where in lines]
        sheet.write_text("\n".join(["sku,quantity,location,lot,expiry,status", *rows]) + "\n")
        try:
            import_file(self.uow(), "stock", str(sheet))
        finally:
            sheet.unlink()

    def new_course(self, plan: str, clinic: str, start: str, n: int) -> str:
        from kitops.services.courses import create_course

        return str(create_course(self.uow(), f"P-RACE-{n:04d}", plan, start, clinic).id)


def _open_every_day(url: str, clinic: str) -> None:
    """Every round starts a home course at the clinic on a day counted from the real
    today: open every day with room for all of them, no closure in the way."""
    ok(url, "clinic", "hours", clinic, "every-day", "--sessions-per-day", "500")
    for closure in json.loads(ok(url, "clinic", "closures", clinic, "--json")):
        ok(url, "clinic", "reopen", str(closure["id"]))


def _audit_after_the_recall(url: str, operation: str, lot: str, since: int) -> list[object]:
    """Audit rows of the operation since ``since`` that touched the lot (or a kit holding
    it) and come after the lot's recall."""
    if operation == "assemble":
        return []  # its kits carry the flag: _unflagged_kits_of
    kits_of_lot = ("SELECT k.serial FROM kits k JOIN kit_components c ON c.kit_id = k.id "
                   "JOIN lots l ON l.id = c.lot_id WHERE l.code = :lot")  # fmt: skip
    touched = {
        "session": "CAST(a.after AS jsonb) ->> 'lot' = :lot",
        "fulfil": f"CAST(a.after AS jsonb) -> 'kits' ->> '1' IN ({kits_of_lot})",
        "ship": f"a.entity_key IN ({kits_of_lot})",
        "handover": f"a.entity_key IN ({kits_of_lot})",
    }[operation]
    rows = _sql(url, "SELECT a.id FROM audit_log a WHERE a.id > :since AND a.action = :action "
                     f"AND {touched} AND a.id > (SELECT r.id FROM audit_log r "
                     "WHERE r.action = 'lot.recall' AND r.entity_key = 'SERUM-5ML/' || :lot)",
                since=since, action=ACTIONS[operation], lot=lot)  # fmt: skip
    return [row[0] for row in rows]


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_recall_at_a_random_moment_never_lets_a_kit_or_vial_of_the_lot_go(pg_url, operation):
    rng = random.Random(f"races-{operation}")
    [(serum,)] = _sql(pg_url, "SELECT id FROM products WHERE sku = 'SERUM-5ML'")
    for (code,) in _sql(pg_url, "SELECT code FROM lots WHERE product_id = :serum "
                                "AND status = 'released'", serum=serum):  # fmt: skip
        ok(pg_url, "lot", "quarantine", str(code), "--reason", "kept out of the race test")
    _open_every_day(pg_url, "ESX")
    runners = _Runners(pg_url)
    preparation = _Preparation(pg_url)
    outcomes = []
    try:
        for n in range(ROUNDS):
            lot, stamps = f"RND-S{n:02d}", f"RND-T{n:02d}"
            command = preparation.round(operation, lot, stamps, n)
            [(since,)] = _sql(pg_url, "SELECT coalesce(max(id), 0) FROM audit_log")
            offset = rng.uniform(-0.1, 0.6)
            done, recall = runners.race(
                command, ("lot", "recall", lot, "--reason", f"round {n}"), offset
            )
            where = f"round {n} (offset {offset:.2f} s): {' '.join(command)}"
            assert recall[0] == 0, (where, recall)
            assert done[0] in (0, 1), (where, done)  # done, or refused in one line
            assert _unflagged_kits_of(pg_url, lot) == [], (where, done)
            assert _audit_after_the_recall(pg_url, operation, lot, int(str(since))) == [], (
                where, done)  # fmt: skip
            outcomes.append(done[0])
    finally:
        preparation.close()
        runners.close()
    print(f"{operation}: {outcomes.count(0)} of {ROUNDS} rounds done, the rest refused")
    db_check_passes(pg_url)
