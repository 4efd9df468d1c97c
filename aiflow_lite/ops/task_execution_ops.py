"""Task executions: list, show, and start/stop a task within a running workflow execution."""

from __future__ import annotations

from typing import List, Optional

from aiflow_lite.events import Command
from aiflow_lite.meta import TaskExecutionMeta, TaskOutputs
from aiflow_lite.ops.backend import execution_store, send_command, served, stores


@served
def get_task_execution(task_execution_id: int) -> Optional[TaskExecutionMeta]:
    with execution_store() as (store, _, _):
        return store.get_task_execution(task_execution_id)


@served
def list_task_executions(workflow_execution_id: int, limit: Optional[int] = None,
                         offset: Optional[int] = None) -> List[TaskExecutionMeta]:
    with execution_store() as (store, _, _):
        store.require_execution(workflow_execution_id)
        rows = store.list_task_executions(workflow_execution_id)
        start = offset or 0
        return rows[start:] if limit is None else rows[start:start + limit]


def _task_command(command: Command, workflow_execution_id: int, task_name: str) -> None:
    from aiflow_lite.errors import InvalidInput, NotFound
    from aiflow_lite.loader import unpickle_workflow

    with execution_store() as (store, _, _):
        # The task name is checked before taking the write lock: unpickling a workflow may
        # import the user's libraries, and the scheduler and workers must not wait for that.
        execution = store.require_execution(workflow_execution_id)
        workflow = unpickle_workflow(store.snapshot_object(execution.snapshot_id))
        if task_name not in workflow.tasks:
            raise NotFound(f"workflow {execution.workflow_name} has no task {task_name!r}")
        with store.db.transaction():
            execution = store.require_execution(workflow_execution_id)
            if execution.status == "INIT":
                raise InvalidInput(f"workflow execution {workflow_execution_id} has not started "
                                   "yet (INIT): wait for the scheduler to start it")
            if execution.status != "RUNNING":
                raise InvalidInput(
                    f"workflow execution {workflow_execution_id} is already "
                    f"{execution.status}; nothing changed (start a new one: aiflow "
                    f"workflow-execution start {execution.workflow_name} -n "
                    f"{execution.namespace})")
            send_command(store.db, command, workflow_execution_id=workflow_execution_id,
                         task_name=task_name)


@served
def start_task_execution(workflow_execution_id: int, task_name: str) -> str:
    """Start the task (nothing if it is already running)."""
    _task_command(Command.START_TASK, workflow_execution_id, task_name)
    return task_name


@served
def stop_task_execution(workflow_execution_id: int, task_name: str) -> None:
    _task_command(Command.STOP_TASK, workflow_execution_id, task_name)


@served
def get_task_outputs(task_execution_id: int) -> TaskOutputs:
    """What the task execution registered in the meta service: model versions, datasets,
    artifacts, and the latest point of each metric it logged."""
    from aiflow_lite.errors import NotFound

    with stores() as s:
        task = s.executions.get_task_execution(task_execution_id)
        if task is None:
            raise NotFound(f"no task execution with id {task_execution_id}")
        execution = s.executions.require_execution(task.workflow_execution_id)
        return TaskOutputs(task_execution_id, s.models.produced_by(task_execution_id),
                           s.datasets.produced_by(task_execution_id),
                           s.artifacts.produced_by(task_execution_id),
                           s.metrics.latest(execution.namespace,
                                            task_execution_id=task_execution_id))
