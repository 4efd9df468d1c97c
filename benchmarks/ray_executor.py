#!/usr/bin/env python
"""Ray executor benchmark: event -> task running, fan-out, 1,000 no-ops, beside raw Ray tasks.

Usage: python benchmarks/ray_executor.py [--quick] [--address HOST:PORT] [--tasks N] ...
Without --address it starts a local Ray cluster on loopback (a head with one CPU and a node with
`--node-cpus`), and stops it at the end. Runs a real scheduler process with `task_executor: ray`
in a temporary home. The baseline, measured in the same run on the same cluster: the same number
of no-op Ray tasks submitted from a plain driver (`ray.get` of them all), and the same tasks
each forking a child that exits (a Ray task that starts a process, as ours do). Every task,
ours and raw, reserves `--task-cpus` (ray_task_num_cpus; default 1): a cluster of 3 CPUs runs 3
at once.
Prints one table, each figure beside its target; exits 1 if a target is missed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test cluster

from _report import in_temporary_home, print_report, sized_arguments
from scheduler import HEADER, WORKFLOWS, Watch, bench_latency

from aiflow_lite import ops
from aiflow_lite.config import load_aiflow_settings

SIZES = {  # option: (default, with --quick)
    "latency_runs": (40, 5), "fan_out": (50, 10), "tasks": (1000, 100), "repeat": (3, 1),
    "node_cpus": (2, 2), "parallelism": (100, 100), "task_cpus": (1.0, 1.0),
}


def _raw_noop() -> int:
    return 0


def _raw_fork() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return os.waitpid(pid, 0)[1]


def bench_raw(address: str, n: int, repeat: int, cpus: float) -> tuple:
    """(no-op Ray tasks/s, forking Ray tasks/s), each the median of `repeat` runs, from a
    driver of their own (a subprocess: this process must not become a Ray driver)."""
    code = f"""
import os, statistics, sys, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
import ray
from ray_executor import _raw_noop, _raw_fork
ray.init(address={address!r}, logging_level="ERROR", log_to_driver=False)
for name, fn in (("noop", _raw_noop), ("fork", _raw_fork)):
    task = ray.remote(num_cpus={cpus}, max_retries=0)(fn)
    ray.get([task.remote() for _ in range(20)])  # warm-up: workers started
    rates = []
    for _ in range({repeat}):
        start = time.perf_counter()
        ray.get([task.remote() for _ in range({n})])
        rates.append({n} / (time.perf_counter() - start))
    print(name, statistics.median(rates))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600, check=True).stdout
    rates = dict(line.split() for line in out.splitlines() if line.split()[:1] in
                 (["noop"], ["fork"]))
    return float(rates["noop"]), float(rates["fork"])


@contextlib.contextmanager
def scheduler(home: str, address: str, parallelism: int,
              cpus: float) -> Iterator[subprocess.Popen]:
    """A scheduler process with task_executor: ray; always stopped after."""
    Path(home, "aiflow_server.yaml").write_text(
        f"task_executor: ray\nray_address: {address}\nray_executor_parallelism: {parallelism}\n"
        f"ray_task_num_cpus: {cpus}\n")
    with open(os.path.join(home, "scheduler.log"), "w+") as log:
        proc = subprocess.Popen([sys.executable, "-m", "aiflow_lite.engine.runner"],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while "scheduler started" not in Path(log.name).read_text():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"scheduler not ready: {Path(log.name).read_text()}")
                time.sleep(0.05)
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_all(args, home: str, address: str) -> List[tuple]:
    rows: List[tuple] = []

    def add(figure: str, measured: str, target: str = "", met: Optional[bool] = None) -> None:
        rows.append((figure, measured, target, met))

    for name in ("latency", "fan_out", "many"):
        path = Path(home, f"{name}.py")
        path.write_text(HEADER + WORKFLOWS[name].format(**vars(args)))
        ops.upload_workflows(str(path))
    marks = os.environ["BENCH_MARKS"]
    watch = Watch(load_aiflow_settings())
    try:
        with scheduler(home, address, args.parallelism, args.task_cpus):
            lat = bench_latency(watch, marks, args.latency_runs)
            p50, p99 = (statistics.quantiles(lat, n=100, method="inclusive")[i] for i in (49, 98))
            add("1. event -> task running p50", f"{p50:.1f} ms", "<= 50 ms", p50 <= 50)
            add("1. event -> task running p99", f"{p99:.1f} ms")

            def median_run(workflow: str) -> float:
                watch.run(workflow)  # warm-up
                return statistics.median(watch.run(workflow) for _ in range(args.repeat))

            fan = median_run("fan_out")
            add(f"2. fan-out 1+{args.fan_out} bash true, median", f"{fan:.3f} s", "<= 1 s",
                fan <= 1)
            many = args.tasks / median_run("many")
        noop, fork = bench_raw(address, args.tasks, args.repeat, args.task_cpus)
    finally:
        watch.close()
    add(f"3. {args.tasks} python no-op tasks, median", f"{many:,.0f} tasks/s")
    add(f"3. raw Ray: {args.tasks} no-op tasks, median", f"{noop:,.0f} tasks/s")
    add(f"3. raw Ray: {args.tasks} tasks forking a child", f"{fork:,.0f} tasks/s")
    add("3. ours / raw no-op Ray tasks", f"{100 * many / noop:.1f} %", ">= 50 %",
        many / noop >= 0.5)
    add("3. ours / raw forking Ray tasks", f"{100 * many / fork:.1f} %")
    return rows


def main() -> int:
    args = sized_arguments(__doc__.splitlines()[0], SIZES, {"--address": {
        "default": None, "metavar": "HOST:PORT",
        "help": "an existing Ray cluster (default: start one on loopback)"}})
    cluster = None
    address = args.address
    # A task on Ray has the environment of its node (its `ray start`), not the scheduler's:
    # the marks file is named before the cluster starts (with --address, export it there).
    os.environ.setdefault("BENCH_MARKS", os.path.join(
        tempfile.gettempdir(), f"aiflow-bench-ray-marks-{os.getpid()}.txt"))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.environ["BENCH_MARKS"])
    if address is None:
        from ray_cluster import RayCluster

        cluster = RayCluster(head_cpus=1)
        cluster.add_node(num_cpus=args.node_cpus)
        address = cluster.address
    try:
        work: Callable[[str], List[tuple]] = lambda home: run_all(args, home, address)  # noqa: E731
        rows = in_temporary_home("aiflow-bench-ray-", work)
    finally:
        if cluster is not None:
            cluster.stop()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.environ["BENCH_MARKS"])
    import ray

    started = f" (started here: head 1 CPU + node {args.node_cpus} CPUs)" if cluster else ""
    started += f", {args.task_cpus:g} CPU a task"
    return print_report(f"aiflow_lite Ray executor benchmark{' (--quick)' if args.quick else ''}"
                        f": Ray {ray.__version__}, cluster {address}{started}"
                        f", python {sys.version.split()[0]}, {os.cpu_count()} CPUs", rows)


if __name__ == "__main__":
    sys.exit(main())
