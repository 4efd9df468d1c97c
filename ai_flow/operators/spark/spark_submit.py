from aiflow_lite.operators.spark import SparkSubmitOperator

__all__ = ["SparkSubmitOperator"]
