"""A writer process for the backup test: moves stock back and forth until told to stop."""

from __future__ import annotations

from datetime import date
from typing import Any

AS_OF = date(2026, 11, 22)


def shuttle(url: str, started: Any, stop: Any) -> int:
    """Move one vial of PTT6-B0902 between LON-FRIDGE and LON-SHELF until ``stop`` is set;
    ``started`` counts the committed moves. Returns how many were made."""
    from kitops.data.engine import open_database
    from kitops.services.operations import move
    from kitops.services.unit_of_work import UnitOfWork

    db = open_database(url)
    done = 0
    try:
        while not stop.is_set():
            there, back = (
                ("LON-FRIDGE", "LON-SHELF") if done % 2 == 0 else ("LON-SHELF", "LON-FRIDGE")
            )
            move(UnitOfWork(db, "fault"), "SERUM-5ML", 1, there, back, lot="PTT6-B0902",
                 today=AS_OF)  # fmt: skip
            done += 1
            with started.get_lock():
                started.value += 1
    finally:
        db.dispose()
    return done


def command_runner(url: str, requests: Any, replies: Any) -> None:
    """Run kitops commands in this process, one at a time, as they arrive on ``requests``
    (argument tuples; ``None`` ends it), acting as ``fault``; each answer goes back on
    ``replies`` as (exit code, stdout, stderr). The randomised race test keeps two of
    these ready, so a round costs no interpreter start-up."""
    import contextlib
    import io
    import sys

    from kitops.cli import run

    sys.stdin = io.StringIO("")
    while (args := requests.get()) is not None:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(["--db", url, "--user", "tester", *args])
        replies.put((code, out.getvalue(), err.getvalue()))


def kitops_child(args: list[str], env: dict[str, str], err_path: str) -> None:
    """One ``kitops`` command as a process of its own (forked from the fault tests' fork
    server, kitops already imported: fault_support.start_child), as the command line runs
    it: its environment exactly ``env``, stdout discarded, stderr into ``err_path``; its
    exit code is the command's."""
    import os
    import sys

    from kitops.cli import main

    devnull = os.open(os.devnull, os.O_WRONLY)
    err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(devnull, 1)
    os.dup2(err, 2)
    os.close(devnull)
    os.close(err)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["kitops", *args]
    main()
