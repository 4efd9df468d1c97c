"""Artifacts: files kept by the home's blob manager under a name, versioned 1, 2, ... per name,
with their sha256 and size. The bytes are stored first, under a name made from their hash (so
a crash between storing and recording leaves an unreferenced blob, never a row without its
bytes); the row and its `artifact.<name>` event (value: the version) commit together."""

from __future__ import annotations

import hashlib
import os
from typing import List, Optional

from aiflow_lite.blob import plain_file_name
from aiflow_lite.errors import HomeError, InvalidInput, NotFound
from aiflow_lite.events import now_ms, validate_name
from aiflow_lite.meta import ArtifactMeta
from aiflow_lite.meta_service.base import MetaStore, dumps, integer, loads, page, text

_COLUMNS = ("namespace, name, version, uri, file_name, content_hash, size, description, "
            "create_time, lineage")


def _meta(row: tuple) -> ArtifactMeta:
    return ArtifactMeta(*row[:-1], loads(row[-1], {}))


def file_digest(path: str) -> tuple:
    """(sha256 hex, size) of a regular file."""
    if not os.path.isfile(path):
        raise InvalidInput(f"cannot register {path!r} as an artifact: not a regular file "
                           "(pack a directory into an archive first)")
    digest, size = hashlib.sha256(), 0
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    except OSError as exc:
        raise HomeError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest(), size


def blob_name(content_hash: str, file_name: str) -> str:
    """Where the blob manager keeps an artifact's bytes: by content, so equal files share one."""
    return f"artifacts/{content_hash[:2]}/{content_hash}/{file_name}"


class ArtifactStore(MetaStore):
    def add(self, name: str, uri: str, file_name: str, content_hash: str, size: int,
            description: Optional[str] = None,
            namespace: Optional[str] = None) -> ArtifactMeta:
        """Record the next version of `name` for bytes the blob manager already holds."""
        validate_name(name, "artifact name")
        plain_file_name(file_name)
        text(description, "description")
        with self.db.transaction():
            namespace = self.namespace(namespace)
            version = (self.db.scalar("SELECT max(version) FROM artifact WHERE namespace = ? "
                                      "AND name = ?", (namespace, name)) or 0) + 1
            lineage = self.lineage()
            self.db.execute(
                f"INSERT INTO artifact ({_COLUMNS}, task_execution_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (namespace, name, version, uri, file_name, content_hash, integer(size, "size"),
                 description, now_ms(), dumps(lineage), lineage.get("task_execution_id")))
            self.emit(f"artifact.{name}", str(version), namespace,
                      {"artifact": name, "version": version, "uri": uri,
                       "content_hash": content_hash, "size": size, "lineage": lineage})
            return self.require(name, version, namespace)

    def get(self, name: str, version: Optional[int] = None,
            namespace: Optional[str] = None) -> Optional[ArtifactMeta]:
        """A version of the artifact, the latest when `version` is None."""
        namespace = self.namespace(namespace)
        if version is None:
            row = self.db.one(f"SELECT {_COLUMNS} FROM artifact WHERE namespace = ? AND "
                              "name = ? ORDER BY version DESC LIMIT 1", (namespace, name))
        else:
            row = self.db.one(f"SELECT {_COLUMNS} FROM artifact WHERE namespace = ? AND "
                              "name = ? AND version = ?",
                              (namespace, name, integer(version, "artifact version", 1)))
        return _meta(row) if row else None

    def require(self, name: str, version: Optional[int] = None,
                namespace: Optional[str] = None) -> ArtifactMeta:
        found = self.get(name, version, namespace)
        if found is None:
            which = f" version {version}" if version is not None else ""
            raise NotFound(f"no artifact {name!r}{which} in namespace "
                           f"{self.namespace(namespace)!r}; see `aiflow artifact list`")
        return found

    def list(self, namespace: Optional[str] = None, name: Optional[str] = None,
             limit: Optional[int] = None, offset: Optional[int] = None) -> List[ArtifactMeta]:
        """The latest version of each artifact, or every version of `name`."""
        namespace = self.namespace(namespace)
        if name is None:
            sql = (f"SELECT {_COLUMNS} FROM artifact a WHERE namespace = ? AND version = "
                   "(SELECT max(version) FROM artifact b WHERE b.namespace = a.namespace AND "
                   "b.name = a.name) ORDER BY name LIMIT ? OFFSET ?")
            params: tuple = (namespace,)
        else:
            sql = (f"SELECT {_COLUMNS} FROM artifact WHERE namespace = ? AND name = ? "
                   "ORDER BY version LIMIT ? OFFSET ?")
            params = (namespace, name)
        return [_meta(r) for r in self.db.rows(sql, (*params, *page(limit, offset)))]

    def produced_by(self, task_execution_id: int) -> List[ArtifactMeta]:
        return [_meta(r) for r in self.db.rows(
            f"SELECT {_COLUMNS} FROM artifact WHERE task_execution_id = ? ORDER BY id",
            (task_execution_id,))]
