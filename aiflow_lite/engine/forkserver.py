"""The fork server: a small process that has already imported the worker code and forks one
child per task execution, so a task starts in ~2 ms instead of a fresh interpreter's ~100 ms.
It keeps SPARES children forked ahead of demand (detached, database open, waiting for a task),
so the next task's start pays for neither the fork nor the connection.

Protocol, one line each way over its stdin/stdout:
    RUN <task_execution_id> <log path>   →   PID <task_execution_id> <pid>
    (a child exits)                      →   EXIT <task_execution_id> <pid> <code or -signal>
Children run in their own session (STOP reaches their whole group) and outlive this server:
when its stdin closes (the scheduler exited or died) it exits at once and leaves them running.
It never opens the database itself, so no connection is ever shared across a fork.
"""

from __future__ import annotations

import gc
import os
import select
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

#: Workers forked ahead of demand, each waiting for one task with its database already open.
SPARES = 2


def spawn(env: Dict[str, str]) -> subprocess.Popen:
    """Start a fork server process (this module imports almost nothing, so a command can call
    this first thing and let the server warm up while it does its own work)."""
    return subprocess.Popen([sys.executable, "-m", "aiflow_lite.engine.forkserver"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                            close_fds=True)


def _child(task_execution_id: int, log_path: str, settings: object,
           db: object = None) -> None:
    """In the forked child: become a session leader, log to the task's file, run the worker.
    It never returns: every path ends in os._exit."""
    code = 1
    try:
        if db is None:  # a spare already did this much
            _detach()
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        from aiflow_lite.engine.worker import run

        code = run(task_execution_id, log_path, settings, db=db)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _detach() -> None:
    """A new session (a STOP reaches the task's whole group), default signals, and no fd of the
    fork server's protocol pipes left open."""
    # First: the parent's signal wake-up fd is about to be closed and its number reused
    # (by the database's WAL, say); a signal must never write a byte into that file.
    signal.set_wakeup_fd(-1)
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(null, target)
    os.close(null)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 (the process's own fds)


def _spare(orders: int, settings: object) -> None:
    """A worker forked ahead of demand: it detaches and opens its database connection, then
    waits for its one task ('<task execution id> <log path>' on `orders`), so a task's start
    pays for neither. EOF (the fork server is gone) means no task: exit. Never returns."""
    try:
        _detach()
        from aiflow_lite.home import open_database

        db = open_database(settings)  # our own connection, opened after the fork
        line = b""
        while not line.endswith(b"\n"):
            chunk = os.read(orders, 4096)
            if not chunk:
                os._exit(0)
            line += chunk
        os.close(orders)
        task_execution_id, log_path = line.decode().rstrip("\n").split(" ", 1)
    except BaseException:
        os._exit(1)
    _child(int(task_execution_id), log_path, settings, db)


def serve() -> None:
    # Warm: what every worker needs is imported, and the config read, once, here. (Not
    # cloudpickle: a worker re-executes the workflow file, it unpickles nothing.)
    import ai_flow.model.action
    import ai_flow.model.workflow
    import ai_flow.notification.notification_client
    import ai_flow.operators.bash
    import ai_flow.operators.python  # noqa: F401
    import aiflow_lite.blob
    import aiflow_lite.engine.worker
    import aiflow_lite.loader  # noqa: F401
    from aiflow_lite.config import load_aiflow_settings

    settings = load_aiflow_settings()
    # Children share this memory copy-on-write. Frozen objects are left out of every garbage
    # collection, so a child's collections neither walk nor copy them (measured: a no-op task's
    # worker 4.3 -> 3.5 ms of user CPU).
    gc.collect()
    gc.freeze()

    children: Dict[int, int] = {}  # pid → task execution id
    spares: List[Tuple[int, int]] = []  # (pid, fd its orders are written to)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the scheduler decides when we stop
    out = sys.stdout
    stdin = sys.stdin.buffer

    def fork() -> int:
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)  # before its fd is closed and reused
            for fd in (wake_r, wake_w, *(w for _, w in spares)):
                os.close(fd)
        return pid

    def add_spare() -> None:
        orders_r, orders_w = os.pipe()
        pid = fork()
        if pid == 0:
            os.close(orders_w)
            _spare(orders_r, settings)
        os.close(orders_r)
        spares.append((pid, orders_w))

    pending = b""
    pause_until, backoff = 0.0, 0.0  # spares that die untasked (no database?) pause the refill
    while True:
        timeout = None
        if len(spares) < SPARES:
            wait = pause_until - time.monotonic()
            if wait <= 0:
                while len(spares) < SPARES:
                    add_spare()
            else:
                timeout = wait
        readable, _, _ = select.select([stdin, wake_r], [], [], timeout)
        if wake_r in readable:
            os.read(wake_r, 4096)
        if _reap(children, spares, out):
            backoff = min(max(backoff * 2, 0.1), 30.0)
            pause_until = time.monotonic() + backoff
        if stdin in readable:
            chunk = os.read(stdin.fileno(), 65536)
            if not chunk:
                # The scheduler is gone: leave the workers running and exit now, without the
                # interpreter's teardown (it cost the scheduler's own exit ~15 ms of waiting).
                out.flush()
                os._exit(0)
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                parts = line.decode().split(" ", 2)
                if len(parts) == 3 and parts[0] == "RUN":
                    task_execution_id, log_path = int(parts[1]), parts[2]
                    pid = _hand_to_spare(spares, task_execution_id, log_path)
                    if pid is not None:
                        backoff = 0.0
                    else:
                        pid = fork()
                        if pid == 0:
                            _child(task_execution_id, log_path, settings)
                    children[pid] = task_execution_id
                    out.write(f"PID {task_execution_id} {pid}\n")
                    out.flush()


def _hand_to_spare(spares: List[Tuple[int, int]], task_execution_id: int,
                   log_path: str) -> Optional[int]:
    """Give the task to a waiting spare; its pid, or None when none can take it."""
    while spares:
        pid, orders = spares.pop(0)
        try:
            os.write(orders, f"{task_execution_id} {log_path}\n".encode())
            return pid
        except OSError:  # it died while waiting (its exit is reaped, unreported)
            continue
        finally:
            os.close(orders)
    return None


def _reap(children: Dict[int, int], spares: List[Tuple[int, int]], out: object) -> int:
    """Report the exits of task children; returns how many spares died without a task."""
    lost = 0
    while children or spares:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return lost
        if pid == 0:
            return lost
        code = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") \
            else (-(status & 0x7F) if status & 0x7F else status >> 8)
        if pid not in children:  # a spare that died before it had a task: nothing to report
            for spare in [s for s in spares if s[0] == pid]:
                spares.remove(spare)
                os.close(spare[1])
                lost += 1
            continue
        task_execution_id = children.pop(pid)
        out.write(f"EXIT {task_execution_id} {pid} {code}\n")
        out.flush()
    return lost


if __name__ == "__main__":
    serve()
