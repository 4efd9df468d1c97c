"""The fork server on its own: spares wait for a task, run only on GO, exit unrun on DROP or when
the server goes, and never open the database."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from pathlib import Path

from conftest import wait_for

from aiflow_lite.engine.forkserver import SPARES, spawn
from aiflow_lite.engine.results import read_result, result_path, results_dir
from aiflow_lite.engine.worker import Order
from aiflow_lite.status import TaskStatus


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


def _send(server, line: str) -> None:
    server.stdin.write(line.encode())
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
        _send(server, "RUN 999 1 " + _order(home, 999, log).encode().decode())
        kind, task, pid, request = _read_line(server).split()
        assert request == "1"
        assert (kind, task) == ("PID", "999") and int(pid) in spares
        assert _alive(int(pid)) and not log.exists()  # waiting for its order
        _send(server, "GO 999\n")
        assert _read_line(server).split() == ["EXIT", "999", pid, "0"]
        status, message = read_result(result_path(str(home), 999, 1, int(pid)))
        assert status == TaskStatus.FAILED and "nowhere.zip" in message
        assert "result: FAILED" in log.read_text()
        wait_for(lambda: len(_children(server.pid)) == SPARES, message="a new spare")
        assert int(pid) not in _children(server.pid)


def test_a_dropped_task_exits_unrun(home):
    with fork_server(home) as server:
        for i in (5, 6, 7):  # more than the spares: one is forked on demand
            _send(server, f"RUN {i} {i} " + _order(home, i, home / "log").encode().decode())
        pids = {int(_read_line(server).split()[1]) for _ in range(3)}
        assert pids == {5, 6, 7}
        _send(server, "DROP 5\nDROP 6\nDROP 7\n")
        exits = [_read_line(server).split() for _ in range(3)]
        assert sorted((e[1], e[3]) for e in exits) == [("5", "0"), ("6", "0"), ("7", "0")]
        assert not os.listdir(results_dir(str(home)))  # nothing ran


def test_a_task_whose_log_cannot_be_opened_says_so_in_its_result(home):
    with fork_server(home) as server:
        (home / "log-dir").mkdir()
        _send(server, "RUN 3 1 " + _order(home, 3, home / "log-dir").encode().decode())
        kind, task, pid, _ = _read_line(server).split()
        assert (kind, task) == ("PID", "3")
        _send(server, "GO 3\n")
        assert _read_line(server).split()[3] == "1"
        status, message = read_result(result_path(str(home), 3, 1, int(pid)))
        assert status == TaskStatus.FAILED and "cannot be opened" in message


def test_a_late_pid_never_names_the_next_child_of_the_task(home):
    """The server answered too late: the order went elsewhere and its child must never run,
    and the task's next launch gets a new child, which alone gets the word."""
    from aiflow_lite.engine.forkserver_client import ForkServerClient

    os.makedirs(results_dir(str(home)), exist_ok=True)
    client = ForkServerClient(lambda: {**os.environ, "AIFLOW_HOME": str(home)})
    client.PID_TIMEOUT_S = 0.3
    log = home / "task.log"
    try:
        client.prestart()
        server = client._process
        wait_for(lambda: len(_children(server.pid)) == SPARES)
        os.kill(server.pid, signal.SIGSTOP)
        try:
            assert client.start([_order(home, 42, log)]) == {}
        finally:
            os.kill(server.pid, signal.SIGCONT)
        pids = {i: pid for i, (pid, _) in client.start([_order(home, 42, log)]).items()}
        assert list(pids) == [42]
        client.hand([(42, pids[42], True)])

        def ended():
            client.pump()
            return client.exit_code(pids[42]) is not None
        wait_for(ended, message="the second child's exit")
        headers = [line for line in log.read_text().splitlines() if "try 1 (pid" in line]
        assert headers == [headers[0]] and f"(pid {pids[42]})" in headers[0]
    finally:
        client.close()


def test_children_of_a_dead_server_are_watched_by_pid(home):
    from aiflow_lite.engine.forkserver_client import ForkServerClient

    os.makedirs(results_dir(str(home)), exist_ok=True)
    client = ForkServerClient(lambda: {**os.environ, "AIFLOW_HOME": str(home)})
    try:
        pid, generation = client.start([_order(home, 1, home / "a.log")])[1]
        assert generation == client.generation
        assert client.watching(pid, generation)
        client._process.kill()
        client._process.wait()
        client.start([_order(home, 2, home / "b.log")])  # a new server
        assert client.generation == generation + 1 and client.alive()
        assert not client.watching(pid, generation)  # no EXIT will come from the new one
        client.hand([(1, pid, False)])
    finally:
        client.close()


FAKE_SERVER = """
import sys
for line in sys.stdin:
    _, task, request, _ = line.split(" ", 3)
    pid = 40000 + int(task)
    # the first child ends before the second is even answered
    sys.stdout.write(f"PID {task} {pid} {request}\\n" + (f"EXIT {task} {pid} 0\\n"
                     if task == "1" else ""))
    sys.stdout.flush()
"""


def test_an_exit_heard_before_the_batch_is_answered_is_kept(home):
    import subprocess
    import sys

    from aiflow_lite.engine.forkserver_client import ForkServerClient

    fake = subprocess.Popen([sys.executable, "-c", FAKE_SERVER], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    client = ForkServerClient(lambda: dict(os.environ), fake)
    try:
        pids = client.start([_order(home, 1, home / "a.log"), _order(home, 2, home / "b.log")])
        assert {i: pid for i, (pid, _) in pids.items()} == {1: 40001, 2: 40002}
        client.pump()
        assert client.exit_code(40001) == 0
        assert client.exit_code(40002) is None
    finally:
        client.close()


# -- the fork server's bookkeeping of its zygotes, driven with real pipes and a fake forker --

class _FakeForker:
    def __init__(self) -> None:
        self.said, self.ran, self.spares, self.waiting = [], [], [], {}

    def say(self, line: str) -> None:
        self.said.append(line)

    def run(self, task_execution_id: int, request: int, order: bytes) -> None:
        self.ran.append((task_execution_id, request))

    def inherited(self) -> list:
        return []


@contextlib.contextmanager
def _zygotes():
    """A `Zygotes` with one ready zygote for snapshot 1: (manager, zygote, its commands'
    reading end, the writing end of its output)."""
    from types import SimpleNamespace

    from aiflow_lite.engine.zygotes import Zygote, Zygotes

    manager = Zygotes(SimpleNamespace(values={}), _FakeForker())
    commands_r, commands_w = os.pipe()
    output_r, output_w = os.pipe()
    os.set_blocking(output_r, False)
    zygote = manager.by_snapshot[1] = Zygote(1, 2**22 + 1, commands_w, output_r)
    zygote.ready = True
    try:
        yield manager, zygote, commands_r, output_w
    finally:
        ours = [commands_r, output_w, *([] if zygote.ended else [zygote.output]),
                *([] if zygote.commands is None else [zygote.commands])]
        for fd in ours:
            os.close(fd)


def _says(manager, zygote, output_w, text: str) -> None:
    os.write(output_w, text.encode())
    manager.read(zygote)


ORDER = b'{"snapshot_id": 1}'


def test_a_word_for_another_child_of_the_task_is_not_the_zygotes():
    with _zygotes() as (manager, zygote, _, output_w):
        assert manager.route(5, 1, ORDER)
        _says(manager, zygote, output_w, "PID 5 100 1\n")
        assert not manager.hand(5, True, 999)  # a plain child of the task: not the zygote's
        assert manager.hand(5, True, 100)


def test_a_retiring_zygote_whose_last_task_was_dropped_before_its_pid_exits():
    with _zygotes() as (manager, zygote, _, output_w):
        assert manager.route(7, 1, ORDER)
        manager._retire(zygote)  # too old: it takes no new task, and goes once idle
        assert zygote.commands is not None
        assert manager.hand(7, False, 0)  # the executor gave up on request 1
        assert zygote.commands is None and not zygote.owned
        _says(manager, zygote, output_w, "PID 7 200 1\nEXIT 7 200 0\n")  # a late answer
        assert not zygote.owned and 7 not in manager.owner
        assert manager.forker.ran == []  # and nothing is replayed


def test_the_exit_of_an_older_child_keeps_the_newer_one():
    with _zygotes() as (manager, zygote, _, output_w):
        assert manager.route(3, 1, ORDER)
        _says(manager, zygote, output_w, "PID 3 300 1\n")
        manager.hand(3, False, 300)
        assert manager.route(3, 2, ORDER)  # launched again
        _says(manager, zygote, output_w, "PID 3 301 2\nEXIT 3 300 0\n")
        assert zygote.owned[3] == (2, 301) and manager.owner[3] is zygote


def test_a_reaped_zygote_is_cleaned_up_even_if_its_output_never_ends():
    """A process its file started may hold its output open: its exit is what counts. Its
    running children are reported LOST, and a RUN it never answered is run plainly."""
    with _zygotes() as (manager, zygote, _, output_w):
        assert manager.route(1, 1, ORDER) and manager.route(2, 2, ORDER)
        os.write(output_w, b"PID 1 400 1\n")  # its last words, not yet read
        manager.reaped(zygote.pid)
        assert "PID 1 400 1" in manager.forker.said and "LOST 1 400" in manager.forker.said
        assert manager.forker.ran == [(2, 2)]
        assert zygote.ended and 1 not in manager.by_snapshot and not manager.owner
        assert 1 in manager.plain  # it died: its snapshot forks plainly from now on
