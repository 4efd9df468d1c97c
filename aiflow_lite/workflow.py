"""`Workflow`: a named collection of tasks and their rules, declared in a `with` block.

    with Workflow(name='my_workflow') as workflow:
        task1 = BashOperator(name='task_1', bash_command='echo 1')
        task2 = BashOperator(name='task_2', bash_command='echo 2')
        task2.start_after(task1)

Tasks created inside the block belong to it. Mistakes (a duplicate task name, a task outside any
workflow, a rule naming another workflow's task) raise `InvalidInput` at once, at definition time.
"""

from __future__ import annotations

import sys
from typing import Any, Dict, List, Mapping, Optional, Tuple

from aiflow_lite.conditions import (
    Condition,
    SingleEventCondition,
    TaskRule,
    TaskStatusCondition,
)
from aiflow_lite.errors import InvalidInput
from aiflow_lite.events import DEFAULT_NAMESPACE, is_task_status_key, validate_name
from aiflow_lite.status import TaskAction, TaskStatus


class WorkflowContextManager:
    """Keeps the workflow of the innermost `with Workflow(...)` block, so new tasks find it."""

    _stack: List[Workflow] = []
    #: While a workflow file is being loaded, every workflow it creates is recorded here.
    created: Optional[List[Workflow]] = None

    @classmethod
    def push_context_managed_workflow(cls, workflow: Workflow) -> None:
        cls._stack.append(workflow)

    @classmethod
    def pop_context_managed_workflow(cls) -> Optional[Workflow]:
        return cls._stack.pop() if cls._stack else None

    @classmethod
    def get_current_workflow(cls) -> Optional[Workflow]:
        return cls._stack[-1] if cls._stack else None


def _creating_module() -> Optional[str]:
    frame = sys._getframe(2)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith(
            ("aiflow_lite.", "ai_flow.")):
        frame = frame.f_back  # a subclass's __init__ in our own code: look further out
    return None if frame is None else frame.f_globals.get("__name__")


class Workflow:
    """A workflow: tasks (operators) and the rules that start, stop and restart them."""

    def __init__(self, name: str, namespace: str = DEFAULT_NAMESPACE, **kwargs: Any) -> None:
        self.name = validate_name(name, "workflow name")
        self.namespace = validate_name(namespace, "namespace")
        self.config: Dict[str, Any] = dict(kwargs)
        self.tasks: Dict[str, Any] = {}
        self.rules: Dict[str, List[TaskRule]] = {}
        #: The module whose code created it: a workflow file declares only its own workflows,
        #: not those of the modules it imports.
        self.module_name = _creating_module()
        if WorkflowContextManager.created is not None:
            WorkflowContextManager.created.append(self)

    def __enter__(self) -> Workflow:
        WorkflowContextManager.push_context_managed_workflow(self)
        return self

    def __exit__(self, *exc: object) -> None:
        WorkflowContextManager.pop_context_managed_workflow()

    def __repr__(self) -> str:
        return f"Workflow({self.namespace}.{self.name}, tasks={list(self.tasks)})"

    # -- building -----------------------------------------------------------------------------

    def add_task(self, task: Any) -> None:
        if task.name in self.tasks:
            raise InvalidInput(
                f"duplicate task name {task.name!r} in workflow {self.name!r}: task names must be "
                "unique within a workflow"
            )
        self.tasks[task.name] = task

    def add_rule(self, task_name: str, rule: TaskRule) -> None:
        self._task(task_name)
        self.rules.setdefault(task_name, []).append(rule)

    def _task(self, task_name: str) -> Any:
        task = self.tasks.get(task_name)
        if task is None:
            raise InvalidInput(f"workflow {self.name!r} has no task named {task_name!r}")
        return task

    def action_on_condition(self, task_name: str, action: TaskAction,
                            condition: Condition) -> None:
        self.add_rule(task_name, TaskRule(condition, action))

    def action_on_event_received(self, task_name: str, event_key: str,
                                 action: TaskAction) -> None:
        self.add_rule(task_name, TaskRule(SingleEventCondition(event_key), action))

    def action_on_task_status(self, task_name: str, action: TaskAction,
                              upstream_task_status_dict: Mapping[Any, TaskStatus]) -> None:
        upstream = {}
        for task, status in (upstream_task_status_dict or {}).items():
            name = self.own_task_name(task)
            upstream[name] = status
        self.add_rule(task_name, TaskRule(TaskStatusCondition(upstream), action))

    def own_task_name(self, task: Any) -> str:
        """The name of `task` (an operator or a name), which must belong to this workflow."""
        name = task if isinstance(task, str) else getattr(task, "name", None)
        owner = None if isinstance(task, str) else getattr(task, "workflow", None)
        if name is None:
            raise InvalidInput(f"expected a task, got {type(task).__name__}")
        if owner is not None and owner is not self:
            raise InvalidInput(
                f"task {name!r} belongs to workflow {owner.name!r}; a rule in workflow "
                f"{self.name!r} can only name tasks of its own workflow"
            )
        self._task(name)
        return name

    # -- reading ------------------------------------------------------------------------------

    def starting_tasks(self) -> List[str]:
        """The tasks that start with every execution: those with no rule whose action is START."""
        return [name for name in self.tasks
                if not any(r.action == TaskAction.START for r in self.rules.get(name, []))]

    def listeners(self) -> List[Tuple[str, TaskRule]]:
        """(task name, rule) of each START or RESTART rule that listens to something
        besides task statuses: what can still start a task of an idle execution, and so keeps
        it RUNNING (DESIGN.md §4). Status events come only from the execution's own tasks, so
        a rule on them alone cannot fire once nothing is active."""
        return [(name, rule) for name, rules in self.rules.items() for rule in rules
                if rule.action in (TaskAction.START, TaskAction.RESTART)
                and any(not is_task_status_key(key) for key in rule.condition.expect_event_keys)]

    def describe(self) -> Dict[str, Any]:
        """A JSON-able picture of the workflow, stored at upload for `workflow show`."""
        starting = set(self.starting_tasks())
        return {
            "name": self.name,
            "namespace": self.namespace,
            "tasks": [
                {
                    "name": name,
                    "operator": type(task).__name__,
                    **task.describe_config(),
                    "starts_with_execution": name in starting,
                    "rules": [rule.describe() for rule in self.rules.get(name, [])],
                }
                for name, task in self.tasks.items()
            ],
            # Keys that can start a task of an idle execution, keeping it RUNNING (DESIGN §4).
            "listens_for": sorted({key for _, rule in self.listeners()
                                   for key in rule.condition.expect_event_keys
                                   if not is_task_status_key(key)}),
        }
