"""A worker: the process that runs one task execution.

`python -m aiflow_lite.engine.worker TASK_EXECUTION_ID` (AIFLOW_HOME set). It claims its QUEUED
execution first (a conditional update: a relaunch after a crash can never run it twice), runs the
operator in the snapshot's working directory with the workflow file re-executed there (so
`__file__`-relative paths find the uploaded files), heartbeats, and reports its result as an
event. SIGTERM means STOP: the operator's `stop` runs, then the result is STOPPED.
"""

from __future__ import annotations

import _thread
import json
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Optional

from aiflow_lite.config import Settings, blob_manager_settings, load_aiflow_settings
from aiflow_lite.engine.executions import ExecutionStore
from aiflow_lite.events import InternalKey, now_ms
from aiflow_lite.home import open_database
from aiflow_lite.ns.client import TASK_CONTEXT_ENV
from aiflow_lite.ns.event_log import EventLog
from aiflow_lite.status import TaskStatus

SENDER = "worker"


class TaskStopped(BaseException):
    """Raised in the worker's main thread by SIGTERM (BaseException: user code rarely
    catches it by accident)."""


@dataclass
class TaskContext:
    """What an operator's start/stop/await_termination receive as `context`."""

    workflow_execution_id: int
    task_execution_id: int
    task_name: str
    sequence_number: int
    try_number: int
    namespace: str
    working_dir: str


def process_start_time(pid: int) -> Optional[str]:
    """The kernel's start time of `pid` (with the pid, it names one process, reuse or not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:  # bytes: no codec to import in a worker
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def working_dir_for(settings: Settings, store: ExecutionStore, snapshot_id: int) -> str:
    """The snapshot's files, extracted once (atomically: a temp dir renamed into place)."""
    from aiflow_lite.blob import extract_snapshot, load_blob_manager

    target = os.path.join(settings.home, "working_dir", str(snapshot_id))
    if os.path.isdir(target):
        return target
    uri, _ = store.snapshot_file(snapshot_id)
    staging = f"{target}.{os.getpid()}.tmp"
    blob = load_blob_manager(*blob_manager_settings(settings))
    archive = blob.download(uri, staging + ".zip.d")
    extract_snapshot(archive, staging)
    try:
        os.rename(staging, target)
    except OSError:
        if not os.path.isdir(target):
            raise  # another worker won the race otherwise: use its copy
    return target


def run(task_execution_id: int, log_path: Optional[str] = None,
        settings: Optional[Settings] = None, db: Optional[Any] = None) -> int:
    """Claim, run and report one task execution. `settings` may come from a fork server that
    read them once, and `db` from a spare worker that opened it ahead of its task; `log_path`
    is recorded with the claim."""
    settings = settings or load_aiflow_settings()
    db = db or open_database(settings)
    store = ExecutionStore(db)
    events = EventLog(db)
    meta = store.get_task_execution(task_execution_id)
    if meta is None:
        print(f"task execution {task_execution_id} does not exist", file=sys.stderr)
        return 0
    execution = store.get_execution(meta.workflow_execution_id)
    pid = os.getpid()
    with db.transaction():
        if not store.claim(task_execution_id, pid, process_start_time(pid) or "", now_ms(),
                           log_path):
            print(f"task execution {task_execution_id} is {meta.status}, not QUEUED: "
                  "nothing to run", file=sys.stderr)
            return 0
        events.append(f"{InternalKey.TASK_STATUS.value}.{meta.task_name}",
                      TaskStatus.RUNNING.value, execution.namespace, SENDER,
                      {"workflow_execution_id": execution.id,
                       "task_execution_id": task_execution_id}, internal=True)
    print(f"[aiflow] {execution.namespace}.{execution.workflow_name} execution {execution.id} "
          f"task {meta.task_name} #{meta.sequence_number} try {meta.try_number} (pid {pid})",
          flush=True)
    status, message = TaskStatus.FAILED, None
    heartbeat = _Heartbeat(settings, task_execution_id, pid)
    try:
        status, message = _run_task(settings, store, execution, meta)
    except TaskStopped:  # a stop that landed while a failure was being handled
        status, message = TaskStatus.STOPPED, "stopped"
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        heartbeat.stop()
        events.append(InternalKey.TASK_RESULT.value, status.value, execution.namespace, SENDER,
                      {"task_execution_id": task_execution_id, "try_number": meta.try_number,
                       "message": message}, internal=True)
        print(f"[aiflow] result: {status.value}" + (f" ({message})" if message else ""),
              flush=True)
        db.close()
    return 0


def _run_task(settings: Settings, store: ExecutionStore, execution: Any,
              meta: Any) -> tuple:
    def stop(signum: int, frame: Any) -> None:
        raise TaskStopped()

    signal.signal(signal.SIGTERM, stop)
    operator, context = None, None
    try:
        working_dir = working_dir_for(settings, store, execution.snapshot_id)
        _, file_name = store.snapshot_file(execution.snapshot_id)
        os.chdir(working_dir)
        os.environ[TASK_CONTEXT_ENV] = json.dumps({
            "home": settings.home, "namespace": execution.namespace,
            "workflow_execution_id": execution.id, "task_execution_id": meta.id,
            "task_name": meta.task_name})
        from aiflow_lite.loader import load_workflow_file

        loaded = load_workflow_file(os.path.join(working_dir, file_name))
        workflow = next((w for w in loaded.workflows if w.name == execution.workflow_name
                         and w.namespace == execution.namespace), None)
        if workflow is None or meta.task_name not in workflow.tasks:
            return TaskStatus.FAILED, (f"task {meta.task_name!r} is not in the snapshot's "
                                       f"workflow file {file_name}")
        operator = workflow.tasks[meta.task_name]
        context = TaskContext(execution.id, meta.id, meta.task_name, meta.sequence_number,
                              meta.try_number, execution.namespace, working_dir)
        operator.start(context)
        operator.await_termination(context)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # done: the result must be reported
        return TaskStatus.SUCCESS, None
    except TaskStopped:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if operator is not None:
            try:
                operator.stop(context)
            except Exception as exc:
                print(f"[aiflow] stop failed: {exc}", file=sys.stderr)
        return TaskStatus.STOPPED, "stopped"
    except BaseException as exc:  # the user's code: its failure is the task's result
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if type(exc).__name__ != "TaskFailed":  # an operator's own verdict needs no traceback
            traceback.print_exc()
        return TaskStatus.FAILED, f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]


class _Heartbeat:
    """Marks the execution alive every `task_heartbeat_interval` seconds, on its own connection."""

    def __init__(self, settings: Settings, task_execution_id: int, pid: int) -> None:
        self._stop = threading.Event()
        interval = float(settings.values.get("task_heartbeat_interval", 10))

        def beat() -> None:
            db = None  # opened at the first beat: a short task never pays for it
            try:
                while not self._stop.wait(interval):
                    db = db or open_database(settings)
                    ExecutionStore(db).heartbeat(task_execution_id, pid, now_ms())
            finally:
                if db is not None:
                    db.close()

        # A raw thread: threading.Thread.start() waits until the new thread runs, which cost a
        # short task up to several ms of its start. Nothing joins it (the worker exits).
        _thread.start_new_thread(beat, ())

    def stop(self) -> None:
        self._stop.set()


def main() -> None:
    sys.exit(run(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None))


if __name__ == "__main__":
    main()
