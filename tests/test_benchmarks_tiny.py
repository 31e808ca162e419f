"""Every benchmark in miniature, so none can rot unnoticed (``benchmarks/assignment.py``
crashed for days because nothing ran it): each script end to end at the smallest size it
takes, on SQLite (``fulfil_throughput.py``, PostgreSQL only, on the tests' server when
there is one). Each asserts that the script ran to its end and printed the lines its
readers look for, never a figure (the figures are the benchmark's to print, on a machine
and at a size where they mean something). ``web.py`` and ``scan.py`` have their own;
``stock_command.py`` runs here on the ledger benchmark's database (SQLite) and in
tests/test_stock_command_benchmark_smoke.py on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench_support import assert_the_stock_command_and_its_sql_agree

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(script: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
    run = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True, text=True, env=env, timeout=600, cwd=BENCHMARKS,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    return run.stdout


def _table_rows(out: str) -> dict[str, list[str]]:
    """The summary table a benchmark ends with: first column → the other columns."""
    rows = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) > 2:
            rows[cells[0]] = cells[1:]
    return rows


def test_the_assignment_benchmark_serves_what_assign_serves() -> None:
    out = _run("assignment.py", "--kits", "60", "--courses", "30", "--runs", "1")
    assert "fulfil_due run 1 on a fresh copy" in out
    assert "db check (last copy): ok=True" in out
    assert "in every run: True" in out


def test_the_ledger_benchmark_asks_each_question_and_the_ledger_balances(tmp_path: Path) -> None:
    # on a database of this test's, which the stock command benchmark then measures as it
    # stands (``--built``): the 50,000-move ledger is built once for both on SQLite
    # (tests/test_stock_command_benchmark_smoke.py builds its own on PostgreSQL)
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    out = _run("ledger_scale.py", "--db", ledger, "--rows", "50000", "--runs", "1")
    rows = _table_rows(out)
    questions = ("stock LON (kitops stock)", "trace HOT-0001", "count 5,000 lines at LON-FRIDGE",
                 "5,000 moves: trigger vs by hand")  # fmt: skip
    for question in questions:
        assert question in rows, out
    assert "db check: ok=True" in out
    stock = next(line for line in out.splitlines() if line.startswith("stock LON:"))
    assert "(the same lines in the same order)" in stock, stock  # like with like
    trace = next(line for line in out.splitlines() if line.startswith("trace HOT-0001:"))
    kitops_says, sql_says = trace.split("kitops ")[1].split("; SQL ")
    # the same question answered both ways: flows, on hand, references, the listed ones
    assert kitops_says == sql_says, trace
    count = next(line for line in out.splitlines() if line.startswith("count LON-FRIDGE:"))
    assert count.endswith("seen [500]"), count

    out = _run("stock_command.py", "--db", ledger, "--built", "--runs", "1")
    assert_the_stock_command_and_its_sql_agree(out)


def test_the_reports_benchmark_times_every_report() -> None:
    out = _run("reports_scale.py", "--moves", "4000", "--courses", "20", "--runs", "1")
    rows = _table_rows(out)
    assert "rendering `report stock`" in out
    for name in ("stock", "expiring", "kits", "demand", "cover", "wastage", "valuation",
                 "movements"):  # fmt: skip
        assert f"report {name}" in rows, out


def test_the_reorder_benchmark_runs_both_databases_and_changes_nothing_the_second_time() -> None:
    out = _run("reorder_scale.py", "--runs", "1", "--moves", "2000", "--courses", "30",
               "--lots", "40", "--products", "3")  # fmt: skip
    assert "reorder run, 3 clinics:" in out
    assert "reorder run, 50 clinics x 3 products:" in out
    assert out.count("run, nothing changed (median)") == 2
    assert "NOTE" not in out  # a run with nothing changed changed nothing


def test_the_start_up_benchmarks_start_kitops_and_the_terminal_ui() -> None:
    # SQLite, the demo data; no warm-up runs (they print nothing)
    out = _run("cli_startup.py", "--runs", "1", "--warm", "0")
    assert "kitops --help" in out
    assert "kitops stock --location LON" in out
    assert "kitops kit list" in out
    out = _run("tui_startup.py", "--runs", "1", "--warm", "0", "--lots", "50")
    assert "dashboard median" in out


def test_the_kit_list_benchmark_times_kit_list_beside_another_build(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
    kitops = str(Path(sys.executable).parent / "kitops")
    for step in (["db", "upgrade"], ["demo"]):
        done = subprocess.run([kitops, *step], capture_output=True, text=True, timeout=300,
                              env=env | {"KITOPS_DATABASE_URL": url})  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    out = _run("kit_list.py", "--url", url, "--runs", "1", "--other", kitops,
               "--args", "--status available")  # fmt: skip
    assert "this build" in out
    assert "other build" in out
    assert "kit list --status available" in out


@pytest.mark.postgresql
def test_the_fulfil_throughput_benchmark_reserves_no_kit_twice() -> None:
    admin = os.environ.get("KITOPS_TEST_PG_URL")
    if not admin:
        pytest.skip("PostgreSQL only (KITOPS_TEST_PG_URL)")
    out = _run("fulfil_throughput.py", "--pg-admin-url", admin, "--kits", "24",
               "--workers", "2", "--seconds", "3")  # fmt: skip
    assert "medians over rounds; checks ok" in out


@pytest.mark.postgresql
def test_the_chain_benchmark_builds_a_consistent_chain_and_types_every_command() -> None:
    admin = os.environ.get("KITOPS_TEST_PG_URL")
    if not admin:
        pytest.skip("PostgreSQL only (KITOPS_TEST_PG_URL)")
    out = _run("chain_scale.py", "--pg-admin-url", admin, "--rows", "6000", "--clinics", "3",
               "--hot-moves", "300", "--runs", "1")  # fmt: skip
    assert "3 clinics, 6 clinic users" in out
    rows = _table_rows(out)
    for command in ("kitops stock", "kitops stock --location LON", "kitops trace HOT-0001",
                    "kitops kit list"):  # fmt: skip
        assert command in rows, out
    assert any(name.startswith("kitops receive ") for name in rows), out
    assert any(name.startswith("kitops move ") for name in rows), out
    assert "trace HOT-0001" in rows, out
    assert "stock LON (kitops stock)" in rows, out
    assert "stock_moves (total, with indexes)" in rows, out
    assert "db check: ok=True" in out
    assert "kitops db check (whole command, once)" in out
