"""The pure scheduling decisions, table by table."""

from __future__ import annotations

import pytest

from aiflow_lite.conditions import Condition, SingleEventCondition, TaskRule
from aiflow_lite.engine.decide import Latest, evaluate_rules, plan
from aiflow_lite.engine.lifetime import earned_status
from aiflow_lite.events import Event
from aiflow_lite.state import ValueStateDescriptor
from aiflow_lite.status import TaskAction, TaskStatus, WorkflowStatus

S = TaskStatus


@pytest.mark.parametrize(
    ("action", "latest", "expected"),
    [
        (TaskAction.START, None, (False, True)),
        (TaskAction.START, S.RUNNING, (False, False)),
        (TaskAction.START, S.QUEUED, (False, False)),
        (TaskAction.START, S.RETRYING, (False, False)),
        (TaskAction.START, S.SUCCESS, (False, True)),
        (TaskAction.START, S.FAILED, (False, True)),
        (TaskAction.STOP, None, (False, False)),
        (TaskAction.STOP, S.SUCCESS, (False, False)),
        (TaskAction.STOP, S.RUNNING, (True, False)),
        (TaskAction.STOP, S.QUEUED, (True, False)),
        (TaskAction.RESTART, None, (False, True)),
        (TaskAction.RESTART, S.RUNNING, (True, True)),
        (TaskAction.RESTART, S.STOPPED, (False, True)),
    ],
)
def test_plan(action, latest, expected):
    assert plan(action, None if latest is None else Latest(1, latest, 1)) == expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({}, WorkflowStatus.SUCCESS),  # nothing was started, nothing can be: done
        ({"a": S.SUCCESS}, WorkflowStatus.SUCCESS),  # b never ran (its upstream failed, say)
        ({"a": S.SUCCESS, "b": S.STOPPED}, WorkflowStatus.SUCCESS),  # stopped by a rule
        ({"a": S.FAILED, "b": S.RUNNING}, WorkflowStatus.RUNNING),
        ({"a": S.FAILED, "b": S.RETRYING}, WorkflowStatus.RUNNING),
        ({"a": S.SUCCESS, "b": S.QUEUED}, WorkflowStatus.RUNNING),
        ({"a": S.FAILED, "b": S.SUCCESS}, WorkflowStatus.FAILED),
        ({"a": S.FAILED}, WorkflowStatus.FAILED),
    ],
)
def test_earned_status(statuses, expected):
    assert earned_status(statuses) == expected


class Counter(Condition):
    def is_met(self, event, context):
        state = context.get_state(ValueStateDescriptor("n"))
        n = (state.value() or 0) + int(event.value)
        if n >= 10:
            return True
        state.update(n)
        return False


class Broken(Condition):
    def is_met(self, event, context):
        raise RuntimeError("user bug")


def test_evaluate_rules_collects_state_and_only_evaluates_expected_keys():
    rules = {
        "sum": [TaskRule(Counter(["n"]), TaskAction.START)],
        "on_k": [TaskRule(SingleEventCondition("k"), TaskAction.RESTART)],
        "broken": [TaskRule(Broken(["n"]), TaskAction.STOP)],
    }
    states = {}
    fired = []
    for offset, value in enumerate(["4", "5", "3"], start=1):
        decisions, updates = evaluate_rules(rules, {}, states, Event("n", value, offset=offset))
        states.update(updates)
        fired.append([(d.task_name, d.action) for d in decisions])
    assert fired == [[], [], [("sum", TaskAction.START)]]
    assert states == {("sum", 0, "n"): 9}  # the firing evaluation did not update
    decisions, updates = evaluate_rules(rules, {}, states, Event("k", offset=9))
    assert [(d.task_name, d.action) for d in decisions] == [("on_k", TaskAction.RESTART)]
    assert "offset 9" in decisions[0].reason and updates == {}
