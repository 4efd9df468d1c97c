"""Conditions, rules and the context they are evaluated in.

A rule is a condition plus an action. The scheduler evaluates a rule only when an event with one
of its condition's expected keys arrives; `is_met(event, context)` must be a pure decision over
the event and the read-only context (its state updates are committed by the scheduler).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from aiflow_lite.errors import InvalidInput
from aiflow_lite.events import Event, task_status_key
from aiflow_lite.state import State, StateDescriptor
from aiflow_lite.status import TaskAction, TaskStatus, parse_enum


class Context:
    """What a condition may look at while it is evaluated. The scheduler provides the real one."""

    def get_state(self, state_descriptor: StateDescriptor) -> State:
        raise NotImplementedError

    def get_task_status(self, task_name: str) -> Optional[TaskStatus]:
        raise NotImplementedError


class Condition:
    """Subclass and implement `is_met`. `expect_event_keys`: the event keys that make the
    scheduler evaluate this condition."""

    def __init__(self, expect_event_keys: Sequence[str]) -> None:
        if isinstance(expect_event_keys, str):
            expect_event_keys = [expect_event_keys]
        keys = list(expect_event_keys or [])
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise InvalidInput(
                f"{type(self).__name__} needs a non-empty list of event keys to expect, "
                f"got {expect_event_keys!r}"
            )
        self.expect_event_keys = keys

    def is_met(self, event: Event, context: Context) -> bool:
        raise NotImplementedError(f"{type(self).__name__} must implement is_met(event, context)")

    def describe(self) -> Dict[str, Any]:
        """A JSON-able description for `workflow show`."""
        return {"type": type(self).__name__, "event_keys": list(self.expect_event_keys)}


class SingleEventCondition(Condition):
    """Met by every event with the given key."""

    def __init__(self, expect_event_key: str) -> None:
        super().__init__([expect_event_key])

    def is_met(self, event: Event, context: Context) -> bool:
        return True

    def describe(self) -> Dict[str, Any]:
        return {"type": "event", "event_keys": list(self.expect_event_keys)}


class ModelVersionCondition(Condition):
    """Met when a version of `model_name` reaches `stage` (any change of a version when `stage`
    is None): the meta service's `model_version.<model>` events, whose value is the stage after
    the change. A version already in `stage` whose description changes has not reached it, and
    an event of that key from any sender but the meta service (`aiflow.meta`) is not heard."""

    def __init__(self, model_name: str, stage: Any = None) -> None:
        from aiflow_lite.events import validate_name
        from aiflow_lite.status import ModelVersionStage

        self.model_name = validate_name(model_name, "model name")
        self.stage = None if stage is None else parse_enum(ModelVersionStage, stage,
                                                           "model version stage")
        super().__init__([f"model_version.{self.model_name}"])

    def is_met(self, event: Event, context: Context) -> bool:
        if event.sender != "aiflow.meta":  # anyone may send the key; only the registry is heard
            return False
        if self.stage is None:
            return True
        if event.value != self.stage.value:
            return False
        return event.context_dict().get("previous_stage") != self.stage.value

    def describe(self) -> Dict[str, Any]:
        return {"type": "model_version", "event_keys": list(self.expect_event_keys),
                "model": self.model_name, "stage": self.stage.value if self.stage else None}


class TaskStatusCondition(Condition):
    """Met when every named upstream task's latest execution (in the same workflow execution) has
    the given status. Re-evaluated on each of their status events."""

    def __init__(self, upstream_task_status: Mapping[str, TaskStatus]) -> None:
        if not upstream_task_status:
            raise InvalidInput("a task status rule needs at least one upstream task")
        self.upstream_task_status = {
            name: parse_enum(TaskStatus, status, "task status")
            for name, status in upstream_task_status.items()
        }
        super().__init__([task_status_key(name) for name in self.upstream_task_status])

    def is_met(self, event: Event, context: Context) -> bool:
        return all(context.get_task_status(name) == status
                   for name, status in self.upstream_task_status.items())

    def describe(self) -> Dict[str, Any]:
        return {"type": "task_status",
                "upstream": {name: status.value
                             for name, status in self.upstream_task_status.items()}}


class _Composite(Condition):
    """A condition over other conditions; it expects every key they expect."""

    def __init__(self, conditions: List[Condition]) -> None:
        self.conditions = [_check_condition(c) for c in conditions]
        if not self.conditions:
            raise InvalidInput(f"{type(self).__name__} needs at least one condition")
        super().__init__(sorted({k for c in self.conditions for k in c.expect_event_keys}))


class MeetAllCondition(_Composite):
    """Met once each of its conditions has been met, by events that may come at different
    times (which ones were met is kept in the rule's state); then it starts over."""

    def is_met(self, event: Event, context: Context) -> bool:
        from aiflow_lite.state import ValueStateDescriptor

        state = context.get_state(ValueStateDescriptor("__met_conditions"))
        met = set(state.value() or [])
        for index, condition in enumerate(self.conditions):
            if event.key in condition.expect_event_keys and condition.is_met(event, context):
                met.add(index)
        if len(met) == len(self.conditions):
            state.update([])
            return True
        state.update(sorted(met))
        return False

    def describe(self) -> Dict[str, Any]:
        return {"type": "all", "conditions": [c.describe() for c in self.conditions]}


class MeetAnyCondition(_Composite):
    """Met when any of its conditions that expects the event's key is met by it."""

    def is_met(self, event: Event, context: Context) -> bool:
        return any(c.is_met(event, context) for c in self.conditions
                   if event.key in c.expect_event_keys)

    def describe(self) -> Dict[str, Any]:
        return {"type": "any", "conditions": [c.describe() for c in self.conditions]}


def _check_condition(condition: Any) -> Condition:
    if not isinstance(condition, Condition):
        raise InvalidInput(f"a rule needs a Condition, got {type(condition).__name__}")
    keys = getattr(condition, "expect_event_keys", None)
    if not keys or not all(isinstance(k, str) and k for k in keys):
        raise InvalidInput(f"{type(condition).__name__} has no event keys to expect: call "
                           "super().__init__(expect_event_keys) in its __init__")
    return condition


class TaskRule:
    """Condition + action on one task."""

    def __init__(self, condition: Condition, action: TaskAction) -> None:
        self.condition = _check_condition(condition)
        self.action = parse_enum(TaskAction, action, "task action")

    def trigger(self, event: Event, context: Context) -> Optional[TaskAction]:
        if event.key in self.condition.expect_event_keys and self.condition.is_met(event, context):
            return self.action
        return None

    def describe(self) -> Dict[str, Any]:
        return {"action": self.action.value, "condition": self.condition.describe()}


class WorkflowRule:
    """A condition that starts a new workflow execution when met (a workflow trigger)."""

    def __init__(self, condition: Condition) -> None:
        self.condition = _check_condition(condition)

    def trigger(self, event: Event, context: Context) -> bool:
        return event.key in self.condition.expect_event_keys and bool(
            self.condition.is_met(event, context))

    def describe(self) -> Dict[str, Any]:
        return {"condition": self.condition.describe()}
