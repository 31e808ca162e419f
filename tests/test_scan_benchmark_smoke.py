"""``benchmarks/scan.py`` in miniature, so it cannot rot: a few extra lots and two timed
scans per kind on SQLite. It asserts that every kind of code resolved to its kind, never
a figure (the figures are the benchmark's to print)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_the_scan_benchmark_resolves_every_kind_of_code() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / "scan.py"), "--lots", "40", "--runs", "2"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "demo + 40 lots" in out
    for label, kind in (("kit label", "kit"), ("lot code", "lot"),
                        ("location label", "location"), ("course card", "course")):  # fmt: skip
        rows = [line for line in out.splitlines() if line.startswith(label)]
        assert len(rows) == 2, out  # one per database
        assert all(row.split()[-4] == kind for row in rows), rows
