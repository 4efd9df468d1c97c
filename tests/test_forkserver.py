"""The fork server on its own: spares wait for a task, run only on GO, exit unrun on DROP or when
the server goes, and never open the database; and its launcher (`forkserver_launcher`). Every
test here starts real processes."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from pathlib import Path

import pytest
from conftest import wait_for

from aiflow_lite.engine.launch.forkserver import SPARES, spawn
from aiflow_lite.engine.launch.forkserver_launcher import ForkServerLauncher
from aiflow_lite.engine.launch.protocol import Drop, Exit, Go, Order, Pid, Run, decode
from aiflow_lite.engine.launch.results import read_result, result_path, results_dir
from aiflow_lite.engine.launch.worker import NEVER_STARTED
from aiflow_lite.status import TaskStatus

pytestmark = pytest.mark.slow


def _children(pid: int) -> set:
    try:
        return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] not in "ZX"
    except OSError:
        return False


_pending: dict = {}  # fork server pid → bytes read past the last line returned


def _read(proc, timeout: float = 10.0):
    return decode(_read_line(proc, timeout).encode())


def _read_line(proc, timeout: float = 10.0) -> str:
    """The next line it says (unbuffered reads: select must see what is still unread)."""
    deadline = time.monotonic() + timeout
    buffer = _pending.get(proc.pid, b"")
    while b"\n" not in buffer:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, "the fork server said nothing"
        chunk = os.read(proc.stdout.fileno(), 4096)
        assert chunk, "the fork server exited"
        buffer += chunk
    line, _pending[proc.pid] = buffer.split(b"\n", 1)
    return line.decode()


def _order(home, task_execution_id: int, log) -> Order:
    """An order for a workflow that does not exist: the worker runs it and fails, and says so."""
    return Order(task_execution_id, 1, 1, "t", 1, "default", "wf", 1, "file:///nowhere.zip",
                 "wf.py", str(log))


@contextlib.contextmanager
def fork_server(home):
    home.mkdir(parents=True, exist_ok=True)
    os.makedirs(results_dir(str(home)), exist_ok=True)
    server = spawn({**os.environ, "AIFLOW_HOME": str(home)})
    try:
        yield server
    finally:
        server.stdin.close()  # what a scheduler's exit (or death) looks like to it
        server.wait(10)
        server.stdout.close()


def _send(server, *messages) -> None:
    server.stdin.write(b"".join(m.encode() for m in messages))
    server.stdin.flush()


def test_spares_wait_then_leave_with_the_server(home):
    with fork_server(home) as server:
        spares = wait_for(lambda: len(_children(server.pid)) == SPARES and _children(server.pid))
    wait_for(lambda: not any(_alive(pid) for pid in spares), message="spares to exit")
    assert not (home / "aiflow.db").exists()  # nobody opened the database


def test_a_task_runs_only_on_go_and_leaves_its_result(home):
    with fork_server(home) as server:
        spares = wait_for(lambda: len(_children(server.pid)) == SPARES and _children(server.pid))
        log = home / "task.log"
        _send(server, Run.of(_order(home, 999, log), 1))
        answer = _read(server)
        assert isinstance(answer, Pid) and (answer.task_execution_id, answer.request) == (999, 1)
        pid = answer.pid
        assert pid in spares
        assert _alive(pid) and not log.exists()  # waiting for its order
        _send(server, Go(999))
        assert _read(server) == Exit(999, pid, 0)
        status, message = read_result(result_path(str(home), 999, 1, pid))
        assert status == TaskStatus.FAILED and "nowhere.zip" in message
        assert "result: FAILED" in log.read_text()
        wait_for(lambda: len(_children(server.pid)) == SPARES, message="a new spare")
        assert pid not in _children(server.pid)


def test_a_dropped_task_exits_unrun(home):
    with fork_server(home) as server:
        for i in (5, 6, 7):  # more than the spares: one is forked on demand
            _send(server, Run.of(_order(home, i, home / "log"), i))
        assert {_read(server).task_execution_id for _ in range(3)} == {5, 6, 7}
        _send(server, Drop(5), Drop(6), Drop(7))
        exits = [_read(server) for _ in range(3)]
        assert sorted((e.task_execution_id, e.code) for e in exits) == [(5, 0), (6, 0), (7, 0)]
        results = [read_result(os.path.join(results_dir(str(home)), name))
                   for name in os.listdir(results_dir(str(home)))]
        assert results == [(TaskStatus.QUEUED, NEVER_STARTED)] * 3  # nothing ran


def test_a_task_whose_log_cannot_be_opened_says_so_in_its_result(home):
    with fork_server(home) as server:
        (home / "log-dir").mkdir()
        _send(server, Run.of(_order(home, 3, home / "log-dir"), 1))
        answer = _read(server)
        assert isinstance(answer, Pid) and answer.task_execution_id == 3
        _send(server, Go(3))
        assert _read(server).code == 1
        status, message = read_result(result_path(str(home), 3, 1, answer.pid))
        assert status == TaskStatus.FAILED and "cannot be opened" in message


def test_a_late_pid_never_names_the_next_child_of_the_task(home):
    """The server answered too late: the order went elsewhere and its child must never run,
    and the task's next launch gets a new child, which alone gets the word."""
    os.makedirs(results_dir(str(home)), exist_ok=True)
    client = ForkServerLauncher(lambda: {**os.environ, "AIFLOW_HOME": str(home)})
    client.PID_TIMEOUT_S = 0.3
    log = home / "task.log"
    try:
        server = client._process
        wait_for(lambda: len(_children(server.pid)) == SPARES)
        os.kill(server.pid, signal.SIGSTOP)
        try:
            assert client._fork([_order(home, 42, log)]) == {}  # (start would spawn it)
        finally:
            os.kill(server.pid, signal.SIGCONT)
        pids = client.start([_order(home, 42, log)]).pids
        assert list(pids) == [42] and not client.spawner.owns(42, pids[42])
        client.hand([(42, pids[42], True)])

        def ended():
            client.poll()
            return client.exit_code(42, pids[42]) is not None
        wait_for(ended, message="the second child's exit")
        headers = [line for line in log.read_text().splitlines() if "try 1 (pid" in line]
        assert headers == [headers[0]] and f"(pid {pids[42]})" in headers[0]
    finally:
        client.close()


def test_children_of_a_dead_server_are_watched_by_pid(home):
    os.makedirs(results_dir(str(home)), exist_ok=True)
    client = ForkServerLauncher(lambda: {**os.environ, "AIFLOW_HOME": str(home)})
    try:
        pid = client.start([_order(home, 1, home / "a.log")]).pids[1]
        generation = client.generation
        assert client.watching(1, pid)
        client._process.kill()
        client._process.wait()
        client.start([_order(home, 2, home / "b.log")])  # a new server
        assert client.generation == generation + 1 and client.alive()
        assert not client.watching(1, pid)  # no EXIT will come from the new one
        client.hand([(1, pid, False)])
    finally:
        client.close()


FAKE_SERVER = """
import sys
for line in sys.stdin:
    _, task, request, _ = line.split(" ", 3)  # RUN <task> <request> <snapshot> <order>
    pid = 40000 + int(task)
    # the first child ends before the second is even answered
    sys.stdout.write(f"PID {task} {pid} {request}\\n" + (f"EXIT {task} {pid} 0\\n"
                     if task == "1" else ""))
    sys.stdout.flush()
"""


def test_an_exit_heard_before_the_batch_is_answered_is_kept(home):
    import subprocess
    import sys

    fake = subprocess.Popen([sys.executable, "-c", FAKE_SERVER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    client = ForkServerLauncher(lambda: dict(os.environ), fake)
    try:
        pids = client.start([_order(home, 1, home / "a.log"),
                             _order(home, 2, home / "b.log")]).pids
        assert pids == {1: 40001, 2: 40002}
        client.poll()
        assert client.exit_code(1, 40001) == 0
        assert client.exit_code(2, 40002) is None
    finally:
        client.close()
