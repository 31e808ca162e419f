"""The web door: ``kitops serve`` answering pages and /api/v1, timed from a real client.

Starts ``kitops serve`` as a real process on a database (SQLite: one worker; PostgreSQL:
``--workers 2``) and times, from an HTTP client on loopback:

- start-up: from starting the command to its first 200 answer (target under 1.5 s), and
  ``kitops --help`` (target under 0.3 s), with whether the web modules loaded for it;
- p50/p95 over ``--requests`` requests of each everyday page (a manager logged in with
  the login form and its CSRF token) and each API route (an API token made by
  the service ``kitops token create`` calls); targets p95 under 150 ms (pages) and 500 ms (API);
  beside each, the same question asked of the services and views in-process (what the
  command line and the terminal UI do), so the web's own cost shows as a ratio;
- ``--sessions`` concurrent sessions (half managers in the pages, half integrations on
  the API) in a bounded loop for ``--duration`` seconds: requests/s, p95 and the answers
  counted by status. Any answer but 200, or a failed request, is an error: the run ends
  with exit status 1.

The database is the demo data (``--rows 0``, the default) or the demo data plus a ledger
of ``--rows`` moves built by ``ledger_scale.generate`` (1,000,000 for the README's
figures; its hot lot ``HOT-0001`` carries 3 % of them). It measures and prints; it
never asserts a target.

Usage: python benchmarks/web.py [--rows 0|1000000] [--requests 50] [--sessions 50]
           [--duration 60] [--starts 3] [--help-runs 10] [--workers N]
           [--db URL (already built: migrated, demo data) | --pg ADMIN_URL] [--keep]
           [--startup-only]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import benchdb
import httpx
from sqlalchemy import text

from kitops.data import migrate
from kitops.data.engine import Database, open_database
from kitops.reports.registry import run_report
from kitops.services import demo, lots, purchasing, tokens, users
from kitops.services.dto.reports import ReportRequest, Window
from kitops.services.unit_of_work import UnitOfWork
from kitops.views import choices, dashboard, pages

AS_OF = date(2026, 11, 22)
ACTOR = "bench"
MANAGER, PIN = "bench-manager", "2468"
ADMIN = "bench-admin"  # makes the API token, as an admin does (in-process: no PIN needed)
CLINIC = "LON"
PAGE_TARGET_MS = 150.0
API_TARGET_MS = 500.0
START_TARGET_S = 1.5
HELP_TARGET_S = 0.3
WEB_MODULES = ("fastapi", "starlette", "uvicorn", "kitops.web")
KITOPS = str(Path(sys.executable).parent / "kitops")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]*)"')
SECRET = "the key that signs the web benchmark's session cookies"


# --- the database ----------------------------------------------------------------------


def build(db: Database, rows: int) -> None:
    """The demo data, or the demo data and a ledger of ``rows`` moves."""
    if rows:
        from ledger_scale import generate

        generate(db, rows)
    else:
        migrate.upgrade(db)
        demo.load(UnitOfWork(db, ACTOR), AS_OF)


def busy_lot(db: Database) -> str:
    """The lot with the most ledger moves (the hot lot of a generated ledger)."""
    with db.engine.connect() as conn:
        hot = conn.execute(text("SELECT code FROM lots WHERE code = 'HOT-0001'")).scalar()
        if hot:
            return str(hot)
        return str(
            conn.execute(
                text(
                    "SELECT l.code FROM stock_moves m JOIN lots l ON l.id = m.lot_id "
                    "GROUP BY l.code ORDER BY COUNT(*) DESC, l.code LIMIT 1"
                )
            ).scalar_one()
        )


def ensure_users(db: Database) -> None:
    """The manager who logs in (with a PIN) and the admin who makes the API token."""
    with db.engine.connect() as conn:
        # added by the database's first admin (who loaded the demo data)
        acting = conn.execute(
            text("SELECT name FROM users WHERE role = 'admin' AND active ORDER BY id LIMIT 1")
        ).scalar()
        have = set(conn.execute(text("SELECT name FROM users")).scalars())
    for name, role, pin in ((ADMIN, "admin", None), (MANAGER, "manager", PIN)):
        if name not in have:
            users.add_user(UnitOfWork(db, acting or ACTOR), name, role, pin)


# --- the server ------------------------------------------------------------------------


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
    env["KITOPS_WEB_SECRET"] = SECRET
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    started_s: float  # from starting the command to its first 200 answer
    started_cpu_s: float | None  # the processor time it took (its workers' too)
    api_s: float  # from starting the command to the API's first answer (built after)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(url: str, workers: int, timeout: float = 60.0) -> Server:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [KITOPS, "--db", url, "serve", "--port", str(port), "--workers", str(workers)]
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    with httpx.Client(timeout=5.0) as client:
        while time.perf_counter() - start < timeout:
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise SystemExit(f"kitops serve exited with {process.returncode}: {error}")
            try:
                if client.get(base + "/login").status_code == 200:
                    took = time.perf_counter() - start
                    cpu = cpu_seconds(process.pid)
                    # the API's routes are built once the server answers: an API request
                    # waits for them, and no token is the API's own 401
                    client.get(base + "/api/v1/stock", timeout=60.0)
                    api = time.perf_counter() - start
                    return Server(base, process, took, cpu, api)
            except httpx.TransportError:
                pass
            time.sleep(0.005)
    process.kill()
    raise SystemExit(f"kitops serve gave no answer within {timeout} s")


def cpu_seconds(pid: int) -> float | None:
    """Processor seconds used by a process and its children so far (Linux's /proc; None
    elsewhere): the start-up's cost apart from waiting on a busy machine."""
    proc = Path("/proc")
    if not (proc / str(pid) / "stat").exists():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # itself or its child
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


@contextmanager
def serving(url: str, workers: int) -> Iterator[Server]:
    server = start_server(url, workers)
    try:
        yield server
    finally:
        server.stop()


def make_token(db: Database) -> str:
    """An API token for the manager, made by the admin through the service ``kitops token
    create`` calls (in-process: the token is what is measured, not the command)."""
    made = tokens.create_token(UnitOfWork(db, ADMIN), f"bench-{os.getpid()}", MANAGER)
    return made.secret


def log_in(client: httpx.Client) -> None:
    form = client.get("/login")
    found = CSRF.search(form.text)
    if found is None:
        raise SystemExit("the login page carries no CSRF token")
    answer = client.post(
        "/login", data={"name": MANAGER, "pin": PIN, "csrf": found.group(1), "next": "/"}
    )
    if answer.status_code != 303:
        raise SystemExit(f"logging in answered {answer.status_code}")


async def log_in_async(client: httpx.AsyncClient) -> None:
    form = await client.get("/login")
    found = CSRF.search(form.text)
    if found is None:
        raise SystemExit("the login page carries no CSRF token")
    answer = await client.post(
        "/login", data={"name": MANAGER, "pin": PIN, "csrf": found.group(1), "next": "/"}
    )
    if answer.status_code != 303:
        raise SystemExit(f"logging in answered {answer.status_code}")


# --- the questions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    kind: str  # "page" or "api"
    path: str
    in_process: Callable[[], object]  # the same question through the services and views


def questions(db: Database, lot: str) -> list[Question]:
    def uow() -> UnitOfWork:
        return UnitOfWork(db, MANAGER, readonly=True, bootstrap=False)

    def home() -> object:
        return (
            dashboard.overview(uow(), clinic=None),
            dashboard.purchasing_overview(uow(), clinic=None),
            choices.choices(uow()),
        )

    def stock_page() -> object:
        return (pages.stock_page(uow(), clinic=CLINIC, search="", show="all", sort="expiry",
                                 offset=0, limit=50), choices.choices(uow()))  # fmt: skip

    def expiring() -> object:  # its default window (30 days), one page, units counted
        return (pages.stock_page(uow(), clinic=None, search="", show="expiring", sort="expiry",
                                 offset=0, limit=50, within_days=30, count_units=True),
                choices.choices(uow()))  # fmt: skip

    def kits() -> object:
        return (pages.kits_page(uow(), clinic=None, status=None, search="", offset=0, limit=50),
                choices.choices(uow()))  # fmt: skip

    def courses() -> object:
        return (pages.courses_page(uow(), clinic=None, status=None, search="", offset=0,
                                   limit=50), choices.choices(uow()))  # fmt: skip

    def purchase_orders() -> object:
        return (purchasing.list_orders(uow()), choices.choices(uow()),
                purchasing.list_suppliers(uow()))  # fmt: skip

    def report() -> object:  # the page and the API ask for the first 500 lines
        return run_report(uow(), "stock", ReportRequest(clinic=None, as_of=None, options={},
                                                        window=Window(0, 500)))  # fmt: skip

    def api_stock() -> object:  # the API's first page: 50 lines of every status
        return pages.stock_page(uow(), clinic=CLINIC, show="all", offset=0, limit=50)

    return [
        Question("page", "/", home),
        Question("page", f"/stock?clinic={CLINIC}", stock_page),
        Question("page", "/expiring", expiring),
        Question("page", f"/lots/{lot}", lambda: lots.trace(uow(), lot)),
        Question("page", "/kits", kits),
        Question("page", "/courses", courses),
        Question("page", "/purchase-orders", purchase_orders),
        Question("page", "/reports/stock", report),
        Question("api", f"/api/v1/stock?clinic={CLINIC}", api_stock),
        Question("api", f"/api/v1/lots/{lot}", lambda: lots.show(uow(), lot)),
        Question("api", f"/api/v1/lots/{lot}/trace", lambda: lots.trace(uow(), lot)),
        Question("api", "/api/v1/kits",
                 lambda: pages.kits_page(uow(), clinic=None, status=None, search="", offset=0,
                                         limit=50)),
        Question("api", "/api/v1/courses",
                 lambda: pages.courses_page(uow(), clinic=None, status=None, search="",
                                            offset=0, limit=50)),
        Question("api", "/api/v1/reports/stock", report),
    ]  # fmt: skip


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm the caches and the connection pool
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def fetch(client: httpx.Client, path: str) -> Callable[[], object]:
    def get() -> object:
        answer = client.get(path)
        if answer.status_code != 200:
            raise SystemExit(f"GET {path} answered {answer.status_code}: {answer.text[:200]}")
        return answer

    return get


def bench_questions(
    server: Server, db: Database, lot: str, token: str, runs: int
) -> list[tuple[str, bool]]:
    """Prints one line per question; returns (path, met its target) for each."""
    met: list[tuple[str, bool]] = []
    with (
        httpx.Client(base_url=server.url, timeout=60.0) as browser,
        httpx.Client(base_url=server.url, timeout=60.0,
                     headers={"Authorization": f"Bearer {token}"}) as integration,
    ):  # fmt: skip
        log_in(browser)
        print(f"{'':<5} {'route':<34} {'web p50':>8} {'p95 ms':>7} "
              f"{'in-process p50':>15} {'p95 ms':>7} {'ratio p50':>9}  target")  # fmt: skip
        for question in questions(db, lot):
            client = browser if question.kind == "page" else integration
            web = timed(fetch(client, question.path), runs)
            local = timed(question.in_process, runs)
            target = PAGE_TARGET_MS if question.kind == "page" else API_TARGET_MS
            p95 = percentile(web, 0.95)
            ok = p95 < target
            met.append((question.path, ok))
            path = question.path if len(question.path) <= 34 else question.path[:31] + "..."
            print(
                f"{question.kind:<5} {path:<34} {statistics.median(web):8.1f} {p95:7.1f} "
                f"{statistics.median(local):15.1f} {percentile(local, 0.95):7.1f} "
                f"{statistics.median(web) / max(statistics.median(local), 0.001):8.1f}x"
                f"  p95 < {target:.0f} ms: {'met' if ok else 'MISSED'}"
            )
    return met


# --- under load ------------------------------------------------------------------------


@dataclass
class Load:
    statuses: Counter[str]
    latencies_ms: list[float]
    seconds: float

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "200")


async def under_load(
    server: Server, db: Database, lot: str, token: str, sessions: int, duration: float
) -> Load:
    """Half the sessions are managers in the pages, half integrations on the API, each
    asking its routes in turn, one request at a time, until the time is up. The managers
    log in first, one after another (a login checks the PIN with argon2, slow by design,
    inside its write transaction: a storm of simultaneous logins on SQLite waits on the
    database lock past its busy timeout); the clock starts once all have."""
    asked = questions(db, lot)
    page_paths = [q.path for q in asked if q.kind == "page"]
    api_paths = [q.path for q in asked if q.kind == "api"]
    load = Load(Counter(), [], duration)
    ready = asyncio.Event()
    one_login_at_a_time = asyncio.Lock()
    logged_in: list[int] = []
    deadline: list[float] = []

    async def one(n: int) -> None:
        manager = n % 2 == 0
        headers = {} if manager else {"Authorization": f"Bearer {token}"}
        paths = page_paths if manager else api_paths
        async with httpx.AsyncClient(base_url=server.url, timeout=60.0, headers=headers) as c:
            if manager:
                async with one_login_at_a_time:
                    await log_in_async(c)
            logged_in.append(n)
            await ready.wait()
            asked = n
            while time.perf_counter() < deadline[0]:
                path = paths[asked % len(paths)]
                asked += 1
                start = time.perf_counter()
                try:
                    status = str((await c.get(path)).status_code)
                except httpx.HTTPError as error:
                    status = type(error).__name__
                load.latencies_ms.append((time.perf_counter() - start) * 1000)
                load.statuses[status] += 1

    tasks = [asyncio.create_task(one(n)) for n in range(sessions)]
    while len(logged_in) < sessions:
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        if failed:
            ready.set()
            raise SystemExit(f"a session could not start: {failed[0].exception()}")
        await asyncio.sleep(0.02)
    started = time.perf_counter()
    deadline.append(started + duration)
    ready.set()
    await asyncio.gather(*tasks)
    load.seconds = time.perf_counter() - started
    return load


# --- start-up --------------------------------------------------------------------------


def help_startup(runs: int) -> tuple[float, float, str]:
    """``kitops --help``: median and worst seconds, and the web modules it loaded."""
    subprocess.run([KITOPS, "--help"], capture_output=True, check=True)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([KITOPS, "--help"], capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    probe = (
        "import sys\nfrom kitops.cli import run\nrun(['--help'])\n"
        f"print('loaded:' + ','.join(m for m in {WEB_MODULES!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    loaded = out.splitlines()[-1].removeprefix("loaded:") or "none"
    return statistics.median(samples), max(samples), loaded


# --- main ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=0,
                        help="ledger moves to build (0: the demo data only)")  # fmt: skip
    parser.add_argument("--requests", type=int, default=50, help="timed requests per route")
    parser.add_argument("--sessions", type=int, default=50, help="concurrent sessions")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds under load")
    parser.add_argument("--starts", type=int, default=3, help="timed server start-ups")
    parser.add_argument(
        "--help-runs", type=int, default=10, help="timed `kitops --help` runs (0: none)"
    )
    parser.add_argument("--workers", type=int, help="server workers (default: SQLite 1, "
                        "PostgreSQL 2)")  # fmt: skip
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", help="a database already built (migrated, demo data)")
    where.add_argument("--pg", metavar="ADMIN_URL",
                       help="create and drop a PostgreSQL database there")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--startup-only", action="store_true",
                        help="time the start-ups (and --help) only: no routes or load")  # fmt: skip
    args = parser.parse_args()

    scratch = None
    if args.db:
        url = args.db
    else:
        scratch = benchdb.create(args.pg, f"kitops_bench_web_{os.getpid()}", "web.db")
        url = scratch.url
    db = open_database(url)
    try:
        workers = args.workers or (1 if db.is_sqlite else 2)
        if not args.db:
            start = time.perf_counter()
            build(db, args.rows)
            print(f"built in {time.perf_counter() - start:.1f} s")
        ensure_users(db)
        with db.engine.connect() as conn:
            moves = conn.execute(text("SELECT COUNT(*) FROM stock_moves")).scalar_one()
        lot = busy_lot(db)
        print(f"database: {db.display_url} ({db.engine.dialect.name}), {moves:,} ledger moves, "
              f"busy lot {lot}; server: {workers} worker(s)")  # fmt: skip
        token = make_token(db)
        benchdb.compile_bytecode()

        if args.help_runs > 0:
            median, worst, loaded = help_startup(args.help_runs)
            print(f"kitops --help: median {median:.3f} s, max {worst:.3f} s "
                  f"(target < {HELP_TARGET_S} s); web modules loaded: {loaded}")  # fmt: skip
        servers = []
        for _ in range(max(0, args.starts - 1)):
            with serving(url, workers) as server:
                servers.append(server)
        with serving(url, workers) as server:
            servers.append(server)
            starts = [s.started_s for s in servers]
            cpus = [s.started_cpu_s for s in servers if s.started_cpu_s is not None]
            cpu = f", processor time median {statistics.median(cpus):.2f} s" if cpus else ""
            print(f"kitops serve to first 200: median {statistics.median(starts):.2f} s, "
                  f"max {max(starts):.2f} s over {len(starts)} start(s){cpu} "
                  f"(target < {START_TARGET_S} s)")  # fmt: skip
            print("start-ups: " + ", ".join(f"{s:.2f}" for s in starts) + " s")
            apis = [s.api_s for s in servers]
            print(f"kitops serve to the API's first answer: median "
                  f"{statistics.median(apis):.2f} s, max {max(apis):.2f} s")  # fmt: skip
            if args.startup_only:
                return 0
            print()
            met = bench_questions(server, db, lot, token, args.requests)
            print()
            load = asyncio.run(under_load(server, db, lot, token, args.sessions, args.duration))
        total = sum(load.statuses.values())
        print(
            f"under load: {args.sessions} sessions for {load.seconds:.1f} s: {total:,} "
            f"requests, {total / load.seconds:.1f} requests/s, p50 "
            f"{statistics.median(load.latencies_ms or [0.0]):.0f} ms, p95 "
            f"{percentile(load.latencies_ms or [0.0], 0.95):.0f} ms; answers: "
            + ", ".join(f"{status} x {n:,}" for status, n in sorted(load.statuses.items()))
        )
        missed = [path for path, ok in met if not ok]
        print(f"targets missed: {', '.join(missed) if missed else 'none'}")
        if load.errors:
            print(f"ERRORS under load: {load.errors}")
            return 1
        return 0
    finally:
        db.dispose()
        if scratch and not args.keep:
            scratch.drop()
        elif scratch:
            print(f"kept: {scratch.where()} ({url})")


if __name__ == "__main__":
    sys.exit(main())
