"""Datasets: a name in a namespace for data somewhere (`uri`), with its format, schema (column
name -> type name) and properties. Each change appends a `dataset.<name>` event whose value says
what happened: REGISTERED, UPDATED or DELETED."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from aiflow_lite.errors import InvalidInput, NotFound
from aiflow_lite.events import now_ms, validate_name
from aiflow_lite.meta import DatasetMeta
from aiflow_lite.meta_service.base import MetaStore, dumps, loads, mapping, page, text

_COLUMNS = ("namespace, name, uri, data_format, description, schema, properties, create_time, "
            "update_time, lineage")


def _meta(row: tuple) -> DatasetMeta:
    namespace, name, uri, data_format, description, schema, properties, created, updated, \
        lineage = row
    return DatasetMeta(namespace, name, uri, data_format, description, loads(schema, {}),
                       loads(properties, {}), created, updated, loads(lineage, {}))


def _schema(schema: Any) -> Dict[str, str]:
    schema = mapping(schema, "a dataset schema")
    if not all(isinstance(v, str) and v for v in schema.values()):
        raise InvalidInput("a dataset schema maps each column name to a type name, e.g. "
                           '{"user_id": "int64", "text": "string"}')
    return schema


class DatasetStore(MetaStore):
    def register(self, name: str, uri: str, data_format: Optional[str] = None,
                 description: Optional[str] = None, schema: Any = None, properties: Any = None,
                 namespace: Optional[str] = None) -> DatasetMeta:
        validate_name(name, "dataset name")
        text(uri, "a dataset's uri", required=True)
        text(data_format, "data_format")
        text(description, "description")
        schema, properties = _schema(schema), mapping(properties, "dataset properties")
        with self.db.transaction():
            namespace = self.namespace(namespace)
            if self.get(name, namespace) is not None:
                raise InvalidInput(f"dataset {name!r} already exists in namespace "
                                   f"{namespace!r}; change it with `aiflow dataset update` "
                                   "or register another name")
            lineage, now = self.lineage(), now_ms()
            self.db.execute(
                f"INSERT INTO dataset ({_COLUMNS}, task_execution_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (namespace, name, uri, data_format, description, dumps(schema),
                 dumps(properties), now, now, dumps(lineage), lineage.get("task_execution_id")))
            self._changed(name, namespace, "REGISTERED", uri, lineage)
            return self.require(name, namespace)

    def update(self, name: str, uri: Optional[str] = None, data_format: Optional[str] = None,
               description: Optional[str] = None, schema: Any = None, properties: Any = None,
               namespace: Optional[str] = None) -> DatasetMeta:
        """Change the fields given (None keeps one); `properties` replaces them all."""
        if uri is not None:
            text(uri, "a dataset's uri", required=True)
        text(data_format, "data_format")
        text(description, "description")
        changes = {"uri": uri, "data_format": data_format, "description": description,
                   "schema": None if schema is None else dumps(_schema(schema)),
                   "properties": None if properties is None
                   else dumps(mapping(properties, "dataset properties"))}
        changes = {column: value for column, value in changes.items() if value is not None}
        with self.db.transaction():
            namespace = self.namespace(namespace)
            current = self.require(name, namespace)
            stored = self.db.one("SELECT uri, data_format, description, schema, properties "
                                 "FROM dataset WHERE namespace = ? AND name = ?",
                                 (namespace, name))
            now = dict(zip(("uri", "data_format", "description", "schema", "properties"),
                           stored, strict=True))
            changes = {column: v for column, v in changes.items() if now[column] != v}
            if changes:  # a change that changes nothing appends nothing
                sets = ", ".join(f"{column} = ?" for column in changes)
                self.db.execute(f"UPDATE dataset SET {sets}, update_time = ? "
                                "WHERE namespace = ? AND name = ?",
                                (*changes.values(), now_ms(), namespace, name))
                self._changed(name, namespace, "UPDATED", uri or current.uri, self.lineage())
            return self.require(name, namespace)

    def delete(self, name: str, namespace: Optional[str] = None) -> None:
        """Delete it with the metrics logged against it."""
        with self.db.transaction():
            namespace = self.namespace(namespace)
            current = self.require(name, namespace)
            self.db.execute("DELETE FROM dataset WHERE namespace = ? AND name = ?",
                            (namespace, name))
            self._changed(name, namespace, "DELETED", current.uri, self.lineage())

    def get(self, name: str, namespace: Optional[str] = None) -> Optional[DatasetMeta]:
        namespace = self.namespace(namespace)
        row = self.db.one(f"SELECT {_COLUMNS} FROM dataset WHERE namespace = ? AND name = ?",
                          (namespace, name))
        return _meta(row) if row else None

    def require(self, name: str, namespace: Optional[str] = None) -> DatasetMeta:
        found = self.get(name, namespace)
        if found is None:
            raise NotFound(f"no dataset {name!r} in namespace {self.namespace(namespace)!r}; "
                           "see `aiflow dataset list`")
        return found

    def id_of(self, name: str, namespace: str) -> int:
        self.require(name, namespace)
        return self.db.scalar("SELECT id FROM dataset WHERE namespace = ? AND name = ?",
                              (namespace, name))

    def list(self, namespace: Optional[str] = None, limit: Optional[int] = None,
             offset: Optional[int] = None) -> List[DatasetMeta]:
        namespace = self.namespace(namespace)
        return [_meta(r) for r in self.db.rows(
            f"SELECT {_COLUMNS} FROM dataset WHERE namespace = ? ORDER BY name LIMIT ? OFFSET ?",
            (namespace, *page(limit, offset)))]

    def produced_by(self, task_execution_id: int) -> List[DatasetMeta]:
        return [_meta(r) for r in self.db.rows(
            f"SELECT {_COLUMNS} FROM dataset WHERE task_execution_id = ? ORDER BY id",
            (task_execution_id,))]

    def _changed(self, name: str, namespace: str, what: str, uri: str,
                 lineage: Dict[str, Any]) -> None:
        self.emit(f"dataset.{name}", what, namespace,
                  {"dataset": name, "uri": uri, "lineage": lineage})
