"""A `Launcher` that starts a fresh interpreter per task (`python -m ...launch.worker`): slow
(~100 ms), and what the fork server falls back to."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from typing import Callable, Dict, Optional, Sequence, Tuple

from aiflow_lite.engine.launch.launcher import Decision, Launch, signal_group
from aiflow_lite.engine.launch.protocol import Drop, Go, Order


class SpawnLauncher:
    def __init__(self, env: Callable[[], Dict[str, str]]) -> None:
        self._env = env
        self._children: Dict[Tuple[int, int], subprocess.Popen] = {}  # (task, pid) → child

    def start(self, orders: Sequence[Order]) -> Launch:
        pids, failed = {}, {}
        for order in orders:
            try:
                with open(order.log_path, "ab") as log_file:
                    process = subprocess.Popen(
                        [sys.executable, "-m", "aiflow_lite.engine.launch.worker"],
                        stdin=subprocess.PIPE, stdout=log_file, stderr=subprocess.STDOUT,
                        env=self._env(), start_new_session=True, close_fds=True)
            except OSError as exc:  # no log, no process: it failed
                failed[order.task_execution_id] = f"its worker could not start: {exc}"
                continue
            with contextlib.suppress(OSError):  # it died already: its exit is seen
                process.stdin.write(order.encode())
                process.stdin.flush()
            self._children[order.task_execution_id, process.pid] = process
            pids[order.task_execution_id] = process.pid
        return Launch(pids, failed)

    def owns(self, task_execution_id: int, pid: int) -> bool:
        return (task_execution_id, pid) in self._children

    def hand(self, decisions: Sequence[Decision]) -> None:
        for task_execution_id, pid, go in decisions:
            process = self._children.get((task_execution_id, pid))
            if process is None or process.stdin.closed:
                continue
            word = Go(task_execution_id, pid) if go else Drop(task_execution_id, pid)
            with contextlib.suppress(OSError):  # it died waiting: its exit is reported
                process.stdin.write(word.encode())
            with contextlib.suppress(OSError):
                process.stdin.close()

    def poll(self) -> None:
        pass  # each child is polled when asked about

    def exit_code(self, task_execution_id: int, pid: int) -> Optional[int]:
        process = self._children.get((task_execution_id, pid))
        code = None if process is None else process.poll()
        if code is not None:
            del self._children[task_execution_id, pid]
        return code

    def watching(self, task_execution_id: int, pid: int) -> bool:
        return (task_execution_id, pid) in self._children

    def signal(self, task_execution_id: int, pid: int, signum: int) -> None:
        signal_group(pid, signum)

    def wake_fd(self) -> Optional[int]:
        return None  # a child's exit makes no fd readable: the executor polls

    def close(self) -> None:
        for process in self._children.values():  # collect our zombies; the rest run on
            process.poll()
