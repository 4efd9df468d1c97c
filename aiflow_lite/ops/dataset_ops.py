"""Datasets of the meta service: register, read, update, delete. Each change appends a
`dataset.<name>` event in the same transaction (see `aiflow_lite.meta_service`)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from aiflow_lite.meta import DatasetMeta
from aiflow_lite.ops.backend import served, stores


@served
def register_dataset(name: str, uri: str, data_format: Optional[str] = None,
                     description: Optional[str] = None, schema: Optional[Dict[str, Any]] = None,
                     properties: Optional[Dict[str, Any]] = None,
                     namespace: Optional[str] = None) -> DatasetMeta:
    """Register a dataset; `schema` maps column names to type names. Inside a task it records
    the task as its producer, in the task's namespace unless told otherwise."""
    with stores() as s:
        return s.datasets.register(name, uri, data_format, description, schema, properties,
                                   namespace)


@served
def get_dataset(name: str, namespace: Optional[str] = None) -> Optional[DatasetMeta]:
    with stores() as s:
        return s.datasets.get(name, namespace)


@served
def list_datasets(namespace: Optional[str] = None, limit: Optional[int] = None,
                  offset: Optional[int] = None) -> List[DatasetMeta]:
    with stores() as s:
        return s.datasets.list(namespace, limit, offset)


@served
def update_dataset(name: str, uri: Optional[str] = None, data_format: Optional[str] = None,
                   description: Optional[str] = None, schema: Optional[Dict[str, Any]] = None,
                   properties: Optional[Dict[str, Any]] = None,
                   namespace: Optional[str] = None) -> DatasetMeta:
    """Change the fields given (None keeps a field); `properties` replaces them all."""
    with stores() as s:
        return s.datasets.update(name, uri, data_format, description, schema, properties,
                                 namespace)


@served
def delete_dataset(name: str, namespace: Optional[str] = None) -> None:
    """Delete the dataset and the metrics logged against it."""
    with stores() as s:
        s.datasets.delete(name, namespace)
