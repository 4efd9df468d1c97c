"""The fork server's zygotes: once a snapshot has had a task, the fork server forks a zygote
for it, a process that extracts the snapshot and executes its workflow file once; that
snapshot's later tasks are forked from the zygote, with the file already loaded (a 1,000-task
file took a no-op task 4 ms to re-execute; a file with slow imports, their time).

A zygote is used only when forking it is safe: its load must have started no thread or
process, left no file or connection open, and not asked for the task's context (a
notification client does). Such a file's tasks each load it themselves, as does any task while
its snapshot's zygote is still loading (numpy's OpenBLAS starts threads at import on a machine
with several cores, so a file importing numpy is one of them). At most `executor_zygotes` live
(0: none); one unused for `executor_zygote_idle_seconds`, or older than
`executor_zygote_max_age_seconds`, exits once its tasks have ended. The file's top level thus
runs once per zygote, not once per task (and what it prints goes nowhere); each task still
runs in its own process, with its own copy of the module's state.

A zygote speaks the fork server's protocol (see `protocol`: RUN, GO, DROP in; PID, NOPID,
EXIT out), first saying READY, or UNSAFE and why; the fork server relays what it says and
reports its running children LOST if it dies.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import time
from typing import Any, Dict, List, Optional, Tuple

from aiflow_lite.engine.launch.forker import null_stdio, serve_commands
from aiflow_lite.engine.launch.protocol import (
    Drop,
    Exit,
    Go,
    Lost,
    NoPid,
    Order,
    Pid,
    ProtocolError,
    Ready,
    Run,
    Unsafe,
    decode,
    split_lines,
    write_all,
)


class Zygote:
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
        self.orders: Dict[int, Run] = {}  # task id → its RUN, until its PID is seen
        self.started = self.idle_since = time.monotonic()
        self.ended = False


#: A zygote that has not loaded its file by then is killed (and its snapshot forks plainly).
ZYGOTE_LOAD_TIMEOUT_S = 120.0


class Zygotes:
    """The fork server's zygotes: started on a snapshot's first task, used once ready, retired
    when idle or old (so a file's top level is re-executed now and then: what it read or
    computed, a date say, is never older than `executor_zygote_max_age_seconds`)."""

    def __init__(self, settings: Any, forker: Any) -> None:
        self.settings = settings
        self.forker = forker
        self.by_snapshot: Dict[int, Zygote] = {}
        self.plain: set = set()  # snapshots whose file is not safe to fork from
        self.owner: Dict[int, Zygote] = {}  # task id → the zygote that forked it
        self.retiring: List[Zygote] = []  # their output not yet ended
        self.most = settings.executor_zygotes
        self.idle_s = settings.executor_zygote_idle_seconds
        self.max_age_s = settings.executor_zygote_max_age_seconds

    def fds(self) -> List[int]:
        return [fd for z in [*self.by_snapshot.values(), *self.retiring]
                for fd in (z.commands, z.output) if fd is not None]

    def route(self, run: Run) -> bool:
        """Send a RUN to its snapshot's zygote if one is ready (True); start one if none."""
        zygote = self.by_snapshot.get(run.snapshot_id)
        if zygote is None:
            if run.snapshot_id not in self.plain:
                self._start(run.snapshot_id, run.order)
            return False
        if not zygote.ready:
            return False
        try:
            write_all(zygote.commands, run.encode())
        except OSError:  # it died: the end of its output will clean up
            self._retire(zygote)
            return False
        zygote.owned[run.task_execution_id] = (run.request, None)
        zygote.orders[run.task_execution_id] = run
        self.owner[run.task_execution_id] = zygote
        return True

    def hand(self, task_execution_id: int, go: bool, pid: int) -> bool:
        """Pass a word on to the zygote whose child it names (pid 0: a DROP for whichever
        child of the task a timed-out request made). False if no zygote's child is named."""
        zygote = self.owner.get(task_execution_id)
        entry = zygote.owned.get(task_execution_id) if zygote is not None else None
        if entry is None or pid not in (0, entry[1]):
            return False
        word = (Go if go else Drop)(task_execution_id, pid)
        with contextlib.suppress(OSError, TypeError):  # it died: its children are LOST
            write_all(zygote.commands, word.encode())
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
        self.by_snapshot[snapshot_id] = Zygote(snapshot_id, pid, commands_w, output_r)

    def _retire_one(self) -> bool:
        """Make room: the zygote idle the longest retires (False: none is idle)."""
        idle = [z for z in self.by_snapshot.values() if z.ready and not z.owned]
        if not idle:
            return False
        self._retire(min(idle, key=lambda z: z.idle_since))
        return True

    def _retire(self, zygote: Zygote) -> None:
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

    def outputs(self) -> Dict[int, Zygote]:
        return {z.output: z for z in [*self.by_snapshot.values(), *self.retiring]}

    def reaped(self, pid: int) -> None:
        """A zygote exited: take in its last words, then clean up after it (its output may
        never end: a process its file started may hold the pipe)."""
        for zygote in [*self.by_snapshot.values(), *self.retiring]:
            if zygote.pid == pid:
                self.read(zygote)
                self._ended(zygote)

    def read(self, zygote: Zygote) -> None:
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

    def _heard(self, zygote: Zygote) -> None:
        lines, zygote.buffer = split_lines(zygote.buffer)
        for line in lines:
            try:
                message = decode(line)
            except ProtocolError:
                continue
            if isinstance(message, Ready):
                zygote.ready = True
                zygote.idle_since = time.monotonic()
            elif isinstance(message, Unsafe):  # it exits: it takes no room meanwhile
                self.plain.add(zygote.snapshot_id)
                self._retire(zygote)
            elif isinstance(message, (Pid, NoPid)):
                task_execution_id, request = message.task_execution_id, message.request
                if zygote.owned.get(task_execution_id, (None,))[0] == request:
                    zygote.orders.pop(task_execution_id, None)
                    if isinstance(message, Pid):
                        zygote.owned[task_execution_id] = (request, message.pid)
                    else:
                        del zygote.owned[task_execution_id]
                        if self.owner.get(task_execution_id) is zygote:
                            del self.owner[task_execution_id]
                        self._retire_if_done(zygote)
                # (otherwise it answers a RUN dropped before this came: that child exits)
                self.forker.say(message)
            elif isinstance(message, Exit):
                task_execution_id, pid = message.task_execution_id, message.pid
                if zygote.owned.get(task_execution_id, (0, 0))[1] == pid:  # not a newer one
                    del zygote.owned[task_execution_id]
                    if self.owner.get(task_execution_id) is zygote:
                        del self.owner[task_execution_id]
                    self._retire_if_done(zygote)
                self.forker.say(message)

    def _retire_if_done(self, zygote: Zygote) -> None:
        if not zygote.owned:
            zygote.idle_since = time.monotonic()
            if zygote.retiring:
                self._retire(zygote)  # its last task ended: now it may go

    def _ended(self, zygote: Zygote) -> None:
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
                self.forker.say(Lost(task_execution_id, pid))
            else:
                self.forker.run(zygote.orders[task_execution_id])


def _zygote(settings: Any, order_line: bytes, commands: int, output: int) -> None:
    """In a zygote: load the snapshot's workflow file, check that forking is still safe, then
    serve RUN/GO/DROP like the fork server (without zygotes of its own). Never returns."""
    null_stdio()  # the file's prints must not land in the server's protocol
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        from aiflow_lite import task_context as client
        from aiflow_lite.engine.launch.worker import preload
        from aiflow_lite.procfs import open_fds

        order = decode(order_line)
        if not isinstance(order, Order):
            raise ProtocolError("a zygote loads the file of an ORDER")
        reads, fds = client.context_reads, open_fds()
        preloaded = preload(settings, order)
        hazard = _fork_hazard(client.context_reads - reads, open_fds() - fds)
    except BaseException as exc:  # its own tasks will each show the error in their logs
        hazard = f"it did not load ({type(exc).__name__})"
    if hazard:
        write_all(output, Unsafe(hazard).encode())
        os._exit(0)
    gc.collect()
    gc.freeze()
    write_all(output, Ready().encode())
    serve_commands(commands, output, settings, preloaded)


def _fork_hazard(context_reads: int, new_fds: set) -> Optional[str]:
    """Why forking tasks from this process (which just loaded a workflow file) is unsafe, if it
    is: a thread (a lock it holds stays held in every child), a child process (it would hold
    our pipes), a file or connection left open (every task would share it; each used to have
    its own), or a look at the task context (a notification client or an `ops` call made at
    load time, say: there is no task here, so what it saw is wrong for every task)."""
    import threading

    from aiflow_lite.procfs import threads_and_children

    seen = threads_and_children(os.getpid())
    threads, children = seen if seen else ([None] * threading.active_count(), False)
    if len(threads) > 1 or threading.active_count() > 1:
        return "its load started a thread"
    if children:
        return "its load started a process"
    if context_reads:
        return "its load asked for the task's context (a notification client, say)"
    if new_fds:
        return "its load left a file or connection open"
    return None
