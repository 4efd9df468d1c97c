from aiflow_lite.workflow import Workflow, WorkflowContextManager

__all__ = ["Workflow", "WorkflowContextManager"]
