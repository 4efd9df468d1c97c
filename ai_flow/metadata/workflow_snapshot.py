from aiflow_lite.meta import WorkflowSnapshotMeta

__all__ = ["WorkflowSnapshotMeta"]
