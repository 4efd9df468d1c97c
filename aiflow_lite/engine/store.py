"""The metadata store: namespaces, workflows and snapshots (executions, schedules and triggers
come with the scheduler). All of its SQL lives here, behind verbs; it shares the home's database
(and so its transactions) with the event log."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from aiflow_lite.errors import InvalidInput, NotFound
from aiflow_lite.events import DEFAULT_NAMESPACE, now_ms, validate_name
from aiflow_lite.meta import NamespaceMeta, WorkflowMeta, WorkflowSnapshotMeta, load_json
from aiflow_lite.schema import next_id
from aiflow_lite.sqlite import Database

_WORKFLOW_COLUMNS = (
    "w.id, w.namespace, w.name, w.is_enabled, w.create_time, w.update_time, w.structure, "
    "w.snapshot_id"
)
_SNAPSHOT_COLUMNS = "id, workflow_id, uri, signature, create_time"


#: What a namespace holds, checked before it is deleted: (table, what, `aiflow` noun to list).
_NAMESPACE_CONTENTS = (("workflow", "workflow(s)", "workflow"), ("model", "model(s)", "model"),
                       ("dataset", "dataset(s)", "dataset"),
                       ("artifact", "artifact version(s)", "artifact"),
                       ("metric", "metric point(s)", "metric"))


def _page(limit: Optional[int], offset: Optional[int]) -> str:
    if limit is None and offset is None:
        return ""
    return f" LIMIT {int(-1 if limit is None else limit)} OFFSET {int(offset or 0)}"


def _workflow(row: tuple) -> WorkflowMeta:
    wid, namespace, name, enabled, created, updated, structure, snapshot_id = row
    return WorkflowMeta(wid, namespace, name, bool(enabled), created, updated,
                        load_json(structure), snapshot_id)


class MetadataStore:
    """The verbs of the metadata store over one `Database` connection."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- namespaces ---------------------------------------------------------------------------

    def add_namespace(self, name: str,
                      properties: Optional[Dict[str, Any]] = None) -> NamespaceMeta:
        validate_name(name, "namespace")
        props = _properties(properties)
        with self.db.transaction():
            if self.get_namespace(name) is not None:
                raise InvalidInput(f"namespace {name!r} already exists")
            created = now_ms()
            self.db.execute("INSERT INTO namespace (name, properties, create_time) "
                            "VALUES (?, ?, ?)", (name, json.dumps(props), created))
        return NamespaceMeta(name, props, created)

    def get_namespace(self, name: str) -> Optional[NamespaceMeta]:
        row = self.db.one("SELECT name, properties, create_time FROM namespace WHERE name = ?",
                          (name,))
        return None if row is None else NamespaceMeta(row[0], load_json(row[1]), row[2])

    def list_namespaces(self, limit: Optional[int] = None,
                        offset: Optional[int] = None) -> List[NamespaceMeta]:
        rows = self.db.rows("SELECT name, properties, create_time FROM namespace ORDER BY name"
                            + _page(limit, offset))
        return [NamespaceMeta(r[0], load_json(r[1]), r[2]) for r in rows]

    def update_namespace(self, name: str, properties: Dict[str, Any]) -> Optional[NamespaceMeta]:
        """The updated namespace, or None when there is none of that name (as the spec)."""
        props = _properties(properties)
        with self.db.transaction():
            self.db.execute("UPDATE namespace SET properties = ? WHERE name = ?",
                            (json.dumps(props), name))
        return self.get_namespace(name)

    def delete_namespace(self, name: str) -> None:
        if name == DEFAULT_NAMESPACE:
            raise InvalidInput("the 'default' namespace always exists and cannot be deleted")
        with self.db.transaction():
            if self.get_namespace(name) is None:
                raise NotFound(f"no namespace named {name!r}")
            for table, what, listing in _NAMESPACE_CONTENTS:
                count = self.db.scalar(f"SELECT count(*) FROM {table} WHERE namespace = ?",
                                       (name,))
                if count:
                    raise InvalidInput(f"namespace {name!r} still has {count} {what}; delete "
                                       f"them first (`aiflow {listing} list -n {name}`)")
            self.db.execute("DELETE FROM namespace WHERE name = ?", (name,))

    def require_namespace(self, name: str) -> None:
        if self.get_namespace(name) is None:
            raise NotFound(f"namespace {name!r} does not exist; add it with "
                           f"`aiflow namespace add {name}`")

    # -- workflows ----------------------------------------------------------------------------

    def put_workflow(self, namespace: str, name: str, content: str, pickled: bytes,
                     structure: Dict[str, Any]) -> int:
        """Create the workflow, or replace its current definition; returns its id."""
        now = now_ms()
        with self.db.transaction():
            self.require_namespace(namespace)
            self.db.execute(
                "INSERT INTO workflow (namespace, name, content, workflow, structure, "
                "create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (namespace, name) DO UPDATE SET content = excluded.content, "
                "workflow = excluded.workflow, structure = excluded.structure, "
                "update_time = excluded.update_time",
                (namespace, name, content, pickled, json.dumps(structure, default=str), now, now),
            )
            return int(self.db.scalar("SELECT id FROM workflow WHERE namespace = ? AND name = ?",
                                      (namespace, name)))

    def get_workflow(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> Optional[WorkflowMeta]:
        row = self.db.one(f"SELECT {_WORKFLOW_COLUMNS} FROM workflow w "
                          "WHERE w.namespace = ? AND w.name = ?", (namespace, name))
        return None if row is None else _workflow(row)

    def require_workflow(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> WorkflowMeta:
        meta = self.get_workflow(name, namespace)
        if meta is None:
            raise NotFound(f"no workflow {namespace}.{name}; `aiflow workflow list -n {namespace}` "
                           "shows the uploaded ones")
        return meta

    def list_workflows(self, namespace: Optional[str] = DEFAULT_NAMESPACE,
                       limit: Optional[int] = None,
                       offset: Optional[int] = None) -> List[WorkflowMeta]:
        where, params = ("WHERE w.namespace = ?", (namespace,)) if namespace else ("", ())
        rows = self.db.rows(f"SELECT {_WORKFLOW_COLUMNS} FROM workflow w {where} "
                            "ORDER BY w.namespace, w.name" + _page(limit, offset), params)
        return [_workflow(r) for r in rows]

    def set_workflow_enabled(self, name: str, namespace: str, enabled: bool) -> None:
        with self.db.transaction():
            meta = self.require_workflow(name, namespace)
            self.db.execute("UPDATE workflow SET is_enabled = ?, update_time = ? WHERE id = ?",
                            (int(enabled), now_ms(), meta.id))

    def delete_workflow(self, name: str, namespace: str = DEFAULT_NAMESPACE) -> None:
        """Delete the workflow with its snapshots, executions, schedules and triggers."""
        with self.db.transaction():
            meta = self.require_workflow(name, namespace)
            running = self.db.scalar(
                "SELECT count(*) FROM workflow_execution WHERE workflow_id = ? "
                "AND status IN ('INIT', 'RUNNING')", (meta.id,))
            if running:
                raise InvalidInput(
                    f"workflow {namespace}.{name} has {running} unfinished execution(s); stop "
                    f"them first (`aiflow workflow-execution stop-all {name} -n {namespace}`)")
            self.db.execute("DELETE FROM workflow WHERE id = ?", (meta.id,))

    # -- snapshots ----------------------------------------------------------------------------

    def add_snapshot(self, workflow_id: int, content: str, pickled: bytes,
                     structure: Dict[str, Any], uri: str, file_name: str,
                     signature: str) -> WorkflowSnapshotMeta:
        """Record a snapshot unless this workflow already has one with the same signature."""
        with self.db.transaction():
            self.db.execute(
                "INSERT INTO workflow_snapshot (id, workflow_id, content, workflow, structure, "
                "uri, file_name, signature, create_time) "
                f"VALUES ({next_id('workflow_snapshot')}, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (workflow_id, signature) DO NOTHING",
                (workflow_id, content, pickled, json.dumps(structure, default=str), uri,
                 file_name, signature, now_ms()),
            )
            row = self.db.one(f"SELECT {_SNAPSHOT_COLUMNS} FROM workflow_snapshot "
                              "WHERE workflow_id = ? AND signature = ?", (workflow_id, signature))
            # The upload's snapshot is now the current one, even when it existed before (a
            # revert to an earlier version): executions start from it.
            self.db.execute("UPDATE workflow SET snapshot_id = ? WHERE id = ?",
                            (row[0], workflow_id))
        return WorkflowSnapshotMeta(*row)

    def get_snapshot(self, snapshot_id: int) -> Optional[WorkflowSnapshotMeta]:
        row = self.db.one(f"SELECT {_SNAPSHOT_COLUMNS} FROM workflow_snapshot WHERE id = ?",
                          (snapshot_id,))
        return None if row is None else WorkflowSnapshotMeta(*row)

    def list_snapshots(self, workflow_id: int, limit: Optional[int] = None,
                       offset: Optional[int] = None) -> List[WorkflowSnapshotMeta]:
        rows = self.db.rows(f"SELECT {_SNAPSHOT_COLUMNS} FROM workflow_snapshot "
                            "WHERE workflow_id = ? ORDER BY id" + _page(limit, offset),
                            (workflow_id,))
        return [WorkflowSnapshotMeta(*r) for r in rows]

    def delete_snapshot(self, snapshot_id: int) -> None:
        with self.db.transaction():
            used = self.db.scalar("SELECT count(*) FROM workflow_execution WHERE snapshot_id = ?",
                                  (snapshot_id,))
            if used:
                raise InvalidInput(f"snapshot {snapshot_id} is used by {used} execution(s); "
                                   "delete them first")
            self.db.execute("DELETE FROM workflow_snapshot WHERE id = ?", (snapshot_id,))
            if not self.db.changes:
                raise NotFound(f"no workflow snapshot with id {snapshot_id}")


def _properties(properties: Any) -> Dict[str, Any]:
    if properties is None:
        return {}
    if not isinstance(properties, dict):
        raise InvalidInput(f"namespace properties must be a JSON object, got {properties!r}")
    return properties
