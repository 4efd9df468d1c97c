"""The scheduler: the one consumer that turns events into scheduling decisions.

`step(now)` reads the events after its durable cursor, applies each (commands, task results,
rules, workflow triggers), fires due timers, and commits every resulting state change together
with the new cursor position: one transaction, so a kill -9 at any moment loses or repeats
nothing. Only after the commit does it launch or stop worker processes (DESIGN.md §3).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from aiflow_lite.engine import decide, lifetime, triggers
from aiflow_lite.engine.executions import ExecutionStore
from aiflow_lite.engine.schedules import ScheduleStore
from aiflow_lite.engine.snapshots import SnapshotCache
from aiflow_lite.events import Command, Event, InternalKey, local_time, task_status_key
from aiflow_lite.meta import WorkflowExecutionMeta
from aiflow_lite.ns.event_log import EventLog
from aiflow_lite.sqlite import Database
from aiflow_lite.status import (
    STARTED_WITH_EXECUTION,
    TASK_ACTIVE,
    TASK_FINISHED,
    WORKFLOW_FINISHED,
    ExecutionType,
    TaskAction,
    TaskStatus,
    WorkflowStatus,
)
from aiflow_lite.timing import parse_periodic_expression

log = logging.getLogger(__name__)

CURSOR = "scheduler"
BATCH = 500
SENDER = "scheduler"
DISABLED_NOTE = "stopped: its workflow was disabled"


@dataclass
class StepResult:
    events: int = 0
    to_stop: List[int] = field(default_factory=list)


class Scheduler:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.log = EventLog(db)
        self.executions = ExecutionStore(db)
        self.schedules = ScheduleStore(db)
        self.snapshots = SnapshotCache(self.executions)
        self._result = StepResult()
        self._now = 0
        self._cut_short: set = set()  # executions this step could not go on with: disabled

    # -- the loop step ------------------------------------------------------------------------

    def step(self, now: int) -> StepResult:
        """Apply a batch of events and the timers due at `now`, in one transaction. After it
        returns (after the commit) the caller stops `to_stop`; the executor launches whatever
        is QUEUED, claiming each (a crash between the two loses nothing)."""
        self._result = StepResult()
        self._now = now
        self._cut_short = set()
        cursor = self.log.cursor(CURSOR)
        if cursor is None:
            cursor = self.log.create_cursor(CURSOR, 0)
        if self._nothing_due(cursor, now):
            return self._result  # no write lock taken: workers claiming and reporting go on
        applied = 0
        with self.db.transaction():
            # The status events this step appends are read back in the same transaction, so a
            # chain's next task is queued without waiting for another wake-up.
            events = self.log.read_after(cursor, limit=BATCH)
            while events:
                for event in events:
                    self._apply(event)
                applied += len(events)
                cursor = events[-1].offset
                if applied >= BATCH:
                    break
                events = self.log.read_after(cursor, limit=BATCH - applied)
            self._fire_timers()
            self._fire_schedules()
            self._requeue_retries()
            if applied:
                self.log.advance_cursor(CURSOR, cursor)
        self._result.events = applied
        return self._result

    def _nothing_due(self, cursor: int, now: int) -> bool:
        """True when a step would change nothing: no event after the cursor, no timer,
        schedule or retry due. (Wake-ups come after every commit, ours included, so most of
        them find nothing; an event appended after this check wakes us again.)"""
        if self.log.latest_offset() > cursor:
            return False
        due = (self.executions.next_timer_time(), self.schedules.next_schedule_time(),
               self.executions.next_retry_time())
        return all(t is None or t > now for t in due)

    def lag(self) -> int:
        """How many offsets the scheduler is behind the log's end."""
        return self.log.latest_offset() - (self.log.cursor(CURSOR) or 0)

    # -- events -------------------------------------------------------------------------------

    def _apply(self, event: Event) -> None:
        if event.key == InternalKey.COMMAND.value:
            self._command(event)
        elif event.key == InternalKey.TASK_RESULT.value:
            self._task_result(event)
        elif event.key.startswith(InternalKey.TASK_STATUS.value):
            self._rules(event)
            # Only now, after the rules on this status change had their say (a cleanup task
            # on FAILED, a follower on SUCCESS), may the execution be finished. (A task that
            # became active finishes nothing.)
            execution_id = event.context_dict().get("workflow_execution_id")
            if execution_id is not None and event.value in _TASK_FINISHED:
                self._update_execution(int(execution_id))
        else:
            self._rules(event)
            self._triggers(event)

    def _targets(self, event: Event) -> List[WorkflowExecutionMeta]:
        """Events sent from a task affect only its execution; others every running execution
        of their namespace."""
        execution_id = event.context_dict().get("workflow_execution_id")
        if execution_id is not None:
            if not self.snapshots.listens(int(execution_id), event.key):
                return []  # the common case for status events: read nothing more
            meta = self.executions.get_execution(int(execution_id))
            return [meta] if meta and meta.status == WorkflowStatus.RUNNING.value else []
        if event.namespace is None:
            return []
        return self.executions.running_executions(event.namespace)

    def _rules(self, event: Event) -> None:
        for execution in self._targets(event):
            if not self.snapshots.expects(execution.snapshot_id, event.key):
                continue
            workflow = self.snapshots.workflow(execution.snapshot_id)
            latest = self._latest(execution.id)
            statuses = {name: item.status for name, item in latest.items()}
            decisions, updates = decide.evaluate_rules(
                workflow.rules, statuses, self.executions.rule_states(execution.id), event)
            for (task, index, name), value in updates.items():
                self.executions.put_rule_state(execution.id, task, index, name, value)
            if decisions and not self.executions.workflow_enabled(execution.workflow_id):
                # A disabled workflow schedules nothing new: an execution whose next task
                # was due cannot end as if it had succeeded (see _update_execution).
                self._cut_short.add(execution.id)
                continue
            for decision in decisions:
                self._act(execution, decision.task_name, decision.action, decision.reason,
                          ExecutionType.EVENT, trigger_offset=event.offset)

    def _triggers(self, event: Event) -> None:
        triggers.fire_triggers(
            self.schedules, self.executions, event,
            lambda workflow_id, why: self.start_new_execution(workflow_id, ExecutionType.EVENT,
                                                              why))

    # -- commands -----------------------------------------------------------------------------

    def _command(self, event: Event) -> None:
        args = event.context_dict()
        execution = self.executions.get_execution(int(args.get("workflow_execution_id", 0)))
        if execution is None:
            return  # deleted since: nothing to do
        try:
            command = Command(event.value)
        except ValueError:
            log.warning("ignoring unknown command %r at offset %s", event.value, event.offset)
            return
        why = command.reason
        if command == Command.START_EXECUTION and execution.status == WorkflowStatus.INIT.value:
            self._start_execution(execution, why)
        elif command == Command.STOP_EXECUTION and execution.status not in _FINISHED:
            self._stop_execution(execution, why)
        elif command in _TASK_ACTIONS and execution.status == WorkflowStatus.RUNNING.value:
            action = _TASK_ACTIONS[command]
            workflow = self.snapshots.workflow(execution.snapshot_id)
            if args.get("task_name") in workflow.tasks:
                if action == TaskAction.START and self._is_stopping(execution.id,
                                                                     args["task_name"]):
                    action = TaskAction.RESTART  # queued until the stopping one has ended
                self._act(execution, args["task_name"], action, why, ExecutionType.MANUAL,
                          hold=action == TaskAction.STOP)

    def start_new_execution(self, workflow_id: int, execution_type: ExecutionType,
                            reason: str) -> Optional[int]:
        """Create and start an execution of the workflow's latest snapshot (schedules and
        triggers); nothing for a disabled workflow."""
        if not self.executions.workflow_enabled(workflow_id):
            return None
        snapshot_id = self.schedules.latest_snapshot(workflow_id)
        execution_id = self.executions.create_execution(workflow_id, snapshot_id,
                                                        execution_type.value, reason)
        self._start_execution(self.executions.get_execution(execution_id), reason)
        return execution_id

    def _start_execution(self, execution: WorkflowExecutionMeta, why: str) -> None:
        if not self.executions.workflow_enabled(execution.workflow_id):
            # Asked for before the workflow was disabled: it starts nothing, so it ends now.
            self.executions.set_execution_status(execution.id, WorkflowStatus.STOPPED,
                                                 self._now, note=DISABLED_NOTE)
            return
        self.executions.set_execution_status(execution.id, WorkflowStatus.RUNNING, self._now)
        workflow = self.snapshots.workflow(execution.snapshot_id)
        for name in workflow.starting_tasks():
            self._act(execution, name, TaskAction.START, f"{STARTED_WITH_EXECUTION} ({why})",
                      ExecutionType(execution.execution_type))
        for name, task in workflow.tasks.items():
            if task.periodic_expression:
                expression = parse_periodic_expression(task.periodic_expression)
                self.executions.put_timer(execution.id, name, expression.text, self._now,
                                          expression.next_fire(self._now, self._now))
        self._update_execution(execution.id)

    def _stop_execution(self, execution: WorkflowExecutionMeta, why: str) -> None:
        for latest in self._latest(execution.id).values():
            if latest.status in TASK_ACTIVE:
                self._stop_task(execution, latest, f"the execution was stopped ({why})")
        self.executions.delete_timers(execution.id)
        self.executions.set_execution_status(execution.id, WorkflowStatus.STOPPED, self._now)

    # -- task actions -------------------------------------------------------------------------

    def _act(self, execution: WorkflowExecutionMeta, task_name: str, action: TaskAction,
             reason: str, execution_type: ExecutionType, hold: bool = False,
             trigger_offset: Optional[int] = None) -> None:
        """Apply `action` to the task; `hold`: a user stopped it, so it keeps the execution
        open to be started again; `trigger_offset`: the event whose rule it is (the task
        sees that event)."""
        meta = self.executions.latest_task_execution(execution.id, task_name)
        latest = None if meta is None else decide.Latest(meta.id, TaskStatus(meta.status),
                                                         meta.sequence_number)
        stop, start = decide.plan(action, latest)
        if stop:
            if hold:
                self.executions.hold(latest.id)
            self._stop_task(execution, latest, reason)
        if start:
            created = self.executions.create_task_execution(
                execution.id, task_name, execution_type.value, reason, self._now,
                trigger_offset)
            self._announce(execution, task_name, created.id, TaskStatus.QUEUED)

    def _stop_task(self, execution: WorkflowExecutionMeta, latest: decide.Latest,
                   reason: str) -> None:
        if latest.status == TaskStatus.STOPPING:
            return  # its process is being stopped: its report will say STOPPED
        if latest.status == TaskStatus.RUNNING:
            self.executions.set_task_status(latest.id, TaskStatus.STOPPING, self._now, reason)
            self._result.to_stop.append(latest.id)
            new = TaskStatus.STOPPING
        else:  # QUEUED or RETRYING: no process holds it yet (a late claim will fail)
            self.executions.set_task_status(latest.id, TaskStatus.STOPPED, self._now, reason)
            new = TaskStatus.STOPPED
        meta = self.executions.get_task_execution(latest.id)
        self._announce(execution, meta.task_name, latest.id, new)

    def _is_stopping(self, execution_id: int, task_name: str) -> bool:
        meta = self.executions.latest_task_execution(execution_id, task_name)
        return meta is not None and meta.status == TaskStatus.STOPPING.value

    def recheck_idle(self, now: int) -> None:
        """At start-up: end every RUNNING execution with nothing active that can no longer
        start a task (those left RUNNING by a version whose lifetime rules differed)."""
        self._now = now
        with self.db.transaction():
            for execution_id in self.executions.idle_running_executions():
                self._update_execution(execution_id)

    def _task_result(self, event: Event) -> None:
        args = event.context_dict()
        meta = self.executions.get_task_execution(int(args.get("task_execution_id", 0)))
        if meta is None:
            return
        unclaimed_death = (meta.status == TaskStatus.QUEUED.value and event.sender == "executor"
                           and event.value == TaskStatus.FAILED.value)
        if meta.status not in (TaskStatus.RUNNING.value, TaskStatus.STOPPING.value) \
                and not unclaimed_death:
            return  # a late or repeated report: the first one won
        if int(args.get("try_number", meta.try_number)) != meta.try_number:
            return
        execution = self.executions.get_execution(meta.workflow_execution_id)
        reported = TaskStatus(event.value)
        task = self.snapshots.workflow(execution.snapshot_id).tasks.get(meta.task_name)
        message = args.get("message")
        if meta.status == TaskStatus.STOPPING.value:
            final = TaskStatus.STOPPED
        elif (reported == TaskStatus.FAILED and task is not None
              and meta.try_number <= task.max_retries
              and execution.status == WorkflowStatus.RUNNING.value):
            self.executions.set_retrying(meta.id, self._now + int(task.retry_delay * 1000))
            self._announce(execution, meta.task_name, meta.id, TaskStatus.RETRYING, message)
            return
        else:
            final = reported
        # A stop keeps the reason it was stopped for; a failure records what failed.
        self.executions.set_task_status(meta.id, final, self._now,
                                        message if final == TaskStatus.FAILED else None)
        self._announce(execution, meta.task_name, meta.id, final, message)

    def _announce(self, execution: WorkflowExecutionMeta, task_name: str, task_execution_id: int,
                  status: TaskStatus, message: Optional[str] = None) -> None:
        """A status change is an event, so rules on it (start_after, ...) see it in order."""
        context: Dict[str, Any] = {"workflow_execution_id": execution.id,
                                   "task_execution_id": task_execution_id}
        if message:
            context["message"] = message[:2000]
        self.log.append(task_status_key(task_name), status.value, execution.namespace, SENDER,
                        context, internal=True)

    def _update_execution(self, execution_id: int) -> None:
        """End the execution once nothing is active and nothing can start a task any more
        (`lifetime`); while it is idle but listening, record what for."""
        execution = self.executions.get_execution(execution_id)
        if execution is None or execution.status != WorkflowStatus.RUNNING.value:
            return
        if self.executions.has_active_tasks(execution_id):
            return  # the common case in a fan-out: no need to look at every task
        if execution_id in self._cut_short:
            self.executions.delete_timers(execution_id)
            self.executions.set_execution_status(execution_id, WorkflowStatus.STOPPED,
                                                 self._now, note=DISABLED_NOTE)
            return
        wait = self._waiting_for(execution)
        if wait is not None:
            if wait != execution.waiting_for:
                self.executions.set_waiting_for(execution_id, wait)
            return
        self._finish(execution)

    def _waiting_for(self, execution: WorkflowExecutionMeta) -> Optional[str]:
        return lifetime.waiting_for(self.snapshots.workflow(execution.snapshot_id),
                                    self.executions.has_timers(execution.id),
                                    self.executions.held_tasks(execution.id))

    def _finish(self, execution: WorkflowExecutionMeta) -> None:
        latest = {name: item.status for name, item in self._latest(execution.id).items()}
        status = lifetime.earned_status(latest)
        if status != WorkflowStatus.RUNNING:
            self.executions.delete_timers(execution.id)
            self.executions.set_execution_status(execution.id, status, self._now)

    def close_execution(self, execution_id: int, now: int) -> Optional[str]:
        """Run-once's end (the caller has seen quiescence): a RUNNING execution with nothing
        active ends with the status its tasks earned, even if it still listens. Returns what it
        was still waiting for (None if nothing)."""
        self._now = now
        with self.db.transaction():
            execution = self.executions.get_execution(execution_id)
            if execution is None or execution.status != WorkflowStatus.RUNNING.value or \
                    self.executions.has_active_tasks(execution_id):
                return None
            wait = self._waiting_for(execution)
            self._finish(execution)
            return wait

    # -- timers -------------------------------------------------------------------------------

    def _fire_timers(self) -> None:
        for execution_id, task_name, text, anchor, due in self.executions.due_timers(self._now):
            execution = self.executions.get_execution(execution_id)
            expression = parse_periodic_expression(text)
            self.executions.put_timer(execution_id, task_name, text, anchor,
                                      expression.next_fire(self._now, anchor))
            if self.executions.workflow_enabled(execution.workflow_id):
                self._act(execution, task_name, TaskAction.START,
                          f"periodic {text}, due at {local_time(due)}", ExecutionType.PERIODIC)

    def _fire_schedules(self) -> None:
        for schedule in self.schedules.due_schedules(self._now):
            expression = parse_periodic_expression(schedule.expression)
            self.schedules.set_next_fire(schedule.id,
                                         expression.next_fire(self._now, schedule.anchor_time))
            self.start_new_execution(schedule.workflow_id, ExecutionType.PERIODIC,
                                     f"schedule {schedule.id} ({schedule.expression}), due at "
                                     f"{local_time(schedule.next_fire_time)}")

    def _requeue_retries(self) -> None:
        for meta in self.executions.due_retries(self._now):
            self.executions.requeue_for_retry(meta.id)
            execution = self.executions.get_execution(meta.workflow_execution_id)
            self._announce(execution, meta.task_name, meta.id, TaskStatus.QUEUED)

    # -- reading ------------------------------------------------------------------------------

    def _latest(self, execution_id: int) -> Dict[str, decide.Latest]:
        return {name: decide.Latest(meta.id, TaskStatus(meta.status), meta.sequence_number)
                for name, meta in self.executions.latest_task_executions(execution_id).items()}


_TASK_ACTIONS = {Command.START_TASK: TaskAction.START, Command.STOP_TASK: TaskAction.STOP,
                 Command.RESTART_TASK: TaskAction.RESTART}
_FINISHED = {s.value for s in WORKFLOW_FINISHED}
_TASK_FINISHED = {s.value for s in TASK_FINISHED}
