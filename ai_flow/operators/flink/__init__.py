"""The spec's `ai_flow.operators.flink` package."""
from aiflow_lite.operators.flink import FlinkOperator

__all__ = ["FlinkOperator"]
