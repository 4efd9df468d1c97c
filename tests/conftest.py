"""Shared fixtures: every test gets its own home in tmp_path; nothing touches ~/aiflow."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest

from aiflow_lite.config import load_notification_settings
from aiflow_lite.home import open_database
from aiflow_lite.ns.event_log import EventLog

TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """Longest first: the real-engine tests, then the other slow ones, then the rest, each
    group in file order (module-scoped fixtures rely on it). Under `-n`, worksteal gives the
    first worker the long tests and the others steal from its tail as they run dry, so the
    long tests start early instead of being the run's tail. No test depends on this order:
    dealt round-robin over the workers, or shuffled, the suite passes too."""
    def rank(item: pytest.Item) -> int:
        return 0 if item.get_closest_marker("engines") else 1 if item.get_closest_marker("slow") \
            else 2

    items.sort(key=rank)


def _local_only_restored() -> Iterator[None]:
    """`serve_locally()` holds for a server's whole life, so it is process-wide; a test (or a
    module's fixture) that makes a web app or an `aiflow run` in this process would otherwise
    leave every later test in the process with `ops` calls that never reach the server it
    configured. What it was before is put back: a module's own app keeps it for the module."""
    backend = sys.modules.get("aiflow_lite.ops.backend")  # not imported for a test without it
    before = backend is not None and backend._local_only
    yield
    backend = sys.modules.get("aiflow_lite.ops.backend")
    if backend is not None:
        backend._local_only = before


_module_local_only_restored = pytest.fixture(autouse=True, scope="module")(_local_only_restored)
_test_local_only_restored = pytest.fixture(autouse=True)(_local_only_restored)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("AIFLOW_HOME", str(path))
    for name in ("NOTIFICATION_HOME", "AIFLOW_DEBUG", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def settings(home: Path):
    return load_notification_settings()


@pytest.fixture
def event_log(settings):
    db = open_database(settings)
    log = EventLog(db)
    yield log
    log.close()
    db.close()


@pytest.fixture
def client(settings):
    from aiflow_lite.ns.client import NotificationClient

    c = NotificationClient(settings=settings)
    yield c
    c.close()


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.005,
             message: str = "condition") -> object:
    """Poll `predicate` until it is truthy or the deadline passes (then fail the test)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class Processes:
    """Starts child processes and guarantees they are all gone when the test ends."""

    def __init__(self) -> None:
        self.started: List[subprocess.Popen] = []

    def start(self, args: List[str], env: Optional[dict] = None, **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(
            args, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, **kwargs,
        )
        self.started.append(proc)
        return proc

    def python(self, script: str, *args: str, **kwargs) -> subprocess.Popen:
        return self.start([sys.executable, str(TESTS / "procs" / script), *args], **kwargs)

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
            for stream in (proc.stdout, proc.stderr):
                if stream:
                    stream.close()


@pytest.fixture
def processes():
    procs = Processes()
    yield procs
    procs.stop_all()


_READERS: dict = {}


def read_line(stream, timeout: float = 30.0) -> str:
    """One line from a child's pipe, failing the test (not hanging it) past the deadline.
    A thread per stream does the blocking reads, so lines already buffered are never missed."""
    import queue
    import threading

    reader = _READERS.get(id(stream))
    if reader is None or reader[0] is not stream:
        lines: queue.Queue = queue.Queue()

        def pump() -> None:
            for line in iter(stream.readline, ""):
                lines.put(line)
            lines.put("")

        threading.Thread(target=pump, daemon=True).start()
        reader = _READERS[id(stream)] = (stream, lines)
    try:
        return reader[1].get(timeout=timeout)
    except queue.Empty:
        pytest.fail(f"no line from the child process within {timeout}s")


@pytest.fixture
def server(home):
    """Starts the home's scheduler; always stops it (and any worker left) at the end. Its rpc
    server takes any free port, so tests never fight over 50051."""
    from server_helpers import aiflow, configure, kill_workers, scheduler_pid

    started = []
    configure(home, "rpc_port: 0\n")

    def start() -> int:
        out = aiflow("server", "start", "-d").stdout
        assert "AIFlow server started" in out
        pid = scheduler_pid(home)
        started.append(pid)
        return pid

    yield start
    pid = scheduler_pid(home)
    if pid:
        aiflow("server", "stop", check=False)
    kill_workers(home)


@pytest.fixture
def servers():
    """Starts gRPC server processes (`servers(home, role, **config)`); stops every one."""
    from rpc_helpers import ServerProcess

    started: List = []

    def start(home: Path, role: str = "notification", **config):
        server = ServerProcess(home, role, **config)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
