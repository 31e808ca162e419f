"""``kitops serve`` as a real process: its workers, its database connections, its signals.

With ``--workers 2`` (PostgreSQL) the app is built once and the workers are forked from
it (``kitops.web.server``). These tests start the command a clinic runs, in a session of
its own (so Ctrl-C can be sent to its whole process group, as a terminal does), and read
its workers and their sockets from Linux's /proc.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from kitops.data.engine import Database
from kitops.services import tokens
from kitops.services.unit_of_work import UnitOfWork

LAUNCH = "import sys; from kitops.cli import main; sys.argv[0] = 'kitops'; main()"
SECRET = "a test key that signs the serve tests' cookies"
START_S = 90.0  # bounds a loaded machine's start-up; a healthy one answers within seconds
STOP_S = 30.0  # the workers' graceful limit (20 s) and some

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
postgresql_only = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def children(pid: int) -> set[int]:
    """The live (not yet reaped) child processes of ``pid``."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, IndexError):
            continue
        if parent == str(pid) and state != "Z":
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def connections_to(pid: int, port: int) -> set[int]:
    """The sockets (by inode) through which process ``pid`` holds an established TCP
    connection to ``port``. A socket a process inherited is the same inode in both."""
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        return set()
    established = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01":  # 01: ESTABLISHED
                established.add(int(fields[9]))
    return inodes & established


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def workers(self) -> set[int]:
        return children(self.process.pid)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self, timeout: float = STOP_S) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            output = self.output()
            raise AssertionError(f"kitops serve did not stop in {timeout} s:\n{output}") from None


def wait_until_serving(served: Served, workers: int) -> None:
    """Until the command answers and runs ``workers`` workers (one: itself)."""
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"kitops serve exited with {served.process.returncode}:\n"
                                 f"{served.output()}")  # fmt: skip
        try:
            answered = httpx.get(served.url + "/login", timeout=5.0).status_code == 200
        except httpx.TransportError:
            answered = False
        if answered and (workers == 1 or len(served.workers) == workers):
            return
        time.sleep(0.05)
    raise AssertionError(f"kitops serve gave no answer in {START_S} s:\n{served.output()}")


@pytest.fixture
def serve(db_url: str, tmp_path: Path) -> Iterator[Callable[[int], Served]]:
    """``serve(workers)``: ``kitops --db URL serve --workers N`` on this test's database,
    answering; stopped (killed, if it must be) after the test."""
    started: list[Served] = []

    def start(workers: int) -> Served:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
        env["KITOPS_WEB_SECRET"] = SECRET
        log = tmp_path / f"serve-{len(started)}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-c", LAUNCH, "--db", db_url, "serve", "--port", str(port),
                 "--workers", str(workers)],
                stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )  # fmt: skip
        served = Served(f"http://127.0.0.1:{port}", process, log)
        started.append(served)
        wait_until_serving(served, workers)
        return served

    yield start
    for served in started:
        if served.process.poll() is None:
            os.killpg(served.process.pid, signal.SIGKILL)
            served.process.wait()


def token_for(db: Database) -> str:
    return tokens.create_token(UnitOfWork(db, "tester"), "serve-test", "tester").secret


def ask_at_once(url: str, token: str, n: int) -> list[int]:
    """``n`` API requests at once, each on a connection of its own (so the kernel hands
    them to whichever worker accepts first): their statuses."""

    def one(_: int) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(url + "/api/v1/kits", headers=headers, timeout=60.0).status_code

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


@postgresql_only
def test_two_forked_workers_answer_at_once_each_on_connections_of_its_own(serve, db, db_url):
    token = token_for(db)
    pg_port = make_url(db_url).port or 5432
    if (make_url(db_url).host or "/").startswith("/"):
        pytest.skip("the test database is reached through a Unix socket, not TCP")
    served = serve(2)
    workers = served.workers
    assert len(workers) == 2
    # the command built the app and checked the schema, then closed its connections
    # before forking: the workers inherit none, and it holds none while they serve
    assert connections_to(served.process.pid, pg_port) == set()
    held: dict[int, set[int]] = {}
    for _ in range(20):  # until each worker has answered some (bounded)
        statuses = ask_at_once(served.url, token, 24)
        assert statuses == [200] * 24
        held = {pid: connections_to(pid, pg_port) for pid in workers}
        if all(held.values()):
            break
    assert all(held.values()), f"a worker never reached the database: {held}"
    first, second = held.values()
    assert first.isdisjoint(second)  # no connection shared between the workers
    assert connections_to(served.process.pid, pg_port) == set()
    assert served.workers == workers  # none died on the way

    served.process.send_signal(signal.SIGTERM)
    assert served.wait() == 0
    output = served.output()
    assert "Traceback" not in output
    assert "ERROR" not in output


@postgresql_only
@pytest.mark.parametrize("how", ["sigterm", "ctrl-c"])
def test_sigterm_or_ctrl_c_stops_the_command_and_every_worker(serve, how):
    served = serve(2)
    workers = served.workers
    if how == "sigterm":  # systemd's stop, `kill PID`
        served.process.send_signal(signal.SIGTERM)
    else:  # a terminal's Ctrl-C: SIGINT to the whole foreground process group
        os.killpg(served.process.pid, signal.SIGINT)
    assert served.wait() == 0
    assert not any(alive(pid) for pid in workers)
    output = served.output()
    assert "Traceback" not in output
    assert "WARNING" not in output
    assert "ERROR" not in output


@postgresql_only
def test_a_worker_that_dies_is_replaced_and_the_server_answers_on(serve, db):
    token = token_for(db)
    served = serve(2)
    workers = served.workers
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        now = served.workers
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.05)
    now = served.workers
    assert len(now) == 2
    assert victim not in now
    assert workers - {victim} <= now  # the other one served on
    assert ask_at_once(served.url, token, 8) == [200] * 8
    served.process.send_signal(signal.SIGTERM)
    assert served.wait() == 0
    assert "Traceback" not in served.output()


@postgresql_only
def test_a_port_already_taken_is_one_line_exit_2(kitops):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = kitops("serve", "--port", port, "--workers", "2")
    assert result.code == 2
    said = f"kitops: --port '{port}': cannot listen there (Address already in use)"
    assert result.err.strip() == said


@sqlite_only
def test_one_worker_serves_and_stops_on_sigterm_with_status_0(serve):
    served = serve(1)
    assert served.workers == set()  # the command serves in its own process
    served.process.send_signal(signal.SIGTERM)
    assert served.wait() == 0
    assert "Traceback" not in served.output()


@sqlite_only
def test_sqlite_is_refused_more_than_one_worker(kitops):
    result = kitops("serve", "--workers", "2")
    assert result.code == 2  # a usage error
    assert "SQLite is served by one worker" in result.err
