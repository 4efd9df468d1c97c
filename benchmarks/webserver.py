"""Webserver benchmark: a real `python -m aiflow_lite.web.serve --port 0` on a home with 10,000
workflow executions (written in bulk through the stores, as run_once.py does), measured from a
client in this process.

Figures: 1. `GET /api/v1/workflow-executions?workflow=quickstart` (first page, default limit):
the server's own time from its `Server-Timing: app;dur=` header (the handler: the query and the
JSON), and the wall time at the client (the whole round trip over loopback HTTP) on a new
connection per request and on one kept-alive connection, next to raw apsw running the same
query in the same run (the floor); 2. the executions HTML page `/executions?workflow=quickstart`,
the same wall times (`Server-Timing` too if the page sends one; "missing" when there is no such
page yet); 3. an event sent -> its SSE message read
from `/api/v1/stream`, p50 and p99 over 200 events; 4. the idle webserver's CPU over 5 s (one
live stream open, nothing happening), from /proc.

    python benchmarks/webserver.py [--quick]
"""

from __future__ import annotations

import http.client
import os
import queue
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import apsw
import httpx
from _report import Row, in_temporary_home, print_report, sized_arguments

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"executions": (10000, 1000), "requests": (50, 10), "events": (200, 50),
         "idle_seconds": (5.0, 1.0)}
TARGETS = {"api_ms": 100.0, "page_ms": 100.0, "sse_p50_ms": 20.0, "sse_p99_ms": 100.0,
           "idle_cpu_percent": 0.2}
WORKFLOW = "quickstart"
#: What ExecutionStore.list_executions runs for the API's first page (DEFAULT_LIMIT rows).
RAW_QUERY = (
    "SELECT e.id, e.workflow_id, w.namespace, w.name, e.snapshot_id, e.execution_type, "
    "e.status, e.begin_time, e.end_time, e.reason, e.waiting_for FROM workflow_execution e "
    "JOIN workflow w ON w.id = e.workflow_id WHERE e.workflow_id = ? ORDER BY e.id "
    "LIMIT ? OFFSET 0")


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def ms(value: Optional[float]) -> str:
    return "missing" if value is None else f"{value:.2f} ms"


class Webserver:
    """The webserver process on any free port; always stopped (SIGTERM, then SIGKILL)."""

    def __init__(self, home: str) -> None:
        self.home = home
        self.proc: Optional[subprocess.Popen] = None
        self.base = ""

    def __enter__(self) -> Webserver:
        env = {**os.environ, "AIFLOW_HOME": self.home,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                          os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "aiflow_lite.web.serve", "--port",
                                      "0"], env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        address = Path(self.home, "webserver.addr")
        deadline = time.monotonic() + 60
        while not address.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"the webserver exited: {self.proc.stderr.read().decode()}")
            if time.monotonic() > deadline:
                raise RuntimeError("the webserver did not start within 60 s")
            time.sleep(0.05)
        self.base = f"http://{address.read_text().strip()}"
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stderr:
            self.proc.stderr.close()

    def cpu_seconds(self) -> float:
        """CPU time of every thread of the process: from schedstat (ns) where the kernel has
        it, else from stat (clock ticks: 10 ms steps, coarse over a few seconds)."""
        total, base = 0, f"/proc/{self.proc.pid}"
        try:
            for task in os.listdir(f"{base}/task"):
                with open(f"{base}/task/{task}/schedstat", encoding="ascii") as fh:
                    total += int(fh.read().split()[0])
            return total / 1e9
        except (OSError, ValueError, IndexError):
            pass
        with open(f"{base}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _get(conn: http.client.HTTPConnection, target: str) -> tuple:
    """(status, Server-Timing dur in ms or None, wall ms) of one GET on `conn`."""
    start = time.perf_counter()
    conn.request("GET", target)
    response = conn.getresponse()
    response.read()
    wall = (time.perf_counter() - start) * 1000
    header = response.getheader("server-timing") or ""
    dur = float(header.split("dur=", 1)[1].split(",")[0].split(";")[0]) \
        if "dur=" in header else None
    return response.status, dur, wall


def timed_gets(base: str, url: str, params: Dict[str, Any], requests: int) -> dict:
    """Medians (ms) of `requests` GETs after a warm-up one (stdlib http.client: no client
    library's own setup in the figure): `kept` wall time on one kept-alive connection,
    `fresh` wall time on a new connection each (as curl, or a browser's first load), `server`
    the Server-Timing `dur` (None without the header); and `status`."""
    from urllib.parse import urlencode, urlsplit

    address = urlsplit(base)
    target = f"{url}?{urlencode(params)}"
    figures: Dict[str, Any] = {"fresh": None, "kept": None, "server": None}
    kept = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        figures["status"], _, _ = _get(kept, target)
        if figures["status"] != 200:
            return figures
        runs = [_get(kept, target) for _ in range(requests)]
    finally:
        kept.close()
    fresh = []
    for _ in range(requests):
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        try:
            start = time.perf_counter()
            _get(conn, target)
            fresh.append((time.perf_counter() - start) * 1000)
        finally:
            conn.close()
    servers = [dur for _, dur, _ in runs if dur is not None]
    figures.update(fresh=statistics.median(fresh),
                   kept=statistics.median(wall for *_, wall in runs),
                   server=statistics.median(servers) if servers else None)
    return figures


def raw_ms(db_path: str, workflow_id: int, limit: int, repeat: int) -> float:
    """The floor: raw apsw, the same pragmas, the same query and rows fetched."""
    conn = apsw.Connection(db_path, flags=apsw.SQLITE_OPEN_READONLY)
    try:
        conn.execute("PRAGMA query_only=1")
        times = []
        for _ in range(repeat + 1):
            start = time.perf_counter()
            rows = list(conn.execute(RAW_QUERY, (workflow_id, limit)))
            times.append((time.perf_counter() - start) * 1000)
        assert len(rows) == limit, len(rows)
        return statistics.median(times[1:])
    finally:
        conn.close()


def sse_latency(base: str, events: int, warmup: int = 5) -> List[float]:
    """Send one event at a time; the time from before `send_event` to the reader thread having
    parsed its SSE message, ms."""
    from aiflow_lite.ns.client import NotificationClient

    received: queue.Queue[tuple] = queue.Queue()
    ready = threading.Event()

    def read() -> None:
        import json

        with httpx.stream("GET", f"{base}/api/v1/stream", params={"key": "bench.sse"},
                          timeout=httpx.Timeout(30, read=None)) as response:
            for line in response.iter_lines():
                if line.startswith("retry:"):
                    ready.set()
                elif line.startswith("data: "):
                    value = json.loads(line[6:])["value"]
                    received.put((value, time.perf_counter()))
                    if value == "stop":
                        return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not ready.wait(30):
        raise RuntimeError("the SSE stream did not open")
    rng = random.Random(1)
    latencies = []
    with NotificationClient() as client:
        for i in range(warmup + events):
            time.sleep(rng.uniform(0.005, 0.02))  # let the live thread fall asleep
            start = time.perf_counter()
            client.send_event("bench.sse", str(i))
            value, at = received.get(timeout=10)
            if value != str(i):
                raise RuntimeError(f"expected event {i}, got {value}")
            if i >= warmup:
                latencies.append((at - start) * 1000)
        client.send_event("bench.sse", "stop")
    reader.join(timeout=10)
    return latencies


def idle_cpu(server: Webserver, seconds: float) -> float:
    """CPU % of the webserver over `seconds` with one live stream open and nothing sent."""
    with httpx.stream("GET", f"{server.base}/api/v1/stream", params={"key": "bench.idle"},
                      timeout=httpx.Timeout(30, read=None)) as response:
        next(response.iter_lines())  # connected
        time.sleep(0.5)
        before = server.cpu_seconds()
        time.sleep(seconds)
        used = server.cpu_seconds() - before
    return used / seconds * 100


def work(home: str, args: Any) -> int:
    from run_once import fill_home

    from aiflow_lite import ops
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.web.records import DEFAULT_LIMIT

    start = time.perf_counter()
    fill_home({"AIFLOW_HOME": home}, args.executions)
    filled = time.perf_counter() - start
    workflow = ops.get_workflow(WORKFLOW)
    rows: List[Row] = [(f"(home: {args.executions:,} executions, filled in)", f"{filled:.1f} s",
                        "", None)]
    with Webserver(home) as server:
        api = timed_gets(server.base, "/api/v1/workflow-executions", {"workflow": WORKFLOW},
                         args.requests)
        floor = raw_ms(load_aiflow_settings().db_path, workflow.id, DEFAULT_LIMIT,
                       args.requests)
        rows += [
            (f"1. API executions page ({DEFAULT_LIMIT}), Server-Timing", ms(api["server"]),
             f"<= {TARGETS['api_ms']:g} ms", api["server"] is not None
             and api["server"] <= TARGETS["api_ms"]),
            ("   same, wall, new connection each", ms(api["fresh"]),
             f"<= {TARGETS['api_ms']:g} ms", api["fresh"] is not None
             and api["fresh"] <= TARGETS["api_ms"]),
            ("   same, wall, one kept-alive connection", ms(api["kept"]), "", None),
            ("   raw apsw, the same query", ms(floor), "", None),
        ]
        page = timed_gets(server.base, "/executions", {"workflow": WORKFLOW}, args.requests)
        missing = f"missing ({page['status']})"
        rows += [
            ("2. executions HTML page, wall, new connection",
             missing if page["fresh"] is None else ms(page["fresh"]),
             f"<= {TARGETS['page_ms']:g} ms",
             None if page["fresh"] is None else page["fresh"] <= TARGETS["page_ms"]),
            ("   same, wall, one kept-alive connection",
             missing if page["kept"] is None else ms(page["kept"]), "", None),
            ("   same, Server-Timing", ms(page["server"]), "", None),
        ]
        latencies = sse_latency(server.base, args.events)
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        rows += [
            (f"3. event sent -> SSE message, p50 of {len(latencies)}", ms(p50),
             f"<= {TARGETS['sse_p50_ms']:g} ms", p50 <= TARGETS["sse_p50_ms"]),
            ("   p99", ms(p99), f"<= {TARGETS['sse_p99_ms']:g} ms", p99 <= TARGETS["sse_p99_ms"]),
        ]
        cpu = idle_cpu(server, args.idle_seconds)
        rows.append((f"4. idle webserver CPU over {args.idle_seconds:g} s", f"{cpu:.3f} %",
                     f"<= {TARGETS['idle_cpu_percent']:g} %",
                     cpu <= TARGETS["idle_cpu_percent"]))
    return print_report(f"aiflow_lite webserver benchmark: python {sys.version.split()[0]}, "
                        f"{os.cpu_count()} CPUs", rows)


def main() -> int:
    args = sized_arguments(__doc__.splitlines()[0], SIZES)
    return in_temporary_home("aiflow-bench-web-", lambda home: work(home, args))


if __name__ == "__main__":
    sys.exit(main())
