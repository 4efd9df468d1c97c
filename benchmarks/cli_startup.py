#!/usr/bin/env python
"""CLI start-up benchmark: wall time of quick commands, next to a bare `python -c pass`.

Usage: python benchmarks/cli_startup.py [--runs N]
Each command runs N times in a fresh temporary AIFLOW_HOME; the median wall time is printed with
its target. The commands are the installed console scripts beside this interpreter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

BIN = Path(sys.executable).parent
# (command line, target in seconds or None)
COMMANDS = [
    ([sys.executable, "-c", "pass"], None),
    ([str(BIN / "notification"), "--help"], 0.1),
    ([str(BIN / "notification"), "version"], 0.1),
    ([str(BIN / "aiflow"), "version"], 0.08),
    ([str(BIN / "notification"), "event", "count", "*"], None),
    ([str(BIN / "aiflow"), "workflow", "list"], 0.15),
    ([str(BIN / "aiflow"), "workflow", "list", "-o", "json"], None),
]


def median_wall(argv: List[str], runs: int, env: dict) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    missed = 0
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "AIFLOW_HOME": home}
        env.pop("NOTIFICATION_HOME", None)
        baseline = median_wall(COMMANDS[0][0], args.runs, env)
        print(f"{'command':40} {'median':>9} {'vs python':>10} {'target':>8}")
        for argv, target in COMMANDS:
            wall = median_wall(argv, args.runs, env)
            shown = " ".join([Path(argv[0]).name, *argv[1:]])
            verdict = "" if target is None else f"<= {target:g} s" + (
                "" if wall <= target else " MISSED")
            missed += target is not None and wall > target
            print(f"{shown:40} {wall * 1000:7.1f}ms {wall / baseline:9.2f}x {verdict:>8}")
    print(f"summary: {'all targets met' if not missed else f'{missed} target(s) missed'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
