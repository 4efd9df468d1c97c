"""Workflow snapshots: one per upload whose content changed; executions run from them."""

from __future__ import annotations

from typing import List, Optional

from aiflow_lite.events import DEFAULT_NAMESPACE
from aiflow_lite.meta import WorkflowSnapshotMeta
from aiflow_lite.ops.backend import metadata_store, served


@served
def get_workflow_snapshot(snapshot_id: int) -> Optional[WorkflowSnapshotMeta]:
    with metadata_store() as store:
        return store.get_snapshot(snapshot_id)


@served
def list_workflow_snapshots(workflow_name: str, namespace: str = DEFAULT_NAMESPACE,
                            limit: Optional[int] = None,
                            offset: Optional[int] = None) -> List[WorkflowSnapshotMeta]:
    with metadata_store() as store:
        workflow = store.require_workflow(workflow_name, namespace)
        return store.list_snapshots(workflow.id, limit, offset)


@served
def delete_workflow_snapshot(snapshot_id: int) -> None:
    with metadata_store() as store:
        store.delete_snapshot(snapshot_id)


@served
def delete_workflow_snapshots(workflow_name: str, namespace: str = DEFAULT_NAMESPACE) -> None:
    with metadata_store() as store, store.db.transaction():
        workflow = store.require_workflow(workflow_name, namespace)
        for snapshot in store.list_snapshots(workflow.id):
            store.delete_snapshot(snapshot.id)
