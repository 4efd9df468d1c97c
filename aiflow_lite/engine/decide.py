"""Pure scheduling decisions: which rules an event fires and what an action means for a task
given its latest execution (how long an execution lives is `lifetime`'s). No I/O, no clock: the
scheduler passes every fact in and applies what comes out. Tested table by table."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from aiflow_lite.conditions import Context
from aiflow_lite.events import Event, InternalKey
from aiflow_lite.state import StateDescriptor, ValueState
from aiflow_lite.status import TASK_ACTIVE, TaskAction, TaskStatus

log = logging.getLogger(__name__)

StateKey = Tuple[str, int, str]  # (task name, rule index, state name)


@dataclass(frozen=True)
class Latest:
    """A task's newest execution within a workflow execution."""

    id: int
    status: TaskStatus
    sequence_number: int


@dataclass(frozen=True)
class Decision:
    task_name: str
    action: TaskAction
    reason: str


class RuleContext(Context):
    """The read-only view a condition sees; its ValueState updates are collected, not written."""

    def __init__(self, statuses: Mapping[str, TaskStatus], states: Mapping[StateKey, Any],
                 task_name: str, rule_index: int) -> None:
        self._statuses = statuses
        self._states = states
        self._task = task_name
        self._rule = rule_index
        self.opened: Dict[str, ValueState] = {}

    def get_task_status(self, task_name: str) -> Optional[TaskStatus]:
        return self._statuses.get(task_name)

    def get_state(self, state_descriptor: StateDescriptor) -> ValueState:
        name = state_descriptor.name
        if name not in self.opened:
            self.opened[name] = ValueState(self._states.get((self._task, self._rule, name)))
        return self.opened[name]

    def updates(self) -> Dict[StateKey, Any]:
        return {(self._task, self._rule, name): state.value()
                for name, state in self.opened.items() if state.changed}


def evaluate_rules(rules: Mapping[str, Sequence[Any]], statuses: Mapping[str, TaskStatus],
                   states: Mapping[StateKey, Any],
                   event: Event) -> Tuple[List[Decision], Dict[StateKey, Any]]:
    """Every rule that expects `event.key` is evaluated once; returns the fired decisions and the
    state updates to commit with this event. A condition that raises counts as not met (and is
    logged): one user's bug must not stop the scheduler."""
    decisions: List[Decision] = []
    updates: Dict[StateKey, Any] = {}
    for task_name, task_rules in rules.items():
        for index, rule in enumerate(task_rules):
            if event.key not in rule.condition.expect_event_keys:
                continue
            context = RuleContext(statuses, states, task_name, index)
            try:
                action = rule.trigger(event, context)
            except Exception:
                log.exception("rule %d of task %r raised on event %s; treated as not met",
                              index + 1, task_name, event.offset)
                continue
            updates.update(context.updates())
            if action is not None:
                decisions.append(Decision(task_name, action, describe_cause(event, index, rule)))
    return decisions, updates


def describe_cause(event: Event, rule_index: int, rule: Any) -> str:
    """Why a rule fired, for `task-execution show`: the rule and the event (with its offset)."""
    what = f"event {event.key!r}"
    prefix = InternalKey.TASK_STATUS.value + "."
    if event.key.startswith(prefix):
        what = f"task {event.key[len(prefix):]} becoming {event.value}"
    return (f"rule {rule_index + 1} ({rule.action.value} on {rule.condition.describe()['type']}) "
            f"fired by {what} at offset {event.offset}")


def plan(action: TaskAction, latest: Optional[Latest]) -> Tuple[bool, bool]:
    """(stop the current execution?, start a new one?) for `action`: START on an active task
    does nothing; STOP on an inactive one does nothing; RESTART stops (if active) and starts."""
    active = latest is not None and latest.status in TASK_ACTIVE
    if action == TaskAction.START:
        return False, not active
    if action == TaskAction.STOP:
        return active, False
    return active, True
