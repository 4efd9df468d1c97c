"""Workflow executions: start (returns the new id at once), stop, list, show, delete.

Starting and stopping are commands to the scheduler, sent as events in the same transaction
that records them; the scheduler is the one writer of execution state.
"""

from __future__ import annotations

from typing import List, Optional

from aiflow_lite.events import DEFAULT_NAMESPACE, Command
from aiflow_lite.meta import WorkflowExecutionMeta
from aiflow_lite.ops.backend import execution_store, send_command, served


@served
def start_workflow_execution(workflow_name: str, namespace: str = DEFAULT_NAMESPACE) -> int:
    """Create an execution of the workflow's latest snapshot; the scheduler starts it."""
    from aiflow_lite.errors import InvalidInput
    from aiflow_lite.status import ExecutionType

    with execution_store() as (store, meta_store, schedules):
        workflow = meta_store.require_workflow(workflow_name, namespace)
        if not workflow.is_enabled:
            raise InvalidInput(f"workflow {namespace}.{workflow_name} is disabled; enable it "
                               "with `aiflow workflow enable`")
        with store.db.transaction():
            execution_id = store.create_execution(
                workflow.id, schedules.latest_snapshot(workflow.id), ExecutionType.MANUAL.value,
                "started by a user")
            send_command(store.db, Command.START_EXECUTION, workflow_execution_id=execution_id)
        return execution_id


@served
def stop_workflow_execution(workflow_execution_id: int) -> None:
    """Ask the scheduler to stop the execution and its tasks; a finished one is refused."""
    from aiflow_lite.errors import InvalidInput

    with execution_store() as (store, _, _), store.db.transaction():
        execution = store.require_execution(workflow_execution_id)
        if execution.status not in ("INIT", "RUNNING"):
            raise InvalidInput(f"workflow execution {workflow_execution_id} is already "
                               f"{execution.status}; nothing to stop")
        send_command(store.db, Command.STOP_EXECUTION, workflow_execution_id=workflow_execution_id)


@served
def stop_workflow_executions(workflow_name: str, namespace: str = DEFAULT_NAMESPACE) -> int:
    """Stop every unfinished execution of the workflow; returns how many were asked to stop."""
    with execution_store() as (store, meta_store, _):
        workflow = meta_store.require_workflow(workflow_name, namespace)
        count = 0
        with store.db.transaction():
            for execution in store.list_executions(workflow.id):
                if execution.status in ("INIT", "RUNNING"):
                    send_command(store.db, Command.STOP_EXECUTION,
                                 workflow_execution_id=execution.id)
                    count += 1
        return count


@served
def get_workflow_execution(workflow_execution_id: int) -> Optional[WorkflowExecutionMeta]:
    with execution_store() as (store, _, _):
        return store.shown(store.get_execution(workflow_execution_id))


@served
def list_workflow_executions(workflow_name: str, namespace: str = DEFAULT_NAMESPACE,
                             limit: Optional[int] = None,
                             offset: Optional[int] = None) -> List[WorkflowExecutionMeta]:
    with execution_store() as (store, meta_store, _):
        workflow = meta_store.require_workflow(workflow_name, namespace)
        return [store.shown(e) for e in store.list_executions(workflow.id, limit, offset)]


@served
def delete_workflow_execution(workflow_execution_id: int) -> None:
    """Delete a finished execution with its task executions."""
    from aiflow_lite.errors import InvalidInput

    with execution_store() as (store, _, _), store.db.transaction():
        execution = store.require_execution(workflow_execution_id)
        if execution.status in ("INIT", "RUNNING"):
            raise InvalidInput(f"workflow execution {workflow_execution_id} is "
                               f"{execution.status}; stop it first")
        store.delete_execution(workflow_execution_id)
