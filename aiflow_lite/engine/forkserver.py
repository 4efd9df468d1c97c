"""The fork server: a small process that has already imported the worker code and forks one
child per task execution, so a task starts in ~2 ms instead of a fresh interpreter's ~100 ms.
It keeps SPARES children forked ahead of demand, so the next task's start does not wait for the
fork either.

Protocol, one line each way over its stdin/stdout:
    RUN <task_execution_id>              →   PID <task_execution_id> <pid>
    GO <task_execution_id> <order JSON>      (the child runs it: its claim is committed)
    DROP <task_execution_id>                 (the child exits without running anything)
    (a child exits)                      →   EXIT <task_execution_id> <pid> <code or -signal>
A child waits for its order between RUN and GO: the executor claims the task execution for
that pid in between. Children run in their own session (STOP reaches their whole group) and
outlive this server: when its stdin closes (the scheduler exited or died) it exits at once and
leaves them running; a child still waiting for its order sees its pipe close and exits too.
Neither this server nor its children open the database (a worker reports through a result file).
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import subprocess
import sys
import time
from typing import Dict, List, Tuple

#: Workers forked ahead of demand, each waiting for one task.
SPARES = 2


def spawn(env: Dict[str, str]) -> subprocess.Popen:
    """Start a fork server process (this module imports almost nothing, so a command can call
    this first thing and let the server warm up while it does its own work)."""
    return subprocess.Popen([sys.executable, "-m", "aiflow_lite.engine.forkserver"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                            close_fds=True)


def _child(orders: int, settings: object) -> None:
    """In a forked child: detach, wait for the order (EOF: none is coming, exit), log to the
    task's file, run the worker. It never returns: every path ends in os._exit."""
    code = 1
    try:
        _detach()
        line = b""
        while not line.endswith(b"\n"):
            chunk = os.read(orders, 65536)
            if not chunk:
                os._exit(0)
            line += chunk
        os.close(orders)
        from aiflow_lite.engine.worker import Order, run

        order = Order.decode(line)
        try:
            fd = os.open(order.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            _no_log(order, settings, exc)
            os._exit(1)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        code = run(order, settings)
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


def _no_log(order: object, settings: object, exc: OSError) -> None:
    """The task's log cannot be opened: its result says so (there is nowhere else to say it)."""
    from aiflow_lite.engine.results import result_path, write_result
    from aiflow_lite.status import TaskStatus

    write_result(result_path(settings.home, order.task_execution_id, order.try_number),
                 TaskStatus.FAILED, f"its log {order.log_path} cannot be opened: "
                 f"{exc.strerror or exc}")


def _detach() -> None:
    """A new session (a STOP reaches the task's whole group), default signals, and no fd of the
    fork server's protocol pipes left open."""
    # First: the parent's signal wake-up fd is about to be closed and its number reused
    # (by a task's file, say); a signal must never write a byte into that file.
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


def serve() -> None:
    # Warm: what every worker needs is imported, and the config read, once, here. (Not
    # cloudpickle: a worker re-executes the workflow file, it unpickles nothing.)
    import ai_flow.model.action
    import ai_flow.model.workflow
    import ai_flow.notification.notification_client
    import ai_flow.operators.bash
    import ai_flow.operators.python  # noqa: F401
    import aiflow_lite.blob
    import aiflow_lite.engine.results
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
    spares: List[Tuple[int, int]] = []  # (pid, fd its order is written to), no task yet
    waiting: Dict[int, int] = {}  # task execution id → fd its order is written to
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the scheduler decides when we stop
    out = sys.stdout
    stdin = sys.stdin.buffer

    def fork() -> Tuple[int, int]:
        """A child waiting for its order: (pid, fd to write the order to)."""
        orders_r, orders_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)  # before its fd is closed and reused
            for fd in (wake_r, wake_w, orders_w, *(w for _, w in spares), *waiting.values()):
                os.close(fd)
            _child(orders_r, settings)
        os.close(orders_r)
        return pid, orders_w

    def command(line: bytes) -> None:
        verb, _, rest = line.partition(b" ")
        task_id, _, order = rest.partition(b" ")
        task_execution_id = int(task_id)
        if verb == b"RUN":
            pid, orders = spares.pop(0) if spares else fork()
            children[pid] = task_execution_id
            waiting[task_execution_id] = orders
            out.write(f"PID {task_execution_id} {pid}\n")
            out.flush()
        elif verb in (b"GO", b"DROP"):
            orders = waiting.pop(task_execution_id, None)
            if orders is None:
                return
            with contextlib.suppress(OSError):  # it died waiting: its exit is reported
                if verb == b"GO":
                    os.write(orders, order + b"\n")
            os.close(orders)

    pending = b""
    pause_until, backoff = 0.0, 0.0  # spares that die untasked pause the refill
    while True:
        timeout = None
        if len(spares) < SPARES:
            wait = pause_until - time.monotonic()
            if wait <= 0:
                while len(spares) < SPARES:
                    spares.append(fork())
            else:
                timeout = wait
        readable, _, _ = select.select([stdin, wake_r], [], [], timeout)
        if wake_r in readable:
            os.read(wake_r, 4096)
        if _reap(children, spares, out):
            backoff = min(max(backoff * 2, 0.1), 30.0)
            pause_until = time.monotonic() + backoff
        if stdin in readable:
            chunk = os.read(stdin.fileno(), 1 << 20)
            if not chunk:
                # The scheduler is gone: leave the workers running and exit now, without the
                # interpreter's teardown (it cost the scheduler's own exit ~15 ms of waiting).
                out.flush()
                os._exit(0)
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line:
                    command(line)


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
        code = os.waitstatus_to_exitcode(status)
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
