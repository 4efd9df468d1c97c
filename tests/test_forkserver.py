"""The fork server on its own: spares wait with their database open, take a task each, and never
outlive the server."""

from __future__ import annotations

import os
import select
from pathlib import Path

from conftest import wait_for

from aiflow_lite.engine.forkserver import SPARES, spawn


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


def _read_line(proc, timeout: float = 10.0) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the fork server said nothing"
    return proc.stdout.readline().decode()


def test_spares_wait_then_leave_with_the_server(home):
    home.mkdir(parents=True)
    server = spawn({**os.environ, "AIFLOW_HOME": str(home)})
    try:
        spares = wait_for(lambda: len(_children(server.pid)) == SPARES and _children(server.pid))
        # Each spare has opened its own connection before any task: the database exists.
        wait_for(lambda: (home / "aiflow.db").exists())
    finally:
        server.stdin.close()  # what a scheduler's exit (or death) looks like to it
        server.wait(10)
        server.stdout.close()
    wait_for(lambda: not any(_alive(pid) for pid in spares), message="spares to exit")


def test_a_task_goes_to_a_waiting_spare_and_is_replaced(home):
    home.mkdir(parents=True)
    server = spawn({**os.environ, "AIFLOW_HOME": str(home)})
    try:
        spares = wait_for(lambda: len(_children(server.pid)) == SPARES and _children(server.pid))
        log = home / "task.log"
        server.stdin.write(f"RUN 999 {log}\n".encode())  # no such task: the worker says so
        server.stdin.flush()
        kind, task, pid = _read_line(server).split()
        assert (kind, task) == ("PID", "999") and int(pid) in spares
        assert _read_line(server).split() == ["EXIT", "999", pid, "0"]
        assert "task execution 999 does not exist" in log.read_text()
        wait_for(lambda: len(_children(server.pid)) == SPARES, message="a new spare")
        assert int(pid) not in _children(server.pid)
    finally:
        server.stdin.close()
        server.wait(10)
        server.stdout.close()


def test_spares_that_cannot_open_the_database_do_not_make_a_fork_storm(home):
    home.mkdir(parents=True)
    (home / "aiflow.db").mkdir()  # no database can be opened here
    server = spawn({**os.environ, "AIFLOW_HOME": str(home)})
    try:
        import time

        time.sleep(1.0)  # a window to measure in, not a wait: what did the fork server spend?
        ticks = Path(f"/proc/{server.pid}/stat").read_text().split(") ")[1].split()
        cpu_s = (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")
        assert cpu_s < 0.25, f"the fork server used {cpu_s:.2f} s of CPU in 1 s"
        # A task still gets a worker (forked on demand), which fails and is reported.
        server.stdin.write(f"RUN 7 {home / 'task.log'}\n".encode())
        server.stdin.flush()
        assert _read_line(server).split()[:2] == ["PID", "7"]
        exit_line = _read_line(server).split()
        assert exit_line[:2] == ["EXIT", "7"] and exit_line[3] != "0"
    finally:
        server.stdin.close()
        server.wait(10)
        server.stdout.close()
