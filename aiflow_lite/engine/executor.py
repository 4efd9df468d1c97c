"""The local executor: starts a worker process per task execution, stops them, and reports the
ones that die without reporting. The parent owns the truth about its children (STYLE §7).

Workers run in their own process group (STOP reaches every child: SIGTERM, then SIGKILL after
a grace period) and outlive a scheduler crash; a restarted executor adopts the ones still
running (pid and process start time must both match) and reports the rest.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from aiflow_lite.config import Settings
from aiflow_lite.engine.executions import ExecutionStore
from aiflow_lite.engine.worker import process_start_time
from aiflow_lite.events import InternalKey, now_ms
from aiflow_lite.meta import TaskExecutionMeta
from aiflow_lite.ns.event_log import EventLog
from aiflow_lite.status import TaskStatus

STOP_GRACE_S = 5.0
STRAY_CHECK_S = 2.0
SENDER = "executor"


@dataclass
class _Worker:
    task_execution_id: int
    try_number: int
    pid: int
    process: Optional[subprocess.Popen]  # our own child (spawned), else None
    pid_start: Optional[str] = None
    kill_at: Optional[float] = None
    forked: bool = False  # a child of the fork server, which reports its exit
    reported: bool = False  # the executor already reported its result


class LocalExecutor:
    def __init__(self, settings: Settings, store: ExecutionStore, events: EventLog,
                 fork_server: Optional[subprocess.Popen] = None) -> None:
        self.settings = settings
        self.store = store
        self.events = events
        self.parallelism = max(1, int(settings.values.get("local_executor_parallelism", 10)))
        self.worker_start = str(settings.values.get("executor_worker_start", "forkserver"))
        self.workers: Dict[int, _Worker] = {}
        self._forks = ForkServerClient(self._env, fork_server)
        self._next_stray_check = 0.0
        self._strays: set = set()
        self.heartbeat_timeout_s = float(settings.values.get("task_heartbeat_timeout", 60))
        if self.worker_start == "forkserver":
            self._forks.prestart()  # it warms up while the scheduler takes its first steps

    # -- launching ----------------------------------------------------------------------------

    def launch_queued(self) -> List[int]:
        """Start workers for QUEUED executions, oldest first, up to the parallelism; the rest
        wait QUEUED. A RESTART queues the new execution while the old one stops: it waits for
        that. Returns the ids started."""
        if len(self.workers) >= self.parallelism:
            return []
        started = []
        stopping = {(m.workflow_execution_id, m.task_name)
                    for m in self.store.task_executions_in((TaskStatus.STOPPING.value,))}
        room = self.parallelism - len(self.workers)
        for meta in self.store.task_executions_in((TaskStatus.QUEUED.value,),
                                                  limit=room + len(stopping) + len(self.workers)):
            if len(self.workers) >= self.parallelism:
                break
            if meta.id in self.workers or (meta.workflow_execution_id, meta.task_name) in stopping:
                continue
            self._spawn(meta)
            started.append(meta.id)
        return started

    def _spawn(self, meta: TaskExecutionMeta) -> None:
        execution = self.store.get_execution(meta.workflow_execution_id)
        log_path = os.path.join(
            str(self.settings.values.get("log_dir") or os.path.join(self.settings.home, "logs")),
            execution.namespace, execution.workflow_name, str(execution.id),
            f"{meta.task_name}-{meta.sequence_number}.log")
        try:
            os.makedirs(os.path.dirname(log_path), exist_ok=True)
        except OSError as exc:
            self.report(meta.id, meta.try_number, TaskStatus.FAILED,
                        f"its log directory could not be made: {exc}")
            return
        if self.worker_start == "forkserver":
            pid = self._forks.run(meta.id, log_path)
            if pid is not None:
                self.workers[meta.id] = _Worker(meta.id, meta.try_number, pid, None,
                                                forked=True)
                return
        try:
            with open(log_path, "ab") as log_file:
                process = subprocess.Popen(
                    [sys.executable, "-m", "aiflow_lite.engine.worker", str(meta.id), log_path],
                    stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                    env=self._env(), start_new_session=True, close_fds=True,
                )
        except OSError as exc:  # its log cannot be opened, no process can be had: it failed
            self.report(meta.id, meta.try_number, TaskStatus.FAILED,
                        f"its worker could not start: {exc}")
            return
        self.workers[meta.id] = _Worker(meta.id, meta.try_number, process.pid, process)

    def _env(self) -> Dict[str, str]:
        env = {**os.environ, "AIFLOW_HOME": self.settings.home}
        env.pop("NOTIFICATION_HOME", None)
        return env

    # -- stopping -----------------------------------------------------------------------------

    def stop(self, task_execution_id: int) -> None:
        """SIGTERM the worker's process group now, SIGKILL it after the grace period."""
        worker = self.workers.get(task_execution_id) or self._adopt(task_execution_id)
        if worker is None:
            return  # no process holds it: a late claim fails, nothing runs
        self._signal(worker, signal.SIGTERM)
        worker.kill_at = time.monotonic() + STOP_GRACE_S

    def _signal(self, worker: _Worker, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(worker.pid, signum)

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
                                                           pid, None, pid_start)
        return worker

    def _adopt_strays(self) -> None:
        """Now and then: every RUNNING execution must be watched by someone. One we do not
        track is adopted if its worker lives, and reported if it does not."""
        now = time.monotonic()
        if now < self._next_stray_check:
            return
        self._next_stray_check = now + STRAY_CHECK_S
        self._check_heartbeats()
        for meta in self.store.task_executions_in((TaskStatus.RUNNING.value,
                                                   TaskStatus.STOPPING.value)):
            if meta.id in self.workers or self._adopt(meta.id) is not None:
                continue
            if meta.id in self._strays:  # dead on two checks in a row: not a claim in flight
                self._strays.discard(meta.id)
                self.report(meta.id, meta.try_number,
                            TaskStatus.STOPPED if meta.status == TaskStatus.STOPPING.value
                            else TaskStatus.FAILED, "its worker is gone")
            else:
                self._strays.add(meta.id)

    def reap(self) -> int:
        """Forget finished workers; report any that ended without reporting. Returns how many
        workers ended."""
        self._adopt_strays()
        ended = 0
        for worker in list(self.workers.values()):
            if worker.kill_at is not None and time.monotonic() >= worker.kill_at:
                self._signal(worker, signal.SIGKILL)
                worker.kill_at = None
            code = self._exit_code(worker)
            if code is None:
                continue
            ended += 1
            del self.workers[worker.task_execution_id]
            self._report_if_silent(worker, code)
        return ended

    def _exit_code(self, worker: _Worker) -> Optional[int]:
        if worker.process is not None:
            return worker.process.poll()
        if worker.forked:
            code = self._forks.exit_code(worker.pid)
            if code is not None or self._forks.alive():
                return code
            # The fork server died: its children live on, watched like adopted ones.
            worker.forked = False
            worker.pid_start = process_start_time(worker.pid)
        alive = worker.pid_start and process_start_time(worker.pid) == worker.pid_start
        return None if alive else -1

    def _report_if_silent(self, worker: _Worker, code: int) -> None:
        """Its own report, if any, is already in the log before this one (it reports, then
        exits), so the scheduler keeps the first: this only counts when there was none."""
        meta = self.store.get_task_execution(worker.task_execution_id)
        if worker.reported or meta is None or meta.status not in (TaskStatus.RUNNING.value,
                                                                  TaskStatus.STOPPING.value,
                                                                  TaskStatus.QUEUED.value):
            return
        if meta.status == TaskStatus.QUEUED.value and code == 0:
            return  # it found nothing to claim
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        status = (TaskStatus.STOPPED if meta.status == TaskStatus.STOPPING.value
                  else TaskStatus.FAILED)
        self.report(worker.task_execution_id, worker.try_number, status,
                    f"the worker ended ({how}) without reporting a result")

    def report(self, task_execution_id: int, try_number: int, status: TaskStatus,
               message: str) -> None:
        meta = self.store.get_task_execution(task_execution_id)
        execution = self.store.get_execution(meta.workflow_execution_id)
        self.events.append(InternalKey.TASK_RESULT.value, status.value, execution.namespace,
                           SENDER, {"task_execution_id": task_execution_id,
                                    "try_number": try_number, "message": message},
                           internal=True)

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
            self.report(meta.id, meta.try_number, TaskStatus.FAILED,
                        f"no heartbeat for {(now - meta.heartbeat_time) / 1000:.0f}s "
                        f"(task_heartbeat_timeout is {self.heartbeat_timeout_s:g}s)")
            worker.reported = True  # its coming exit is no news: the report above is its result

    def recover(self, heartbeat_timeout_s: float) -> None:
        """Adopt the workers of a previous scheduler that still run; report the dead ones.
        QUEUED executions need nothing: `launch_queued` starts them (a duplicate loses the
        claim)."""
        for meta in self.store.task_executions_in((TaskStatus.RUNNING.value,
                                                   TaskStatus.STOPPING.value)):
            pid, pid_start = self.store.process_of(meta.id)
            if pid and pid_start and process_start_time(pid) == pid_start:
                worker = _Worker(meta.id, meta.try_number, pid, None, pid_start)
                self.workers[meta.id] = worker
                if meta.status == TaskStatus.STOPPING.value:
                    self.stop(meta.id)
                continue
            self.report(meta.id, meta.try_number,
                        TaskStatus.STOPPED if meta.status == TaskStatus.STOPPING.value
                        else TaskStatus.FAILED,
                        "its worker was gone when the scheduler restarted")

    def active(self) -> int:
        return len(self.workers)

    def shutdown(self) -> None:
        """Leave workers running: they report through the log, and a restarted scheduler
        adopts them. Only our own zombie children are collected."""
        for worker in self.workers.values():
            if worker.process is not None:
                worker.process.poll()
        self._forks.close()


class ForkServerClient:
    """Talks to the fork server (started on first use, restarted if it died)."""

    def __init__(self, env: Callable[[], Dict[str, str]],
                 process: Optional[subprocess.Popen] = None) -> None:
        self._env = env
        self._process: Optional[subprocess.Popen] = process
        if process is not None:
            os.set_blocking(process.stdout.fileno(), False)
        self._buffer = b""
        self._pids: Dict[int, int] = {}  # task execution id → pid, from PID lines
        self._exits: Dict[int, int] = {}  # pid → exit code, from EXIT lines

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def prestart(self) -> None:
        self._ensure()

    def run(self, task_execution_id: int, log_path: str) -> Optional[int]:
        """Fork a worker; its pid, or None if the fork server cannot be had."""
        if "\n" in log_path or not self._ensure():
            return None
        try:
            self._process.stdin.write(f"RUN {task_execution_id} {log_path}\n".encode())
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        deadline = time.monotonic() + 10.0
        while task_execution_id not in self._pids:
            got = self._read(max(0.0, deadline - time.monotonic()))
            if not got and (not self.alive() or time.monotonic() > deadline):
                return None
        return self._pids.pop(task_execution_id)

    def exit_code(self, pid: int) -> Optional[int]:
        self._read(0.0)
        return self._exits.pop(pid, None)

    def _ensure(self) -> bool:
        if self.alive():
            return True
        from aiflow_lite.engine.forkserver import spawn

        try:
            self._process = spawn(self._env())
        except OSError:
            self._process = None
            return False
        os.set_blocking(self._process.stdout.fileno(), False)
        return True

    def _read(self, timeout: float) -> bool:
        """Read what the fork server said (waiting up to `timeout`); True if anything came."""
        if self._process is None:
            return False
        out = self._process.stdout
        ready, _, _ = select.select([out], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(out.fileno(), 65536)
        except BlockingIOError:
            return False
        if not chunk:
            return False
        self._buffer += chunk
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            parts = line.decode().split()
            if len(parts) == 3 and parts[0] == "PID":
                self._pids[int(parts[1])] = int(parts[2])
            elif len(parts) == 4 and parts[0] == "EXIT":
                self._exits[int(parts[2])] = int(parts[3])
        return True

    def close(self) -> None:
        if self._process is not None:
            self._process.stdin.close()  # it exits; its children run on
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process.stdout.close()
            self._process = None
