#!/usr/bin/env python
"""gRPC shim benchmark: remote send rate, send -> listener latency and `ops` call latency, each
beside the embedded figure and a raw gRPC baseline measured in the same run.

Usage: python benchmarks/rpc.py [--events N] [--latency-events N] [--ops-calls N]
Starts, on 127.0.0.1 in a temporary home with a token set, a real notification server (the
events' figures) and a real AIFlow server (scheduler + rpc: the `ops` figures), and a bare gRPC
echo server as the baseline (an empty unary call: the floor any remote call pays); stops them
all and deletes the home at the end. Exits with 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, List

from _report import print_report

ECHO_SERVER = """
import sys, grpc
from concurrent.futures import ThreadPoolExecutor
handler = grpc.unary_unary_rpc_method_handler(lambda request, context: b"")
server = grpc.server(ThreadPoolExecutor(8), handlers=[
    grpc.method_handlers_generic_handler("bench.Echo", {"Call": handler})])
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(port, flush=True)
sys.stdin.read()
server.stop(0)
"""


def rate(n: int, call: Callable[[int], object]) -> float:
    start = time.perf_counter()
    for i in range(n):
        call(i)
    return n / (time.perf_counter() - start)


def percentiles(samples: List[float]) -> tuple:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def listener_latency(sender, listener, n: int) -> List[float]:
    """ms from calling send to the listener holding the event."""
    arrived = threading.Event()
    samples: List[float] = []

    def process(events):
        arrived.set()

    registration = listener.register_listener(process, ["latency"])
    for i in range(n):
        arrived.clear()
        start = time.perf_counter()
        sender.send_event("latency", str(i))
        if not arrived.wait(10):
            raise SystemExit("the listener missed an event")
        samples.append((time.perf_counter() - start) * 1000)
    listener.unregister_listener(registration)
    return samples


def wait_for_address(path: Path, proc: subprocess.Popen) -> str:
    deadline = time.monotonic() + 30
    while not path.exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"the server writing {path.name} did not start")
        time.sleep(0.02)
    return path.read_text().strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--latency-events", type=int, default=500)
    parser.add_argument("--ops-calls", type=int, default=500)
    args = parser.parse_args()

    import grpc

    from aiflow_lite.ns.client import NotificationClient

    root = Path(tempfile.mkdtemp(prefix="aiflow-bench-rpc-"))
    # Two homes: a scheduler consumes every event of its home, which is not what the event
    # figures are about.
    server_home, ops_home, client_home = root / "events", root / "ops", root / "client"
    for home in (server_home, ops_home, client_home):
        home.mkdir()
    (ops_home / "aiflow_server.yaml").write_text("rpc_port: 0\nserver_token: bench\n")
    (server_home / "notification_server.yaml").write_text("server_port: 0\nserver_token: bench\n")
    echo = subprocess.Popen([sys.executable, "-c", ECHO_SERVER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    servers = [subprocess.Popen([sys.executable, "-m", "aiflow_lite.server.processes", role],
                                env={**os.environ, "AIFLOW_HOME": str(home)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for role, home in (("aiflow", ops_home), ("notification", server_home))]
    try:
        echo_port = int(echo.stdout.readline())
        ops_address = wait_for_address(ops_home / "aiflow_server.addr", servers[0])
        address = wait_for_address(server_home / "notification_server.addr", servers[1])
        (client_home / "aiflow_client.yaml").write_text(
            f"server_address: {ops_address}\nserver_token: bench\n")

        channel = grpc.insecure_channel(f"127.0.0.1:{echo_port}")
        call = channel.unary_unary("/bench.Echo/Call")
        call(b"", wait_for_ready=True)
        raw_rate = rate(args.events, lambda i: call(b""))
        channel.close()

        os.environ["AIFLOW_HOME"] = str(client_home)
        os.environ["AIFLOW_SERVER_TOKEN"] = "bench"
        remote = NotificationClient(address)
        remote_listener = NotificationClient(address)
        remote.latest_offset()
        remote_rate = rate(args.events, lambda i: remote.send_event("rate", str(i)))
        remote_latency = listener_latency(remote, remote_listener, args.latency_events)

        os.environ["AIFLOW_HOME"] = str(server_home)
        local = NotificationClient()
        local_listener = NotificationClient()
        local_rate = rate(args.events, lambda i: local.send_event("rate", str(i)))
        local_latency = listener_latency(local, local_listener, args.latency_events)

        from aiflow_lite import ops

        def ops_latency() -> List[float]:
            samples = []
            for _ in range(args.ops_calls):
                start = time.perf_counter()
                ops.get_namespace("default")
                samples.append((time.perf_counter() - start) * 1000)
            return samples

        os.environ["AIFLOW_HOME"] = str(ops_home)
        local_ops = ops_latency()
        os.environ["AIFLOW_HOME"] = str(client_home)
        ops.get_namespace("default")
        remote_ops = ops_latency()
        for c in (remote, remote_listener, local, local_listener):
            c.close()
    finally:
        echo.stdin.close()
        echo.wait(10)
        for proc in servers:
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(root, ignore_errors=True)

    r50, r99 = percentiles(remote_latency)
    l50, l99 = percentiles(local_latency)
    o50, o99 = percentiles(remote_ops)
    e50, e99 = percentiles(local_ops)
    rows = [
        ("raw gRPC empty call (baseline)", f"{raw_rate:,.0f}/s", "", None),
        ("remote send_event", f"{remote_rate:,.0f}/s", ">= 3,000/s", remote_rate >= 3000),
        ("remote send / raw gRPC call", f"{remote_rate / raw_rate:.0%}", "", None),
        ("embedded send_event", f"{local_rate:,.0f}/s", "", None),
        ("remote send -> remote listener p50", f"{r50:.2f} ms", "<= 1.5 ms", r50 <= 1.5),
        ("remote send -> remote listener p99", f"{r99:.2f} ms", "<= 5 ms", r99 <= 5),
        ("embedded send -> listener p50 / p99", f"{l50:.2f} / {l99:.2f} ms", "", None),
        ("remote ops call (get_namespace) p50 / p99", f"{o50:.2f} / {o99:.2f} ms", "", None),
        ("embedded ops call p50 / p99", f"{e50:.2f} / {e99:.2f} ms", "", None),
    ]
    return print_report(f"gRPC shim ({args.events} sends, {args.latency_events} latency "
                        f"samples, {args.ops_calls} ops calls)", rows)


if __name__ == "__main__":
    sys.exit(main())
