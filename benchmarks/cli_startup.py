"""How fast ``kitops --help`` answers (target: under 0.3 s).

Prints the median and worst of N runs beside a bare ``python -c pass`` start in the
same run, so the figure can be read against the interpreter's own start-up cost.
Usage: python benchmarks/cli_startup.py [RUNS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import benchdb

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
KITOPS = str(Path(sys.executable).parent / "kitops")


def timed(command: list[str]) -> list[float]:
    subprocess.run(command, capture_output=True, check=True)  # warm the file cache
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    cases = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "kitops --help": [KITOPS, "--help"],
        "kitops catalog --help": [KITOPS, "catalog", "--help"],
    }
    benchdb.compile_bytecode()
    print(f"{'command':<28} {'median s':>9} {'max s':>7}   ({RUNS} runs)")
    for name, command in cases.items():
        samples = timed(command)
        print(f"{name:<28} {statistics.median(samples):9.3f} {max(samples):7.3f}")


if __name__ == "__main__":
    main()
