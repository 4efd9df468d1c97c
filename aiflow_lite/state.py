"""User state for conditions: `context.get_state(ValueStateDescriptor('n'))` returns a `ValueState`
kept per (workflow execution, task, rule); the scheduler commits its updates with the event that
caused them, so they are never lost or counted twice."""

from __future__ import annotations

from typing import Any, Optional


class StateType:
    VALUE = "value"


class StateDescriptor:
    """Names a piece of user state."""

    type = StateType.VALUE

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            from aiflow_lite.errors import InvalidInput

            raise InvalidInput("a state descriptor needs a non-empty name")
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class ValueStateDescriptor(StateDescriptor):
    """Describes a single-valued state."""


class State:
    """User-defined state."""

    def clear(self) -> None:
        raise NotImplementedError


class ValueState(State):
    """A single value; the default implementation keeps it in memory and records changes so the
    scheduler can persist them. `update` takes any JSON-serializable value."""

    def __init__(self, value: Any = None) -> None:
        self._value = value
        self.changed = False

    def value(self) -> Optional[Any]:
        return self._value

    def update(self, state: Any) -> None:
        self._value = state
        self.changed = True

    def clear(self) -> None:
        self.update(None)
