from aiflow_lite.meta import WorkflowExecution

__all__ = ["WorkflowExecution"]
