"""The scheduler's side of the fork server's protocol (see `forkserver`): start children for
orders in batches, say GO or DROP to each, and hear their pids, exits and losses."""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import time
from typing import Callable, Dict, List, Optional, Tuple

from aiflow_lite.engine.worker import Order


class ForkServerClient:
    """Talks to the fork server (started on first use, restarted if it died). Each server it
    starts is a new `generation`: the children of an earlier one are no longer reported."""

    #: RUN lines sent before their PIDs are read: the pipes each way stay far from full.
    BATCH = 32
    #: How long a batch's PIDs may take; the orders left unanswered are started otherwise.
    PID_TIMEOUT_S = 10.0

    def __init__(self, env: Callable[[], Dict[str, str]],
                 process: Optional[subprocess.Popen] = None) -> None:
        self._env = env
        self._process: Optional[subprocess.Popen] = None
        self.generation = 0
        self._buffer = b""
        self._eof = False  # its output ended: it exited (or is about to)
        self._requests = 0  # numbers each RUN: a late answer is never taken for a new one's
        self._expecting: Dict[int, int] = {}  # task execution id → request awaiting its PID
        # task execution id → (pid, generation) from a PID answer (None: NOPID)
        self._pids: Dict[int, Optional[Tuple[int, int]]] = {}
        self._tracked: set = set()  # pids we handed out and whose exit we still want
        self._exits: Dict[int, int] = {}  # pid → exit code, from EXIT lines
        self._lost: set = set()  # pids from LOST lines
        if process is not None:
            self._adopt(process)

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

    def prestart(self) -> None:
        self._ensure()

    def start(self, orders: List[Order]) -> Dict[int, Tuple[int, int]]:
        """A forked child per order, each waiting for its GO: (pid, generation of the server
        that forked it) by task execution id (those missing could not be had, and none of
        them will ever run)."""
        pids: Dict[int, Tuple[int, int]] = {}
        for at in range(0, len(orders), self.BATCH):
            batch = orders[at:at + self.BATCH]
            if not self._ensure():
                break
            ids = [o.task_execution_id for o in batch]
            lines = []
            for order in batch:
                self._requests += 1
                self._pids.pop(order.task_execution_id, None)
                self._expecting[order.task_execution_id] = self._requests
                lines.append(b"RUN %d %d %s" % (order.task_execution_id, self._requests,
                                                order.encode()))
            try:
                self._process.stdin.write(b"".join(lines))
                self._process.stdin.flush()
            except (BrokenPipeError, OSError):
                break
            deadline = time.monotonic() + self.PID_TIMEOUT_S
            while any(i in self._expecting for i in ids):
                got = self._read(max(0.0, deadline - time.monotonic()))
                if not got and (not self.alive() or time.monotonic() > deadline):
                    break
            late = [i for i in ids if self._expecting.pop(i, None) is not None]
            self.hand([(i, 0, False) for i in late])  # the child, if ever forked, exits
            for i in ids:
                answer = self._pids.pop(i, None)
                if answer:
                    pids[i] = answer
        return pids

    def hand(self, decisions: List[Tuple[int, int, bool]]) -> None:
        """(task execution id, pid, go): let each waiting child run its order, or exit unrun.
        A word names the child's pid, so it can never reach another child of the same task. A
        fork server that died took the order pipes with it: its children decide alone."""
        if not decisions:
            return
        with contextlib.suppress(BrokenPipeError, OSError, AttributeError):
            self._process.stdin.write(b"".join(b"%s %d %d\n" % (b"GO" if go else b"DROP", i, p)
                                               for i, p, go in decisions))
            self._process.stdin.flush()

    def watching(self, pid: int, generation: int) -> bool:
        """Whether this server still reports on `pid`, forked in `generation` (False: its
        server, or the zygote that forked it, died: watch it by pid)."""
        return (generation == self.generation and self.alive() and pid not in self._lost)

    def pump(self) -> None:
        """Take in what it said so far (exits)."""
        self._read(0.0)

    def exit_code(self, pid: int) -> Optional[int]:
        code = self._exits.pop(pid, None)
        if code is not None:
            self._tracked.discard(pid)
        return code

    def forget(self, pid: int) -> None:
        self._tracked.discard(pid)
        self._exits.pop(pid, None)
        self._lost.discard(pid)

    def _ensure(self) -> bool:
        if self.alive():
            return True
        self.pump()  # what the dead one said before it died (exits) still counts
        from aiflow_lite.engine.forkserver import spawn

        try:
            process = spawn(self._env())
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
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            self._heard(line.decode().split())
        return got

    def _heard(self, parts: List[str]) -> None:
        kind, numbers = parts[0] if parts else "", [int(p) for p in parts[1:]]
        if kind in ("PID", "NOPID") and len(numbers) >= 2 and \
                self._expecting.get(numbers[0]) == numbers[-1]:  # the answer to this request
            del self._expecting[numbers[0]]
            self._pids[numbers[0]] = (numbers[1], self.generation) if kind == "PID" else None
            if kind == "PID":  # its EXIT may come before the rest of its batch is answered
                self._tracked.add(numbers[1])
        elif kind == "EXIT" and len(numbers) == 3 and numbers[1] in self._tracked:
            self._exits[numbers[1]] = numbers[2]
        elif kind == "LOST" and len(numbers) == 2 and numbers[1] in self._tracked:
            self._lost.add(numbers[1])

    def close(self) -> None:
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
