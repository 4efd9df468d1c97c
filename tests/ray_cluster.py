"""A real Ray cluster on loopback for tests: a head and extra nodes, each `ray start --block` in
a session of its own (so killing its group stops every process of the node, and nothing of
another test's cluster), every port chosen free, state in a temporary directory. Skips the
test without Ray, fails instead when AIFLOW_REQUIRE_RAY=1 (CI)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import List, Optional

import pytest

READY = "Ray runtime started"
START_TIMEOUT_S = 90.0


def ray_command() -> Optional[str]:
    """The `ray` command of this interpreter's install (a venv's, even when not activated)."""
    return shutil.which("ray", path=os.path.dirname(sys.executable)) or shutil.which("ray")


def require_ray() -> None:
    """Skip (or fail under AIFLOW_REQUIRE_RAY=1) when Ray is not installed."""
    if ray_command() is None or _missing("ray"):
        if os.environ.get("AIFLOW_REQUIRE_RAY") == "1":
            pytest.fail("AIFLOW_REQUIRE_RAY=1 but Ray is not installed: pip install '.[ray]'")
        pytest.skip("Ray is not installed (pip install '.[ray]')")


def _missing(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


def _session(sid: int) -> List[int]:
    """The processes of session `sid`."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:
                found.append(int(name))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_options() -> List[str]:
    ports = [free_port() for _ in range(6)]
    return ["--node-manager-port", str(ports[0]), "--object-manager-port", str(ports[1]),
            "--dashboard-agent-listen-port", str(ports[2]),
            "--dashboard-agent-grpc-port", str(ports[3]),
            "--runtime-env-agent-port", str(ports[4]), "--metrics-export-port", str(ports[5])]


class Node:
    def __init__(self, process: subprocess.Popen, name: str) -> None:
        self.process = process
        self.name = name
        self.output: List[str] = []

    def kill(self, signum: int = signal.SIGKILL) -> None:
        """Signal every process of the node: its session (Ray puts each worker in a process
        group of its own, in the session of its `ray start`)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)
        for pid in _session(self.process.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)

    def stop(self) -> None:
        """SIGTERM the node's processes, SIGKILL what is left after 10 s, reap the parent."""
        self.kill(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.kill(signal.SIGKILL)
        self.process.wait(timeout=10)
        with contextlib.suppress(Exception):
            self.process.stdout.close()


class RayCluster:
    """A head (`num_cpus` of its own) and the nodes `add_node` adds; `stop` ends all."""

    def __init__(self, head_cpus: float = 1) -> None:
        require_ray()
        self.temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: socket path limits
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: List[Node] = []
        self.head = self._start("head", ["--head", "--port", str(self.port),
                                         "--ray-client-server-port", str(free_port()),
                                         "--include-dashboard", "false",
                                         "--temp-dir", self.temp_dir], head_cpus)

    def add_node(self, num_cpus: float = 2) -> Node:
        return self._start(f"node{len(self.nodes)}", ["--address", self.address], num_cpus)

    def _start(self, name: str, options: List[str], num_cpus: float) -> Node:
        args = [ray_command() or "ray", "start", "--block", "--disable-usage-stats",
                "--node-ip-address", "127.0.0.1", "--num-cpus", str(num_cpus),
                *options, *_port_options()]
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": os.pathsep.join(
            p for p in (os.environ.get("PYTHONPATH"), *sys.path) if p)}
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, env=env, start_new_session=True)
        node = Node(process, name)
        self.nodes.append(node)
        ready = threading.Event()

        def pump() -> None:
            for line in iter(process.stdout.readline, ""):
                node.output.append(line)
                if READY in line:
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready.wait(0.1):
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"ray node {name} did not start:\n" + "".join(node.output[-30:]))
        return node

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def cluster_config(cluster: RayCluster, extra: str = "") -> str:
    """The aiflow_server.yaml lines that run a home's tasks on `cluster`."""
    return f"task_executor: ray\nray_address: {cluster.address}\n{extra}"


def node_of(cluster: RayCluster, name: str) -> Optional[Node]:
    return next((n for n in cluster.nodes if n.name == name), None)
