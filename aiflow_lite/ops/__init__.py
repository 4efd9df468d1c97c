"""The operations the `aiflow` command offers, as Python functions (the spec's `ai_flow.ops`),
and the meta service's (datasets, models and versions, metrics, artifacts).

They work on the local home (AIFLOW_HOME), or on the server `aiflow_client.yaml` names; inside
a task always on the task's own home. Each call does its work in one transaction on the
thread's connection to the home (`backend.home_stores`). Heavy modules load only when a
function needs them.
"""

from aiflow_lite.ops.artifact_ops import (
    download_artifact,
    get_artifact,
    list_artifacts,
    register_artifact,
)
from aiflow_lite.ops.dataset_ops import (
    delete_dataset,
    get_dataset,
    list_datasets,
    register_dataset,
    update_dataset,
)
from aiflow_lite.ops.metric_ops import get_metric_history, list_metrics, log_metric, log_metrics
from aiflow_lite.ops.model_ops import (
    delete_model,
    delete_model_version,
    get_latest_model_version,
    get_model,
    get_model_version,
    list_model_versions,
    list_models,
    register_model,
    register_model_version,
    update_model_version,
)
from aiflow_lite.ops.namespace_ops import (
    add_namespace,
    delete_namespace,
    get_namespace,
    list_namespace,
    update_namespace,
)
from aiflow_lite.ops.task_execution_ops import (
    get_task_execution,
    get_task_outputs,
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
    "delete_dataset",
    "delete_model",
    "delete_model_version",
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
    "download_artifact",
    "enable_workflow",
    "get_artifact",
    "get_dataset",
    "get_latest_model_version",
    "get_metric_history",
    "get_model",
    "get_model_version",
    "get_namespace",
    "get_task_execution",
    "get_task_outputs",
    "get_workflow",
    "get_workflow_execution",
    "get_workflow_schedule",
    "get_workflow_snapshot",
    "get_workflow_trigger",
    "list_artifacts",
    "list_datasets",
    "list_metrics",
    "list_model_versions",
    "list_models",
    "list_namespace",
    "list_task_executions",
    "list_workflow_executions",
    "list_workflow_schedules",
    "list_workflow_snapshots",
    "list_workflow_triggers",
    "list_workflows",
    "log_metric",
    "log_metrics",
    "pause_workflow_schedule",
    "pause_workflow_trigger",
    "register_artifact",
    "register_dataset",
    "register_model",
    "register_model_version",
    "resume_workflow_schedule",
    "resume_workflow_trigger",
    "start_task_execution",
    "start_workflow_execution",
    "stop_task_execution",
    "stop_workflow_execution",
    "stop_workflow_executions",
    "update_dataset",
    "update_model_version",
    "update_namespace",
    "upload_workflows",
]
