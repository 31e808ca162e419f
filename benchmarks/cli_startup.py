"""How fast a command answers, whole, as a person types it (a fresh process each run).

Targets: ``kitops --help`` under 0.3 s; the everyday commands on the demo data (stock,
trace, receive, move, kit list) at most 0.45 s median. Each figure is printed beside the
floor measured in the same run: the interpreter alone, the interpreter importing
SQLAlchemy, and importing SQLAlchemy's ORM, which every command that reads the database
pays before its first query.

Each case runs once (``--warm N``: N times) to warm the file cache, then RUNS times taken
in turn with the other cases (so a burst of load elsewhere spreads over all of them);
wall-clock median and worst, and the median CPU time (user + system) of the process, which
other work on the machine disturbs less than the wall clock.

On PostgreSQL, ``--server-log PATH`` (the server's log file, readable by this user) also
prints how many statements each command sends: each runs once more with
``PGOPTIONS=-c log_statement=all`` (the user must be allowed to set it: a superuser) and
the lines the server logged for the benchmark's database (``USER@DATABASE`` in its
``log_line_prefix``, as Debian's default has it) are counted, BEGIN, COMMIT and
ROLLBACK among them, each one round trip.

Usage: python benchmarks/cli_startup.py [--runs N] [--warm N] [--pg-admin-url URL]
                                        [--help-only] [--server-log PATH]
  (without --pg-admin-url the everyday commands run on SQLite only)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import benchdb

KITOPS = str(Path(sys.executable).parent / "kitops")

FLOOR = {
    "python -c pass": [[sys.executable, "-c", "pass"]],
    "python -c 'import sqlalchemy'": [[sys.executable, "-c", "import sqlalchemy"]],
    "python -c 'import sqlalchemy.orm'": [[sys.executable, "-c", "import sqlalchemy.orm"]],
}
HELP = {
    "kitops --help": [[KITOPS, "--help"]],
    "kitops catalog --help": [[KITOPS, "catalog", "--help"]],
}


def everyday(env: dict[str, str]) -> dict[str, list[list[str]]]:
    """The everyday commands, each as a person types it. A case may hold several command
    lines taken in turn (move goes there and back, so the stock stays where it was)."""
    shelf = [KITOPS, "stock", "--sku", "STAMP-0.4", "--location", "LON-SHELF", "--json"]
    (held,) = json.loads(subprocess.run(shelf, capture_output=True, check=True, env=env).stdout)
    receive = f"receive STAMP-0.4 --lot {held['lot']} --expiry {held['expiry']} --qty 1 "
    typed = {
        "kitops stock": ["stock"],
        "kitops stock --location LON": ["stock --location LON"],
        "kitops trace PTT6-A0519": ["trace PTT6-A0519"],
        "kitops receive STAMP-0.4 ...": [receive + "--location LON-SHELF"],
        "kitops move STAMP-0.4 ...": [
            "move STAMP-0.4 --qty 1 --from LON-SHELF --to LON-STORE",
            "move STAMP-0.4 --qty 1 --from LON-STORE --to LON-SHELF",
        ],
        "kitops kit list": ["kit list"],
    }
    return {name: [[KITOPS, *line.split()] for line in lines] for name, lines in typed.items()}


def _children_cpu() -> float:
    # getrusage, not os.times: the latter counts in clock ticks (10 ms), coarser than the
    # differences worth seeing
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one run of ``command``."""
    before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env)
    wall = time.perf_counter() - start
    cpu = _children_cpu() - before
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[-500:]}")
    return wall, cpu


def measure(
    cases: dict[str, list[list[str]]], env: dict[str, str], runs: int, warm: int = 1
) -> dict[str, tuple[list[float], list[float]]]:
    for _ in range(warm):
        for lines in cases.values():
            for line in lines:
                run_once(line, env)  # warm the file cache (and the database's)
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in cases}
    for index in range(runs):
        for name, lines in cases.items():
            wall, cpu = run_once(lines[index % len(lines)], env)
            samples[name][0].append(wall)
            samples[name][1].append(cpu)
    return samples


def report(title: str, samples: dict[str, tuple[list[float], list[float]]], target: str) -> None:
    print(f"\n{title}")
    print(f"{'command':<36} {'median s':>9} {'max s':>7} {'CPU s':>7}   target")
    for name, (walls, cpus) in samples.items():
        print(
            f"{name:<36} {statistics.median(walls):9.3f} {max(walls):7.3f} "
            f"{statistics.median(cpus):7.4f}   {target if name.startswith('kitops') else ''}"
        )


def statements(
    cases: dict[str, list[list[str]]], env: dict[str, str], log: Path, database: str
) -> None:
    """Run each case once with every statement logged by the server and count them."""
    print(f"\nstatements each command sends (one run, from {log})")
    logged = dict(env, PGOPTIONS="-c log_statement=all")
    for name, lines in cases.items():
        if not name.startswith("kitops"):
            continue
        start = log.stat().st_size
        subprocess.run(lines[0], capture_output=True, env=logged, check=True)
        time.sleep(0.5)  # the server writes its log a moment later
        with log.open("rb") as file:
            file.seek(start)
            text = file.read().decode(errors="replace")
        mine = [line for line in text.splitlines() if f"@{database} " in line]
        sent = [line for line in mine if "LOG:  statement: " in line or "LOG:  execute " in line]
        bounds = [line for line in sent if any(
            f"statement: {word}" in line for word in ("BEGIN", "COMMIT", "ROLLBACK")
        )]  # fmt: skip
        print(f"{name:<36} {len(sent):4d} statements, {len(bounds)} of them BEGIN/COMMIT/ROLLBACK")


def demo_database(pg_admin_url: str | None) -> benchdb.BenchDatabase:
    name = f"kitops_bench_startup_{os.getpid()}"
    bench = benchdb.create(pg_admin_url, name, "demo.db")
    env = dict(os.environ, KITOPS_DATABASE_URL=bench.url)
    for line in ([KITOPS, "db", "upgrade"], [KITOPS, "demo"]):
        subprocess.run(line, capture_output=True, check=True, env=env)
    return bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (median)")
    parser.add_argument("--pg-admin-url", help="also time the commands on PostgreSQL")
    parser.add_argument("--help-only", action="store_true", help="only the floor and --help")
    parser.add_argument(
        "--warm", type=int, default=1, help="untimed runs of each command first (0: none)"
    )
    parser.add_argument(
        "--server-log", type=Path, help="PostgreSQL's log file: count each command's statements"
    )
    args = parser.parse_args()
    benchdb.compile_bytecode()
    env = dict(os.environ)
    env.pop("KITOPS_DATABASE_URL", None)
    load = os.getloadavg()[0]
    print(f"{args.runs} runs each, load average {load:.1f} on {os.cpu_count()} cores")
    report("floor and help", measure({**FLOOR, **HELP}, env, args.runs, args.warm), "")
    if args.help_only:
        return
    backends = [("SQLite", None)] + (
        [("PostgreSQL", args.pg_admin_url)] if args.pg_admin_url else []
    )
    for backend, admin in backends:
        bench = demo_database(admin)
        try:
            env = dict(os.environ, KITOPS_DATABASE_URL=bench.url)
            env.pop("KITOPS_USER", None)
            cases = everyday(env)
            samples = measure({**FLOOR, **cases}, env, args.runs, args.warm)
            report(f"{backend}, demo data ({bench.where()})", samples, "<= 0.45 s")
            if args.server_log and bench.pg_name:
                statements(cases, env, args.server_log, bench.pg_name)
        finally:
            bench.drop()
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
