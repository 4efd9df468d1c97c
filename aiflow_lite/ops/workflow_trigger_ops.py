"""Workflow triggers: start a new execution when a WorkflowRule is met by an event."""

from __future__ import annotations

from typing import Any, List, Optional

from aiflow_lite.events import DEFAULT_NAMESPACE
from aiflow_lite.meta import WorkflowTriggerMeta
from aiflow_lite.ops.backend import execution_store, served


@served
def add_workflow_trigger(rule: Any, workflow_name: str,
                         namespace: str = DEFAULT_NAMESPACE) -> WorkflowTriggerMeta:
    with execution_store() as (_, meta_store, schedules):
        workflow = meta_store.require_workflow(workflow_name, namespace)
        return schedules.add_trigger(workflow.id, rule)


@served
def get_workflow_trigger(trigger_id: int) -> Optional[WorkflowTriggerMeta]:
    with execution_store() as (_, _, schedules):
        return schedules.get_trigger(trigger_id)


@served
def list_workflow_triggers(workflow_name: str, namespace: str = DEFAULT_NAMESPACE,
                           limit: Optional[int] = None,
                           offset: Optional[int] = None) -> List[WorkflowTriggerMeta]:
    with execution_store() as (_, meta_store, schedules):
        rows = schedules.list_triggers(meta_store.require_workflow(workflow_name, namespace).id)
        start = offset or 0
        return rows[start:] if limit is None else rows[start:start + limit]


@served
def pause_workflow_trigger(trigger_id: int) -> None:
    with execution_store() as (_, _, schedules):
        schedules.set_trigger_paused(trigger_id, True)


@served
def resume_workflow_trigger(trigger_id: int) -> None:
    with execution_store() as (_, _, schedules):
        schedules.set_trigger_paused(trigger_id, False)


@served
def delete_workflow_trigger(trigger_id: int) -> None:
    with execution_store() as (_, _, schedules):
        schedules.delete_trigger(trigger_id)


@served
def delete_workflow_triggers(workflow_name: str, namespace: str = DEFAULT_NAMESPACE) -> int:
    with execution_store() as (_, meta_store, schedules):
        return schedules.delete_triggers(
            meta_store.require_workflow(workflow_name, namespace).id)
