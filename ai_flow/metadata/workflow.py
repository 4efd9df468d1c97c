from aiflow_lite.meta import WorkflowMeta

__all__ = ["WorkflowMeta"]
