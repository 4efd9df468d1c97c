from aiflow_lite.meta import WorkflowExecutionMeta

__all__ = ["WorkflowExecutionMeta"]
