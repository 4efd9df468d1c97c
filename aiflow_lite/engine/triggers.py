"""Workflow triggers: a user event meets a trigger's condition and a new execution of its
workflow starts. The condition's ValueState is committed with the scheduler's cursor, like a
task rule's, so a kill -9 between two awaited events loses nothing."""

from __future__ import annotations

import logging
from typing import Callable, Dict, Iterator, Mapping, Optional

from aiflow_lite.engine import decide
from aiflow_lite.engine.executions import ExecutionStore
from aiflow_lite.engine.schedules import ScheduleStore
from aiflow_lite.events import Event
from aiflow_lite.status import TaskStatus

log = logging.getLogger(__name__)


def fire_triggers(schedules: ScheduleStore, executions: ExecutionStore, event: Event,
                  start: Callable[[int, str], object]) -> None:
    """Evaluate every active trigger expecting `event.key`; `start(workflow_id, reason)` for
    each one met. A trigger whose condition raises is treated as not met and keeps no state."""
    if event.namespace is None:
        return
    for trigger, rule in schedules.active_triggers(event.namespace, event.key):
        states = {("", 0, name): value
                  for name, value in schedules.trigger_states(trigger.id).items()}
        context = decide.RuleContext(_NewestStatuses(executions, trigger.workflow_id),
                                     states, "", 0)
        try:
            fired = rule.trigger(event, context)
        except Exception:
            log.exception("workflow trigger %d raised on event %s; treated as not met",
                          trigger.id, event.offset)
            continue
        for (_, _, name), value in context.updates().items():
            schedules.put_trigger_state(trigger.id, name, value)
        if fired:
            start(trigger.workflow_id, f"trigger {trigger.id} fired by event {event.key!r} at "
                                        f"offset {event.offset}")


class _NewestStatuses(Mapping):
    """What `get_task_status(name)` means inside a workflow trigger: the task's latest status
    in the newest execution of the workflow the trigger starts (None if it has none), so a
    trigger can wait for the previous run, say. Read only when a condition asks."""

    def __init__(self, executions: ExecutionStore, workflow_id: int) -> None:
        self._executions, self._workflow_id = executions, workflow_id
        self._statuses: Optional[Dict[str, TaskStatus]] = None

    def _load(self) -> Dict[str, TaskStatus]:
        if self._statuses is None:
            newest = self._executions.newest_execution(self._workflow_id)
            self._statuses = {} if newest is None else {
                name: TaskStatus(meta.status)
                for name, meta in self._executions.latest_task_executions(newest).items()}
        return self._statuses

    def __getitem__(self, name: str) -> TaskStatus:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())
