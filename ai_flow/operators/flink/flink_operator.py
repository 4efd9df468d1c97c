from aiflow_lite.operators.flink import FlinkOperator

__all__ = ["FlinkOperator"]
