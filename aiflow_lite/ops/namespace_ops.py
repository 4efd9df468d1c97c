"""Namespaces: groups of workflows with their own event scope. `default` always exists."""

from __future__ import annotations

from typing import List, Optional

from aiflow_lite.meta import NamespaceMeta
from aiflow_lite.ops.backend import metadata_store, served


@served
def add_namespace(name: str, properties: Optional[dict] = None) -> NamespaceMeta:
    with metadata_store() as store:
        return store.add_namespace(name, properties)


@served
def get_namespace(name: str) -> Optional[NamespaceMeta]:
    with metadata_store() as store:
        return store.get_namespace(name)


@served
def list_namespace(limit: Optional[int] = None,
                   offset: Optional[int] = None) -> List[NamespaceMeta]:
    with metadata_store() as store:
        return store.list_namespaces(limit, offset)


@served
def update_namespace(name: str, properties: dict) -> NamespaceMeta:
    with metadata_store() as store:
        return store.update_namespace(name, properties)


@served
def delete_namespace(name: str) -> None:
    """Refuses while the namespace still has workflows."""
    with metadata_store() as store:
        store.delete_namespace(name)
