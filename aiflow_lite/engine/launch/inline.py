"""A `Launcher` that runs nothing in a process of its own: each order "runs" in this process,
as a result the test chose, written on GO where a worker would leave it (see `results`). For
tests of the executor and of the scheduler, which then go through the executor's real launch,
claim, GO/DROP, reap and report, without a process start.

Every started order gets this process's pid (so the executor's claim and adoption see a live
process), and is told apart by its task execution id. Signals never reach this process: a
SIGTERM ends a run still in progress STOPPED, any other signal ends it without a result.
"""

from __future__ import annotations

import os
import signal
from typing import Dict, List, Optional, Sequence, Tuple

from aiflow_lite.engine.launch.launcher import Decision, Launch
from aiflow_lite.engine.launch.protocol import Order
from aiflow_lite.engine.launch.results import Result, result_path, write_result
from aiflow_lite.status import TaskStatus

Child = Tuple[int, int]


class InlineLauncher:
    def __init__(self, home: str, default: Optional[Result] = None) -> None:
        """`default`: the result of an order nothing was planned for (None: such an order is
        not started, and stays QUEUED)."""
        self.home = home
        self.default = default
        self.plans: Dict[int, Optional[Result]] = {}  # task id → its result (None: it runs on)
        self.orders: Dict[Child, Order] = {}  # started, waiting for the word
        self.running: Dict[Child, Order] = {}  # said GO, no result yet
        self.exits: Dict[Child, int] = {}
        self.started: List[Order] = []  # every order started, for tests to look at
        self.words: List[Decision] = []  # every word said, likewise
        self.signals: List[Tuple[int, int]] = []  # (task execution id, signal)

    def will(self, task_execution_id: int, status: TaskStatus,
             message: Optional[str] = None) -> None:
        """Its next start runs to this result on GO."""
        self.plans[task_execution_id] = (status, message)

    def hold(self, task_execution_id: int) -> None:
        """Its next start runs on GO until `finish` (or a signal) ends it."""
        self.plans[task_execution_id] = None

    def finish(self, task_execution_id: int, status: TaskStatus,
               message: Optional[str] = None) -> None:
        """A held run ends with this result."""
        for child in [c for c in self.running if c[0] == task_execution_id]:
            self._end(child, (status, message))

    def start(self, orders: Sequence[Order]) -> Launch:
        pids = {}
        for order in orders:
            if order.task_execution_id not in self.plans and self.default is None:
                continue
            child = (order.task_execution_id, os.getpid())
            self.orders[child] = order
            self.exits.pop(child, None)
            self.started.append(order)
            pids[order.task_execution_id] = child[1]
        return Launch(pids, {})

    def hand(self, decisions: Sequence[Decision]) -> None:
        for task_execution_id, pid, go in decisions:
            self.words.append((task_execution_id, pid, go))
            order = self.orders.pop((task_execution_id, pid), None)
            if order is None:
                continue
            if not go:
                self.exits[task_execution_id, pid] = 0
                continue
            self.running[task_execution_id, pid] = order
            result = self.plans.pop(task_execution_id, self.default)
            if result is not None:
                self._end((task_execution_id, pid), result)

    def _end(self, child: Child, result: Optional[Result], code: int = 0) -> None:
        order = self.running.pop(child)
        if result is not None:
            write_result(result_path(self.home, order.task_execution_id, order.try_number,
                                     child[1]), *result)
        self.exits[child] = code

    def poll(self) -> None:
        pass

    def exit_code(self, task_execution_id: int, pid: int) -> Optional[int]:
        return self.exits.pop((task_execution_id, pid), None)

    def watching(self, task_execution_id: int, pid: int) -> bool:
        child = (task_execution_id, pid)
        return child in self.orders or child in self.running or child in self.exits

    def signal(self, task_execution_id: int, pid: int, signum: int) -> None:
        self.signals.append((task_execution_id, signum))
        child = (task_execution_id, pid)
        if child in self.orders:  # killed waiting: it never ran
            del self.orders[child]
            self.exits[child] = -signum
        elif child in self.running:
            if signum == signal.SIGTERM:
                self._end(child, (TaskStatus.STOPPED, "stopped"))
            else:
                self._end(child, None, -signum)

    def wake_fd(self) -> Optional[int]:
        return None

    def close(self) -> None:
        pass


