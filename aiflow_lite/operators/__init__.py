"""Operators: templates of tasks. Bash and Python here; Flink and Spark in their own modules,
loaded on first use (`from aiflow_lite.operators import FlinkOperator` works too)."""

from __future__ import annotations

import importlib
from typing import Any

from aiflow_lite.operators.base import AIFlowOperator, Operator, OperatorConfigItem
from aiflow_lite.operators.bash import BashOperator
from aiflow_lite.operators.python import PythonOperator

_LAZY = {
    "FlinkOperator": "aiflow_lite.operators.flink",
    "SparkSqlOperator": "aiflow_lite.operators.spark",
    "SparkSubmitOperator": "aiflow_lite.operators.spark",
}

__all__ = ["AIFlowOperator", "BashOperator", "Operator", "OperatorConfigItem", "PythonOperator",
           *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aiflow_lite.operators' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
