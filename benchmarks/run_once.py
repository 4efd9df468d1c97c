#!/usr/bin/env python
"""Run-once and status benchmark: the quickstart example through `aiflow run` (start to exit),
against `aiflow version` measured in the same run, and `aiflow status --once` on a home with
1,000 executions.

Usage: python benchmarks/run_once.py [--runs N] [--executions N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from _report import Row, print_report

ROOT = Path(__file__).resolve().parents[1]
AIFLOW = str(Path(sys.executable).parent / "aiflow")


def wall(argv: List[str], env: Dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False, timeout=300)
    return time.perf_counter() - start


def fill_home(env: Dict[str, str], executions: int) -> None:
    """A home with `executions` executions of a 4-task workflow, written directly: 5 running,
    the others finished within the last minutes (so the view's finished table is full)."""
    os.environ["AIFLOW_HOME"] = env["AIFLOW_HOME"]
    from aiflow_lite import ops
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.executions import ExecutionStore
    from aiflow_lite.home import open_database

    ops.upload_workflows(str(ROOT / "examples" / "quickstart" / "quickstart.py"))
    workflow = ops.get_workflow("quickstart")
    with open_database(load_aiflow_settings()) as db:
        store = ExecutionStore(db)
        with db.transaction():
            for i in range(executions):
                eid = store.create_execution(workflow.id, workflow.snapshot_id, "MANUAL", "bench")
                finished = i < executions - 5
                db.execute("UPDATE workflow_execution SET status = ?, end_time = ? WHERE id = ?",
                           ("SUCCESS" if finished else "RUNNING",
                            int(time.time() * 1000) - i if finished else None, eid))
                for task in ("fetch", "clean", "train", "evaluate"):
                    store.create_task_execution(eid, task, "MANUAL", "bench", i)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--executions", type=int, default=1000)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="aiflow-bench-")
    rows: List[Row] = []
    try:
        env = {**os.environ, "AIFLOW_HOME": home}
        env.pop("NOTIFICATION_HOME", None)
        version = statistics.median(wall([AIFLOW, "version"], env) for _ in range(5))
        quickstart = str(ROOT / "examples" / "quickstart" / "quickstart.py")
        runs = [wall([AIFLOW, "run", quickstart], env) for _ in range(args.runs)]
        best = min(runs)
        rows.append((f"aiflow run quickstart, best of {args.runs}", f"{best:.2f} s",
                     "<= version + 0.5 s", best - version <= 0.5))
        rows.append(("  (median)", f"{statistics.median(runs):.2f} s", "", None))
        rows.append(("  (ratio to aiflow version)", f"{best / version:.1f}x", "", None))
        fill_home(env, args.executions)
        status = [wall([AIFLOW, "status", "--once"], env) for _ in range(5)]
        rows.append((f"aiflow status --once, {args.executions} executions",
                     f"{statistics.median(status):.3f} s", "<= 0.3 s",
                     statistics.median(status) <= 0.3))
        rows.append(("  (aiflow version, same machine)", f"{version:.3f} s", "", None))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return print_report(f"aiflow_lite run-once benchmark: python {sys.version.split()[0]}, "
                        f"{os.cpu_count()} CPUs", rows)


if __name__ == "__main__":
    sys.exit(main())
