"""Workflows: upload, read, enable/disable, delete."""

from __future__ import annotations

import os
from typing import List, Optional

from aiflow_lite.errors import InvalidInput
from aiflow_lite.events import DEFAULT_NAMESPACE
from aiflow_lite.meta import WorkflowMeta
from aiflow_lite.ops.backend import metadata_store, served


@served
def upload_workflows(workflow_file_path: str,
                     artifacts: Optional[List[str]] = None) -> List[WorkflowMeta]:
    """Run the workflow file (as a module, not `__main__`), then store every workflow it declares
    with a snapshot of the file and `artifacts` (files or directories). All or nothing."""
    from aiflow_lite.blob import load_blob_manager, pack_snapshot, temporary_directory
    from aiflow_lite.config import blob_manager_settings, load_aiflow_settings
    from aiflow_lite.loader import load_workflow_file, pickle_workflow

    loaded = load_workflow_file(workflow_file_path)
    prepared = []  # (workflow, pickled, structure): all the slow work before any lock is held
    try:
        for workflow in loaded.workflows:
            try:
                pickled = pickle_workflow(workflow, loaded)
            except Exception as exc:
                raise InvalidInput(f"cannot store workflow {workflow.name!r}: it holds "
                                   f"something that cannot be pickled ({exc})") from None
            prepared.append((workflow, pickled, workflow.describe()))
    finally:
        loaded.release()
    blob = load_blob_manager(*blob_manager_settings(load_aiflow_settings()))
    with temporary_directory() as tmp, metadata_store() as store:
        archive, signature = pack_snapshot(loaded.path, artifacts or [], tmp)
        for workflow, _, _ in prepared:
            store.require_namespace(workflow.namespace)
        uri = blob.upload(archive, f"snapshots/{signature[:2]}/{signature}.zip")
        metas = []
        with store.db.transaction():
            for workflow, pickled, structure in prepared:
                workflow_id = store.put_workflow(workflow.namespace, workflow.name,
                                                 loaded.source, pickled, structure)
                store.add_snapshot(workflow_id, loaded.source, pickled, structure, uri,
                                   os.path.basename(loaded.path), signature)
                metas.append(store.get_workflow(workflow.name, workflow.namespace))
        return metas


@served
def get_workflow(workflow_name: str, namespace: str = DEFAULT_NAMESPACE) -> Optional[WorkflowMeta]:
    with metadata_store() as store:
        return store.get_workflow(workflow_name, namespace)


@served
def list_workflows(namespace: str = DEFAULT_NAMESPACE, limit: Optional[int] = None,
                   offset: Optional[int] = None) -> List[WorkflowMeta]:
    with metadata_store() as store:
        return store.list_workflows(namespace, limit, offset)


@served
def disable_workflow(workflow_name: str, namespace: str = DEFAULT_NAMESPACE) -> None:
    """No new executions or task executions of a disabled workflow are scheduled."""
    with metadata_store() as store:
        store.set_workflow_enabled(workflow_name, namespace, False)


@served
def enable_workflow(workflow_name: str, namespace: str = DEFAULT_NAMESPACE) -> None:
    with metadata_store() as store:
        store.set_workflow_enabled(workflow_name, namespace, True)


@served
def delete_workflow(workflow_name: str, namespace: str = DEFAULT_NAMESPACE) -> None:
    """Delete the workflow and, in cascade, its snapshots, executions, schedules and triggers."""
    with metadata_store() as store:
        store.delete_workflow(workflow_name, namespace)
