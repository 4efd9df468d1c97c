"""aiflow_lite: an event-based workflow orchestrator for machine learning, on one machine.

The SDK's names are importable from here (`from aiflow_lite import Workflow, BashOperator`) but
load on first use: nothing happens at import time, no config is read, no connection opened.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Workflow": "aiflow_lite.workflow",
    "WorkflowContextManager": "aiflow_lite.workflow",
    "Operator": "aiflow_lite.operators.base",
    "AIFlowOperator": "aiflow_lite.operators.base",
    "OperatorConfigItem": "aiflow_lite.operators.base",
    "TaskFailed": "aiflow_lite.operators.base",
    "BashOperator": "aiflow_lite.operators.bash",
    "PythonOperator": "aiflow_lite.operators.python",
    "FlinkOperator": "aiflow_lite.operators.flink",
    "SparkSubmitOperator": "aiflow_lite.operators.spark",
    "SparkSqlOperator": "aiflow_lite.operators.spark",
    "TaskAction": "aiflow_lite.status",
    "TaskStatus": "aiflow_lite.status",
    "WorkflowStatus": "aiflow_lite.status",
    "ExecutionType": "aiflow_lite.status",
    "ModelVersionStage": "aiflow_lite.status",
    "Condition": "aiflow_lite.conditions",
    "Context": "aiflow_lite.conditions",
    "SingleEventCondition": "aiflow_lite.conditions",
    "TaskStatusCondition": "aiflow_lite.conditions",
    "ModelVersionCondition": "aiflow_lite.conditions",
    "MeetAllCondition": "aiflow_lite.conditions",
    "MeetAnyCondition": "aiflow_lite.conditions",
    "TaskRule": "aiflow_lite.conditions",
    "WorkflowRule": "aiflow_lite.conditions",
    "State": "aiflow_lite.state",
    "ValueState": "aiflow_lite.state",
    "StateDescriptor": "aiflow_lite.state",
    "ValueStateDescriptor": "aiflow_lite.state",
    "Event": "aiflow_lite.events",
    "task_context": "aiflow_lite.task_context",
    "AIFlowNotificationClient": "aiflow_lite.ns.client",
    "NotificationClient": "aiflow_lite.ns.client",
    "ListenerProcessor": "aiflow_lite.ns.client",
    "AiflowError": "aiflow_lite.errors",
    "AIFlowException": "aiflow_lite.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'aiflow_lite' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
