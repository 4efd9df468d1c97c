"""The fork server: a small process that has already imported the worker code and forks one
child per task execution, so a task starts in ~2 ms instead of a fresh interpreter's ~100 ms.
It keeps SPARES children forked ahead of demand, so the next task's start does not wait for the
fork either.

Zygotes (see `zygotes`): once a snapshot has had a task, its later tasks are forked from a
process that has executed its workflow file already.

Protocol, one line each way over its stdin/stdout:
    RUN <task_execution_id> <n> <order>  →   PID <task_execution_id> <pid> <n>
    (no child can be had)                →   NOPID <task_execution_id> <n>
    GO <task_execution_id> <pid>             (the child runs its order: its claim is committed)
    DROP <task_execution_id> <pid or 0>      (the child exits without running anything)
    (a child exits)                      →   EXIT <task_execution_id> <pid> <code or -signal>
    (a zygote died under a child)        →   LOST <task_execution_id> <pid>
(`n` numbers the request: an answer that came too late is never taken for the answer to a
later RUN of the same task.) A child gets its order (JSON) at RUN and waits for the word between
RUN and GO: the executor claims the task execution for that pid in between. Children run in
their own session (STOP reaches their whole group) and outlive this server: when its stdin
closes (the scheduler exited or died) it exits at once and leaves them running. A child still
waiting for the word then sees its pipe close, and runs only if the database says its claim
was committed (`worker.receive`).
Neither this server nor its children otherwise open the database: a worker reports through a
result file.
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
from typing import Any, Callable, Dict, List, Optional, Tuple

#: Workers forked ahead of demand (by the server and by each zygote), each waiting for one task.
SPARES = 2


def spawn(env: Dict[str, str]) -> subprocess.Popen:
    """Start a fork server process (this module imports almost nothing, so a command can call
    this first thing and let the server warm up while it does its own work)."""
    return subprocess.Popen([sys.executable, "-m", "aiflow_lite.engine.forkserver"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                            close_fds=True)


def _child(orders: int, settings: Any, preloaded: Any = None) -> None:
    """In a forked child: detach, wait for an order and the word to run it (see
    `worker.receive`), log to the task's file, run the worker. It never returns: every path
    ends in os._exit."""
    code = 1
    try:
        _detach()
        from aiflow_lite.engine.worker import receive, run

        order = receive(orders, settings)
        if order is None:
            os._exit(0)
        os.close(orders)
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
        code = run(order, settings, preloaded)
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

    path = result_path(settings.home, order.task_execution_id, order.try_number, os.getpid())
    write_result(path, TaskStatus.FAILED,
                 f"its log {order.log_path} cannot be opened: {exc.strerror or exc}")


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
    _null_stdio()
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 (the process's own fds)


class _Forker:
    """Forks children that wait for their order, hands the orders over, and reports the
    children's pids and exits as protocol lines on `out`."""

    def __init__(self, settings: Any, out: int, preloaded: Any,
                 inherited: Callable[[], List[int]]) -> None:
        self.settings = settings
        self.out = out
        self.preloaded = preloaded
        self.inherited = inherited  # fds of ours a child must close
        self.children: Dict[int, int] = {}  # pid → task execution id
        self.spares: List[Tuple[int, int]] = []  # (pid, fd its order is written to)
        self.waiting: Dict[int, Tuple[int, int]] = {}  # task id → (its pid, fd to write to)
        self.pause_until, self.backoff = 0.0, 0.0  # spares dying untasked pause the refill

    def say(self, line: str) -> None:
        os.write(self.out, line.encode() + b"\n")  # one short write: never interleaved

    def fork(self) -> Tuple[int, int]:
        """A child waiting for its order: (pid, fd to write the order to)."""
        orders_r, orders_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)  # before its fd is closed and reused
            for fd in (orders_w, self.out, *self.inherited(),
                       *(w for _, w in self.spares), *(w for _, w in self.waiting.values())):
                with contextlib.suppress(OSError):
                    os.close(fd)
            _child(orders_r, self.settings, self.preloaded)
        os.close(orders_r)
        return pid, orders_w

    def refill(self) -> Optional[float]:
        """Fork spares up to SPARES; returns how long to wait before trying again, if paused."""
        if len(self.spares) >= SPARES:
            return None
        wait = self.pause_until - time.monotonic()
        if wait > 0:
            return wait
        while len(self.spares) < SPARES:
            try:
                self.spares.append(self.fork())
            except OSError:  # no process or pipe to be had now (a limit): try again later
                self._pause()
                return self.backoff
        return None

    def _pause(self) -> None:
        self.backoff = min(max(self.backoff * 2, 0.1), 30.0)
        self.pause_until = time.monotonic() + self.backoff

    def run(self, task_execution_id: int, request: int, order: bytes) -> None:
        """A child gets the order at once, and the word to run it later (`hand`); NOPID when
        no child can be had."""
        self.hand(task_execution_id, go=False)  # an earlier child for it, if any, never runs
        try:
            pid, orders = self.spares.pop(0) if self.spares else self.fork()
        except OSError:
            self.say(f"NOPID {task_execution_id} {request}")
            return
        self.children[pid] = task_execution_id
        self.waiting[task_execution_id] = (pid, orders)
        with contextlib.suppress(OSError):  # it died already: its exit is reported
            os.write(orders, order + b"\n")
        self.say(f"PID {task_execution_id} {pid} {request}")

    def hand(self, task_execution_id: int, go: bool, pid: int = 0) -> None:
        """Tell the child waiting with the task to run its order (GO) or to exit without
        (DROP); only if it is `pid` (0: whichever it is)."""
        waiting = self.waiting.get(task_execution_id)
        if waiting is None or pid not in (0, waiting[0]):
            return
        del self.waiting[task_execution_id]
        with contextlib.suppress(OSError):  # it died waiting: its exit is reported
            os.write(waiting[1], b"GO\n" if go else b"DROP\n")
        os.close(waiting[1])

    def reaped(self, pid: int, code: int) -> bool:
        """Account for an ended child of ours (False: not one of ours)."""
        if pid in self.children:
            task_execution_id = self.children.pop(pid)
            self.hand(task_execution_id, go=False, pid=pid)  # it died before the word
            self.say(f"EXIT {task_execution_id} {pid} {code}")
            return True
        for spare in [s for s in self.spares if s[0] == pid]:  # died before it had a task
            self.spares.remove(spare)
            os.close(spare[1])
            self._pause()
            return True
        return False


def _reap(on_exit: Callable[[int, int], Any]) -> None:
    """Collect every ended child, each passed to `on_exit(pid, code)`."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        on_exit(pid, os.waitstatus_to_exitcode(status))


def _serve(commands: int, out: int, settings: Any, preloaded: Any, zygotes: bool) -> None:
    """The loop of the fork server (`zygotes`) and of each zygote. Never returns: the end of
    `commands` (the scheduler, or the fork server, is gone) ends the process at once, leaving
    its children running (no interpreter teardown: it cost the scheduler's exit ~15 ms)."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the scheduler decides when we stop
    from aiflow_lite.engine.zygotes import Zygotes

    manager: Optional[Zygotes] = None
    forker = _Forker(settings, out, preloaded,
                     lambda: [commands, wake_r, wake_w, *(manager.fds() if manager else [])])
    manager = Zygotes(settings, forker) if zygotes else None

    def on_exit(pid: int, code: int) -> None:
        if not forker.reaped(pid, code) and manager is not None:
            manager.reaped(pid)

    pending = b""
    while True:
        timeouts = [t for t in (forker.refill(), manager and manager.expire()) if t is not None]
        outputs = manager.outputs() if manager else {}
        readable, _, _ = select.select([commands, wake_r, *outputs], [], [],
                                       min(timeouts) if timeouts else None)
        if wake_r in readable:
            os.read(wake_r, 4096)
            _reap(on_exit)
        for fd in readable:
            if fd in outputs:
                manager.read(outputs[fd])
        if commands in readable:
            chunk = os.read(commands, 1 << 20)
            if not chunk:
                os._exit(0)
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                verb, _, rest = line.partition(b" ")
                task_id, _, arg = rest.partition(b" ")
                if verb == b"RUN":  # arg: the request's number, and the order
                    request, _, order = arg.partition(b" ")
                    if not (manager and manager.route(int(task_id), int(request), order)):
                        forker.run(int(task_id), int(request), order)
                elif verb in (b"GO", b"DROP"):  # arg: the child's pid (0: any of its children)
                    go, pid = verb == b"GO", int(arg or 0)
                    taken = manager is not None and manager.hand(int(task_id), go, pid)
                    if not taken or pid == 0:
                        forker.hand(int(task_id), go, pid)


def _null_stdio() -> None:
    """fds 0-2 on /dev/null (some of them may be closed already)."""
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        if target != null:
            os.dup2(null, target)
    if null > 2:
        os.close(null)


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
    sys.stdout.flush()
    _serve(sys.stdin.fileno(), sys.stdout.fileno(), settings, None, zygotes=True)


if __name__ == "__main__":
    serve()
