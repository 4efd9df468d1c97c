"""The shapes of records as `-o json` prints them and the REST API answers them: the columns of
each kind of record, the builders of the records that are more than one row (a task execution
with its outputs, a model with its latest versions, a version with its metrics), the one-line
messages for a record that is missing, and how a time shows as text.

Both the CLI (`aiflow_lite.cli`) and the web layer (`aiflow_lite.web`) print these; neither
imports the other, so they meet here, below both, and cannot drift apart. Plain values only:
nothing here reads the home."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Sequence

from aiflow_lite.errors import NotFound
from aiflow_lite.status import ModelVersionStage

NAMESPACE_COLUMNS = ("name", "properties", "create_time")
WORKFLOW_COLUMNS = ("id", "namespace", "name", "is_enabled", "snapshot_id", "create_time",
                    "update_time")
#: A workflow execution; a table folds `waiting_for` into its status column instead.
EXECUTION_COLUMNS = ("id", "namespace", "workflow_name", "snapshot_id", "execution_type",
                     "status", "begin_time", "end_time", "reason", "waiting_for")
TASK_COLUMNS = ("id", "workflow_execution_id", "task_name", "sequence_number", "try_number",
                "execution_type", "status", "begin_time", "end_time", "reason", "stop_reason")
#: `task-execution show`: the row, where its process and its log are (then its `outputs`).
TASK_DETAIL_COLUMNS = (*TASK_COLUMNS, "pid", "log_path")
EVENT_COLUMNS = ("offset", "key", "value", "namespace", "sender", "context", "create_time")
SCHEDULE_COLUMNS = ("id", "workflow_id", "expression", "is_paused", "next_fire_time",
                    "create_time")
TRIGGER_COLUMNS = ("id", "workflow_id", "description", "is_paused", "create_time")
MODEL_COLUMNS = ("name", "namespace", "latest_version", "description", "properties",
                 "create_time", "update_time")
VERSION_COLUMNS = ("model_name", "namespace", "version", "stage", "uri", "description",
                   "properties", "datasets", "create_time", "update_time", "lineage")
STAGES = [s.value for s in ModelVersionStage]
DATASET_COLUMNS = ("name", "namespace", "uri", "data_format", "description", "schema",
                   "properties", "create_time", "update_time", "lineage")
METRIC_COLUMNS = ("id", "namespace", "key", "value", "step", "timestamp", "model_name",
                  "model_version", "dataset_name", "workflow_execution_id", "task_execution_id")
ARTIFACT_COLUMNS = ("name", "namespace", "version", "file_name", "size", "content_hash",
                    "description", "uri", "create_time", "lineage")


def pick(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> List[Dict[str, Any]]:
    """Each row restricted to (and ordered by) `columns`: a `list` command's records."""
    return [{c: r.get(c) for c in columns} for r in rows]


def pick_one(record: Any, missing: str, columns: Sequence[str]) -> Dict[str, Any]:
    """A `show` command's record (a meta, or a dict already shaped) restricted to `columns`,
    or NotFound(`missing`) when there is none."""
    if record is None:
        raise NotFound(missing)
    row = record if isinstance(record, Mapping) else record.to_dict()
    return {c: row.get(c) for c in columns}


def task_execution_record(meta: Any, outputs: Any) -> Dict[str, Any]:
    """`task-execution show`: the task execution and what it registered in the meta service."""
    produced = outputs.to_dict()
    produced.pop("task_execution_id", None)
    return {**pick_one(meta, "", TASK_DETAIL_COLUMNS), "outputs": produced}


def model_record(meta: Any, latest: Mapping[str, Any]) -> Dict[str, Any]:
    """`model show`: the model and its latest version in each stage (None where it has none)."""
    return {**meta.to_dict(), "latest_versions": {
        stage: v.to_dict() if v else None for stage, v in latest.items()}}


def model_version_record(meta: Any, metrics: Iterable[Any]) -> Dict[str, Any]:
    """`model-version show`: the version (with its lineage) and the latest value of each metric
    logged against it."""
    return {**meta.to_dict(), "metrics": [m.to_dict() for m in metrics]}


def no_model(name: str) -> str:
    return f"no model {name!r}; register it first with `aiflow model register {name}`"


def no_model_version(name: str, version: int) -> str:
    return f"model {name!r} has no version {version}; see `aiflow model-version list {name}`"


def no_dataset(name: str) -> str:
    return f"no dataset {name!r}; see `aiflow dataset list`"


def no_artifact(name: str, version: Any = None) -> str:
    which = "" if version is None else f" version {version}"
    return f"no artifact {name!r}{which}; see `aiflow artifact list`"


def format_time_ms(ms: Any) -> str:
    """An epoch-ms time as local ISO text to the millisecond, as tables and pages show it
    ("" for None); json and yaml keep the number."""
    from datetime import datetime

    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).isoformat(sep=" ", timespec="milliseconds")
