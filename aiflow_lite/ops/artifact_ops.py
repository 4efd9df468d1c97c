"""Artifacts of the meta service: files kept by the home's blob manager, versioned per name.
Registering appends an `artifact.<name>` event (value: the version) with the record."""

from __future__ import annotations

import os
from typing import List, Optional

from aiflow_lite.meta import ArtifactMeta
from aiflow_lite.ops.backend import served, stores


def _blob_manager():  # type: ignore[no-untyped-def]
    from aiflow_lite.blob import load_blob_manager
    from aiflow_lite.config import blob_manager_settings, load_aiflow_settings

    return load_blob_manager(*blob_manager_settings(load_aiflow_settings()))


@served
def register_artifact(name: str, path: str, description: Optional[str] = None,
                      namespace: Optional[str] = None) -> ArtifactMeta:
    """Store the file at `path` as the next version of artifact `name`."""
    from aiflow_lite.blob import plain_file_name
    from aiflow_lite.events import validate_name
    from aiflow_lite.meta_service.artifacts import blob_name, file_digest

    validate_name(name, "artifact name")  # before any bytes are stored
    with stores() as s:
        s.artifacts.namespace(namespace)  # it exists
    path = os.path.abspath(os.path.expanduser(path))
    file_name = plain_file_name(os.path.basename(path))
    content_hash, size = file_digest(path)
    uri = _blob_manager().upload(path, blob_name(content_hash, file_name))
    with stores() as s:
        return s.artifacts.add(name, uri, file_name, content_hash, size, description, namespace)


@served
def get_artifact(name: str, version: Optional[int] = None,
                 namespace: Optional[str] = None) -> Optional[ArtifactMeta]:
    """A version of the artifact (the latest when `version` is None)."""
    with stores() as s:
        return s.artifacts.get(name, version, namespace)


@served
def list_artifacts(name: Optional[str] = None, namespace: Optional[str] = None,
                   limit: Optional[int] = None,
                   offset: Optional[int] = None) -> List[ArtifactMeta]:
    """The latest version of every artifact, or every version of `name`."""
    with stores() as s:
        return s.artifacts.list(namespace, name, limit, offset)


@served
def download_artifact(name: str, dest: str, version: Optional[int] = None,
                      namespace: Optional[str] = None, overwrite: bool = False) -> str:
    """Copy a version of the artifact (the latest by default) into the directory `dest`
    as its file name, checked against its sha256; returns the file's path. A file of that
    name already in `dest` is kept (an error) unless `overwrite`: whoever registered the
    artifact chose the name."""
    with stores() as s:
        artifact = s.artifacts.require(name, version, namespace)
    return fetch_artifact(artifact, dest, _blob_manager(), overwrite)


def fetch_artifact(artifact: ArtifactMeta, dest: str, blob: object,
                   overwrite: bool = False) -> str:
    """Download into a temporary directory beside the target, verify, then rename: a reader
    of `dest` never sees a partial or corrupt file."""
    import tempfile

    from aiflow_lite.blob import place_file, plain_file_name
    from aiflow_lite.errors import HomeError
    from aiflow_lite.meta_service.artifacts import file_digest

    dest = os.path.abspath(os.path.expanduser(dest))
    target = os.path.join(dest, plain_file_name(artifact.file_name))
    try:
        os.makedirs(dest, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest, prefix=".aiflow-download-") as tmp:
            local = blob.download(artifact.uri, tmp)  # type: ignore[attr-defined]
            if file_digest(local)[0] != artifact.content_hash:
                raise HomeError(f"artifact {artifact.name!r} version {artifact.version}: the "
                                f"stored bytes at {artifact.uri} no longer match its sha256")
            place_file(local, target, overwrite)
    except OSError as exc:
        raise HomeError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target
