from aiflow_lite.status import TaskStatus, WorkflowStatus

__all__ = ["TaskStatus", "WorkflowStatus"]
