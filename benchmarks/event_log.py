#!/usr/bin/env python
"""Event-log benchmark: send rates, send -> listener latency, idle listener CPU, big-log reads.

Usage: python benchmarks/event_log.py [--events N] [--big-log N] [--durability normal|full]
Runs in a temporary AIFLOW_HOME that it deletes at the end; every child process it starts is
stopped before it exits. Prints one table, each figure beside its target, and a summary line;
exits with 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import apsw
from _report import print_report

from aiflow_lite.config import Settings, load_notification_settings
from aiflow_lite.events import Event
from aiflow_lite.home import open_database
from aiflow_lite.ns.client import NotificationClient
from aiflow_lite.ns.event_log import EventLog
from aiflow_lite.ns.wakeup import wake_dir_for
from aiflow_lite.schema import MIGRATIONS
from aiflow_lite.sqlite import DURABILITY_LEVELS

COLUMNS = "key, value, namespace, sender, context, create_time"  # all but the offset
RAW_INSERT = f"INSERT INTO event ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
READY_TIMEOUT_S = 30.0

# The child: registers a listener on `key`, prints "ready", then either records the latency of
# each event (arrival time minus the send time in its value) until a "stop" event and writes them
# to `out` (mode "latency"), or just idles until its stdin is closed (mode "idle").
CHILD = """
import json, pathlib, sys, threading, time
from aiflow_lite.config import load_notification_settings
from aiflow_lite.ns.client import NotificationClient
key, mode, out = sys.argv[1:4]
latencies, done = [], threading.Event()
def on_events(events):
    now = time.time_ns()
    latencies.extend(now - int(e.value) for e in events if e.value != "stop")
    if events[-1].value == "stop":
        done.set()
client = NotificationClient(settings=load_notification_settings())
client.register_listener(on_events, event_keys=[key])
print("ready", flush=True)
sys.stdin.read() if mode == "idle" else done.wait(120)
client.close()
pathlib.Path(out).write_text(json.dumps(latencies))
"""


def pct(values: List[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rate(n: int, run: Callable[[], None]) -> float:
    """Events per second of `run`, which handles `n` events."""
    start = time.perf_counter()
    run()
    return n / (time.perf_counter() - start)


@contextlib.contextmanager
def child(mode: str, key: str, out: str, env: Dict[str, str]) -> Iterator[subprocess.Popen]:
    """A listener child process, yielded once its listener is registered; always stopped after."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, key, mode, out],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT_S)
        if not ready or proc.stdout.readline().strip() != b"ready":
            raise RuntimeError(f"{mode} child not ready within {READY_TIMEOUT_S:.0f} s")
        yield proc
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()  # an idle child exits on EOF
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def bench_send(client: NotificationClient, home: str, durability: str, n: int) -> Tuple[float, ...]:
    """Best per-event rate of `send_event` and of raw apsw autocommit inserts, alternated; and
    the size of each one's WAL file afterwards (bytes)."""
    raw_path = os.path.join(home, "raw.db")
    raw = apsw.Connection(raw_path)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute(f"PRAGMA synchronous={DURABILITY_LEVELS[durability]}")
    raw.execute(MIGRATIONS[0].up)  # the same `event` table and indexes as the home's database

    def sdk() -> None:
        for i in range(n):
            client.send_event("bench", f"value-{i}")

    def raw_inserts() -> None:
        for i in range(n):
            raw.execute(RAW_INSERT, ("bench", f"value-{i}", "default", None, None,
                                     time.time_ns() // 1_000_000))

    sdk_rates, raw_rates = [], []
    try:
        for round_no in range(3):  # alternate (and swap the order) so drift hits both sides
            pair = [(sdk, sdk_rates), (raw_inserts, raw_rates)]
            for run, rates in pair if round_no % 2 == 0 else reversed(pair):
                rates.append(rate(n, run))
        wal_sizes = [os.path.getsize(p + "-wal") for p in (client.settings.db_path, raw_path)]
    finally:
        raw.close()
    return max(sdk_rates), max(raw_rates), *wal_sizes


def bench_batches(client: NotificationClient, batch: int, batches: int) -> float:
    """Best rate (of 3 runs) of `send_events` with `batches` batches of `batch` events."""
    events = [Event("batch", f"value-{i}") for i in range(batch)]

    def run() -> None:
        for _ in range(batches):
            client.send_events(events)
    return max(rate(batch * batches, run) for _ in range(3))


def bench_latency(client: NotificationClient, home: str, env: dict, n: int) -> List[float]:
    """Send -> listener-in-another-process latencies (ms) of `n` events sent one at a time."""
    out, rng = os.path.join(home, "latency.json"), random.Random(1)
    with child("latency", "latency", out, env) as proc:
        for _ in range(n):
            time.sleep(rng.uniform(0.0002, 0.001))  # a gap, so each send is measured alone
            client.send_event("latency", str(time.time_ns()))
        client.send_event("latency", "stop")
        proc.wait(timeout=60)  # on timeout, `child` kills it
    latencies = [ns / 1e6 for ns in json.loads(Path(out).read_text())]
    if len(latencies) != n:
        raise RuntimeError(f"listener got {len(latencies)} of {n} events")
    return latencies


def cpu_seconds(pid: int) -> Tuple[float, float]:
    """CPU time of all threads of `pid`: (from task schedstat, ns-precise; from stat, in ticks)."""
    tasks = Path(f"/proc/{pid}/task")
    sched = sum(int((tasks / t / "schedstat").read_text().split()[0]) for t in os.listdir(tasks))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)
    return sched / 1e9, ticks / os.sysconf("SC_CLK_TCK")


def bench_idle(home: str, env: Dict[str, str], seconds: float) -> Tuple[float, float]:
    """CPU of an idle listener process over `seconds`, in % of one core (schedstat, stat)."""
    with child("idle", "idle", os.path.join(home, "idle.json"), env) as proc:
        time.sleep(0.5)  # let start-up work finish
        before, start = cpu_seconds(proc.pid), time.perf_counter()
        time.sleep(seconds)
        after, elapsed = cpu_seconds(proc.pid), time.perf_counter() - start
    return 100 * (after[0] - before[0]) / elapsed, 100 * (after[1] - before[1]) / elapsed


def bench_big_log(settings: Settings, n: int, keys: int, queries: int) -> Tuple[float, ...]:
    """Fill a separate log with `n` events over `keys` keys, then time reading the next 100 events
    of one key from random offsets. Returns (fill s, p50 ms, p99 ms, mean rows per read)."""
    db = open_database(dataclasses.replace(settings, db_path=os.path.join(settings.home, "big.db")))
    rng = random.Random(2)
    try:
        start, base_ms = time.perf_counter(), time.time_ns() // 1_000_000
        with db.transaction():  # one transaction, inserted in chunks to bound memory
            for first in range(0, n, 100_000):
                db.executemany(RAW_INSERT, [
                    (f"key-{rng.randrange(keys)}", f"value-{i}", "default", None, None,
                     base_ms + i // 1000) for i in range(first, min(n, first + 100_000))
                ])
        fill_s = time.perf_counter() - start
        log = EventLog(db, wake=False)
        top = max(1, log.latest_offset() - keys * 200)  # leave room for 100 events of any key
        times, rows = [], 0
        for i in range(queries + 50):  # the first 50 only warm the caches
            offset, key = rng.randrange(top), f"key-{rng.randrange(keys)}"
            t0 = time.perf_counter()
            got = log.read_after(offset, keys=[key], limit=100)
            if i >= 50:
                times.append((time.perf_counter() - t0) * 1000)
                rows += len(got)
    finally:
        db.close()
    return fill_s, pct(times, 50), pct(times, 99), rows / queries


def run_all(args: argparse.Namespace, home: str) -> List[tuple]:
    """Every benchmark, ordered so that no listener exists while the send rates are taken.
    Returns rows of (figure, measured, target, met); met is None for a figure with no target."""
    settings, env, rows = load_notification_settings(), dict(os.environ), []

    def add(figure: str, measured: str, target: str = "", met: bool | None = None) -> None:
        rows.append((figure, measured, target, met))

    client = NotificationClient(settings=settings)
    try:
        sdk, raw, sdk_wal, raw_wal = bench_send(client, home, settings.durability, args.events)
        add("1. send_event, per event (SDK)", f"{sdk:,.0f} ev/s")
        add("1. raw apsw insert, per event", f"{raw:,.0f} ev/s")
        add("1. SDK / raw", f"{100 * sdk / raw:.0f} %", ">= 50 %", sdk / raw >= 0.5)
        add("1.   (WAL file after: SDK / raw)", f"{sdk_wal / 1e6:,.0f} / {raw_wal / 1e6:,.0f} MB")
        batched = bench_batches(client, 1000, 100)
        add("2. send_events, batches of 1000", f"{batched:,.0f} ev/s", ">= 100,000 ev/s",
            batched >= 100_000)
        lat = bench_latency(client, home, env, args.latency_events)
        p50, p99 = pct(lat, 50), pct(lat, 99)
        add("3. send -> listener (other process) p50", f"{p50:.3f} ms", "<= 0.5 ms", p50 <= 0.5)
        add("3. send -> listener (other process) p99", f"{p99:.3f} ms", "<= 2 ms", p99 <= 2)
        add("3.   (max, for information)", f"{max(lat):.3f} ms")
    finally:
        client.close()
    idle, idle_ticks = bench_idle(home, env, args.idle_seconds)
    add(f"4. idle listener CPU over {args.idle_seconds:g} s", f"{idle:.3f} %", "<= 0.2 %",
        idle <= 0.2)
    add("4.   (same, from /proc stat ticks)", f"{idle_ticks:.3f} %")
    fill_s, r50, r99, got = bench_big_log(settings, args.big_log, 100, 1000)
    add(f"5. fill big log ({args.big_log:,} ev, 1 txn)", f"{args.big_log / fill_s:,.0f} ev/s")
    add("5. next 100 of a key, p50", f"{r50:.3f} ms", "<= 1 ms", r50 <= 1)
    add("5. next 100 of a key, p99", f"{r99:.3f} ms", "<= 1 ms", r99 <= 1)
    add("5.   (mean events returned per read)", f"{got:.1f}")
    shutil.rmtree(wake_dir_for(settings.db_path), ignore_errors=True)  # if not inside the home
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per send-rate run")
    parser.add_argument("--big-log", type=int, default=1_000_000, help="events in the big log")
    parser.add_argument("--durability", choices=sorted(DURABILITY_LEVELS), default="normal")
    parser.add_argument("--latency-events", type=int, default=2000)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="aiflow-bench-")
    try:
        os.environ["AIFLOW_HOME"] = home  # before any settings are loaded; children inherit it
        os.environ.pop("NOTIFICATION_HOME", None)
        Path(home, "notification_server.yaml").write_text(f"durability: {args.durability}\n")
        rows = run_all(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    return print_report(f"aiflow_lite event log benchmark: durability={args.durability}, "
          f"python {sys.version.split()[0]}, SQLite {apsw.sqlite_lib_version()}, "
          f"{os.cpu_count()} CPUs", rows, width=44)


if __name__ == "__main__":
    sys.exit(main())
