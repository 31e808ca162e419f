"""A throwaway PostgreSQL cluster for one test run (``KITOPS_TEST_PG=private``).

The suite's PostgreSQL tests clone a template database per test and commit often; on the
machine's server each clone and commit waits for the disk. A cluster of the same
PostgreSQL binaries in a temporary folder (in memory where /dev/shm is), started with
``fsync=off`` and ``synchronous_commit=off``, answers the same SQL with the same locks and
isolation, and is gone when the run ends: only its durability after a power cut differs,
which no test is about. ``initdb`` refuses to run as root: under root (CI) the cluster
belongs to the ``postgres`` account.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's programs (Debian's layout, then PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _version(path: str) -> int:
    part = path.split("/")[4]
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    folder: Path
    bin: Path
    port: int
    owner: str | None  # the account that runs it (None: this one)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", self.owner, "--"] if self.owner else []
        subprocess.run([*prefix, *argv], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, cwd="/")  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m",
                      "immediate", "-w", "stop")  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> Cluster:
    """A new cluster on a free loopback port, trust auth for ``postgres``."""
    programs = postgres_bin()
    if programs is None:
        raise RuntimeError("KITOPS_TEST_PG=private needs PostgreSQL's programs (pg_ctl)")
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="kitops-test-pg-", dir=base))
    owner = None
    if os.geteuid() == 0:
        owner = "postgres"
        account = pwd.getpwnam(owner)
        os.chown(folder, account.pw_uid, account.pw_gid)
    cluster = Cluster(folder, programs, _free_port(), owner)
    try:
        cluster._run(str(programs / "initdb"), "-D", str(folder / "data"), "-A", "trust",
                     "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        options = (
            f"-p {cluster.port} -k {folder} -c listen_addresses=127.0.0.1 -F "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        cluster._run(str(programs / "pg_ctl"), "-D", str(folder / "data"), "-l",
                     str(folder / "server.log"), "-w", "-o", options, "start")  # fmt: skip
    except BaseException:
        cluster.stop()
        raise
    return cluster
