"""How fast a scan is resolved (``kitops.services.scans.scan``, which the terminal UI calls
on every scan; target under 100 ms): the median (p50) and 95th percentile (p95) per kind
of code, on the demo data and on the demo data plus 100,000 lots.

The big database: the demo data as of 2026-11-22 plus ``--lots`` lots (``BENCH-000000``...)
of the serum and three stamps, each received into one of the six fridges and shelves (one
receipt move and its balance each, bulk-loaded with the ledger's triggers off as
``benchmarks/ledger_scale.py`` does), one in fifty in quarantine.
Each timed call is a whole service call in its own read transaction, as the UI makes it
(parsing, the unit of work, the queries, the DTO). Then, scan to screen: the terminal UI
(Textual's Pilot, 120 x 35, scan detection on) types each code as a scanner does, and the
time runs from its Enter (the key event handed to the app) to the first frame the screen
that opens composes showing it (the list filtered to the kit, lot, place or course, this
scan's page in its table); the next scan waits until nothing is left running. p50 / p95
from the dashboard (the scan switches screens) and scanned again on the screen it opened
(the stockroom's loop: scan, act, scan the next). The Enter is not sent with Pilot's
``press``, which waits for the app to go idle (at least two 20 ms checks of the process's
CPU time) before it returns: that wait would be timed too. Frames are composed by
Textual's own refresh timer, as in a terminal (headless, they are composed but not
written). It measures and prints; it never asserts a target.

Usage: python benchmarks/scan.py [--lots 100000] [--runs 200] [--tui-runs 20]
           [--pg-admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--keep]
           [--name kitops_bench_scan] [--only location] [--big-url URL] [--profile FILE]

``--big-url`` measures a big database kept from an earlier run (``--keep``) instead of
building both; ``--only`` measures the scans of one kind (kit, lot, location, course);
``--profile`` writes a cProfile of the scans to screen (the statistics file, for pstats).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial

import benchdb
from sqlalchemy import insert, select

from kitops.data import migrate
from kitops.data.engine import Database, open_database
from kitops.data.schema import (
    KitRow,
    LocationRow,
    LotRow,
    ProductRow,
    StockBalanceRow,
    StockMoveRow,
)
from kitops.services import demo
from kitops.services.scans import scan
from kitops.services.unit_of_work import UnitOfWork

AS_OF = date(2026, 11, 22)
ACTOR = "bench"
TARGET_MS = 100.0
GS = "\x1d"
SKUS = ("SERUM-5ML", "STAMP-0.4", "STAMP-0.5", "STAMP-0.6")


def build(db: Database, lots: int) -> None:
    migrate.upgrade(db)
    demo.load(UnitOfWork(db, ACTOR), AS_OF)
    if not lots:
        return
    rng = random.Random(20261122)
    with db.engine.begin() as conn:
        products = dict(conn.execute(select(ProductRow.sku, ProductRow.id)).all())
        places = dict(conn.execute(select(LocationRow.code, LocationRow.id)).all())
        shelves = [places[f"{c}-{k}"] for c in ("LON", "ESX", "VIE") for k in ("FRIDGE", "SHELF")]
        now = datetime.now(UTC)
        batch = 20_000
        for start in range(0, lots, batch):
            conn.execute(
                insert(LotRow),
                [
                    {
                        "product_id": products[SKUS[n % len(SKUS)]],
                        "code": f"BENCH-{n:06d}",
                        "expiry": AS_OF + timedelta(days=rng.randint(-30, 900)),
                        "status": "quarantine" if n % 50 == 0 else "released",
                        "created_at": now,
                    }
                    for n in range(start, min(lots, start + batch))
                ],
            )
        lot_rows = conn.execute(
            select(LotRow.id, LotRow.product_id).where(LotRow.code.like("BENCH-%"))
        ).all()
        moves, balances = [], []
        for lot_id, product_id in lot_rows:
            place, qty = rng.choice(shelves), rng.randint(1, 40)
            moves.append({"product_id": product_id, "lot_id": lot_id,
                          "from_location_id": places["SUPPLIER"], "to_location_id": place,
                          "quantity": qty, "reason": "receipt", "actor": ACTOR,
                          "created_at": now})  # fmt: skip
            balances.append({"lot_id": lot_id, "location_id": place, "product_id": product_id,
                             "quantity": qty})  # fmt: skip
        # moves and their balances written together with the ledger's triggers off, as a
        # restore would (benchdb): a trigger per row would take minutes on PostgreSQL
        raw = conn.connection.driver_connection
        with benchdb.ledger_triggers_off(raw, sqlite=db.is_sqlite):
            for start in range(0, len(moves), batch):
                conn.execute(insert(StockMoveRow), moves[start : start + batch])
                conn.execute(insert(StockBalanceRow), balances[start : start + batch])
    if not db.is_sqlite:
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def codes(db: Database, lots: int) -> dict[str, str]:
    """One scan of each kind, as a scanner types it."""
    with db.engine.connect() as conn:
        kit = conn.execute(
            select(KitRow.serial, KitRow.expiry, ProductRow.gtin)
            .join(ProductRow, ProductRow.id == KitRow.product_id)
            .where(KitRow.course_id.is_not(None))
            .order_by(KitRow.serial)
        ).first()
        assert kit is not None
        course = conn.execute(select(KitRow.course_id).where(KitRow.serial == kit.serial))
        course_id = course.scalar_one()
        serum_gtin = conn.execute(
            select(ProductRow.gtin).where(ProductRow.sku == "SERUM-5ML")
        ).scalar_one()
        lot_code = (
            f"BENCH-{(lots // 2) // len(SKUS) * len(SKUS):06d}"
            if lots
            else conn.execute(
                select(LotRow.code)
                .join(ProductRow, ProductRow.id == LotRow.product_id)
                .where(ProductRow.sku == "SERUM-5ML")
                .order_by(LotRow.code)
            ).first()[0]  # type: ignore[index]
        )
    return {
        "kit label (GS1, ]d2)": f"]d201{kit.gtin}17{kit.expiry:%y%m%d}21{kit.serial}",
        "kit serial (plain)": kit.serial,
        "lot label (GS1, ]C1)": f"]C101{serum_gtin}10{lot_code}",
        "lot code (plain)": lot_code,
        "location label": "]d1KLOC:LON-FRIDGE",
        "course card": f"]d1KCRS:{course_id}",
    }


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def timed(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm: imports, the connection pool, the statement cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def run_case(name: str, db: Database, lots: int, runs: int, only: str | None = None) -> None:
    print(f"\n{name}")
    print(f"{'scan':<24} {'kind':<9} {'p50 ms':>8} {'p95 ms':>8} {'target':>8}")
    for label, data in codes(db, lots).items():
        kind = scan(UnitOfWork(db, ACTOR, readonly=True), data).kind
        if only and kind != only:
            continue
        samples = timed(lambda data=data: scan(UnitOfWork(db, ACTOR, readonly=True), data), runs)
        p50, p95 = percentiles(samples)
        print(f"{label:<24} {kind:<9} {p50:8.1f} {p95:8.1f} {'<' + str(int(TARGET_MS)):>8}")


# where each scan opens, and what its filter then holds
OPENS = {"kit": "kits", "lot": "stock", "location": "stock", "course": "courses"}


def tui_case(
    db: Database, lots: int, runs: int, only: str | None = None, profile: str | None = None
) -> None:
    """Scan to screen in the terminal UI, per kind of code."""
    import asyncio
    import cProfile

    from kitops.tui.app import build_app

    cases = [(label, data, scan(UnitOfWork(db, ACTOR, readonly=True), data))
             for label, data in codes(db, lots).items()]  # fmt: skip
    cases = [case for case in cases if not only or case[2].kind == only]
    profiler = cProfile.Profile() if profile else None

    ticks = iter(range(1 << 62))

    def scanner_clock() -> float:
        """The scanner's keys 2 ms apart, whatever the speed the keys are sent at here."""
        return next(ticks) * 0.002

    async def measure() -> None:
        from textual import events
        from textual.screen import Screen

        # a scanner's timing whatever the speed the keys are sent at here: 2 ms apart,
        # and held keys wait for the next key rather than a timer
        app = build_app(db_url=db.url, user=ACTOR, login=False, today=AS_OF,
                        cursor_blink=False, scan_clock=scanner_clock,
                        scan_replay_after=0)  # fmt: skip
        # when a frame was composed while the screen showed what was scanned
        frames: list[float] = []
        cpu_frames: list[float] = []  # the process's CPU time (all threads) at those frames
        showing: list[Callable[[], bool]] = []
        compose_frame = Screen._compositor_refresh

        def composed(screen: Screen[object]) -> None:
            compose_frame(screen)
            done, cpu = time.perf_counter(), time.process_time()  # the check below: not timed
            if showing and screen is app.screen and showing[0]():
                frames.append(done)
                cpu_frames.append(cpu)
                if profiler:  # the profile runs from the Enter to this frame
                    profiler.disable()

        Screen._compositor_refresh = composed  # type: ignore[method-assign]
        try:
            async with app.run_test(size=(120, 35)) as pilot:
                while app.user is None or app.workers._workers:
                    await pilot.pause(0.01)
                print(f"{'scan to screen':<24} {'screen':<9} {'from the dashboard':>19}"
                      f" {'on its screen':>15} {'target':>8}  CPU ms p50, all threads")  # fmt: skip
                for label, data, found in cases:
                    mode = OPENS[found.kind]
                    shows = _code_shown(found)
                    keys = ["ctrl+right_square_bracket" if c == GS else c for c in data]
                    timings: dict[bool, list[float]] = {True: [], False: []}
                    cpu: dict[bool, list[float]] = {True: [], False: []}
                    for away in (True, False):
                        for run in range(runs + 1):  # the first opens the screen once: untimed
                            if away:
                                await pilot.press("f2")
                            while (app.current_mode != "dashboard") == away or app.workers._workers:
                                await pilot.pause(0.005)
                            await pilot.press(*keys)
                            before = _rows(app, mode)
                            frames.clear()
                            cpu_frames.clear()
                            showing[:] = [partial(_showing, app, mode, shows, before)]
                            if profiler and run:
                                profiler.enable()
                            start, cpu_start = time.perf_counter(), time.process_time()
                            app.post_message(events.Key("enter", "\r"))
                            while not (frames and _shown(app, mode, shows)):
                                if time.perf_counter() - start > 30:
                                    what = f"no {mode} screen showing {shows!r} after 30 s"
                                    raise RuntimeError(f"{label}: {what} ({app.screen!r})")
                                await asyncio.sleep(0.001)
                            showing.clear()
                            if run:
                                timings[away].append(frames[0] - start)
                                cpu[away].append(cpu_frames[0] - cpu_start)
                    far, near = percentiles(timings[True]), percentiles(timings[False])
                    cpu_far, cpu_near = percentiles(cpu[True])[0], percentiles(cpu[False])[0]
                    target = "<" + str(int(TARGET_MS))
                    print(f"{label:<24} {mode:<9} {far[0]:9.1f} / {far[1]:7.1f}"
                          f" {near[0]:6.1f} / {near[1]:6.1f} {target:>8}"
                          f"  {cpu_far:6.1f} / {cpu_near:5.1f}")  # fmt: skip
        finally:
            Screen._compositor_refresh = compose_frame  # type: ignore[method-assign]

    asyncio.run(measure())
    if profiler and profile:
        profiler.dump_stats(profile)
        print(f"profile of the scans to screen: {profile}")


def _code_shown(found: object) -> str:
    """What the filter of the screen a scan opens shows: the kit's serial, the lot's
    code, the place's code or the course's number."""
    kind = getattr(found, "kind", "")
    if kind == "course":
        return str(getattr(found, "course_id", ""))
    return str(getattr(found, {"kit": "serial", "lot": "lot", "location": "location"}[kind]))


def _shown(app: object, mode: str, shows: str) -> bool:
    """The screen shows the scan's code in its filter and a loaded table, nothing left
    running."""
    from textual.widgets import DataTable, Input

    if getattr(app, "current_mode", None) != mode or getattr(app, "workers")._workers:  # noqa: B009
        return False
    screen = app.screen  # type: ignore[attr-defined]
    filters = screen.query("#filter")
    if not filters or filters.first(Input).value != shows:
        return False
    return any(table.row_count for table in screen.query(DataTable))


def _rows(app: object, mode: str) -> object:
    """The page of rows the list of ``mode`` holds now (None: not open yet)."""
    stack = getattr(app, "_screen_stacks").get(mode)  # noqa: B009
    return getattr(stack[0], "rows", None) if stack else None


def _showing(app: object, mode: str, shows: str, before: object) -> bool:
    """The screen shows the scan's code in its filter and a page of rows that arrived
    after the scan (not the page it held before)."""
    from textual.widgets import Input

    if getattr(app, "current_mode", None) != mode:
        return False
    screen = app.screen  # type: ignore[attr-defined]
    rows = getattr(screen, "rows", None)
    if not rows or rows is before:
        return False
    return bool(screen.query_one("#filter", Input).value == shows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lots", type=int, default=100_000, help="extra lots for the big case")
    parser.add_argument("--runs", type=int, default=200, help="timed scans per kind")
    parser.add_argument("--pg-admin-url", default=os.environ.get("KITOPS_BENCH_PG_ADMIN"),
                        help="run on PostgreSQL databases created through this URL")  # fmt: skip
    parser.add_argument("--tui-runs", type=int, default=20,
                        help="scans per kind typed into the terminal UI (0: none)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--name", default="kitops_bench_scan",
                        help="the PostgreSQL databases' name (the lots are added)")  # fmt: skip
    parser.add_argument("--only", choices=sorted(OPENS), help="the scans of one kind only")
    parser.add_argument("--big-url", help="a big database kept from an earlier run: only it")
    parser.add_argument("--profile", help="write a cProfile of the scans to screen here")
    args = parser.parse_args()
    if args.big_url:
        db = open_database(args.big_url)
        try:
            run_case(f"{db.url} (kept)", db, args.lots, args.runs, args.only)
            if args.tui_runs:
                tui_case(db, args.lots, args.tui_runs, args.only, args.profile)
        finally:
            db.dispose()
        return
    backend = "PostgreSQL" if args.pg_admin_url else "SQLite"
    for name, lots in (("demo data", 0), (f"demo + {args.lots:,} lots", args.lots)):
        bench = benchdb.create(args.pg_admin_url, f"{args.name}_{lots}", "scan.db")
        db = open_database(bench.url)
        try:
            start = time.perf_counter()
            build(db, lots)
            built = time.perf_counter() - start
            run_case(f"{backend}, {name} (built in {built:.1f} s)", db, lots, args.runs, args.only)
            if args.tui_runs:
                tui_case(db, lots, args.tui_runs, args.only, args.profile)
        finally:
            db.dispose()
            if args.keep:
                print(f"kept: {bench.where()}")
            else:
                bench.drop()


if __name__ == "__main__":
    main()
