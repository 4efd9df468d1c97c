"""Run-once mode: one workflow execution, scheduled in this process until quiescence.

Quiescence (DESIGN.md §4): the execution has finished, or nothing of it is active or queued,
the scheduler's cursor is at the log's end and it has no periodic timer left to fire (a periodic
task keeps a run going, like a streaming one). Then the run closes the execution with the status
its tasks earned, even one that rules on events would keep open in a server, and reports what it
still listened for. A `timeout` stops whatever still runs, cleanly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from aiflow_lite.engine.runner import SchedulerService
from aiflow_lite.events import now_ms
from aiflow_lite.meta import TaskExecutionMeta, WorkflowExecutionMeta
from aiflow_lite.status import TASK_ACTIVE

EXIT_SUCCESS, EXIT_FAILED, EXIT_TIMEOUT = 0, 1, 2
RELIST_S = 0.25  # how often the task list is re-read for the display while workers run
_ACTIVE = {s.value for s in TASK_ACTIVE}


@dataclass
class RunResult:
    execution: WorkflowExecutionMeta  # the one the run started
    tasks: List[TaskExecutionMeta]  # of every execution the run followed
    never_triggered: List[str]
    timed_out: bool
    seconds: float
    exit_code: int = EXIT_SUCCESS
    task_names: List[str] = field(default_factory=list)
    executions: List[WorkflowExecutionMeta] = field(default_factory=list)
    #: What the executions still listened for when the run closed them (DESIGN.md §4).
    listening: List[str] = field(default_factory=list)
    interrupted: bool = False  # SIGINT or SIGTERM: the run stopped everything it started

    def label(self, task: TaskExecutionMeta) -> str:
        """The task's name; qualified by its workflow when the run followed several."""
        if len(self.executions) <= 1:
            return task.task_name
        names = {e.id: e.workflow_name for e in self.executions}
        return f"{names.get(task.workflow_execution_id, '?')}.{task.task_name}"


def run_execution(service: SchedulerService, execution_id: int,
                  timeout: Optional[float] = None,
                  on_change: Optional[Callable[[List[TaskExecutionMeta]], None]] = None,
                  strict: bool = False,
                  interrupted: Optional[Callable[[], bool]] = None) -> RunResult:
    """Schedule `execution_id` with `service` (this process's scheduler, made before the upload
    so that its fork server warms up meanwhile) until quiescence or `timeout` seconds.
    Executions that start meanwhile (a workflow trigger fired by this one) are followed too.
    Once `interrupted()` is true (a signal), everything is stopped as on a timeout."""
    started = time.monotonic()
    seen: Dict[int, str] = {}
    timed_out = stopped_by_signal = False
    store = service.scheduler.executions
    followed = [execution_id]
    tasks: List[TaskExecutionMeta] = []
    stale, listed_at = True, 0.0  # `tasks` is re-read only after something happened
    while True:
        applied = service.step()
        new = store.executions_after(followed[-1])
        followed += [e.id for e in new]
        stale = stale or bool(applied or new)  # every change to a task is an event applied
        # While workers run, the list only feeds the display (quiescence needs none running):
        # re-reading it after every step cost a 1,000-task run a third of its time.
        if stale and (not service.executor.active()
                      or time.monotonic() - listed_at >= RELIST_S):
            tasks = [t for eid in followed for t in store.list_task_executions(eid)]
            stale, listed_at = False, time.monotonic()
        changed = [t for t in tasks if seen.get(t.id) != t.status]
        for t in changed:
            seen[t.id] = t.status
        if changed and on_change is not None:
            on_change(changed)
        if all(_quiescent(service, eid, [t for t in tasks if t.workflow_execution_id == eid])
               for eid in followed):
            break
        if not (timed_out or stopped_by_signal):
            if timeout is not None and time.monotonic() - started > timeout:
                timed_out = True
            elif interrupted is not None and interrupted():
                stopped_by_signal = True
            if timed_out or stopped_by_signal:
                for eid in followed:
                    _stop(service, eid)
                continue
        # Short naps while workers run: their exits come through the fork server, not the log.
        service.sleep(0.01 if service.executor.active() else 0.5)
    # Quiescent: nothing runs and nothing in the log is left to apply. An execution that would
    # still listen in a server is closed here with the status its tasks earned.
    listening = {eid: service.scheduler.close_execution(eid, now_ms()) for eid in followed}
    executions = [store.get_execution(eid) for eid in followed]
    tasks = [t for eid in followed for t in store.list_task_executions(eid)]
    result = RunResult(executions[0], tasks, [], timed_out, time.monotonic() - started,
                       executions=executions, interrupted=stopped_by_signal)
    for execution in executions:
        if listening[execution.id]:
            who = f"{execution.workflow_name}: " if len(executions) > 1 else ""
            result.listening.append(who + listening[execution.id])
        workflow = service.scheduler.snapshots.workflow(execution.snapshot_id)
        ran = {t.task_name for t in tasks if t.workflow_execution_id == execution.id}
        prefix = f"{execution.workflow_name}." if len(executions) > 1 else ""
        result.task_names += [prefix + name for name in workflow.tasks]
        result.never_triggered += [prefix + name for name in workflow.tasks if name not in ran]
    result.exit_code = _exit_code(result, strict)
    return result


def _quiescent(service: SchedulerService, execution_id: int, tasks: list) -> bool:
    execution = service.scheduler.executions.get_execution(execution_id)
    if service.executor.active():
        return False  # a worker still exiting: its home must outlive it
    if execution.status in ("SUCCESS", "FAILED", "STOPPED") and not any(
            t.status in _ACTIVE for t in tasks):
        return True
    if any(t.status in _ACTIVE for t in tasks):
        return False
    if service.scheduler.lag() > 0:
        return False
    # A periodic task's timer will fire again: the run goes on (bound it with a timeout).
    return not service.scheduler.executions.has_timers(execution_id)


def _stop(service: SchedulerService, execution_id: int) -> None:
    from aiflow_lite.events import Command, command_event

    service.scheduler.log.append_event(
        command_event(Command.STOP_EXECUTION, workflow_execution_id=execution_id), internal=True)


def _exit_code(result: RunResult, strict: bool) -> int:
    if any(t.status == "FAILED" for t in _latest(result.tasks)):
        return EXIT_FAILED
    if result.timed_out or result.interrupted or any(
            e.status == "STOPPED" for e in result.executions):
        return EXIT_TIMEOUT
    if strict and result.never_triggered:
        return EXIT_FAILED
    return EXIT_SUCCESS


def _latest(tasks: List[TaskExecutionMeta]) -> List[TaskExecutionMeta]:
    latest: Dict[tuple, TaskExecutionMeta] = {}
    for t in tasks:
        key = (t.workflow_execution_id, t.task_name)
        if key not in latest or t.sequence_number > latest[key].sequence_number:
            latest[key] = t
    return list(latest.values())
