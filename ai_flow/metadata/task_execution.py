from aiflow_lite.meta import TaskExecutionMeta

__all__ = ["TaskExecutionMeta"]
