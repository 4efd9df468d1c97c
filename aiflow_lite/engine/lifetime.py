"""How long a workflow execution lives (DESIGN.md §4), as pure functions over its workflow and
the facts the scheduler passes in.

An execution stays RUNNING while one of its tasks can still be started by something other than
its own tasks' statuses: a START or RESTART rule on an event key (or a custom condition on one),
a periodic timer, or a task a user stopped (it may be started again). While it is idle but
listening, `waiting_for` says for what; once nothing can start a task any more, it ends with the
status its tasks earned."""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Sequence

from aiflow_lite.conditions import SingleEventCondition
from aiflow_lite.events import is_task_status_key
from aiflow_lite.status import TASK_ACTIVE, TaskStatus, WorkflowStatus


def waiting_for(workflow: Any, has_timers: bool, held: Sequence[str]) -> Optional[str]:
    """What keeps an idle execution of `workflow` open, in words; None when nothing does.
    `has_timers`: a periodic task's timer is left; `held`: tasks a user stopped."""
    parts: List[str] = []
    for task_name, rule in workflow.listeners():
        condition = rule.condition
        keys = ", ".join(repr(k) for k in condition.expect_event_keys
                         if not is_task_status_key(k))
        label = "" if isinstance(condition, SingleEventCondition) else \
            f" ({type(condition).__name__})"
        parts.append(f"waiting for {keys}{label} to {rule.action.value.lower()} {task_name!r}")
    if has_timers:
        for name, task in workflow.tasks.items():
            if task.periodic_expression:
                parts.append(f"periodic {name!r} ({task.periodic_expression})")
    parts += [f"{name!r} stopped by a user (`aiflow task-execution start` runs it again)"
              for name in held]
    return "; ".join(_dedupe(parts)) or None


def earned_status(latest: Mapping[str, TaskStatus]) -> WorkflowStatus:
    """The status an execution ends with when nothing is active and nothing can start a task
    any more: FAILED if some task's latest execution failed (its retries used up), else
    SUCCESS (a task stopped by a rule, or one that was never started, counts as done).
    RUNNING while a task is still active."""
    statuses = list(latest.values())
    if any(status in TASK_ACTIVE for status in statuses):
        return WorkflowStatus.RUNNING
    if any(status == TaskStatus.FAILED for status in statuses):
        return WorkflowStatus.FAILED
    return WorkflowStatus.SUCCESS


def _dedupe(parts: List[str]) -> List[str]:
    return list(dict.fromkeys(parts))
