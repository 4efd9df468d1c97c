from aiflow_lite.conditions import TaskRule, WorkflowRule

__all__ = ["TaskRule", "WorkflowRule"]
