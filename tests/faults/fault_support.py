"""Helpers for the fault tests: run kitops in a child process, kill it, look at the state.

A *snapshot* is the row count of every table (the reorder job's lease aside) plus the
units on hand per location: two snapshots are equal when one committed operation more or
less would tell them apart, whatever ids and timestamps it drew.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from kitops.cli import run
from kitops.data.engine import resolve_url
from kitops.data.schema import Base, StockBalanceRow

VICTIM = "kitops-fault-victim"  # application_name of the PostgreSQL sessions we kill
SKIPPED_TABLES = {"alembic_version", "job_locks"}
_LAUNCH = "import sys; from kitops.cli import main; sys.argv[0] = 'kitops'; main()"


def victim_url(url: str) -> str:
    """The URL a child process uses: on PostgreSQL its sessions carry a name we can find."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.update_query_dict({"application_name": VICTIM})
    return parsed.render_as_string(hide_password=False)


def kitops_argv(url: str, *args: str) -> list[str]:
    """A child kitops acting as the user bound to this login ("tester"; the child's
    environment carries no KITOPS_USER: ``child_env``)."""
    return [sys.executable, "-c", _LAUNCH, "--db", victim_url(url), *args]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
    env.update(extra)
    return env


def kitops_in_process(url: str, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """Run one command in this process; a question it asks reads ``stdin`` (by default
    nothing: end of input, as from /dev/null)."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(["--db", url, "--user", "tester", *args])
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


def ok(url: str, *args: str) -> str:
    """Run a command in-process that must succeed; returns its stdout."""
    code, out, err = kitops_in_process(url, *args)
    assert code == 0, (args, code, err)
    return out


def db_check_passes(url: str) -> None:
    code, out, err = kitops_in_process(url, "db", "check")
    assert code == 0, (out, err)
    assert out.startswith("ok: "), out


def snapshot(url: str) -> dict[str, Any]:
    engine = create_engine(resolve_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            state: dict[str, Any] = {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in Base.metadata.sorted_tables
                if table.name not in SKIPPED_TABLES
            }
            state["on_hand"] = dict(
                conn.execute(
                    select(StockBalanceRow.location_id, func.sum(StockBalanceRow.quantity))
                    .group_by(StockBalanceRow.location_id)
                    .having(func.sum(StockBalanceRow.quantity) != 0)
                ).all()
            )
    finally:
        engine.dispose()
    return state


def effect(state: dict[str, Any]) -> dict[str, Any]:
    """A snapshot without the audit log: a rerun that changes nothing may still record
    that it ran (a count with no differences is audited as a count)."""
    return {key: value for key, value in state.items() if key != "audit_log"}


def settle(url: str, admin_url: str | None, limit: float = 60.0) -> None:
    """After a kill on PostgreSQL, wait until the server has noticed and ended the killed
    client's session (it finishes the statement it was running, then rolls back, or
    completes a COMMIT that had arrived), so what we look at next is final."""
    if admin_url is None:
        return
    database = make_url(url).database
    engine = create_engine(resolve_url(admin_url), poolclass=NullPool)
    try:
        deadline = time.monotonic() + limit
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                left = conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = :db AND application_name = :name"
                    ),
                    {"db": database, "name": VICTIM},
                ).scalar_one()
                if not left:
                    return
                conn.rollback()
                time.sleep(0.05)
        raise AssertionError(f"the killed client's session on {database} never ended")
    finally:
        engine.dispose()


@dataclass
class Scratch:
    """A test database that can be put back to a saved state (a baseline)."""

    url: str
    backend: str
    pg_admin: Any = None
    _baseline: Any = None

    @property
    def admin_url(self) -> str | None:
        if self.pg_admin is None:
            return None
        return str(self.pg_admin.url.render_as_string(hide_password=False))

    @property
    def sqlite_path(self) -> Path:
        return Path(make_url(self.url).database or "")

    def save_baseline(self) -> None:
        if self.backend == "sqlite":
            target = self.sqlite_path.with_name("baseline.db")
            target.unlink(missing_ok=True)
            ok(self.url, "db", "backup", str(target))
            self._baseline = target
        else:
            name = f"{make_url(self.url).database}_base"
            self.pg_admin.drop(name)
            self.pg_admin.create(name, template=make_url(self.url).database)
            self._baseline = name

    def reset(self) -> None:
        if self.backend == "sqlite":
            path = self.sqlite_path
            for end in ("", "-wal", "-shm", "-journal"):
                path.with_name(path.name + end).unlink(missing_ok=True)
            shutil.copyfile(self._baseline, path)
        else:
            # the used copy is renamed out of the way and dropped behind (a drop waits on
            # the server's disk); dropped here only when a session still holds it
            name = str(make_url(self.url).database)
            used = f"{name}_used{uuid.uuid4().hex[:6]}"
            try:
                with self.pg_admin.engine.connect() as conn:
                    conn.execute(text(f'ALTER DATABASE "{name}" RENAME TO "{used}"'))
            except DBAPIError:
                self.pg_admin.drop(name)
            else:
                with self.pg_admin._lock:  # dropped at the end of the run if not before
                    self.pg_admin.created.append(used)
                self.pg_admin.drop_later(used)
            self.pg_admin.create(name, template=self._baseline)


# The heavy imports a kitops command makes, done once in the fork server the children are
# forked from: a child is a process of its own running the real command line, killed for
# real, without an interpreter start-up of its own (most of a short command's CPU time).
_PRELOAD = ["fault_workers", "kitops.cli", "kitops.cli.app", "kitops.cli.context",
            "kitops.data.engine", "kitops.data.schema", "kitops.services.unit_of_work",
            "sqlalchemy.orm", "psycopg", "click"]  # fmt: skip


class Child:
    """A child running ``argv``: a ``kitops_argv`` command is forked from the fork server
    (``fault_workers.kitops_child``), anything else is started as a program."""

    def __init__(self, argv: Sequence[str], env: dict[str, str]) -> None:
        self.process: Any = None
        self.ended: int | None = None  # a forked child's exit code, kept once it is closed
        self.popen: subprocess.Popen[bytes] | None = None
        if len(argv) > 2 and argv[1:3] == ["-c", _LAUNCH]:
            import multiprocessing
            import tempfile

            from fault_workers import kitops_child

            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            handle, self.err_path = tempfile.mkstemp(prefix="kitops-child-", suffix=".err")
            os.close(handle)
            self.process = context.Process(target=kitops_child,
                                           args=(list(argv[3:]), env, self.err_path))  # fmt: skip
            self.process.start()
        else:
            self.popen = subprocess.Popen(
                argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )

    def wait(self, timeout: float) -> bool:
        """True when it ended within ``timeout`` seconds."""
        if self.process is not None:
            self.process.join(timeout)
            return self.process.exitcode is not None
        assert self.popen is not None
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
        else:
            assert self.popen is not None
            self.popen.send_signal(signal.SIGKILL)
        self.wait(300)

    @property
    def returncode(self) -> int | None:
        if self.process is not None:
            return self.ended if self.ended is not None else self.process.exitcode  # type: ignore[no-any-return]
        assert self.popen is not None
        return self.popen.returncode

    def stderr(self) -> str:
        """What it wrote on stderr (once it has ended); frees what the child held."""
        if self.process is not None:
            path = Path(self.err_path)
            text = path.read_text(errors="replace")
            path.unlink(missing_ok=True)
            self.ended = self.process.exitcode
            self.process.close()
            return text
        assert self.popen is not None
        assert self.popen.stderr is not None
        text = self.popen.stderr.read().decode(errors="replace")
        self.popen.stderr.close()
        return text


def start_child(argv: Sequence[str], env: dict[str, str] | None = None) -> Child:
    return Child(argv, env or child_env())


def run_child(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run a child process to completion; returns its wall time and stderr."""
    started = time.monotonic()
    child = start_child(argv, env)
    assert child.wait(300), (argv[3:], "still running after 300 s")
    elapsed = time.monotonic() - started
    err = child.stderr()
    assert child.returncode == 0, (argv[3:], child.returncode, err)
    return elapsed, err


def kill_at(argv: Sequence[str], delay: float, env: dict[str, str] | None = None) -> bool:
    """Start a child and SIGKILL it after ``delay`` seconds; True when it was still
    running (the kill landed), False when it had finished (exit 0 required then)."""
    child = start_child(argv, env)
    if not child.wait(delay):
        child.kill()
        child.stderr()
        return True
    err = child.stderr()
    assert child.returncode == 0, (argv[3:], child.returncode, err)
    return False


def kill_at_point(argv: Sequence[str], point: str, env: dict[str, str] | None = None) -> None:
    """Run a child with ``KITOPS_FAULT=point`` (kitops/faults.py): it kills itself there;
    fails unless it died by SIGKILL, which proves the point was reached."""
    child = start_child(argv, {**(env or child_env()), "KITOPS_FAULT": point})
    assert child.wait(300), (argv[3:], "still running after 300 s")
    err = child.stderr()
    assert child.returncode == -signal.SIGKILL, (
        f"{point} was never reached: exit {child.returncode}",
        err[-2000:],
    )


@dataclass(frozen=True)
class KillReport:
    kills: int  # timed kills (the smoke part)
    interrupted: int  # the state after the kill was the state before the operation
    completed: int  # the operation had committed before the kill


def all_or_nothing_under_kills(
    scratch: Scratch,
    argv: Sequence[str],
    *,
    point: str,
    seed: int,
    kills: int,
    idempotent: bool,
    env: dict[str, str] | None = None,
) -> KillReport:
    """The kill test of one operation (see tests/faults/test_kill_operations.py).

    First the operation is killed at its named ``point`` (its changes written, its commit
    not sent): afterwards the state is exactly *before*. A run to completion gives *after*
    and how long a run takes (an idempotent one is run twice and changes nothing more).
    Then, as a smoke test, ``kills`` runs are killed at seeded random times: each leaves
    *before* or *after*, never anything between. A last run finishes it: exactly *after*.
    """
    before = snapshot(scratch.url)
    kill_at_point(argv, point, env)
    settle(scratch.url, scratch.admin_url)
    db_check_passes(scratch.url)
    assert snapshot(scratch.url) == before, f"killed at {point}, part of the work remained"

    elapsed, _ = run_child(argv, env)  # the run after the interruption, and how long it takes
    after = snapshot(scratch.url)
    assert after != before, "the operation changed nothing: the test would prove nothing"
    if idempotent:
        run_child(argv, env)
        assert effect(snapshot(scratch.url)) == effect(after), "a second run changed something"
    scratch.reset()
    assert snapshot(scratch.url) == before

    rng = random.Random(seed)
    interrupted = completed = 0
    for _ in range(kills):
        landed = kill_at(argv, rng.uniform(0.15, 0.95) * elapsed, env)
        settle(scratch.url, scratch.admin_url)
        db_check_passes(scratch.url)
        state = snapshot(scratch.url)
        assert state in (before, after), "a killed operation left part of its work"
        if state == before:
            interrupted += 1
            assert landed
        else:
            completed += 1
            scratch.reset()
    run_child(argv, env)
    db_check_passes(scratch.url)
    assert snapshot(scratch.url) == after
    return KillReport(kills, interrupted, completed)


def write_lines(path: Path, lines: Sequence[str]) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)
