"""The local executor: starts a worker process per task execution, stops them, and reports
their results (left in files, see `results`), or their loss. The parent owns the truth about
its children (STYLE §7).

Workers run in their own process group (STOP reaches every child: SIGTERM, then SIGKILL after
a grace period) and outlive a scheduler crash; a restarted executor adopts the ones still
running (pid and process start time must both match) and reports the rest. How a worker's
process is started is its `Launcher`'s business (see `launch.launcher`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from aiflow_lite.config import Settings
from aiflow_lite.engine.executions import ExecutionStore
from aiflow_lite.engine.executor_base import (
    RAY_CLAIM_PREFIX,
    SENDER,
    WORKER,
    ExecutorBase,
    still_running_elsewhere,
)
from aiflow_lite.engine.launch.launcher import Launcher, signal_group
from aiflow_lite.engine.launch.protocol import Order
from aiflow_lite.engine.launch.results import (
    discard_result,
    discard_results,
    read_result,
    result_path,
    results_dir,
)
from aiflow_lite.engine.launch.worker import NEVER_STARTED
from aiflow_lite.events import now_ms, task_status_key
from aiflow_lite.meta import TaskExecutionMeta
from aiflow_lite.ns.event_log import EventLog
from aiflow_lite.procfs import process_start_time
from aiflow_lite.status import TaskStatus

STRAY_CHECK_S = 2.0
SWEEP_S = 60.0  # how often result files nobody will read are removed
EXIT_UNKNOWN = 1 << 16  # a worker not our child is gone: how it ended is unknown


@dataclass
class _Worker:
    task_execution_id: int
    try_number: int
    pid: int
    pid_start: Optional[str] = None
    kill_at: Optional[float] = None
    launched: bool = False  # our launcher's, which reports its exit (else: watched by pid)
    reported: bool = False  # the executor already reported its result


class LocalExecutor(ExecutorBase):
    def __init__(self, settings: Settings, store: ExecutionStore, events: EventLog,
                 fork_server: Optional[subprocess.Popen] = None,
                 launcher: Optional[Launcher] = None) -> None:
        """`launcher`: what starts the workers (by default the one `executor_worker_start`
        names, with `fork_server` a fork server already started for this home)."""
        super().__init__(settings, store, events)
        self.parallelism = max(1, settings.local_executor_parallelism)
        self.worker_start = settings.executor_worker_start
        self.workers: Dict[int, _Worker] = {}
        self._next_stray_check = 0.0
        self._next_sweep = time.monotonic() + SWEEP_S
        self._strays: set = set()
        self.heartbeat_timeout_s = settings.task_heartbeat_timeout
        self.heartbeat_check_s = settings.task_executor_heartbeat_check_interval
        self._next_heartbeat_check = 0.0
        os.makedirs(results_dir(settings.home), exist_ok=True)
        if launcher is None:
            from aiflow_lite.engine.launch.choose import launcher_for

            launcher = launcher_for(self.worker_start, settings.home, fork_server)
        self.launcher = launcher

    # -- launching ----------------------------------------------------------------------------

    def launch_queued(self) -> List[int]:
        """Start workers for QUEUED executions, oldest first, up to the parallelism; the rest
        wait QUEUED. A RESTART queues the new execution while the old one stops: it waits for
        that. Returns the ids started.

        Three steps, so that nothing runs twice: start the processes (each gets its order and
        waits for the word), claim every execution for its pid in one transaction (QUEUED →
        RUNNING, only if still QUEUED), and only then say GO to each claimed worker; the
        others are dropped unrun. A crash before the commit leaves the executions QUEUED; a
        worker whose pipe closes before the word asks the database (`worker.receive`)."""
        if len(self.workers) >= self.parallelism:
            return []
        stopping = {(m.workflow_execution_id, m.task_name)
                    for m in self.store.task_executions_in((TaskStatus.STOPPING.value,))}
        room = self.parallelism - len(self.workers)
        orders = []
        for meta in self.store.task_executions_in((TaskStatus.QUEUED.value,),
                                                  limit=room + len(stopping) + len(self.workers)):
            if len(orders) >= room:
                break
            if meta.id in self.workers or (meta.workflow_execution_id, meta.task_name) in stopping:
                continue
            order = self._order(meta)
            if order is not None:
                orders.append(order)
        started = self._start(orders)
        if not started:
            return []
        claimed = set()
        try:
            with self.store.db.transaction():
                now = now_ms()
                for order, worker in started:
                    if self.store.claim(order.task_execution_id, worker.pid,
                                        worker.pid_start or "", now, order.log_path):
                        claimed.add(order.task_execution_id)
                        self.events.append(
                            task_status_key(order.task_name), TaskStatus.RUNNING.value,
                            order.namespace, SENDER,
                            {"workflow_execution_id": order.workflow_execution_id,
                             "task_execution_id": order.task_execution_id}, internal=True)
        except BaseException:  # nothing was claimed: none of them may run
            self.launcher.hand([(o.task_execution_id, w.pid, False) for o, w in started])
            raise
        for order, worker in started:
            self.workers[order.task_execution_id] = worker
        self.launcher.hand([(o.task_execution_id, w.pid, o.task_execution_id in claimed)
                            for o, w in started])
        return sorted(claimed)

    def _start(self, orders: List[Order]) -> List[Tuple[Order, _Worker]]:
        """A process per order, each waiting for it; those that could not start are reported
        (those not started now stay QUEUED)."""
        if not orders:
            return []
        launch = self.launcher.start(orders)
        started = []
        for order in orders:
            why = launch.failed.get(order.task_execution_id)
            if why is not None:
                self.report(order.task_execution_id, order.try_number, TaskStatus.FAILED, why)
            pid = launch.pids.get(order.task_execution_id)
            if pid is not None:
                started.append((order, _Worker(order.task_execution_id, order.try_number, pid,
                                               process_start_time(pid), launched=True)))
        return started

    # -- stopping -----------------------------------------------------------------------------

    def stop(self, task_execution_id: int) -> None:
        """SIGTERM the worker's process group now, SIGKILL it once the task's stop timeout has
        passed (an engine operator's stop asks its cluster, which takes longer)."""
        worker = self.workers.get(task_execution_id) or self._adopt(task_execution_id)
        if worker is None:
            return  # no process holds it: a late claim fails, nothing runs
        self._signal(worker, signal.SIGTERM)
        if worker.kill_at is None:  # a second stop does not move the deadline
            worker.kill_at = time.monotonic() + self._stop_timeout(task_execution_id)

    def _signal(self, worker: _Worker, signum: int) -> None:
        if worker.launched:
            self.launcher.signal(worker.task_execution_id, worker.pid, signum)
        else:
            signal_group(worker.pid, signum)

    # -- watching -----------------------------------------------------------------------------

    def _adopt(self, task_execution_id: int) -> Optional[_Worker]:
        """Take charge of a worker we did not start (its scheduler crashed and it claimed after
        our recovery), if it is alive: same pid, same process start time."""
        meta = self.store.get_task_execution(task_execution_id)
        if meta is None or meta.status not in (TaskStatus.RUNNING.value,
                                               TaskStatus.STOPPING.value):
            return None
        pid, pid_start = self.store.process_of(task_execution_id)
        if not (pid and pid_start and process_start_time(pid) == pid_start):
            return None
        worker = self.workers[task_execution_id] = _Worker(task_execution_id, meta.try_number,
                                                           pid, pid_start)
        return worker

    def _adopt_strays(self) -> None:
        """Now and then: every RUNNING execution must be watched by someone. One we do not
        track is adopted if its worker lives, and reported if it does not."""
        now = time.monotonic()
        if now >= self._next_heartbeat_check:
            self._next_heartbeat_check = now + self.heartbeat_check_s
            self._check_heartbeats()
        if now < self._next_stray_check:
            return
        self._next_stray_check = now + STRAY_CHECK_S
        if now >= self._next_sweep:  # the rare files of processes not ours to reap
            self._next_sweep = now + SWEEP_S
            self._sweep_results()
        for meta in self.store.task_executions_in((TaskStatus.RUNNING.value,
                                                   TaskStatus.STOPPING.value)):
            if meta.id in self.workers or self._adopt(meta.id) is not None:
                continue
            if meta.id in self._strays:  # dead on two checks in a row: not a claim in flight
                self._strays.discard(meta.id)
                self._report_gone(meta, "its worker is gone")
                discard_results(self.settings.home, meta.id, meta.try_number)
            else:
                self._strays.add(meta.id)

    def reap(self) -> int:
        """Forget finished workers and report each one's result (its own, or how it ended
        without one), all in one transaction. Returns how many workers ended."""
        self._adopt_strays()
        self.launcher.poll()
        ended = []
        for worker in list(self.workers.values()):
            if worker.kill_at is not None and time.monotonic() >= worker.kill_at:
                self._signal(worker, signal.SIGKILL)
                worker.kill_at = None
            code = self._exit_code(worker)
            if code is None:
                continue
            del self.workers[worker.task_execution_id]
            ended.append((worker, code))
        if ended:
            with self.store.db.transaction():
                for worker, code in ended:
                    self._report_exit(worker, code)
            for worker, _ in ended:  # reported (committed): the file has done its job (those
                # of other processes of the try, rare, go at the next start: see recover)
                discard_result(result_path(self.settings.home, worker.task_execution_id,
                                           worker.try_number, worker.pid))
                self._namespaces.pop(worker.task_execution_id, None)
        return len(ended)

    def _exit_code(self, worker: _Worker) -> Optional[int]:
        if worker.launched:
            code = self.launcher.exit_code(worker.task_execution_id, worker.pid)
            if code is not None or self.launcher.watching(worker.task_execution_id, worker.pid):
                return code
            # The fork server (or the zygote that forked it) died: its children live on,
            # watched like adopted ones.
            worker.launched = False
            worker.pid_start = worker.pid_start or process_start_time(worker.pid)
        alive = worker.pid_start and process_start_time(worker.pid) == worker.pid_start
        return None if alive else EXIT_UNKNOWN

    def _report_exit(self, worker: _Worker, code: int) -> None:
        """Report the result the worker left, or that it ended without one. Only for a try
        still in flight: a worker dropped unrun, or one already reported, is no news."""
        meta = self.store.get_task_execution(worker.task_execution_id)
        if worker.reported or meta is None or meta.try_number != worker.try_number or \
                meta.status not in (TaskStatus.RUNNING.value, TaskStatus.STOPPING.value):
            return
        how = ("its exit status unknown" if code == EXIT_UNKNOWN else
               f"signal {-code}" if code < 0 else f"exit code {code}")
        self._report_gone(meta, f"the worker ended ({how}) without reporting a result")

    def _report_gone(self, meta: TaskExecutionMeta, why: str) -> None:
        """The worker of `meta` is gone: report the result it left, else its loss."""
        result = None if meta.pid is None else read_result(
            result_path(self.settings.home, meta.id, meta.try_number, meta.pid))
        if result is not None and result[0] == TaskStatus.QUEUED and self._unclaim(meta):
            return  # it never ran: it is launched again, not failed
        if result is not None and result[0] != TaskStatus.QUEUED:
            self.report(meta.id, meta.try_number, result[0], result[1], sender=WORKER)
        else:
            self.report(meta.id, meta.try_number,
                        TaskStatus.STOPPED if meta.status == TaskStatus.STOPPING.value
                        else TaskStatus.FAILED, why)

    def _unclaim(self, meta: TaskExecutionMeta) -> bool:
        """QUEUED again (True), unless it is no longer simply RUNNING (a stop came)."""
        with self.store.db.transaction():
            if not self.store.unclaim(meta.id, meta.pid, meta.try_number):
                return False
            execution = self.store.get_execution(meta.workflow_execution_id)
            self.events.append(task_status_key(meta.task_name), TaskStatus.QUEUED.value,
                               execution.namespace, SENDER,
                               {"workflow_execution_id": execution.id,
                                "task_execution_id": meta.id, "message": NEVER_STARTED},
                               internal=True)
        return True

    # -- after a restart ----------------------------------------------------------------------

    def _check_heartbeats(self) -> None:
        """A worker whose heartbeats stopped (hung, or frozen with SIGSTOP) is killed and its
        execution reported FAILED: alive is not enough, it must show progress."""
        limit_ms = self.heartbeat_timeout_s * 1000
        now = now_ms()
        for worker in list(self.workers.values()):
            meta = self.store.get_task_execution(worker.task_execution_id)
            if worker.reported or meta is None or meta.status != TaskStatus.RUNNING.value or \
                    meta.heartbeat_time is None or now - meta.heartbeat_time <= limit_ms:
                continue
            self._signal(worker, signal.SIGKILL)
            self._report_gone(meta, f"no heartbeat for {(now - meta.heartbeat_time) / 1000:.0f}"
                              f"s (task_heartbeat_timeout is {self.heartbeat_timeout_s:g}s)")
            worker.reported = True  # its coming exit is no news: the report above is its result

    def recover(self, heartbeat_timeout_s: float) -> None:
        """Adopt the workers of a previous scheduler that still run; report the dead ones.
        QUEUED executions need nothing: `launch_queued` starts them (no worker of theirs ever
        got its order)."""
        in_flight = self.store.task_executions_in((TaskStatus.RUNNING.value,
                                                   TaskStatus.STOPPING.value))
        on_ray = [m for m in in_flight if (self.store.process_of(m.id)[1] or "").startswith(
            RAY_CLAIM_PREFIX)]
        if on_ray:
            raise still_running_elsewhere(
                len(on_ray), "on Ray", "let them end with task_executor: ray (a Ray cluster "
                "that is gone: start a new one with `ray start --head`, and they are reported "
                "lost)")
        for meta in in_flight:
            pid, pid_start = self.store.process_of(meta.id)
            if pid and pid_start and process_start_time(pid) == pid_start:
                worker = _Worker(meta.id, meta.try_number, pid, pid_start)
                self.workers[meta.id] = worker
                if meta.status == TaskStatus.STOPPING.value:
                    self.stop(meta.id)
                continue
            self._report_gone(meta, "its worker was gone when the scheduler restarted")
            discard_results(self.settings.home, meta.id, meta.try_number)
        self._sweep_results()

    def _sweep_results(self) -> None:
        """Remove result files nobody will read: those of tries no longer in flight (reported
        before a crash kept their file), of processes a try was not claimed for (a child
        dropped late, say), and staging files of dead workers. (Between launches, every
        started process is either claimed or dropped: no file of a launch is lost.)"""
        in_flight = {f"{m.id}.{m.try_number}.{m.pid}" for m in self.store.task_executions_in(
            (TaskStatus.RUNNING.value, TaskStatus.STOPPING.value))}
        folder = results_dir(self.settings.home)
        for name in os.listdir(folder):
            if name.endswith(".tmp"):  # <id>.<try>.<pid>.tmp, being written by <pid>?
                pid = name.split(".")[2]
                if pid.isdigit() and process_start_time(int(pid)) is not None:
                    continue
            elif name in in_flight:
                continue
            discard_result(os.path.join(folder, name))

    def active(self) -> int:
        return len(self.workers)

    def wake_fd(self) -> Optional[int]:
        """An fd readable when a worker has ended (workers report through files, so no commit
        wakes the scheduler when one exits); None when there is none to watch."""
        return self.launcher.wake_fd()

    def shutdown(self) -> None:
        """Leave workers running: they report through the log, and a restarted scheduler
        adopts them. Only our own zombie children are collected."""
        self.launcher.close()
