"""What the meta service's stores share: the namespace a call works in, the lineage of a task
that registers something, JSON columns, and the change events they append."""

from __future__ import annotations

import json
import math
from typing import Any, Dict, Optional

from aiflow_lite.errors import InvalidInput, NotFound
from aiflow_lite.events import DEFAULT_NAMESPACE, validate_name
from aiflow_lite.ns.event_log import EventLog
from aiflow_lite.sqlite import Database
from aiflow_lite.task_context import task_context

#: The sender of every meta service event.
SENDER = "aiflow.meta"

_lineages: Dict[tuple, Dict[str, Any]] = {}  # (database, task execution id) -> lineage


class MetaStore:
    """A store of the meta service over one connection."""

    def __init__(self, db: Database, log: Optional[EventLog] = None) -> None:
        self.db = db
        self.log = log or EventLog(db)

    def namespace(self, namespace: Optional[str]) -> str:
        """The namespace a call works in: the one given, else the task's, else `default`;
        it must exist."""
        if namespace is None:
            context = task_context()
            namespace = (context or {}).get("namespace") or DEFAULT_NAMESPACE
        validate_name(namespace)
        if self.db.one("SELECT 1 FROM namespace WHERE name = ?", (namespace,)) is None:
            raise NotFound(f"namespace {namespace!r} does not exist; add it with "
                           f"`aiflow namespace add {namespace}`")
        return namespace

    def lineage(self) -> Dict[str, Any]:
        """Where something registered now comes from: the running task's workflow, snapshot,
        workflow execution and task execution ({} outside a task). Read once per task."""
        context = task_context()
        if not context or context.get("task_execution_id") is None:
            return {}
        key = (self.db.path, context["task_execution_id"])
        if key not in _lineages:
            if len(_lineages) >= 64:  # a process runs one task; a test process, many
                _lineages.clear()
            row = self.db.one(
                "SELECT w.namespace, w.name, e.snapshot_id FROM workflow_execution e "
                "JOIN workflow w ON w.id = e.workflow_id WHERE e.id = ?",
                (context.get("workflow_execution_id"),))
            _lineages[key] = {
                "workflow": f"{row[0]}.{row[1]}" if row else None,
                "snapshot_id": row[2] if row else None,
                "workflow_execution_id": context.get("workflow_execution_id"),
                "task_execution_id": context["task_execution_id"],
                "task_name": context.get("task_name"),
            }
        return _lineages[key]

    def emit(self, key: str, value: str, namespace: str, context: Dict[str, Any]) -> None:
        """The change's event, in the caller's transaction. The producing task rides in
        `context.lineage`, never as `workflow_execution_id`: a registry is shared, so every
        running execution of the namespace sees the change, not only the producer's."""
        self.log.append(key, value, namespace, SENDER, context)


def mapping(value: Any, what: str) -> Dict[str, Any]:
    """A JSON object given as a dict (or None for {}), checked to be storable as JSON."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a mapping (a JSON object), not "
                           f"{type(value).__name__}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} must hold only JSON values: {exc}") from None
    if not all(isinstance(k, str) for k in value):
        raise InvalidInput(f"{what} must have string keys")
    return value


def text(value: Any, what: str, required: bool = False) -> Optional[str]:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(f"{what} must be {'a non-empty' if required else 'a'} string")
    if "\x00" in value:
        raise InvalidInput(f"{what} must not contain NUL characters")
    return value


def number(value: Any, what: str) -> float:
    """A finite float (SQLite stores NaN as NULL, and JSON has no infinity)."""
    if isinstance(value, bool):
        raise InvalidInput(f"{what} must be a number, not a bool")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(result):
        raise InvalidInput(f"{what} must be a finite number, got {value!r}")
    return result


def integer(value: Any, what: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, bool) or float(value) != int(value):
                raise ValueError
            value = int(value)
        except (TypeError, ValueError, OverflowError):
            raise InvalidInput(f"{what} must be an integer, got {value!r}") from None
    if value < minimum or value >= 2**63:
        raise InvalidInput(f"{what} must be an integer >= {minimum}, got {value}")
    return value


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def loads(text_value: Optional[str], default: Any) -> Any:
    return json.loads(text_value) if text_value else default


def page(limit: Optional[int], offset: Optional[int]) -> tuple:
    """(LIMIT, OFFSET) parameters: every list pages; no limit is -1 to SQLite."""
    return (-1 if limit is None else integer(limit, "limit"),
            0 if offset is None else integer(offset, "offset"))
