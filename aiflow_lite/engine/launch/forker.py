"""Forking workers, and the command loop that does it: shared by the fork server (see
`forkserver`) and by each of its zygotes (see `zygotes`), neither of which this module knows.

A forked child detaches (its own session: a STOP reaches its whole group), waits on its own
pipe for its ORDER and the word (GO or DROP, see `protocol`), logs to its task's file and runs
the worker. SPARES children are forked ahead of demand, so a task's start does not wait for the
fork either.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from aiflow_lite.engine.launch.protocol import (
    Drop,
    Exit,
    Go,
    Message,
    NoPid,
    Pid,
    ProtocolError,
    Run,
    decode,
    split_lines,
    write_all,
)
from aiflow_lite.signal_wakeup import set_handler

#: Workers forked ahead of demand (by the server and by each zygote), each waiting for one task.
SPARES = 2


def run_child(orders: int, settings: Any, preloaded: Any = None) -> None:
    """In a forked child: detach, wait for an order and the word to run it (see
    `worker.receive`), log to the task's file, run the worker. It never returns: every path
    ends in os._exit."""
    code = 1
    try:
        _detach()
        from aiflow_lite.engine.launch.worker import receive, run

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
    from aiflow_lite.engine.launch.results import result_path, write_result
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
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
        set_handler(signum, signal.SIG_DFL)
    null_stdio()  # (sys.stdin, inherited, reads fd 0: /dev/null now; it never buffered)


def null_stdio() -> None:
    """fds 0-2 on /dev/null (some of them may be closed already)."""
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        if target != null:
            os.dup2(null, target)
    if null > 2:
        os.close(null)


class Forker:
    """Forks children that wait for their order, hands the orders over, and reports the
    children's pids and exits as messages on `out`."""

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

    def say(self, message: Message) -> None:
        write_all(self.out, message.encode())

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
            run_child(orders_r, self.settings, self.preloaded)
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

    def run(self, run: Run) -> None:
        """A child gets the order at once, and the word to run it later (`hand`); NOPID when
        no child can be had."""
        self.hand(run.task_execution_id, go=False)  # an earlier child for it never runs
        try:
            pid, orders = self.spares.pop(0) if self.spares else self.fork()
        except OSError:
            self.say(NoPid(run.task_execution_id, run.request))
            return
        self.children[pid] = run.task_execution_id
        self.waiting[run.task_execution_id] = (pid, orders)
        with contextlib.suppress(OSError):  # it died already: its exit is reported
            write_all(orders, run.order + b"\n")
        self.say(Pid(run.task_execution_id, pid, run.request))

    def hand(self, task_execution_id: int, go: bool, pid: int = 0) -> None:
        """Tell the child waiting with the task to run its order (GO) or to exit without
        (DROP); only if it is `pid` (0: whichever it is)."""
        waiting = self.waiting.get(task_execution_id)
        if waiting is None or pid not in (0, waiting[0]):
            return
        del self.waiting[task_execution_id]
        word = Go(task_execution_id, waiting[0]) if go else Drop(task_execution_id, waiting[0])
        with contextlib.suppress(OSError):  # it died waiting: its exit is reported
            write_all(waiting[1], word.encode())
        os.close(waiting[1])

    def reaped(self, pid: int, code: int) -> bool:
        """Account for an ended child of ours (False: not one of ours)."""
        if pid in self.children:
            task_execution_id = self.children.pop(pid)
            self.hand(task_execution_id, go=False, pid=pid)  # it died before the word
            self.say(Exit(task_execution_id, pid, code))
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


def serve_commands(commands: int, out: int, settings: Any, preloaded: Any,
                   managers: Optional[Callable[[Any, Forker], Any]] = None) -> None:
    """The loop of the fork server and of each zygote: RUN, GO and DROP in on `commands`; PID,
    NOPID, EXIT (and LOST) out on `out`. `managers(settings, forker)` makes the fork server's
    zygote manager (see `zygotes.Zygotes`); a zygote has none. Never returns: the end of
    `commands` (the scheduler, or the fork server, is gone) ends the process at once, leaving
    its children running (no interpreter teardown: it cost the scheduler's exit ~15 ms)."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the scheduler decides when we stop

    manager: Any = None
    forker = Forker(settings, out, preloaded,
                    lambda: [commands, wake_r, wake_w, *(manager.fds() if manager else [])])
    manager = managers(settings, forker) if managers is not None else None

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
            lines, pending = split_lines(pending + chunk)
            for line in lines:
                try:
                    message = decode(line)
                except ProtocolError:
                    continue  # not ours to act on
                if isinstance(message, Run):
                    if not (manager and manager.route(message)):
                        forker.run(message)
                elif isinstance(message, (Go, Drop)):  # pid 0: any of the task's children
                    go, task_id, pid = isinstance(message, Go), message[0], message[1]
                    taken = manager is not None and manager.hand(task_id, go, pid)
                    if not taken or pid == 0:
                        forker.hand(task_id, go, pid)
