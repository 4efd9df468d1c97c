"""The fork server: a small process that has already imported the worker code and forks one
child per task execution, so a task starts in ~2 ms instead of a fresh interpreter's ~100 ms.
It keeps SPARES children forked ahead of demand, so the next task's start does not wait for the
fork either.

Zygotes: once a snapshot has had a task, the fork server forks a zygote for it, a process that
extracts the snapshot and executes its workflow file once; that snapshot's later tasks are
forked from the zygote, with the file already loaded (a 1,000-task file took a no-op task 4 ms
to re-execute; a file with slow imports, their time). A zygote is used only when forking it is
safe: its load must have started no thread or process, left no file or connection open, and
not asked for the task's context (a notification client does). Such a file's tasks each load
it themselves, as does any task while its snapshot's zygote is still loading (numpy's
OpenBLAS starts threads at import on a machine with several cores, so a file importing numpy
is one of them). At most `executor_zygotes` live (0: none); one unused for
`executor_zygote_idle_seconds`, or older than `executor_zygote_max_age_seconds`, exits once
its tasks have ended. The file's top level thus runs once per zygote, not once per task (and
what it prints goes nowhere); each task still runs in its own process, with its own copy of
the module's state.

Protocol, one line each way over its stdin/stdout:
    RUN <task_execution_id> <n> <order>  →   PID <task_execution_id> <pid> <n>
    (no child can be had)                →   NOPID <task_execution_id> <n>
    GO <task_execution_id> <pid>             (the child runs its order: its claim is committed)
    DROP <task_execution_id> <pid or 0>      (the child exits without running anything)
    (a child exits)                      →   EXIT <task_execution_id> <pid> <code or -signal>
    (a zygote died under a child)        →   LOST <task_execution_id> <pid>
(`n` numbers the request: an answer that came too late is never taken for the answer to a
later RUN of the same task.) A child gets its order (JSON) at RUN and waits for the word between
RUN and GO: the executor claims
the task execution for that pid in between. Children run in their own session (STOP reaches
their whole group) and outlive this server: when its stdin closes (the scheduler exited or
died) it exits at once and leaves them running. A child still waiting for the word then sees
its pipe close, and runs only if the database says its claim was committed (`worker.receive`).
Neither this server nor its children otherwise open the database: a worker reports through a
result file.
"""

from __future__ import annotations

import contextlib
import gc
import json
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


class _Zygote:
    def __init__(self, snapshot_id: int, pid: int, commands: int, output: int) -> None:
        self.snapshot_id = snapshot_id
        self.pid = pid
        self.commands: Optional[int] = commands  # its stdin (we write); None once closed
        self.output = output  # its stdout (we read)
        self.ready = False
        self.retiring = False  # takes no new task; exits once its tasks have ended
        self.buffer = b""
        # task id → (request, pid; None until its PID is seen): its live children
        self.owned: Dict[int, Tuple[int, Optional[int]]] = {}
        self.orders: Dict[int, Tuple[int, bytes]] = {}  # task id → (request, order), until
        # its PID is seen
        self.started = self.idle_since = time.monotonic()
        self.ended = False


#: A zygote that has not loaded its file by then is killed (and its snapshot forks plainly).
ZYGOTE_LOAD_TIMEOUT_S = 120.0


class _Zygotes:
    """The fork server's zygotes: started on a snapshot's first task, used once ready, retired
    when idle or old (so a file's top level is re-executed now and then: what it read or
    computed, a date say, is never older than `executor_zygote_max_age_seconds`)."""

    def __init__(self, settings: Any, forker: _Forker) -> None:
        self.settings = settings
        self.forker = forker
        self.by_snapshot: Dict[int, _Zygote] = {}
        self.plain: set = set()  # snapshots whose file is not safe to fork from
        self.owner: Dict[int, _Zygote] = {}  # task id → the zygote that forked it
        self.retiring: List[_Zygote] = []  # their output not yet ended
        self.most = int(settings.values.get("executor_zygotes", 4))
        self.idle_s = float(settings.values.get("executor_zygote_idle_seconds", 60))
        self.max_age_s = float(settings.values.get("executor_zygote_max_age_seconds", 300))

    def fds(self) -> List[int]:
        return [fd for z in [*self.by_snapshot.values(), *self.retiring]
                for fd in (z.commands, z.output) if fd is not None]

    def route(self, task_execution_id: int, request: int, order: bytes) -> bool:
        """Send a RUN to its snapshot's zygote if one is ready (True); start one if none."""
        try:
            snapshot_id = int(json.loads(order)["snapshot_id"])
        except (ValueError, KeyError, TypeError):
            return False
        zygote = self.by_snapshot.get(snapshot_id)
        if zygote is None:
            if snapshot_id not in self.plain:
                self._start(snapshot_id, order)
            return False
        if not zygote.ready:
            return False
        try:
            os.write(zygote.commands, b"RUN %d %d %s\n" % (task_execution_id, request, order))
        except OSError:  # it died: the end of its output will clean up
            self._retire(zygote)
            return False
        zygote.owned[task_execution_id] = (request, None)
        zygote.orders[task_execution_id] = (request, order)
        self.owner[task_execution_id] = zygote
        return True

    def hand(self, task_execution_id: int, go: bool, pid: int) -> bool:
        """Pass a word on to the zygote whose child it names (pid 0: a DROP for whichever
        child of the task a timed-out request made). False if no zygote's child is named."""
        zygote = self.owner.get(task_execution_id)
        entry = zygote.owned.get(task_execution_id) if zygote is not None else None
        if entry is None or pid not in (0, entry[1]):
            return False
        with contextlib.suppress(OSError, TypeError):  # it died: its children are LOST
            os.write(zygote.commands, b"%s %d %d\n" % (b"GO" if go else b"DROP",
                                                        task_execution_id, pid))
        if not go and entry[1] is None:
            # Dropped before its PID came (the executor gave up on it): never replay it.
            zygote.orders.pop(task_execution_id, None)
            del zygote.owned[task_execution_id]
            del self.owner[task_execution_id]
            self._retire_if_done(zygote)
        return True

    def _start(self, snapshot_id: int, order: bytes) -> None:
        if len(self.by_snapshot) >= self.most and not self._retire_one():
            return
        made: List[int] = []
        try:
            commands_r, commands_w = os.pipe()
            made += [commands_r, commands_w]
            output_r, output_w = os.pipe()
            made += [output_r, output_w]
            pid = os.fork()
        except OSError:  # no process or pipe to be had (a limit): this task forks plainly
            for fd in made:
                os.close(fd)
            return
        if pid == 0:
            signal.set_wakeup_fd(-1)
            for fd in (commands_w, output_r, *self.forker.inherited(), *self.fds(),
                       *(w for _, w in self.forker.spares),
                       *(w for _, w in self.forker.waiting.values())):
                with contextlib.suppress(OSError):
                    os.close(fd)
            _zygote(self.settings, order, commands_r, output_w)
        os.close(commands_r)
        os.close(output_w)
        os.set_blocking(output_r, False)  # read what it said, even after it was reaped
        self.by_snapshot[snapshot_id] = _Zygote(snapshot_id, pid, commands_w, output_r)

    def _retire_one(self) -> bool:
        """Make room: the zygote idle the longest retires (False: none is idle)."""
        idle = [z for z in self.by_snapshot.values() if z.ready and not z.owned]
        if not idle:
            return False
        self._retire(min(idle, key=lambda z: z.idle_since))
        return True

    def _retire(self, zygote: _Zygote) -> None:
        """No new task for it; it exits (end of its input) once its tasks have ended."""
        if not zygote.retiring:
            zygote.retiring = True
            if self.by_snapshot.get(zygote.snapshot_id) is zygote:
                del self.by_snapshot[zygote.snapshot_id]
            self.retiring.append(zygote)
        if not zygote.owned and zygote.commands is not None:
            os.close(zygote.commands)
            zygote.commands = None

    def expire(self) -> Optional[float]:
        """Retire zygotes idle or old, kill those that do not load; returns when the next
        one would be due."""
        now, due = time.monotonic(), []
        for zygote in list(self.by_snapshot.values()):
            if not zygote.ready:
                if now - zygote.started > ZYGOTE_LOAD_TIMEOUT_S:
                    with contextlib.suppress(OSError):  # not reaped yet: still ours to kill
                        os.kill(zygote.pid, signal.SIGKILL)  # reaped soon: see reaped()
                    self.plain.add(zygote.snapshot_id)
                    self._retire(zygote)
                else:
                    due.append(zygote.started + ZYGOTE_LOAD_TIMEOUT_S - now)
                continue
            deadline = zygote.started + self.max_age_s
            if not zygote.owned:
                deadline = min(deadline, zygote.idle_since + self.idle_s)
            if deadline <= now:
                self._retire(zygote)
            else:
                due.append(deadline - now)
        return min(due) if due else None

    def outputs(self) -> Dict[int, _Zygote]:
        return {z.output: z for z in [*self.by_snapshot.values(), *self.retiring]}

    def reaped(self, pid: int) -> None:
        """A zygote exited: take in its last words, then clean up after it (its output may
        never end: a process its file started may hold the pipe)."""
        for zygote in [*self.by_snapshot.values(), *self.retiring]:
            if zygote.pid == pid:
                self.read(zygote)
                self._ended(zygote)

    def read(self, zygote: _Zygote) -> None:
        """Relay what a zygote said; clean up after it at its end."""
        at_end = False
        while not zygote.ended and not at_end:
            try:
                chunk = os.read(zygote.output, 65536)
            except BlockingIOError:
                break
            at_end = not chunk
            zygote.buffer += chunk
        self._heard(zygote)
        if at_end:
            self._ended(zygote)

    def _heard(self, zygote: _Zygote) -> None:
        while b"\n" in zygote.buffer:
            line, zygote.buffer = zygote.buffer.split(b"\n", 1)
            parts = line.decode().split(" ", 1)
            if parts[0] == "READY":
                zygote.ready = True
                zygote.idle_since = time.monotonic()
            elif parts[0] == "UNSAFE":  # it exits: it takes no room meanwhile
                self.plain.add(zygote.snapshot_id)
                self._retire(zygote)
            elif parts[0] in ("PID", "NOPID"):
                numbers = [int(x) for x in parts[1].split()]
                task_execution_id, request = numbers[0], numbers[-1]
                if zygote.owned.get(task_execution_id, (None,))[0] == request:
                    zygote.orders.pop(task_execution_id, None)
                    if parts[0] == "PID":
                        zygote.owned[task_execution_id] = (request, numbers[1])
                    else:
                        del zygote.owned[task_execution_id]
                        if self.owner.get(task_execution_id) is zygote:
                            del self.owner[task_execution_id]
                        self._retire_if_done(zygote)
                # (otherwise it answers a RUN dropped before this came: that child exits)
                self.forker.say(line.decode())
            elif parts[0] == "EXIT":
                task_execution_id, pid = (int(x) for x in parts[1].split()[:2])
                if zygote.owned.get(task_execution_id, (0, 0))[1] == pid:  # not a newer one
                    del zygote.owned[task_execution_id]
                    if self.owner.get(task_execution_id) is zygote:
                        del self.owner[task_execution_id]
                    self._retire_if_done(zygote)
                self.forker.say(line.decode())

    def _retire_if_done(self, zygote: _Zygote) -> None:
        if not zygote.owned:
            zygote.idle_since = time.monotonic()
            if zygote.retiring:
                self._retire(zygote)  # its last task ended: now it may go

    def _ended(self, zygote: _Zygote) -> None:
        """Its output ended, or it was reaped: it exited (retired, unsafe, or died). Its
        running children are LOST to us (the executor watches them by pid); RUNs it never
        answered go plain."""
        if zygote.ended:
            return
        zygote.ended = True
        os.close(zygote.output)
        if zygote.commands is not None:
            os.close(zygote.commands)
            zygote.commands = None
        if zygote in self.retiring:
            self.retiring.remove(zygote)
        elif self.by_snapshot.get(zygote.snapshot_id) is zygote:
            del self.by_snapshot[zygote.snapshot_id]
            self.plain.add(zygote.snapshot_id)  # one that died may die again: go plain
        for task_execution_id, (_, pid) in zygote.owned.items():
            if self.owner.get(task_execution_id) is zygote:
                del self.owner[task_execution_id]
            if pid is not None:
                self.forker.say(f"LOST {task_execution_id} {pid}")
            else:
                self.forker.run(task_execution_id, *zygote.orders[task_execution_id])


def _zygote(settings: Any, order_line: bytes, commands: int, output: int) -> None:
    """In a zygote: load the snapshot's workflow file, check that forking is still safe, then
    serve RUN/GO/DROP like the fork server (without zygotes of its own). Never returns."""
    _null_stdio()  # the file's prints must not land in the server's protocol
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        from aiflow_lite.engine.worker import Order, preload
        from aiflow_lite.ns import client

        reads, fds = client.context_reads, _open_fds()
        preloaded = preload(settings, Order.decode(order_line))
        hazard = _fork_hazard(client.context_reads - reads, _open_fds() - fds)
    except BaseException as exc:  # its own tasks will each show the error in their logs
        hazard = f"it did not load ({type(exc).__name__})"
    if hazard:
        os.write(output, f"UNSAFE {hazard}\n".encode())
        os._exit(0)
    gc.collect()
    gc.freeze()
    os.write(output, b"READY\n")
    _serve(commands, output, settings, preloaded, zygotes=False)


def _open_fds() -> set:
    """The fds open now (not the one the listing itself used: it is closed again)."""
    try:
        listed = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return set()
    open_now = set()
    for fd in listed:
        try:
            os.fstat(fd)
        except OSError:
            continue
        open_now.add(fd)
    return open_now


def _fork_hazard(context_reads: int, new_fds: set) -> Optional[str]:
    """Why forking tasks from this process (which just loaded a workflow file) is unsafe, if it
    is: a thread (a lock it holds stays held in every child), a child process (it would hold
    our pipes), a file or connection left open (every task would share it; each used to have
    its own), or a look at the task context (a notification client or an `ops` call made at
    load time, say: there is no task here, so what it saw is wrong for every task)."""
    import threading
    from pathlib import Path

    pid = os.getpid()
    try:
        threads = os.listdir(f"/proc/{pid}/task")
        children = any(Path(f"/proc/{pid}/task/{t}/children").read_text().split()
                       for t in threads)
    except OSError:
        threads, children = [None] * threading.active_count(), False
    if len(threads) > 1 or threading.active_count() > 1:
        return "its load started a thread"
    if children:
        return "its load started a process"
    if context_reads:
        return "its load asked for the task's context (a notification client, say)"
    if new_fds:
        return "its load left a file or connection open"
    return None


def _serve(commands: int, out: int, settings: Any, preloaded: Any, zygotes: bool) -> None:
    """The loop of the fork server (`zygotes`) and of each zygote. Never returns: the end of
    `commands` (the scheduler, or the fork server, is gone) ends the process at once, leaving
    its children running (no interpreter teardown: it cost the scheduler's exit ~15 ms)."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the scheduler decides when we stop
    manager: Optional[_Zygotes] = None
    forker = _Forker(settings, out, preloaded,
                     lambda: [commands, wake_r, wake_w, *(manager.fds() if manager else [])])
    manager = _Zygotes(settings, forker) if zygotes else None

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
