"""A `Launcher` that forks workers from the fork server (see `forkserver`): it speaks the
executor's side of `protocol`, starting children for orders in batches, saying GO or DROP to
each, and hearing their pids, exits and losses. Orders the server cannot take are spawned (see
`spawn`)."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from aiflow_lite.engine.launch.forkserver import spawn as spawn_server
from aiflow_lite.engine.launch.launcher import Decision, Launch, signal_group
from aiflow_lite.engine.launch.protocol import (
    Drop,
    Exit,
    Go,
    Lost,
    NoPid,
    Order,
    Pid,
    ProtocolError,
    Run,
    decode,
    split_lines,
)
from aiflow_lite.engine.launch.spawn import SpawnLauncher

Child = Tuple[int, int]  # (task execution id, pid)


class ForkServerLauncher:
    """Talks to the fork server (started on first use, restarted if it died). Each server it
    starts is a new `generation`: the children of an earlier one are no longer reported."""

    #: RUNs sent before their PIDs are read: the pipes each way stay far from full.
    BATCH = 32
    #: How long a batch's PIDs may take; the orders left unanswered are started otherwise.
    PID_TIMEOUT_S = 10.0

    def __init__(self, env: Callable[[], Dict[str, str]],
                 process: Optional[subprocess.Popen] = None) -> None:
        self._env = env
        self._process: Optional[subprocess.Popen] = None
        self.spawner = SpawnLauncher(env)  # for the orders the server could not take
        self.generation = 0
        self._buffer = b""
        self._eof = False  # its output ended: it exited (or is about to)
        self._requests = 0  # numbers each RUN: a late answer is never taken for a new one's
        self._expecting: Dict[int, int] = {}  # task execution id → request awaiting its PID
        self._pids: Dict[int, Optional[int]] = {}  # task execution id → pid (None: NOPID)
        self._tracked: Dict[Child, int] = {}  # children handed out → generation that forked
        self._exits: Dict[Child, int] = {}  # from EXIT messages
        self._lost: set = set()  # children from LOST messages
        if process is not None:
            self._adopt(process)
        else:
            self._ensure()  # it warms up while the scheduler takes its first steps

    def _adopt(self, process: subprocess.Popen) -> None:
        os.set_blocking(process.stdout.fileno(), False)
        self._process = process
        self.generation += 1
        self._buffer, self._eof = b"", False
        self._expecting.clear()

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def wake_fd(self) -> Optional[int]:
        """Its output, readable when it has news (an exit); None once it ended."""
        if self._process is None or self._eof:
            return None
        return self._process.stdout.fileno()

    def start(self, orders: Sequence[Order]) -> Launch:
        """A forked child per order, each waiting for its GO; those the server did not give a
        pid for (none of them will ever run) are spawned."""
        pids = self._fork(orders)
        rest = [o for o in orders if o.task_execution_id not in pids]
        if not rest:
            return Launch(pids, {})
        spawned = self.spawner.start(rest)
        return Launch({**pids, **spawned.pids}, spawned.failed)

    def _fork(self, orders: Sequence[Order]) -> Dict[int, int]:
        pids: Dict[int, int] = {}
        for at in range(0, len(orders), self.BATCH):
            batch = orders[at:at + self.BATCH]
            if not self._ensure():
                break
            ids = [o.task_execution_id for o in batch]
            runs = []
            for order in batch:
                self._requests += 1
                self._pids.pop(order.task_execution_id, None)
                self._expecting[order.task_execution_id] = self._requests
                runs.append(Run.of(order, self._requests).encode())
            try:
                self._process.stdin.write(b"".join(runs))
                self._process.stdin.flush()
            except (BrokenPipeError, OSError):
                break
            deadline = time.monotonic() + self.PID_TIMEOUT_S
            while any(i in self._expecting for i in ids):
                got = self._read(max(0.0, deadline - time.monotonic()))
                if not got and (not self.alive() or time.monotonic() > deadline):
                    break
            late = [i for i in ids if self._expecting.pop(i, None) is not None]
            self._say([Drop(i, 0) for i in late])  # the child, if ever forked, exits
            for i in ids:
                pid = self._pids.pop(i, None)
                if pid:
                    pids[i] = pid
        return pids

    def hand(self, decisions: Sequence[Decision]) -> None:
        """A word names the child's pid, so it can never reach another child of the task. A
        fork server that died took the order pipes with it: its children decide alone."""
        spawned = [d for d in decisions if self.spawner.owns(d[0], d[1])]
        if spawned:
            self.spawner.hand(spawned)
        self._say([Go(i, p) if go else Drop(i, p) for i, p, go in decisions
                   if not self.spawner.owns(i, p)])

    def _say(self, words: List) -> None:
        if not words:
            return
        with contextlib.suppress(BrokenPipeError, OSError, AttributeError):
            self._process.stdin.write(b"".join(w.encode() for w in words))
            self._process.stdin.flush()

    def watching(self, task_execution_id: int, pid: int) -> bool:
        child = (task_execution_id, pid)
        if self.spawner.owns(*child):
            return True
        if (self._tracked.get(child) == self.generation and self.alive()
                and child not in self._lost):
            return True
        self._tracked.pop(child, None)  # its server, or zygote, died: watched by pid now
        self._exits.pop(child, None)
        self._lost.discard(child)
        return False

    def poll(self) -> None:
        """Take in what it said so far (exits)."""
        self._read(0.0)

    def exit_code(self, task_execution_id: int, pid: int) -> Optional[int]:
        if self.spawner.owns(task_execution_id, pid):
            return self.spawner.exit_code(task_execution_id, pid)
        code = self._exits.pop((task_execution_id, pid), None)
        if code is not None:
            self._tracked.pop((task_execution_id, pid), None)
        return code

    def signal(self, task_execution_id: int, pid: int, signum: int) -> None:
        signal_group(pid, signum)

    def _ensure(self) -> bool:
        if self.alive():
            return True
        self.poll()  # what the dead one said before it died (exits) still counts
        try:
            process = spawn_server(self._env())
        except OSError:
            self._process = None
            return False
        self._adopt(process)
        return True

    def _read(self, timeout: float) -> bool:
        """Read what the fork server said (waiting up to `timeout`); True if anything came."""
        if self._process is None or self._eof:
            return False
        out = self._process.stdout
        ready, _, _ = select.select([out], [], [], timeout)
        if not ready:
            return False
        got = False
        while True:  # drain it: the scheduler's wake-up watches this fd
            try:
                chunk = os.read(out.fileno(), 65536)
            except BlockingIOError:
                break
            if not chunk:
                self._eof = True
                break
            self._buffer += chunk
            got = True
        lines, self._buffer = split_lines(self._buffer)
        for line in lines:
            with contextlib.suppress(ProtocolError):
                self._heard(decode(line))
        return got

    def _heard(self, message) -> None:
        if isinstance(message, (Pid, NoPid)):
            task = message.task_execution_id
            if self._expecting.get(task) != message.request:
                return  # the answer to an earlier request, given up on: that child exits
            del self._expecting[task]
            self._pids[task] = message.pid if isinstance(message, Pid) else None
            if isinstance(message, Pid):  # its EXIT may come before the batch is answered
                self._tracked[task, message.pid] = self.generation
        elif isinstance(message, (Exit, Lost)):
            child = (message.task_execution_id, message.pid)
            if child not in self._tracked:
                return  # not one we still watch
            if isinstance(message, Exit):
                self._exits[child] = message.code
            else:
                self._lost.add(child)

    def close(self) -> None:
        self.spawner.close()
        if self._process is not None:
            with contextlib.suppress(OSError):  # unsent words to a dead server: no matter
                self._process.stdin.close()  # it exits; its children run on
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process.stdout.close()
            self._process = None
