from aiflow_lite.status import ModelVersionStage, TaskStatus, WorkflowStatus

__all__ = ["ModelVersionStage", "TaskStatus", "WorkflowStatus"]
