"""``kitops stock --location LON`` as a person types it, beside hand-written SQL.

Builds the ledger benchmark's database (``benchmarks/ledger_scale.py``: the demo data plus
``--rows`` moves, default 1,000,000, over 6,600 lots) or takes one already built
(``--db URL --built``), then times two things, each beside its hand-written SQL:

- the whole command, in a subprocess as a shell runs it (interpreter start, imports,
  query, the table printed to a pipe), against a small Python program that runs one
  hand-written query (the location subtree as a recursive CTE, the joins, the filters and
  the order) and prints the same lines in a fixed-width table with its total. One run of
  each warms the file cache, then ``--runs`` of each (default 3) alternate; medians.
- the stock on hand service in process (``kitops.services.stock.stock_on_hand``, as the
  command calls it) against the same question in SQL on a connection of kitops' pool,
  as ``ledger_scale.py`` times it.

It measures and prints (the targets beside the figures); it never asserts one.

Usage: python benchmarks/stock_command.py [--rows 1000000] [--runs 3]
           [--db URL [--built] | --pg-admin-url postgresql://postgres@127.0.0.1:5432/postgres]
           [--keep]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import benchdb
import ledger_scale
from sqlalchemy import update

from kitops.data.engine import Database, open_database
from kitops.data.schema import UserRow
from kitops.services.identity import current_identity
from kitops.web.memory import settle_memory

LOCATION = ledger_scale.STOCK_CLINIC
COMMAND_TARGET_S = 1.0
SERVICE_TARGET_RATIO = 1.5
KITOPS = str(Path(sys.executable).parent / "kitops")

# The hand-written side of the command: its own interpreter, the driver, one query and a
# fixed-width table of the same columns (clinic, location, SKU, lot, expiry, days, status,
# qty) and the total, without kitops. argv: URL, location code.
PRINT_WITH_SQL = r'''
import sys
from datetime import date
url, root = sys.argv[1], sys.argv[2]
sqlite = url.startswith("sqlite")
if sqlite:
    import sqlite3
    conn = sqlite3.connect(url.split("///", 1)[1])
    mark = "?"
else:
    import psycopg
    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    mark = "%s"
today = date.today()
query = f"""
    WITH RECURSIVE place(id) AS (
        SELECT id FROM locations WHERE code = {mark}
        UNION ALL SELECT l.id FROM locations l JOIN place ON l.parent_id = place.id
    )
    SELECT lo.code, p.sku, l.code, l.expiry, l.status, b.quantity
    FROM stock_balances b
    JOIN lots l ON l.id = b.lot_id
    JOIN products p ON p.id = b.product_id
    JOIN locations lo ON lo.id = b.location_id
    WHERE b.location_id IN (SELECT id FROM place) AND b.quantity > 0
      AND l.status = 'released' AND (l.expiry IS NULL OR l.expiry >= {mark})
    ORDER BY p.sku, l.expiry, l.code, lo.code
"""
rows = conn.execute(query, (root, today.isoformat() if sqlite else today)).fetchall()
lines = []
for location, sku, lot, expiry, status, qty in rows:
    if isinstance(expiry, str):
        expiry = date.fromisoformat(expiry)
    days = "" if expiry is None else str((expiry - today).days)
    lines.append((root, location, sku, lot, "" if expiry is None else expiry.isoformat(), days,
                  status, str(qty)))
head = ("clinic", "location", "SKU", "lot", "expiry", "days", "status", "qty")
widths = [max([len(h)] + [len(line[n]) for line in lines]) for n, h in enumerate(head)]
right = (False, False, False, False, False, True, False, True)
def show(cells):
    return "  ".join(c.rjust(w) if r else c.ljust(w)
                     for c, w, r in zip(cells, widths, right)).rstrip()
out = [show(head), "\u2500" * (sum(widths) + 2 * (len(widths) - 1))]
out += [show(line) for line in lines]
out.append(f"{len(lines)} lines, {sum(row[5] for row in rows)} units")
sys.stdout.write("\n".join(out) + "\n")
'''


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall time, the process's CPU time (user + system: what it costs whatever else the
    machine is doing) and what it printed."""
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return took, children_cpu() - cpu, done.stdout


def last_line(output: str) -> str:
    return output.rstrip("\n").rsplit("\n", 1)[-1]


Samples = list[tuple[float, float]]  # (wall, CPU) seconds per run


def bench_command(url: str, runs: int) -> tuple[Samples, Samples, str, str]:
    """The command and its SQL program, one warm-up each, then ``runs`` of each, taken in
    turn; returns both samples and both programs' last lines (their totals)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
    env["KITOPS_DATABASE_URL"] = url
    env["COLUMNS"] = "100"
    kitops = [KITOPS, "stock", "--location", LOCATION]
    sql = [sys.executable, "-c", PRINT_WITH_SQL, url, LOCATION]
    *_, kitops_out = run(kitops, env)
    *_, sql_out = run(sql, env)
    kitops_samples: Samples = []
    sql_samples: Samples = []
    for _ in range(runs):
        kitops_samples.append(run(kitops, env)[:2])
        sql_samples.append(run(sql, env)[:2])
    return kitops_samples, sql_samples, last_line(kitops_out), last_line(sql_out)


def bind_login(db: Database) -> str:
    """Bind the login running the benchmark (the OS account on SQLite, the session user on
    PostgreSQL) to the benchmark's admin user, so the command acts as it, as a person's
    login bound to their user does."""
    login = current_identity(db)
    with db.engine.begin() as conn:
        conn.execute(update(UserRow).where(UserRow.login == login).values(login=None))
        conn.execute(update(UserRow).where(UserRow.name == ledger_scale.ACTOR).values(login=login))
    return login


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="ledger rows to build")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", help="an empty database URL (default: SQLite in a temp dir)")
    where.add_argument("--pg-admin-url", help="create and drop a PostgreSQL database there")
    parser.add_argument(
        "--built", action="store_true", help="--db already holds the benchmark's data"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    if args.built and not args.db:
        parser.error("--built needs --db")
    if not args.built and args.rows < 50_000:
        parser.error("--rows must be at least 50000 (6,600 lots need a few moves each)")

    benchdb.compile_bytecode()
    scratch = None
    if args.db:
        url = args.db
    else:
        scratch = benchdb.create(args.pg_admin_url, f"kitops_stock_{os.getpid()}", "stock.db")
        url = scratch.url
    db = open_database(url)
    try:
        print(f"database: {db.display_url} ({db.engine.dialect.name})")
        if not args.built:
            start = time.perf_counter()
            generated = ledger_scale.generate(db, args.rows)
            print(f"built in {time.perf_counter() - start:.1f} s: {generated.moves:,} moves")

        print(f"login {bind_login(db)} acts as {ledger_scale.ACTOR}")
        # what the process holds now lives as long as it: out of the collector's sight, as
        # kitops' own processes put it (the command line after its imports, the web server
        # and the terminal UI once started), so a full collection walks only what a run makes
        settle_memory()
        raw = db.engine.raw_connection()  # from kitops's pool: same PRAGMAs as kitops
        try:
            sql = ledger_scale.Sql(raw.driver_connection, sqlite=db.is_sqlite)
            service = ledger_scale.bench_stock(db, sql, max(args.runs, 5))
        finally:
            raw.close()
        print(service.line())

        kitops, by_hand, kitops_total, sql_total = bench_command(url, args.runs)
        print(f"kitops stock --location {LOCATION}: {kitops_total}")
        print(f"SQL program:               {sql_total}")
        k_med = statistics.median(wall for wall, _ in kitops)
        s_med = statistics.median(wall for wall, _ in by_hand)
        k_cpu = statistics.median(cpu for _, cpu in kitops)
        s_cpu = statistics.median(cpu for _, cpu in by_hand)
        (sk_med, _), (ss_med, _) = service.ms(service.kitops), service.ms(service.sql)
        print()
        print(f"{'what':<34} | {'kitops':>9} | {'SQL':>9} | {'ratio':>6} | target")
        print(f"{'-' * 34}-+-{'-' * 9}-+-{'-' * 9}-+-{'-' * 6}-+-{'-' * 22}")
        met = "met" if k_med < COMMAND_TARGET_S else "MISSED"
        print(
            f"{'kitops stock --location ' + LOCATION:<34} | {k_med:7.3f} s | {s_med:7.3f} s | "
            f"{k_med / s_med:5.1f}x | < {COMMAND_TARGET_S:.0f} s: {met}"
        )
        print(
            f"{'  the same, CPU time (user + sys)':<34} | {k_cpu:7.3f} s | {s_cpu:7.3f} s | "
            f"{k_cpu / s_cpu:5.1f}x |"
        )
        ratio = sk_med / ss_med
        met = "met" if ratio <= SERVICE_TARGET_RATIO else "MISSED"
        print(
            f"{'stock on hand service':<34} | {sk_med:6.1f} ms | {ss_med:6.1f} ms | "
            f"{ratio:5.1f}x | <= {SERVICE_TARGET_RATIO}x: {met}"
        )
        if service.kitops_cpu and service.sql_cpu:
            sk_cpu, ss_cpu = service.ms(service.kitops_cpu)[0], service.ms(service.sql_cpu)[0]
            print(
                f"{'  the same, CPU (this process)':<34} | {sk_cpu:6.1f} ms | "
                f"{ss_cpu:6.1f} ms | {sk_cpu / ss_cpu:5.1f}x | (PostgreSQL: client only)"
            )
        print(
            f"(medians: the command of {len(kitops)} runs in a subprocess, warm file cache; "
            f"the service of {len(service.kitops)} runs in process)"
        )
    finally:
        db.dispose()
        if scratch and args.keep:
            print(f"kept {scratch.where()}: {url}")
        elif scratch:
            scratch.drop()


if __name__ == "__main__":
    main()
