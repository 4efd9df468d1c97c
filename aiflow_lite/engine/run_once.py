"""Run-once mode: one workflow execution, scheduled in this process until quiescence.

Quiescence (DESIGN.md §4): the execution has finished, or nothing of it is active or queued,
the scheduler's cursor is at the log's end and it has no periodic timer left to fire (a periodic
task keeps a run going, like a streaming one). A `timeout` stops whatever still runs, cleanly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from aiflow_lite.engine.runner import SchedulerService
from aiflow_lite.meta import TaskExecutionMeta, WorkflowExecutionMeta
from aiflow_lite.status import TASK_ACTIVE

EXIT_SUCCESS, EXIT_FAILED, EXIT_TIMEOUT = 0, 1, 2
_ACTIVE = {s.value for s in TASK_ACTIVE}


@dataclass
class RunResult:
    execution: WorkflowExecutionMeta
    tasks: List[TaskExecutionMeta]
    never_triggered: List[str]
    timed_out: bool
    seconds: float
    exit_code: int = EXIT_SUCCESS
    task_names: List[str] = field(default_factory=list)


def run_execution(service: SchedulerService, execution_id: int,
                  timeout: Optional[float] = None,
                  on_change: Optional[Callable[[List[TaskExecutionMeta]], None]] = None,
                  strict: bool = False) -> RunResult:
    """Schedule `execution_id` with `service` (this process's scheduler, made before the upload
    so that its fork server warms up meanwhile) until quiescence or `timeout` seconds."""
    started = time.monotonic()
    seen: Dict[int, str] = {}
    timed_out = False
    store = service.scheduler.executions
    while True:
        service.step()
        tasks = store.list_task_executions(execution_id)
        changed = [t for t in tasks if seen.get(t.id) != t.status]
        for t in changed:
            seen[t.id] = t.status
        if changed and on_change is not None:
            on_change(changed)
        if _quiescent(service, execution_id, tasks):
            break
        if timeout is not None and time.monotonic() - started > timeout and not timed_out:
            timed_out = True
            _stop(service, execution_id)
            continue
        # Short naps while workers run: their exits come through the fork server, not the log.
        service.wake.wait(0.01 if service.executor.active() else 0.5)
    workflow = service.scheduler.workflow(store.get_execution(execution_id).snapshot_id)
    tasks = store.list_task_executions(execution_id)
    ran = {t.task_name for t in tasks}
    never = [name for name in workflow.tasks if name not in ran]
    execution = store.get_execution(execution_id)
    result = RunResult(execution, tasks, never, timed_out, time.monotonic() - started,
                       task_names=list(workflow.tasks))
    result.exit_code = _exit_code(result, strict)
    return result


def _quiescent(service: SchedulerService, execution_id: int, tasks: list) -> bool:
    execution = service.scheduler.executions.get_execution(execution_id)
    if service.executor.active():
        return False  # a worker still exiting: its home must outlive it
    if execution.status in ("SUCCESS", "FAILED", "STOPPED") and not any(
            t.status in _ACTIVE for t in tasks):
        return True
    if any(t.status in _ACTIVE for t in tasks) or service.executor.active():
        return False
    if service.scheduler.lag() > 0:
        return False
    # A periodic task's timer will fire again: the run goes on (bound it with a timeout).
    return not service.scheduler.executions.has_timers(execution_id)


def _stop(service: SchedulerService, execution_id: int) -> None:
    from aiflow_lite.engine.scheduler import command_event

    event = command_event("stop_execution", workflow_execution_id=execution_id)
    service.scheduler.log.append(event.key, event.value, event.namespace, event.sender,
                                 event.context, internal=True)


def _exit_code(result: RunResult, strict: bool) -> int:
    if any(t.status == "FAILED" for t in _latest(result.tasks)):
        return EXIT_FAILED
    if result.timed_out or result.execution.status == "STOPPED":
        return EXIT_TIMEOUT
    if strict and result.never_triggered:
        return EXIT_FAILED
    return EXIT_SUCCESS


def _latest(tasks: List[TaskExecutionMeta]) -> List[TaskExecutionMeta]:
    latest: Dict[str, TaskExecutionMeta] = {}
    for t in tasks:
        if t.task_name not in latest or t.sequence_number > latest[t.task_name].sequence_number:
            latest[t.task_name] = t
    return list(latest.values())
