#!/usr/bin/env python
"""Start-up cost of the commands: each one's median wall time next to a bare `python -c pass`
measured in the same run, as a difference (what the command itself costs) and a ratio.

Usage: python benchmarks/startup.py [--runs N] [--source DIR]

Each command runs N times against one temporary AIFLOW_HOME (no workflows; one untimed run of
each first, which creates its database); the runs are interleaved, command after command, so a
machine that gets busier or quieter meanwhile shifts every figure alike. The commands are the
console scripts installed beside this interpreter, importing aiflow_lite from this checkout
(or `--source DIR`, another checkout, to compare before and after a change) through PYTHONPATH,
which every command gets, the bare interpreter too. `aiflow workflow list, first use` runs in a
new home each time: it includes creating the home and its database (no target).
Bytecode is cached in a private directory (PYTHONPYCACHEPREFIX, written by the warm-up runs,
even where PYTHONDONTWRITEBYTECODE is set), as an installed package has it: the figures do not
depend on which `__pycache__` files a working tree happens to hold.
Targets are on the difference to the bare interpreter, which alone takes 45-75 ms here.
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
from typing import Dict, List, Optional, Tuple

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]
BARE = "python -c pass"
FIRST_USE = "aiflow workflow list, first use"
# (figure, command line, target in ms over the bare interpreter, or None)
COMMANDS: List[Tuple[str, List[str], Optional[float]]] = [
    (BARE, [sys.executable, "-c", "pass"], None),
    ("notification version", [str(BIN / "notification"), "version"], 50),
    ("notification --help", [str(BIN / "notification"), "--help"], None),
    ("aiflow version", [str(BIN / "aiflow"), "version"], 50),
    ("aiflow --help", [str(BIN / "aiflow"), "--help"], None),
    ("notification event count '*'", [str(BIN / "notification"), "event", "count", "*"], None),
    ("aiflow workflow list", [str(BIN / "aiflow"), "workflow", "list"], 100),
    ("aiflow workflow list -o json", [str(BIN / "aiflow"), "workflow", "list", "-o", "json"],
     None),
    ("aiflow status --once", [str(BIN / "aiflow"), "status", "--once"], None),
    (FIRST_USE, [str(BIN / "aiflow"), "workflow", "list"], None),
]


def wall(argv: List[str], env: Dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    return time.perf_counter() - start


def measure(runs: int, root: str, source: Path) -> Dict[str, List[float]]:
    home = os.path.join(root, "home")
    env = {**os.environ, "AIFLOW_HOME": home, "COLUMNS": "120", "PYTHONPATH": str(source),
           "PYTHONPYCACHEPREFIX": os.path.join(root, "pycache")}
    for name in ("NOTIFICATION_HOME", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    for figure, argv, _ in COMMANDS:  # warm-up: the database, the OS's file cache
        if figure != FIRST_USE:
            wall(argv, env)
    times: Dict[str, List[float]] = {figure: [] for figure, _, _ in COMMANDS}
    for i in range(runs):
        for figure, argv, _ in COMMANDS:
            if figure == FIRST_USE:
                times[figure].append(wall(argv, {**env, "AIFLOW_HOME": os.path.join(
                    root, f"new-{i}")}))
            else:
                times[figure].append(wall(argv, env))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs of each command")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="the checkout whose aiflow_lite to run (default: this one)")
    args = parser.parse_args()
    if not (args.source / "aiflow_lite" / "__init__.py").is_file():
        parser.error(f"{args.source} holds no aiflow_lite package")
    with tempfile.TemporaryDirectory(prefix="aiflow-startup-") as root:
        times = measure(args.runs, root, args.source.resolve())
    bare = statistics.median(times[BARE])
    print(f"median of {args.runs} runs of each; +ms and x: against `{BARE}` of this run")
    print(f"{'command':34} {'median':>9} {'+ms':>7} {'x':>6}  {'target':<10} met")
    missed = []
    for figure, _, target in COMMANDS:
        median = statistics.median(times[figure])
        over = (median - bare) * 1000
        met = None if target is None else over <= target
        if met is False:
            missed.append(figure)
        print(f"{figure:34} {median * 1000:7.1f}ms {over:+6.0f} {median / bare:5.2f}x  "
              f"{'' if target is None else f'<= +{target:g}ms':<10} "
              f"{'' if met is None else 'yes' if met else 'NO'}")
    checked = sum(target is not None for *_, target in COMMANDS)
    print(f"summary: {checked - len(missed)}/{checked} targets met"
          + (f"; missed: {', '.join(missed)}" if missed else ""))
    return 1 if missed else 0

if __name__ == "__main__":
    sys.exit(main())
