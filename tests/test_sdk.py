"""Defining workflows: the SDK's rules, validation at definition time, and pure rule decisions."""

from __future__ import annotations

import pytest

from aiflow_lite.conditions import (
    Condition,
    Context,
    MeetAllCondition,
    MeetAnyCondition,
    SingleEventCondition,
    TaskRule,
    TaskStatusCondition,
    WorkflowRule,
)
from aiflow_lite.errors import InvalidInput
from aiflow_lite.events import Event, task_status_key
from aiflow_lite.operators import BashOperator, PythonOperator
from aiflow_lite.state import ValueState, ValueStateDescriptor
from aiflow_lite.status import TaskAction, TaskStatus
from aiflow_lite.workflow import Workflow, WorkflowContextManager


class FakeContext(Context):
    """A read-only view the tests fill in: task statuses and state."""

    def __init__(self, statuses=None) -> None:
        self.statuses = statuses or {}
        self.states = {}

    def get_task_status(self, task_name):
        return self.statuses.get(task_name)

    def get_state(self, state_descriptor):
        return self.states.setdefault(state_descriptor.name, ValueState())


def test_tasks_belong_to_the_innermost_workflow_and_several_workflows_coexist():
    with Workflow("a") as a:
        BashOperator("t1", "echo 1")
        with Workflow("b", namespace="team") as b:
            BashOperator("t1", "echo b")
        BashOperator("t2", "echo 2")
    assert list(a.tasks) == ["t1", "t2"] and list(b.tasks) == ["t1"]
    assert b.namespace == "team" and WorkflowContextManager.get_current_workflow() is None


def test_rules_and_starting_tasks():
    with Workflow("w") as w:
        t1 = BashOperator("t1", "echo 1")
        t2 = BashOperator("t2", "echo 2")
        t3 = PythonOperator("t3", print, op_args=[1], op_kwargs={"sep": ","})
        t4 = BashOperator("t4", "sleep 100")
        t3.start_after([t1, t2])
        t4.action_on_event_received(TaskAction.STOP, "halt")
        w.action_on_event_received("t1", "again", TaskAction.RESTART)
    assert w.starting_tasks() == ["t1", "t2", "t4"]  # t3 has a START rule
    (rule,) = w.rules["t3"]
    assert rule.action == TaskAction.START
    assert isinstance(rule.condition, TaskStatusCondition)
    assert rule.condition.expect_event_keys == [task_status_key("t1"), task_status_key("t2")]
    assert [r.action for r in w.rules["t1"]] == [TaskAction.RESTART]
    assert t3.op_args == [1] and t3.op_kwargs == {"sep": ","}


def _outside_workflow():
    BashOperator("t", "echo")


def _duplicate():
    with Workflow("w"):
        BashOperator("t", "echo")
        BashOperator("t", "echo")


def _other_workflows_task():
    with Workflow("one"):
        foreign = BashOperator("x", "echo")
    with Workflow("two"):
        BashOperator("y", "echo").start_after(foreign)


def _unknown_task_in_workflow_form():
    with Workflow("w") as w:
        BashOperator("t", "echo")
        w.action_on_event_received("nope", "k", TaskAction.START)


def _bad_cron():
    with Workflow("w"):
        BashOperator("t", "echo", periodic_expression="cron@* * *")


def _bad_interval():
    with Workflow("w"):
        BashOperator("t", "echo", periodic_expression="interval@1 2")


def _no_kind():
    with Workflow("w"):
        BashOperator("t", "echo", periodic_expression="*/5 * * * *")


def _bad_action():
    with Workflow("w"):
        BashOperator("t", "echo").action_on_event_received("JUMP", "k")


def _bad_condition():
    with Workflow("w"):
        BashOperator("t", "echo").action_on_condition(TaskAction.START, "not a condition")


def _bad_retries():
    with Workflow("w"):
        BashOperator("t", "echo", max_retries=-1)


def _bad_task_name():
    with Workflow("w"):
        BashOperator("has space", "echo")


def _empty_bash():
    with Workflow("w"):
        BashOperator("t", "  ")


def _no_event_keys():
    SingleEventCondition("")


@pytest.mark.parametrize(
    ("define", "message"),
    [
        (_outside_workflow, "created outside a `with Workflow(...)` block"),
        (_duplicate, "duplicate task name 't' in workflow 'w'"),
        (_other_workflows_task, "belongs to workflow 'one'"),
        (_unknown_task_in_workflow_form, "has no task named 'nope'"),
        (_bad_cron, "invalid cron expression '* * *'"),
        (_bad_interval, "give four whole numbers"),
        (_no_kind, "invalid periodic expression"),
        (_bad_action, "invalid task action 'JUMP'"),
        (_bad_condition, "a rule needs a Condition"),
        (_bad_retries, "max_retries must be a number >= 0"),
        (_bad_task_name, "invalid task name 'has space'"),
        (_empty_bash, "bash_command must be a non-empty string"),
        (_no_event_keys, "non-empty list of event keys"),
        (lambda: Workflow("bad/name"), "invalid workflow name"),
        (lambda: Workflow("w", namespace=""), "invalid namespace"),
    ],
    ids=lambda v: getattr(v, "__name__", "") if callable(v) else "",
)
def test_definition_mistakes_are_one_clear_error(define, message):
    with pytest.raises(InvalidInput) as err:
        define()
    assert message in str(err.value)
    assert WorkflowContextManager.get_current_workflow() is None


def test_task_status_condition_uses_latest_upstream_statuses():
    condition = TaskStatusCondition({"a": TaskStatus.SUCCESS, "b": "success"})
    event = Event(task_status_key("a"), "SUCCESS")
    assert not condition.is_met(event, FakeContext({"a": TaskStatus.SUCCESS}))
    assert not condition.is_met(event, FakeContext({"a": TaskStatus.SUCCESS,
                                                    "b": TaskStatus.FAILED}))
    assert condition.is_met(event, FakeContext({"a": TaskStatus.SUCCESS,
                                                "b": TaskStatus.SUCCESS}))


class Sum(Condition):
    def is_met(self, event, context):
        state = context.get_state(ValueStateDescriptor("total"))
        total = (state.value() or 0) + int(event.value)
        state.update(total)
        return total >= 10


@pytest.mark.parametrize(
    ("rule", "events", "expected"),
    [
        (TaskRule(SingleEventCondition("k"), TaskAction.START), ["k", "x", "k"],
         [TaskAction.START, None, TaskAction.START]),
        (TaskRule(Sum(["n"]), "restart"), ["n:4", "n:5", "other:9", "n:1"],
         [None, None, None, TaskAction.RESTART]),
        (TaskRule(MeetAnyCondition([SingleEventCondition("a"), Sum(["n"])]), TaskAction.STOP),
         ["n:3", "a", "b"], [None, TaskAction.STOP, None]),
        (TaskRule(MeetAllCondition([SingleEventCondition("a"), Sum(["a"])]), TaskAction.STOP),
         ["a:9", "a:1"], [None, TaskAction.STOP]),
    ],
)
def test_rules_fire_only_on_expected_keys_and_met_conditions(rule, events, expected):
    context = FakeContext()
    got = []
    for spec in events:
        key, _, value = spec.partition(":")
        got.append(rule.trigger(Event(key, value or None), context))
    assert got == expected


def test_workflow_rule():
    rule = WorkflowRule(SingleEventCondition("go"))
    assert rule.trigger(Event("go"), FakeContext())
    assert not rule.trigger(Event("stop"), FakeContext())
    assert rule.describe() == {"condition": {"type": "event", "event_keys": ["go"]}}


def test_describe_is_json_ready():
    import json

    with Workflow("w") as w:
        t1 = BashOperator("t1", "echo 1", periodic_expression="interval@0 0 1 0", max_retries=2,
                          retry_delay=1.5)
        PythonOperator("t2", print).action_on_task_status(TaskAction.STOP,
                                                          {t1: TaskStatus.FAILED})
    described = json.loads(json.dumps(w.describe()))
    t1d, t2d = described["tasks"]
    assert t1d["periodic_expression"] == "interval@0 0 1 0" and t1d["max_retries"] == 2
    assert t1d["retry_delay"] == 1.5 and t1d["starts_with_execution"]
    assert t2d["rules"] == [{"action": "STOP", "condition": {
        "type": "task_status", "upstream": {"t1": "FAILED"}}}]
