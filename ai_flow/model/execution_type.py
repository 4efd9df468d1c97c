from aiflow_lite.status import ExecutionType

__all__ = ["ExecutionType"]
