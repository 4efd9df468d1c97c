#!/usr/bin/env python
"""Scheduler benchmark: event -> task latency, fan-out, chain, throughput, idle scheduler CPU/RSS.

Usage: python benchmarks/scheduler.py [--quick] [--latency-runs N] [--fan-out N] [--chain N]
                                      [--tasks N] [--repeat N] [--idle-seconds S] [--raw N]
Runs a real scheduler process (`python -m aiflow_lite.engine.runner`) in a temporary AIFLOW_HOME,
once with the fork-server worker start and once with spawn (figures marked * only), and deletes
the home at the end; the scheduler, its fork server and every worker are stopped before it exits.
Prints one table, each figure beside its target, and a summary line; exits with 1 when a target
is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple

import apsw

from aiflow_lite import ops
from aiflow_lite.config import Settings, load_aiflow_settings
from aiflow_lite.engine.executions import ExecutionStore
from aiflow_lite.engine.runner import running_scheduler_pid
from aiflow_lite.home import open_database
from aiflow_lite.ns.client import NotificationClient
from aiflow_lite.ns.wakeup import WakeSocket, wake_dir_for

READY_TIMEOUT_S = 30.0
FINISHED = ("SUCCESS", "FAILED", "STOPPED")
HEADER = """import time
from ai_flow.model.action import TaskAction
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
from ai_flow.operators.python import PythonOperator


def noop():
    pass


def mark():
    started = time.time_ns()  # first thing the task does
    with open(__import__('os').environ['BENCH_MARKS'], 'a') as f:
        f.write(f'{started}\\n')
"""
# `t` starts on each `go` event; `never` never runs, so the execution stays RUNNING between runs.
WORKFLOWS = {
    "latency": """
with Workflow(name='latency'):
    PythonOperator(name='t', python_callable=mark).action_on_event_received(TaskAction.START, 'go')
    PythonOperator(name='never', python_callable=noop).action_on_event_received(
        TaskAction.START, 'never')
""",
    "fan_out": """
with Workflow(name='fan_out'):
    root = BashOperator(name='root', bash_command='true')
    for i in range({fan_out}):
        BashOperator(name=f'b{{i}}', bash_command='true').start_after(root)
""",
    "chain": """
with Workflow(name='chain'):
    prev = PythonOperator(name='c0', python_callable=noop)
    for i in range(1, {chain}):
        task = PythonOperator(name=f'c{{i}}', python_callable=noop)
        task.start_after(prev)
        prev = task
""",
    "many": """
with Workflow(name='many'):
    for i in range({tasks}):
        PythonOperator(name=f'n{{i}}', python_callable=noop)
""",
}


def pct(values: List[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Watch:
    """Reads execution state on its own connection, re-checking on every commit's wake-up."""

    def __init__(self, settings: Settings) -> None:
        self.wake = WakeSocket(wake_dir_for(settings.db_path))  # before the first read
        self.db = open_database(settings)
        self.store = ExecutionStore(self.db)

    def until(self, predicate: Callable[[], object], timeout: float = 120.0) -> float:
        """Wait until `predicate()` is true; returns the perf_counter time it was seen true."""
        deadline = time.perf_counter() + timeout
        while not predicate():
            if time.perf_counter() > deadline:
                raise RuntimeError(f"timed out after {timeout:.0f} s")
            self.wake.wait(0.02)
        return time.perf_counter()

    def status(self, execution_id: int) -> str:
        return self.store.get_execution(execution_id).status

    def run(self, workflow: str) -> float:
        """Seconds from asking for a new execution to seeing it SUCCESS."""
        start = time.perf_counter()
        execution_id = ops.start_workflow_execution(workflow)
        end = self.until(lambda: self.status(execution_id) in FINISHED)
        if self.status(execution_id) != "SUCCESS":
            raise RuntimeError(f"{workflow} execution {execution_id} is "
                               f"{self.status(execution_id)}")
        return end - start

    def close(self) -> None:
        self.wake.close()
        self.db.close()


def children(pid: int) -> List[int]:
    """The child processes of `pid` (the fork server)."""
    tasks = Path(f"/proc/{pid}/task")
    with contextlib.suppress(OSError):
        return [int(c) for t in os.listdir(tasks)
                for c in (tasks / t / "children").read_text().split()]
    return []


@contextlib.contextmanager
def scheduler(home: str, mode: str, parallelism: int) -> Iterator[subprocess.Popen]:
    """A scheduler process for `home` with the given worker start; always stopped after, with
    its fork server and any worker still running."""
    Path(home, "aiflow_server.yaml").write_text(
        f"executor_worker_start: {mode}\nlocal_executor_parallelism: {parallelism}\n")
    with open(os.path.join(home, f"scheduler-{mode}.log"), "w+") as log:
        proc = subprocess.Popen([sys.executable, "-m", "aiflow_lite.engine.runner"],
                                stdout=log, stderr=subprocess.STDOUT)
        forked: List[int] = []
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while "scheduler started" not in Path(log.name).read_text():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"scheduler not ready: {Path(log.name).read_text()}")
                time.sleep(0.01)
            yield proc
        finally:
            forked = children(proc.pid)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            kill_workers(load_aiflow_settings(), forked)


def kill_workers(settings: Settings, extra: List[int]) -> None:
    """Workers outlive their scheduler by design: kill any left, and the fork server."""
    with open_database(settings) as db:
        metas = ExecutionStore(db).task_executions_in(("RUNNING", "STOPPING", "QUEUED"))
    for kill, pid in [(os.killpg, m.pid) for m in metas if m.pid] + [(os.kill, p) for p in extra]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)  # workers lead their own process group
    if running_scheduler_pid(settings) is not None:
        raise RuntimeError("a scheduler still holds the home")


def bench_latency(watch: Watch, marks: str, runs: int, warmup: int = 3) -> List[float]:
    """Send `go` -> the task's first line runs (ms), one run at a time."""
    execution_id = ops.start_workflow_execution("latency")
    watch.until(lambda: watch.status(execution_id) == "RUNNING")
    rng, sends = random.Random(1), []
    with NotificationClient() as client:
        for i in range(1, warmup + runs + 1):
            time.sleep(rng.uniform(0.01, 0.03))  # let the scheduler fall asleep
            sends.append(time.time_ns())
            client.send_event("go")

            def done(seq: int = i) -> bool:
                t = watch.store.latest_task_executions(execution_id).get("t")
                return t is not None and t.sequence_number == seq and t.status in FINISHED
            watch.until(done)
    ops.stop_workflow_execution(execution_id)
    watch.until(lambda: watch.status(execution_id) in FINISHED)
    starts = [int(line) for line in Path(marks).read_text().split()]
    if len(starts) != len(sends):
        raise RuntimeError(f"{len(starts)} task starts for {len(sends)} events")
    return [(s - e) / 1e6 for e, s in zip(sends, starts)][warmup:]


def cpu_seconds(pid: int) -> float:
    """CPU time of all threads of `pid`, from task schedstat (ns-precise)."""
    tasks = Path(f"/proc/{pid}/task")
    return sum(int((tasks / t / "schedstat").read_text().split()[0])
               for t in os.listdir(tasks)) / 1e9


def rss_mb(pid: int) -> float:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines()
                if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def bench_idle(pid: int, seconds: float) -> Tuple[float, float, Optional[Tuple[float, float]]]:
    """Idle CPU (% of one core) and RSS (MB) of the scheduler, and the same of its fork server."""
    time.sleep(1.0)  # let the last busy polls pass
    pids = [pid, *children(pid)[:1]]
    before, start = [cpu_seconds(p) for p in pids], time.perf_counter()
    time.sleep(seconds)
    elapsed = time.perf_counter() - start
    cpu = [100 * (cpu_seconds(p) - b) / elapsed for p, b in zip(pids, before)]
    fork = (cpu[1], rss_mb(pids[1])) if len(pids) > 1 else None
    return cpu[0], rss_mb(pid), fork


def bench_raw(home: str, n: int) -> float:
    """Tasks/s of a bare loop: spawn `true`, reap it, commit one row (WAL, synchronous NORMAL)."""
    db = apsw.Connection(os.path.join(home, "raw.db"))
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE run (id INTEGER PRIMARY KEY, pid INT, code INT, at INT)")
        start = time.perf_counter()
        for _ in range(n):
            proc = subprocess.Popen(["true"])
            code = proc.wait()
            db.execute("INSERT INTO run (pid, code, at) VALUES (?, ?, ?)",
                       (proc.pid, code, time.time_ns()))
        return n / (time.perf_counter() - start)
    finally:
        db.close()


def run_all(args: argparse.Namespace, home: str) -> List[tuple]:
    """Rows of (figure, measured, target, met); met is None for a figure with no target."""
    rows: List[tuple] = []

    def add(figure: str, measured: str, target: str = "", met: Optional[bool] = None) -> None:
        rows.append((figure, measured, target, met))

    for name, body in WORKFLOWS.items():
        path = Path(home, f"{name}.py")
        path.write_text(HEADER + body.format(**vars(args)))
        ops.upload_workflows(str(path))
    watch, throughput = Watch(load_aiflow_settings()), 0.0
    try:
        for mode in ("forkserver", "spawn"):
            os.environ["BENCH_MARKS"] = marks = os.path.join(home, f"marks-{mode}.txt")
            with scheduler(home, mode, args.parallelism) as proc:
                lat = bench_latency(watch, marks, args.latency_runs)
                p50, p99 = pct(lat, 50), pct(lat, 99)
                add(f"1. event -> task running p50 ({mode})", f"{p50:.1f} ms", "<= 10 ms",
                    p50 <= 10)
                add(f"1. event -> task running p99 ({mode})", f"{p99:.1f} ms", "<= 30 ms",
                    p99 <= 30)
                watch.run("fan_out")  # warm-up: snapshot extracted, caches filled
                fan = sorted(watch.run("fan_out") for _ in range(args.repeat))
                add(f"2. fan-out 1+{args.fan_out} bash, median ({mode})",
                    f"{fan[len(fan) // 2]:.3f} s", "<= 0.3 s", fan[len(fan) // 2] <= 0.3)
                if mode != "forkserver":
                    continue
                watch.run("chain")
                chain = sorted(watch.run("chain") for _ in range(args.repeat))
                add(f"3. chain of {args.chain} python no-ops, median",
                    f"{chain[len(chain) // 2]:.3f} s", "<= 0.15 s", chain[len(chain) // 2] <= 0.15)
                throughput = args.tasks / watch.run("many")
                add(f"4. {args.tasks} independent python no-ops", f"{throughput:,.0f} tasks/s",
                    ">= 300 tasks/s", throughput >= 300)
                cpu, rss, fork = bench_idle(proc.pid, args.idle_seconds)
                add(f"5. idle scheduler CPU over {args.idle_seconds:g} s", f"{cpu:.3f} %",
                    "<= 0.2 %", cpu <= 0.2)
                add("5. idle scheduler RSS", f"{rss:.1f} MB")
                if fork is not None:
                    add("5.   (idle fork server: CPU / RSS)", f"{fork[0]:.3f} % / {fork[1]:.0f} MB")
    finally:
        watch.close()
    raw = bench_raw(home, args.raw)
    add(f"6. raw Popen(true)+wait+commit, {args.raw}", f"{raw:,.0f} tasks/s")
    add("6. figure 4 / raw", f"{100 * throughput / raw:.0f} %")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--latency-runs", type=int, default=40)
    parser.add_argument("--fan-out", type=int, default=50)
    parser.add_argument("--chain", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=1000, help="tasks of the throughput run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of fan-out and chain")
    parser.add_argument("--parallelism", type=int, default=64)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--raw", type=int, default=1000, help="tasks of the raw baseline")
    args = parser.parse_args()
    if args.quick:
        args.latency_runs, args.fan_out, args.chain, args.tasks = 5, 10, 5, 100
        args.repeat, args.idle_seconds, args.raw = 1, 1.0, 100

    home = tempfile.mkdtemp(prefix="aiflow-bench-")
    try:
        os.environ["AIFLOW_HOME"] = home  # before any settings are loaded; children inherit it
        os.environ.pop("NOTIFICATION_HOME", None)
        rows = run_all(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    print(f"aiflow_lite scheduler benchmark{' (--quick)' if args.quick else ''}: "
          f"parallelism {args.parallelism}, python {sys.version.split()[0]}, "
          f"SQLite {apsw.sqlite_lib_version()}, {os.cpu_count()} CPUs")
    print(f"{'figure':<46} {'measured':>16}  {'target':<16} met")
    for figure, measured, target, met in rows:
        mark = "" if met is None else "yes" if met else "NO"
        print(f"{figure:<46} {measured:>16}  {target:<16} {mark}")
    missed = [figure for figure, _, _, met in rows if met is False]
    checked = sum(met is not None for *_, met in rows)
    print(f"summary: {checked - len(missed)}/{checked} targets met"
          + (f"; missed: {', '.join(missed)}" if missed else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
