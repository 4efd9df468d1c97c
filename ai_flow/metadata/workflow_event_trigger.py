from aiflow_lite.meta import WorkflowTriggerMeta as WorkflowEventTriggerMeta

__all__ = ["WorkflowEventTriggerMeta"]
