"""The spec's `ai_flow.operators.spark` package."""
from aiflow_lite.operators.spark import SparkSqlOperator, SparkSubmitOperator

__all__ = ["SparkSqlOperator", "SparkSubmitOperator"]
