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
from aiflow_lite.ops.workflow_ops import (
    delete_workflow,
    disable_workflow,
    enable_workflow,
    get_workflow,
    list_workflows,
    upload_workflows,
)
from aiflow_lite.ops.workflow_snapshot_ops import (
    delete_workflow_snapshot,
    delete_workflow_snapshots,
    get_workflow_snapshot,
    list_workflow_snapshots,
)

__all__ = [
    "add_namespace", "delete_namespace", "delete_workflow", "delete_workflow_snapshot",
    "delete_workflow_snapshots", "disable_workflow", "enable_workflow", "get_namespace",
    "get_workflow", "get_workflow_snapshot", "list_namespace", "list_workflow_snapshots",
    "list_workflows", "update_namespace", "upload_workflows",
]
