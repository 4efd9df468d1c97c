"""The operator base classes: definition-time rules (`Operator`) and the run-time interface a
worker drives (`AIFlowOperator`: start, await_termination, stop, get_metrics)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Union

from aiflow_lite.conditions import Condition, Context
from aiflow_lite.errors import InvalidInput
from aiflow_lite.events import validate_name
from aiflow_lite.status import TaskAction, TaskStatus
from aiflow_lite.workflow import Workflow, WorkflowContextManager


class TaskFailed(Exception):
    """The task's work ended in failure: the worker reports FAILED with this message and no
    traceback (an operator's own verdict, not a bug). Raise it from `start` or
    `await_termination`."""


class OperatorConfigItem:
    """Options every operator takes."""

    PERIODIC_EXPRESSION = "periodic_expression"
    MAX_RETRIES = "max_retries"
    RETRY_DELAY = "retry_delay"
    STOP_TIMEOUT = "stop_timeout"


class Operator:
    """A task of the workflow whose `with` block creates it.

    Options: `periodic_expression` ('cron@...' or 'interval@d h m s': the task also runs on that
    schedule), `max_retries` (default 0: a failed execution is retried this many times, showing
    RETRYING meanwhile), `retry_delay` (seconds between tries, default 0) and `stop_timeout`
    (seconds a stopped task may take to wind down before its processes are killed; default
    `STOP_TIMEOUT_S`, which an operator whose stop asks another system raises).
    """

    STOP_TIMEOUT_S = 5.0

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.name = validate_name(name, "task name")
        workflow = WorkflowContextManager.get_current_workflow()
        if workflow is None:
            raise InvalidInput(
                f"task {name!r} was created outside a `with Workflow(...)` block; create it "
                "inside one"
            )
        self.config: Dict[str, Any] = dict(kwargs)
        self.periodic_expression: Optional[str] = kwargs.get(
            OperatorConfigItem.PERIODIC_EXPRESSION)
        if self.periodic_expression is not None:
            from aiflow_lite.timing import parse_periodic_expression

            parse_periodic_expression(self.periodic_expression)
        self.max_retries = _non_negative(kwargs.get(OperatorConfigItem.MAX_RETRIES, 0),
                                         "max_retries", name, int)
        self.retry_delay = _non_negative(kwargs.get(OperatorConfigItem.RETRY_DELAY, 0),
                                         "retry_delay", name, float)
        self.stop_timeout = _non_negative(
            kwargs.get(OperatorConfigItem.STOP_TIMEOUT, self.STOP_TIMEOUT_S),
            "stop_timeout", name, float)
        self.workflow: Workflow = workflow
        workflow.add_task(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    # -- rules --------------------------------------------------------------------------------

    def action_on_condition(self, action: TaskAction, condition: Condition) -> None:
        """Take `action` on this task whenever `condition` is met."""
        self.workflow.action_on_condition(self.name, action, condition)

    def action_on_event_received(self, action: TaskAction, event_key: str) -> None:
        """Take `action` on this task whenever an event with `event_key` arrives."""
        self.workflow.action_on_event_received(self.name, event_key, action)

    def action_on_model_version(self, action: TaskAction, model_name: str,
                                stage: Any = None) -> None:
        """Take `action` on this task whenever a version of `model_name` reaches `stage` in the
        meta service (a `ModelVersionStage`, or None: any change of one of its versions)."""
        from aiflow_lite.conditions import ModelVersionCondition

        self.action_on_condition(action, ModelVersionCondition(model_name, stage))

    def action_on_task_status(self, action: TaskAction,
                              upstream_task_status_dict: Mapping[Any, TaskStatus]) -> None:
        """Take `action` when every upstream task's latest execution has the given status."""
        self.workflow.action_on_task_status(self.name, action, upstream_task_status_dict)

    def start_after(self, tasks: Union[Operator, List[Operator]]) -> None:
        """Start this task each time all of `tasks` have succeeded."""
        upstream = tasks if isinstance(tasks, (list, tuple, set)) else [tasks]
        self.action_on_task_status(TaskAction.START, dict.fromkeys(upstream, TaskStatus.SUCCESS))

    def describe_config(self) -> Dict[str, Any]:
        return {
            "periodic_expression": self.periodic_expression,
            "max_retries": self.max_retries,
            "retry_delay": self.retry_delay,
            "stop_timeout": self.stop_timeout,
        }


class AIFlowOperator(Operator):
    """Derive from this for a custom operator: implement `start`, and `await_termination` and
    `stop` when the work outlives `start` (a job on another system, a child process).
    As in the spec, its first argument may be given as `task_name=` (or `name=`)."""

    def __init__(self, task_name: Optional[str] = None, **kwargs: Any) -> None:
        name = kwargs.pop("name", None) if task_name is None else task_name
        if name is None:
            raise InvalidInput(f"{type(self).__name__} needs a task name")
        super().__init__(name, **kwargs)

    def start(self, context: Context) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement start(context)")

    def await_termination(self, context: Context, timeout: Optional[int] = None) -> None:
        """Wait until the work ends (raise if it failed); `timeout` in seconds."""

    def stop(self, context: Context) -> None:
        """Stop the work started by `start`."""

    def get_metrics(self, context: Context) -> Dict:
        return {}


def _non_negative(value: Any, what: str, task: str, kind: type) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise InvalidInput(f"task {task!r}: {what} must be a number >= 0, got {value!r}")
    return number
