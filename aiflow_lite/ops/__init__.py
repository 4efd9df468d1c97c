"""The operations the `aiflow` command offers, as Python functions (the spec's `ai_flow.ops`).

They work on the local home (AIFLOW_HOME); each call opens the database, does its work in one
transaction, and closes it. Heavy modules load only when a function needs them.
"""

from aiflow_lite.ops.namespace_ops import (
    add_namespace,
    delete_namespace,
    get_namespace,
    list_namespace,
    update_namespace,
)
from aiflow_lite.ops.task_execution_ops import (
    get_task_execution,
    list_task_executions,
    start_task_execution,
    stop_task_execution,
)
from aiflow_lite.ops.workflow_execution_ops import (
    delete_workflow_execution,
    get_workflow_execution,
    list_workflow_executions,
    start_workflow_execution,
    stop_workflow_execution,
    stop_workflow_executions,
)
from aiflow_lite.ops.workflow_ops import (
    delete_workflow,
    disable_workflow,
    enable_workflow,
    get_workflow,
    list_workflows,
    upload_workflows,
)
from aiflow_lite.ops.workflow_schedule_ops import (
    add_workflow_schedule,
    delete_workflow_schedule,
    delete_workflow_schedules,
    get_workflow_schedule,
    list_workflow_schedules,
    pause_workflow_schedule,
    resume_workflow_schedule,
)
from aiflow_lite.ops.workflow_snapshot_ops import (
    delete_workflow_snapshot,
    delete_workflow_snapshots,
    get_workflow_snapshot,
    list_workflow_snapshots,
)
from aiflow_lite.ops.workflow_trigger_ops import (
    add_workflow_trigger,
    delete_workflow_trigger,
    delete_workflow_triggers,
    get_workflow_trigger,
    list_workflow_triggers,
    pause_workflow_trigger,
    resume_workflow_trigger,
)

__all__ = [
    "add_namespace",
    "add_workflow_schedule",
    "add_workflow_trigger",
    "delete_namespace",
    "delete_workflow",
    "delete_workflow_execution",
    "delete_workflow_schedule",
    "delete_workflow_schedules",
    "delete_workflow_snapshot",
    "delete_workflow_snapshots",
    "delete_workflow_trigger",
    "delete_workflow_triggers",
    "disable_workflow",
    "enable_workflow",
    "get_namespace",
    "get_task_execution",
    "get_workflow",
    "get_workflow_execution",
    "get_workflow_schedule",
    "get_workflow_snapshot",
    "get_workflow_trigger",
    "list_namespace",
    "list_task_executions",
    "list_workflow_executions",
    "list_workflow_schedules",
    "list_workflow_snapshots",
    "list_workflow_triggers",
    "list_workflows",
    "pause_workflow_schedule",
    "pause_workflow_trigger",
    "resume_workflow_schedule",
    "resume_workflow_trigger",
    "start_task_execution",
    "start_workflow_execution",
    "stop_task_execution",
    "stop_workflow_execution",
    "stop_workflow_executions",
    "update_namespace",
    "upload_workflows",
]
