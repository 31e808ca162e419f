"""``benchmarks/stock_command.py`` in miniature, so it cannot rot: the ledger benchmark's
data at its smallest (50,000 moves) on this test's backend, one timed run of the command
and of its SQL program. It asserts that the benchmark runs and that the command and the
hand-written SQL printed the same number of lines and units, never a figure (the figures
are the benchmark's to print)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_the_stock_command_benchmark_runs_and_both_sides_agree(backend: str) -> None:
    # the benchmark builds its own database (SQLite in a temporary folder, or a PostgreSQL
    # database it creates and drops through the tests' administrative URL)
    where = [] if backend == "sqlite" else ["--pg-admin-url", os.environ["KITOPS_TEST_PG_URL"]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "stock_command.py"), *where,
         "--rows", "50000", "--runs", "1"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    out = run.stdout.splitlines()
    command = next(line for line in out if line.startswith("kitops stock --location LON:"))
    by_hand = next(line for line in out if line.startswith("SQL program:"))
    assert command.split(":", 1)[1].strip() == by_hand.split(":", 1)[1].strip()
    assert " lines, " in command
    assert any(line.startswith("stock on hand service") for line in out)
    # the service and its SQL answer the same question: the same lines in the same order
    service = next(line for line in out if line.startswith("stock LON:"))
    assert "(the same lines in the same order)" in service, service
