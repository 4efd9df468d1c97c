"""Operators: templates of tasks. Bash and Python here; Flink and Spark in their own modules."""

from aiflow_lite.operators.base import AIFlowOperator, Operator, OperatorConfigItem
from aiflow_lite.operators.bash import BashOperator
from aiflow_lite.operators.python import PythonOperator

__all__ = ["AIFlowOperator", "BashOperator", "Operator", "OperatorConfigItem", "PythonOperator"]
