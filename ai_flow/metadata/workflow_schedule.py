from aiflow_lite.meta import WorkflowScheduleMeta

__all__ = ["WorkflowScheduleMeta"]
