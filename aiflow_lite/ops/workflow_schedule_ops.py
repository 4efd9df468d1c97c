"""Workflow schedules: run a workflow on `cron@...` or `interval@d h m s`."""

from __future__ import annotations

from typing import List, Optional

from aiflow_lite.events import DEFAULT_NAMESPACE
from aiflow_lite.meta import WorkflowScheduleMeta
from aiflow_lite.ops.backend import execution_store, served


@served
def add_workflow_schedule(expression: str, workflow_name: str,
                          namespace: str = DEFAULT_NAMESPACE) -> WorkflowScheduleMeta:
    with execution_store() as (_, meta_store, schedules):
        workflow = meta_store.require_workflow(workflow_name, namespace)
        return schedules.add_schedule(workflow.id, expression)


@served
def get_workflow_schedule(schedule_id: int) -> Optional[WorkflowScheduleMeta]:
    with execution_store() as (_, _, schedules):
        return schedules.get_schedule(schedule_id)


@served
def list_workflow_schedules(workflow_name: str, namespace: str = DEFAULT_NAMESPACE,
                            limit: Optional[int] = None,
                            offset: Optional[int] = None) -> List[WorkflowScheduleMeta]:
    with execution_store() as (_, meta_store, schedules):
        rows = schedules.list_schedules(meta_store.require_workflow(workflow_name, namespace).id)
        start = offset or 0
        return rows[start:] if limit is None else rows[start:start + limit]


@served
def pause_workflow_schedule(schedule_id: int) -> None:
    with execution_store() as (_, _, schedules):
        schedules.set_schedule_paused(schedule_id, True)


@served
def resume_workflow_schedule(schedule_id: int) -> None:
    """Resuming does not run what was missed while paused; the next due time counts from now."""
    with execution_store() as (_, _, schedules):
        schedules.set_schedule_paused(schedule_id, False)


@served
def delete_workflow_schedule(schedule_id: int) -> None:
    with execution_store() as (_, _, schedules):
        schedules.delete_schedule(schedule_id)


@served
def delete_workflow_schedules(workflow_name: str, namespace: str = DEFAULT_NAMESPACE) -> int:
    with execution_store() as (_, meta_store, schedules):
        return schedules.delete_schedules(
            meta_store.require_workflow(workflow_name, namespace).id)
