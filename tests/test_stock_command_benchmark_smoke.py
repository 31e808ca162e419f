"""``benchmarks/stock_command.py`` in miniature on PostgreSQL, so it cannot rot: the ledger
benchmark's data at its smallest (50,000 moves), one timed run of the command and of its
SQL program. It asserts that the benchmark runs and that the command and the hand-written
SQL printed the same number of lines and units, never a figure (the figures are the
benchmark's to print). On SQLite it runs in tests/test_benchmarks_tiny.py, on the database
the ledger benchmark's miniature built (the same data, built once)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench_support import assert_the_stock_command_and_its_sql_agree

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.postgresql
def test_the_stock_command_benchmark_runs_and_both_sides_agree() -> None:
    # the benchmark builds its own database: one it creates and drops through the tests'
    # administrative URL
    admin = os.environ.get("KITOPS_TEST_PG_URL")
    if not admin:
        pytest.skip("PostgreSQL only here (KITOPS_TEST_PG_URL); SQLite: test_benchmarks_tiny")
    where = ["--pg-admin-url", admin]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "stock_command.py"), *where,
         "--rows", "50000", "--runs", "1"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert_the_stock_command_and_its_sql_agree(run.stdout)
