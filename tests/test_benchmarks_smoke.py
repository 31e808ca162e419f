"""The web benchmark in miniature, so it cannot rot: ``benchmarks/web.py`` on a demo
database of this test's backend, as cheap as it can be while still going end to end:
one server start with one worker, one timed request per route, half a second of load by
two sessions (a manager in the pages, an integration on the API). It asserts that the
benchmark runs and that every answer it got was a 200, never any figure (the figures are
the benchmark's to print)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.demo_data

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_the_web_benchmark_runs_and_every_answer_is_a_200(db_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "web.py"), "--db", db_url, "--requests", "1",
         "--sessions", "2", "--duration", "0.5", "--starts", "1", "--help-runs", "0",
         "--workers", "1"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    out = run.stdout
    for route in ("/stock?clinic=LON", "/api/v1/lots/", "/reports/stock", "/purchase-orders"):
        assert route in out
    load = next(line for line in out.splitlines() if line.startswith("under load:"))
    assert "answers: 200 x" in load
    assert "ERRORS" not in out
