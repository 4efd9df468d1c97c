from aiflow_lite.operators.spark import SparkSqlOperator

__all__ = ["SparkSqlOperator"]
