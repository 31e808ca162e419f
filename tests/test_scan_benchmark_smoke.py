"""``benchmarks/scan.py`` in miniature, so it cannot rot: a few extra lots, two timed
scans per kind on SQLite, and one scan per kind typed into the terminal UI. It asserts
that every kind of code resolved to its kind and opened its screen, never a figure (the
figures are the benchmark's to print).

The benchmark types each code through Textual's Pilot, which checks after every key that
the app went idle by sleeping a fiftieth of a second twice: 16 scans of about 40 keys per
database spent most of the miniature asleep. As in the terminal UI tests
(``_short_idle_checks`` in tests/tui/conftest.py) the check sleeps a tenth as long, with
the same ratio of CPU time to wall time; the keys typed before each timed Enter are not
timed, and the miniature asserts no figure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

# runs the benchmark as `python scan.py ...` would, with Textual's idle check shortened
_SHORT_IDLE_CHECKS = """
import runpy, sys
import textual._wait
textual._wait.SLEEP_GRANULARITY = 1 / 500
textual._wait.SLEEP_IDLE = 1 / 500 / 20
sys.argv = sys.argv[1:]
sys.path.insert(0, sys.argv[0].rsplit("/", 1)[0])
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_the_scan_benchmark_resolves_every_kind_of_code() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
    run = subprocess.run(
        [sys.executable, "-c", _SHORT_IDLE_CHECKS, str(BENCHMARKS / "scan.py"), "--lots", "40",
         "--runs", "2", "--tui-runs", "1"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "demo + 40 lots" in out
    opens = {"kit": "kits", "lot": "stock", "location": "stock", "course": "courses"}
    for label, kind in (("kit label", "kit"), ("lot code", "lot"),
                        ("location label", "location"), ("course card", "course")):  # fmt: skip
        rows = [line for line in out.splitlines() if line.startswith(label)]
        assert len(rows) == 4, out  # per database: the service, then scan to screen
        service, screen = rows[0::2], rows[1::2]
        assert all(row.split()[-4] == kind for row in service), rows
        assert all(opens[kind] in row.split() for row in screen), rows
