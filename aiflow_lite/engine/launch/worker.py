"""A worker: the process that runs one task execution.

Its executor starts it, claims the task execution for it (a conditional update naming its pid,
committed before anything runs: a relaunch after a crash can never run a task twice) and then
hands it an `Order` with everything it needs, so a worker never reads the database. It runs the
operator in the snapshot's working directory with the workflow file re-executed there (so
`__file__`-relative paths find the uploaded files), heartbeats, and leaves its result in a file
(see `results`) for the executor to report. SIGTERM means STOP: the operator's `stop` runs, then
the result is STOPPED.

`python -m aiflow_lite.engine.launch.worker` (AIFLOW_HOME set) reads its ORDER and then GO or
DROP from stdin (see `receive`, and `protocol` for the words).
"""

from __future__ import annotations

import _thread
import contextlib
import os
import signal
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Optional

from aiflow_lite.config import Settings, blob_manager_settings, load_aiflow_settings
from aiflow_lite.engine.launch.protocol import Go, Order, ProtocolError, decode, split_lines
from aiflow_lite.engine.launch.results import result_path, write_result
from aiflow_lite.events import Event, now_ms
from aiflow_lite.signal_wakeup import set_handler, stop_signals_blocked
from aiflow_lite.status import TaskStatus
from aiflow_lite.stopping import defer_stop
from aiflow_lite.task_context import put_in_environment

#: The message of a result that says its worker never started the task.
NEVER_STARTED = "its worker never started it (told DROP, or its executor was gone before GO)"


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
    #: "event", "execution", "timer" or "user" (see `protocol.Order.started_by`).
    started_by: str = "execution"
    #: The event whose rule started this task execution, or None.
    event: Optional[Event] = None


def receive(fd: int, settings: Settings) -> Optional[Order]:
    """Read this worker's order, then its executor's decision, from `fd`; the order to run, or
    None. GO: the claim is committed. DROP: the claim failed (or the executor gave up on it).
    End of input before either: the executor died around its claim, and the database says
    whether the claim was committed (then the task is ours to run: a restarted scheduler
    adopts this process). Whenever it does not run, it leaves a "never started" result."""
    buffer, lines = b"", []
    while len(lines) < 2:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        complete, buffer = split_lines(buffer + chunk)
        lines += complete
    if not lines:
        return None  # never given a task
    order = decode(lines[0])
    if not isinstance(order, Order):
        raise ProtocolError(f"a worker's first word is its ORDER, not {lines[0][:20]!r}")
    if len(lines) > 1:
        try:
            word = decode(lines[1])
        except ProtocolError:
            word = None
        if isinstance(word, Go):
            return order
    else:
        try:
            if _claimed_by_me(settings, order):
                return order
        except Exception:  # no answer (the database is unreadable): not running is the safe side
            pass
    # Not run (DROP, a word it cannot read, or no claim for it yet): should a claim for it
    # have committed anyway (a DROP sent after the commit, on an error), this says the task
    # never started, and the executor queues it again instead of failing it.
    write_result(result_path(settings.home, order.task_execution_id, order.try_number,
                             os.getpid()), TaskStatus.QUEUED, NEVER_STARTED)
    return None


def _claimed_by_me(settings: Settings, order: Order) -> bool:
    from aiflow_lite.engine.executions import ExecutionStore
    from aiflow_lite.home import open_database

    db = open_database(settings)
    try:
        meta = ExecutionStore(db).get_task_execution(order.task_execution_id)
    finally:
        db.close()
    return (meta is not None and meta.status == TaskStatus.RUNNING.value
            and meta.pid == os.getpid() and meta.try_number == order.try_number)


def working_dir_for(settings: Settings, snapshot_id: int, snapshot_uri: str) -> str:
    """The snapshot's files, extracted once (atomically: a temp dir renamed into place). The
    directory is named by the snapshot and its content (the blob's uri names its content): a
    snapshot id that a home at schema version 2 gave again never finds another's files."""
    import hashlib

    from aiflow_lite.blob import extract_snapshot, load_blob_manager

    content = hashlib.sha256(snapshot_uri.encode()).hexdigest()[:12]
    target = os.path.join(settings.home, "working_dir", f"{snapshot_id}-{content}")
    if os.path.isdir(target):
        return target
    staging = f"{target}.{os.getpid()}.tmp"
    blob = load_blob_manager(*blob_manager_settings(settings))
    archive = blob.download(snapshot_uri, staging + ".zip.d")
    extract_snapshot(archive, staging)
    try:
        os.rename(staging, target)
    except OSError:
        if not os.path.isdir(target):
            raise  # another worker won the race otherwise: use its copy
    return target


def preload(settings: Settings, order: Order) -> Any:
    """Execute the order's workflow file in its snapshot's working directory (which becomes
    the cwd); the loaded file."""
    from aiflow_lite.loader import load_workflow_file

    working_dir = working_dir_for(settings, order.snapshot_id, order.snapshot_uri)
    os.chdir(working_dir)
    return load_workflow_file(os.path.join(working_dir, order.file_name))


def run(order: Order, settings: Optional[Settings] = None, preloaded: Any = None) -> int:
    """Run one claimed task execution and leave its result for the executor. `settings` may
    come from a fork server that read them once, and `preloaded` (the snapshot's file, loaded)
    from a zygote."""
    settings = settings or load_aiflow_settings()
    pid = os.getpid()
    print(f"[aiflow] {order.namespace}.{order.workflow_name} execution "
          f"{order.workflow_execution_id} task {order.task_name} #{order.sequence_number} "
          f"try {order.try_number} (pid {pid})", flush=True)
    status, message = TaskStatus.FAILED, None
    heartbeat = _Heartbeat(settings, order.task_execution_id, order.try_number,
                           pid if order.claim_pid is None else order.claim_pid)
    try:
        status, message = _run_task(settings, order, preloaded)
    except TaskStopped:  # a stop that landed while a failure was being handled
        status, message = TaskStatus.STOPPED, "stopped"
    finally:
        try:
            set_handler(signal.SIGTERM, signal.SIG_IGN)
        except TaskStopped:  # one landed as the handler was being changed: a stop all the same
            status, message = TaskStatus.STOPPED, "stopped"
            set_handler(signal.SIGTERM, signal.SIG_IGN)
        heartbeat.stop()
        write_result(result_path(settings.home, order.task_execution_id, order.try_number,
                                 pid), status, message)
        print(f"[aiflow] result: {status.value}" + (f" ({message})" if message else ""),
              flush=True)
    return 0


def _run_task(settings: Settings, order: Order, preloaded: Any) -> tuple:
    def stop(signum: int, frame: Any) -> None:
        if not defer_stop():  # an operator is starting a child: it ends its block first
            raise TaskStopped()

    set_handler(signal.SIGTERM, stop)
    operator, context, spilled = None, None, None
    try:
        spilled = put_in_environment({
            "home": settings.home, "namespace": order.namespace,
            "workflow_execution_id": order.workflow_execution_id,
            "task_execution_id": order.task_execution_id, "task_name": order.task_name,
            "started_by": order.started_by, "event": order.trigger})
        loaded = preloaded or preload(settings, order)
        workflow = next((w for w in loaded.workflows if w.name == order.workflow_name
                         and w.namespace == order.namespace), None)
        if workflow is None or order.task_name not in workflow.tasks:
            return TaskStatus.FAILED, (f"task {order.task_name!r} is not in the snapshot's "
                                       f"workflow file {order.file_name}")
        operator = workflow.tasks[order.task_name]
        context = TaskContext(order.workflow_execution_id, order.task_execution_id,
                              order.task_name, order.sequence_number, order.try_number,
                              order.namespace, os.path.dirname(loaded.path), order.started_by,
                              None if order.trigger is None else Event(**order.trigger))
        operator.start(context)
        operator.await_termination(context)
        set_handler(signal.SIGTERM, signal.SIG_IGN)  # done: the result must be reported
        return TaskStatus.SUCCESS, None
    except TaskStopped:
        set_handler(signal.SIGTERM, signal.SIG_IGN)
        if operator is not None:
            try:
                operator.stop(context)
            except Exception as exc:
                print(f"[aiflow] stop failed: {exc}", file=sys.stderr)
        return TaskStatus.STOPPED, "stopped"
    except BaseException as exc:  # the user's code: its failure is the task's result
        set_handler(signal.SIGTERM, signal.SIG_IGN)
        from aiflow_lite.operators.base import TaskFailed

        if not isinstance(exc, TaskFailed):  # an operator's own verdict needs no traceback
            traceback.print_exc()
        return TaskStatus.FAILED, f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]
    finally:  # every way out (the early return above included) is deaf to stops
        set_handler(signal.SIGTERM, signal.SIG_IGN)
        if spilled is not None:
            with contextlib.suppress(OSError):
                os.unlink(spilled)


class _Heartbeat:
    """Marks the execution alive every `task_heartbeat_interval` seconds, on its own connection."""

    def __init__(self, settings: Settings, task_execution_id: int, try_number: int,
                 pid: int) -> None:
        # A held lock, released to stop: cheaper to make in a fresh fork than an Event (a
        # Condition and its lock, each a Python object), and `acquire(timeout=)` waits alike.
        self._running = _thread.allocate_lock()
        self._running.acquire()
        interval = settings.task_heartbeat_interval

        def beat() -> None:
            db = None  # opened at the first beat: a short task never pays for it
            try:
                while not self._running.acquire(timeout=interval):
                    if db is None:
                        from aiflow_lite.engine.executions import ExecutionStore
                        from aiflow_lite.home import open_database

                        db = open_database(settings)
                    ExecutionStore(db).heartbeat(task_execution_id, pid, try_number, now_ms())
            finally:
                if db is not None:
                    db.close()

        # A raw thread: threading.Thread.start() waits until the new thread runs, which cost a
        # short task up to several ms of its start. Nothing joins it (the worker exits). Deaf
        # to stops: a SIGTERM must reach the main thread, whatever it is blocked in.
        with stop_signals_blocked():
            _thread.start_new_thread(beat, ())

    def stop(self) -> None:
        if self._running.locked():
            self._running.release()


def main() -> None:
    """The spawned worker: its order and the executor's decision come on stdin."""
    settings = load_aiflow_settings()
    order = receive(0, settings)
    if order is None:
        sys.exit(0)
    null = os.open(os.devnull, os.O_RDONLY)  # the task reads nothing of ours
    os.dup2(null, 0)
    os.close(null)
    sys.exit(run(order, settings))


if __name__ == "__main__":
    main()
