"""The REST API's reads, each answering what the CLI's `-o json` prints: the columns and the
builders of the records are `aiflow_lite.records`, which the CLI prints from too, so the API
and the CLI cannot drift apart. Every function here is a plain read (or an `ops` call) and
returns data ready for `json.dumps`; a missing record raises NotFound with the CLI's one-line
message."""

from __future__ import annotations

from typing import Any, Iterable, List, Optional

from aiflow_lite.errors import InvalidInput, NotFound
from aiflow_lite.records import (
    ARTIFACT_COLUMNS,
    DATASET_COLUMNS,
    EVENT_COLUMNS,
    EXECUTION_COLUMNS,
    METRIC_COLUMNS,
    MODEL_COLUMNS,
    NAMESPACE_COLUMNS,
    SCHEDULE_COLUMNS,
    STAGES,
    TASK_COLUMNS,
    TRIGGER_COLUMNS,
    VERSION_COLUMNS,
    WORKFLOW_COLUMNS,
    model_record,
    model_version_record,
    no_artifact,
    no_dataset,
    no_model,
    no_model_version,
    pick,
    pick_one,
    task_execution_record,
)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def page(rows: List[Any], limit: int, offset: int) -> List[Any]:
    return rows[offset:offset + limit]


# -- namespaces and workflows --------------------------------------------------------------------


def namespaces(limit: int, offset: int) -> list:
    from aiflow_lite import ops

    return pick((n.to_dict() for n in ops.list_namespace(limit, offset)), NAMESPACE_COLUMNS)


def workflows(namespace: str, limit: int, offset: int) -> list:
    from aiflow_lite import ops

    if ops.get_namespace(namespace) is None:
        raise NotFound(f"no namespace named {namespace!r}; `aiflow namespace list` shows them")
    return pick((w.to_dict() for w in ops.list_workflows(namespace, limit, offset)),
                WORKFLOW_COLUMNS)


def workflow(name: str, namespace: str) -> dict:
    from aiflow_lite.ops.backend import metadata_store

    with metadata_store() as store:
        return store.require_workflow(name, namespace).to_dict()


def workflow_row(name: str, namespace: str) -> dict:
    """The workflow as `aiflow workflow enable|disable -o json` prints it (one row)."""
    from aiflow_lite import ops

    return pick_one(ops.get_workflow(name, namespace), f"no workflow {namespace}.{name}",
                    WORKFLOW_COLUMNS)


# -- executions ----------------------------------------------------------------------------------


def _execution_json(executions: Iterable[Any]) -> list:
    return pick((e.to_dict() for e in executions), EXECUTION_COLUMNS)


def workflow_executions(workflow_name: str, namespace: str, status: Optional[str], limit: int,
                        offset: int) -> list:
    """`aiflow workflow-execution list W -o json`, a page of it; with `status`, only those."""
    from aiflow_lite import ops

    if not status:
        return _execution_json(ops.list_workflow_executions(workflow_name, namespace, limit,
                                                            offset))
    wanted = {s.strip().upper() for s in status.split(",") if s.strip()}
    found: List[Any] = []
    skipped, start, chunk = 0, 0, 1000
    while len(found) < limit:
        batch = ops.list_workflow_executions(workflow_name, namespace, chunk, start)
        for execution in batch:
            if execution.status in wanted:
                if skipped < offset:
                    skipped += 1
                elif len(found) < limit:
                    found.append(execution)
        if len(batch) < chunk:
            break
        start += chunk
    return _execution_json(found)


def workflow_execution(execution_id: int) -> dict:
    from aiflow_lite import ops

    execution = ops.get_workflow_execution(execution_id)
    rows = _execution_json([execution] if execution else [])
    if not rows:
        raise NotFound(f"no workflow execution with id {execution_id}")
    return rows[0]


def task_executions(execution_id: int, limit: int, offset: int) -> list:
    from aiflow_lite import ops

    return pick((t.to_dict() for t in ops.list_task_executions(execution_id, limit, offset)),
                TASK_COLUMNS)


def task_execution(task_execution_id: int) -> dict:
    """`aiflow task-execution show ID -o json`: the row, pid, log_path, and its outputs."""
    from aiflow_lite import ops

    meta = ops.get_task_execution(task_execution_id)
    if meta is None:
        raise NotFound(f"no task execution with id {task_execution_id}")
    return task_execution_record(meta, ops.get_task_outputs(task_execution_id))


def log_roots(settings: Any) -> List[str]:
    """Where task logs may be: the home, and the configured `log_dir` (which may be elsewhere)."""
    import os

    from aiflow_lite.config import log_directory

    roots = [settings.home, log_directory(settings)]
    return list(dict.fromkeys(os.path.realpath(root) for root in roots))


def safe_log_path(log_path: str, settings: Any, task_execution_id: int) -> str:
    """The real path of a task's log when it lies inside one of `log_roots` (symlinks
    resolved); any other file a row names is refused: the UI serves logs, not the machine."""
    import os

    from aiflow_lite.errors import AccessDenied

    roots = log_roots(settings)
    path = os.path.realpath(os.path.join(settings.home, log_path))
    if not any(os.path.commonpath([root, path]) == root and path != root for root in roots):
        raise AccessDenied(f"the log of task execution {task_execution_id} is outside the "
                           "home and its log_dir; refusing to read it")
    return path


def task_log_path(task_execution_id: int, settings: Any) -> str:
    """The task's log file, checked by `safe_log_path`."""
    from aiflow_lite import ops

    meta = ops.get_task_execution(task_execution_id)
    if meta is None:
        raise NotFound(f"no task execution with id {task_execution_id}")
    if not meta.log_path:
        raise NotFound(f"task execution {task_execution_id} has no log yet (status "
                       f"{meta.status})")
    return safe_log_path(meta.log_path, settings, task_execution_id)


def open_log(path: str) -> Any:
    """A binary file object of a regular file only (a FIFO or a device planted in the home must
    not hang a worker thread), opened without blocking."""
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise NotFound(f"the log {path} is gone") from None
    except OSError as exc:
        raise NotFound(f"the log {path} cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotFound(f"the log {path} is not a regular file")
    return os.fdopen(fd, "rb")


def read_log(path: str, tail: Optional[int]) -> str:
    with open_log(path) as fh:
        data = fh.read().decode("utf-8", errors="replace")
    if tail is None:
        return data
    lines = data.splitlines(keepends=True)
    return "".join(lines[-tail:]) if tail else ""


# -- events --------------------------------------------------------------------------------------


def events(key: str, namespace: Optional[str], begin_offset: int, limit: int,
           internal: bool) -> list:
    """`notification event list KEY -o json` (KEY '*' for all), a page after `begin_offset`;
    aiflow_lite's own `__aiflow.*` events only with `internal`."""
    from aiflow_lite.events import RESERVED_KEY_PREFIX, check_text, validate_name
    from aiflow_lite.ops.backend import home_stores

    check_text(key, "event key")
    if namespace is not None:
        validate_name(namespace)
    keys = None if key == "*" else key
    log = home_stores().log
    found: List[Any] = []
    position = begin_offset
    while len(found) < limit:
        batch = log.read_after(position, keys=keys, namespace=namespace,
                               limit=max(limit, 500))
        found += [e for e in batch if internal or not e.key.startswith(RESERVED_KEY_PREFIX)]
        if len(batch) < max(limit, 500):
            break
        position = batch[-1].offset
    return pick((e.to_dict() for e in found[:limit]), EVENT_COLUMNS)


# -- schedules and triggers ----------------------------------------------------------------------


def schedules(workflow_name: str, namespace: str, limit: int, offset: int) -> list:
    from aiflow_lite import ops

    return pick((m.to_dict() for m in ops.list_workflow_schedules(workflow_name, namespace,
                                                                  limit, offset)),
                SCHEDULE_COLUMNS)


def triggers(workflow_name: str, namespace: str, limit: int, offset: int) -> list:
    from aiflow_lite import ops

    return pick((m.to_dict() for m in ops.list_workflow_triggers(workflow_name, namespace,
                                                                 limit, offset)),
                TRIGGER_COLUMNS)


def schedule(schedule_id: int) -> dict:
    from aiflow_lite import ops

    return pick_one(ops.get_workflow_schedule(schedule_id),
                    f"no workflow schedule with id {schedule_id}", SCHEDULE_COLUMNS)


def trigger(trigger_id: int) -> dict:
    from aiflow_lite import ops

    return pick_one(ops.get_workflow_trigger(trigger_id),
                    f"no workflow trigger with id {trigger_id}", TRIGGER_COLUMNS)


# -- the meta service ----------------------------------------------------------------------------


def models(namespace: Optional[str], limit: int, offset: int) -> list:
    from aiflow_lite import ops

    return pick((m.to_dict() for m in ops.list_models(namespace, limit, offset)), MODEL_COLUMNS)


def model(name: str, namespace: Optional[str]) -> dict:
    """`aiflow model show NAME -o json`: the model and its latest version in each stage."""
    from aiflow_lite import ops

    meta = ops.get_model(name, namespace)
    if meta is None:
        raise NotFound(no_model(name))
    return model_record(meta, {stage: ops.get_latest_model_version(name, stage, meta.namespace)
                               for stage in STAGES})


def _stage(stage: Optional[str]) -> Optional[str]:
    if not stage:
        return None
    if stage.upper() not in STAGES:
        raise InvalidInput(f"stage must be one of {', '.join(STAGES)}, got {stage!r}")
    return stage.upper()


def model_versions(name: str, stage: Optional[str], namespace: Optional[str], limit: int,
                   offset: int) -> list:
    from aiflow_lite import ops

    return pick((v.to_dict() for v in ops.list_model_versions(name, _stage(stage), namespace,
                                                              limit, offset)),
                VERSION_COLUMNS)


def model_version(name: str, version: int, namespace: Optional[str]) -> dict:
    """`aiflow model-version show NAME V -o json`: the version (with its lineage) and the
    latest value of each metric logged against it."""
    from aiflow_lite import ops

    meta = ops.get_model_version(name, version, namespace)
    if meta is None:
        if ops.get_model(name, namespace) is None:
            raise NotFound(no_model(name))
        raise NotFound(no_model_version(name, version))
    return model_version_record(meta, ops.list_metrics(model_name=name, model_version=version,
                                                       namespace=meta.namespace))


def datasets(namespace: Optional[str], limit: int, offset: int) -> list:
    from aiflow_lite import ops

    return pick((d.to_dict() for d in ops.list_datasets(namespace, limit, offset)),
                DATASET_COLUMNS)


def dataset(name: str, namespace: Optional[str]) -> dict:
    from aiflow_lite import ops

    return pick_one(ops.get_dataset(name, namespace), no_dataset(name), DATASET_COLUMNS)


def _check_version(model_name: Optional[str], version: Optional[int]) -> None:
    if version is not None and model_name is None:
        raise InvalidInput("version names a version of a model: give model=M as well")


def metrics(key: Optional[str], model_name: Optional[str], version: Optional[int],
            dataset_name: Optional[str], task_execution_id: Optional[int],
            namespace: Optional[str], limit: int, offset: int) -> list:
    from aiflow_lite import ops

    _check_version(model_name, version)
    return pick((m.to_dict() for m in ops.list_metrics(key, model_name, version, dataset_name,
                                                       task_execution_id, namespace, limit,
                                                       offset)),
                METRIC_COLUMNS)


def metric_history(key: str, model_name: Optional[str], version: Optional[int],
                   dataset_name: Optional[str], namespace: Optional[str]) -> dict:
    from aiflow_lite import ops

    _check_version(model_name, version)
    return ops.get_metric_history(key, model_name, version, dataset_name,
                                  namespace=namespace).to_dict()


def artifacts(name: Optional[str], namespace: Optional[str], limit: int, offset: int) -> list:
    from aiflow_lite import ops

    return pick((a.to_dict() for a in ops.list_artifacts(name, namespace, limit, offset)),
                ARTIFACT_COLUMNS)


def artifact(name: str, version: Optional[int], namespace: Optional[str]) -> dict:
    from aiflow_lite import ops

    return pick_one(ops.get_artifact(name, version, namespace), no_artifact(name, version),
                    ARTIFACT_COLUMNS)


def artifact_file(name: str, version: Optional[int], namespace: Optional[str],
                  directory: str) -> tuple:
    """(path, file name) of the artifact's bytes fetched into `directory` by the blob manager
    from the artifact's own record (its uri), checked against its sha256."""
    from aiflow_lite import ops
    from aiflow_lite.ops.artifact_ops import _blob_manager, fetch_artifact

    meta = ops.get_artifact(name, version, namespace)
    if meta is None:
        raise NotFound(no_artifact(name, version))
    return fetch_artifact(meta, directory, _blob_manager()), meta.file_name
