"""Models and model versions of the meta service. Each change of a version appends a
`model_version.<model>` event whose value is its new stage, in the same transaction; deploying a
version moves the one deployed before to DEPRECATED (two events, one commit)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from aiflow_lite.meta import ModelMeta, ModelVersionMeta
from aiflow_lite.ops.backend import served, stores
from aiflow_lite.status import ModelVersionStage


@served
def register_model(name: str, description: Optional[str] = None,
                   properties: Optional[Dict[str, Any]] = None,
                   namespace: Optional[str] = None) -> ModelMeta:
    with stores() as s:
        return s.models.register(name, description, properties, namespace)


@served
def get_model(name: str, namespace: Optional[str] = None) -> Optional[ModelMeta]:
    with stores() as s:
        return s.models.get(name, namespace)


@served
def list_models(namespace: Optional[str] = None, limit: Optional[int] = None,
                offset: Optional[int] = None) -> List[ModelMeta]:
    with stores() as s:
        return s.models.list(namespace, limit, offset)


@served
def delete_model(name: str, namespace: Optional[str] = None) -> None:
    """Delete the model with all its versions and their metrics."""
    with stores() as s:
        s.models.delete(name, namespace)


@served
def register_model_version(model_name: str, uri: str,
                           stage: Any = ModelVersionStage.GENERATED,
                           description: Optional[str] = None,
                           properties: Optional[Dict[str, Any]] = None,
                           datasets: Optional[List[str]] = None,
                           namespace: Optional[str] = None) -> ModelVersionMeta:
    """The model's next version (1, 2, ...); `datasets` names the datasets it was made from.
    Inside a task it records the task as its producer."""
    with stores() as s:
        return s.models.register_version(model_name, uri, stage, description, properties,
                                         datasets, namespace)


@served
def get_model_version(model_name: str, version: int,
                      namespace: Optional[str] = None) -> Optional[ModelVersionMeta]:
    with stores() as s:
        return s.models.get_version(model_name, version, namespace)


@served
def get_latest_model_version(model_name: str, stage: Any = None,
                             namespace: Optional[str] = None) -> Optional[ModelVersionMeta]:
    """The highest-numbered version in `stage`, or in any stage but DELETED."""
    with stores() as s:
        return s.models.latest_version(model_name, stage, namespace)


@served
def list_model_versions(model_name: str, stage: Any = None, namespace: Optional[str] = None,
                        limit: Optional[int] = None,
                        offset: Optional[int] = None) -> List[ModelVersionMeta]:
    """Oldest first; DELETED versions only when `stage` asks for them."""
    with stores() as s:
        return s.models.list_versions(model_name, stage, namespace, limit, offset)


@served
def update_model_version(model_name: str, version: int, stage: Any = None,
                         description: Optional[str] = None,
                         properties: Optional[Dict[str, Any]] = None,
                         namespace: Optional[str] = None) -> ModelVersionMeta:
    """Change the stage, description or properties given (None keeps them)."""
    with stores() as s:
        return s.models.update_version(model_name, version, stage, description, properties,
                                       namespace)


@served
def delete_model_version(model_name: str, version: int,
                         namespace: Optional[str] = None) -> ModelVersionMeta:
    """Mark the version DELETED: its number is not given out again, its lineage stays."""
    with stores() as s:
        return s.models.delete_version(model_name, version, namespace)
