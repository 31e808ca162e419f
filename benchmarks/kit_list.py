"""``kitops kit list`` as a person types it (a fresh process each run), on a database
given by URL, optionally beside another build of kitops taken in turn with it (before and
after a change, under the same load).

Each command runs once to warm the caches, then RUNS times taken in turn; wall-clock
median and worst, and the median CPU time (user + system) of the process. Read-only: it
only lists kits, so a shared database may be given.

Usage: python benchmarks/kit_list.py --url URL [--runs N] [--other PATH/TO/kitops]
  [--args "--status available"]
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

KITOPS = str(Path(sys.executable).parent / "kitops")


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds (user + system) of one run of ``command`` (getrusage:
    microseconds, where ``os.times`` counts 10 ms ticks)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", required=True, help="the database (KITOPS_DATABASE_URL)")
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (median)")
    parser.add_argument("--other", help="another kitops executable, timed in turn")
    parser.add_argument("--args", default="", help="more arguments to `kit list`")
    args = parser.parse_args()
    env = dict(os.environ, KITOPS_DATABASE_URL=args.url)
    builds = {"this build": KITOPS} | ({"other build": args.other} if args.other else {})
    cases = {name: [exe, "kit", "list", *shlex.split(args.args)] for name, exe in builds.items()}
    print(f"{args.runs} runs each, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for command in cases.values():
        run_once(command, env)
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in cases}
    for _ in range(args.runs):
        for name, command in cases.items():
            wall, cpu = run_once(command, env)
            samples[name][0].append(wall)
            samples[name][1].append(cpu)
    print(f"{'build':<12} {'median s':>9} {'max s':>7} {'CPU s':>7}   command")
    for name, (walls, cpus) in samples.items():
        print(
            f"{name:<12} {statistics.median(walls):9.3f} {max(walls):7.3f} "
            f"{statistics.median(cpus):7.4f}   {' '.join(cases[name])}"
        )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
