"""The scheduler process: one per home (an exclusive lock, not hope), looping `step(now)` and the
executor, sleeping on the event log's wake-up socket between steps.

`python -m aiflow_lite.engine.runner` runs it in the foreground; `aiflow server start [-d]`
wraps this. SIGTERM/SIGINT stop it cleanly; running workers are left to finish and report
(a restarted scheduler adopts them).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any, Callable, Optional

from aiflow_lite.config import Settings, load_aiflow_settings
from aiflow_lite.engine.executions import ExecutionStore
from aiflow_lite.engine.executor import LocalExecutor
from aiflow_lite.engine.lock import acquire, lock_path, running_scheduler_pid
from aiflow_lite.engine.scheduler import BATCH, Scheduler
from aiflow_lite.errors import AiflowError
from aiflow_lite.events import now_ms
from aiflow_lite.home import open_database
from aiflow_lite.ns.event_log import EventLog
from aiflow_lite.ns.wakeup import WakeSocket, wake_dir_for

log = logging.getLogger(__name__)

IDLE_POLL_S = 1.0
BUSY_POLL_S = 0.1  # while workers run: how soon an unreported death is noticed


def make_executor(settings: Settings, store: ExecutionStore, events: EventLog,
                  fork_server: Optional[Any] = None) -> Any:
    """The executor `task_executor` names: local (a fork server already started for the home
    is adopted) or ray (it is not needed, and let go)."""
    if str(settings.task_executor).strip().lower() != "ray":
        return LocalExecutor(settings, store, events, fork_server)
    from aiflow_lite.engine.ray_executor import RayExecutor

    if fork_server is not None:
        from aiflow_lite.engine.launch.choose import release_fork_server

        release_fork_server(fork_server)
    return RayExecutor(settings, store, events)


class SchedulerService:
    """The scheduler, its executor and its wake-up socket, bound to one home."""

    def __init__(self, settings: Settings, fork_server: Optional[Any] = None) -> None:
        """`fork_server`: a fork server process already started for this home (see
        `forkserver.spawn`); the executor adopts it."""
        self.settings = settings
        os.makedirs(settings.home, exist_ok=True)
        lock_fd = acquire(lock_path(settings))
        if lock_fd is None:
            pid = running_scheduler_pid(settings)
            raise AiflowError(f"a scheduler already runs for {settings.home} (pid {pid}); "
                              "stop it with `aiflow server stop`")
        self._lock_fd = lock_fd
        self.db = open_database(settings)
        self.wake = WakeSocket(wake_dir_for(settings.db_path))  # before the first read
        self.scheduler = Scheduler(self.db)
        self.executor = make_executor(settings, ExecutionStore(self.db), EventLog(self.db),
                                      fork_server)
        self.stopping = threading.Event()
        timeout = settings.task_heartbeat_timeout
        self.executor.recover(timeout)
        self.scheduler.recheck_idle(now_ms())

    def step(self, now: Optional[int] = None) -> int:
        """One round: reap, schedule, stop, launch. Returns the number of events applied.
        Reaping first lets the same round apply the results it reports and launch what they
        start (a chain's next task), instead of a round later, after a sleep and a wake-up."""
        self.executor.reap()
        result = self.scheduler.step(now_ms() if now is None else now)
        for task_execution_id in result.to_stop:
            self.executor.stop(task_execution_id)
        self.executor.launch_queued()
        return result.events

    def run(self, until: Optional[Callable[[], bool]] = None) -> None:
        """Loop until stopped (or `until()` is true); sleep on wake-ups when idle."""
        while not self.stopping.is_set():
            applied = self.step()
            if until is not None and until():
                break
            if applied >= BATCH:
                continue  # more events are waiting
            self.sleep(self._sleep_time())

    def sleep(self, timeout: float) -> None:
        """Until a commit to the home, a worker's exit, or `timeout` seconds."""
        self.wake.watch(self.executor.wake_fd())
        self.wake.wait(timeout)

    def _sleep_time(self) -> float:
        limit = BUSY_POLL_S if self.executor.active() else IDLE_POLL_S
        due = [t for t in (self.scheduler.executions.next_timer_time(),
                           self.scheduler.schedules.next_schedule_time(),
                           self.scheduler.executions.next_retry_time()) if t is not None]
        if due:
            limit = min(limit, max(0.0, (min(due) - now_ms()) / 1000))
        return limit

    def close(self) -> None:
        self.executor.shutdown()
        self.wake.close()
        self.db.close()
        os.close(self._lock_fd)


def main() -> None:
    """Run the scheduler of AIFLOW_HOME in the foreground until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        service = SchedulerService(load_aiflow_settings())
    except AiflowError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)

    def stop(signum: int, frame: object) -> None:
        service.stopping.set()
        service.wake.interrupt()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started for %s (pid %d)", service.settings.home, os.getpid())
    try:
        service.run()
    finally:
        service.close()
        log.info("scheduler stopped")


if __name__ == "__main__":
    main()
