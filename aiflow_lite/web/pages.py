"""The HTML pages. Every value reaches the page through a Jinja2 template with autoescape on
(data for the scripts through `|tojson` in `<script type="application/json">` blocks); filters
here format times and durations the way the CLI does.

Handlers are sync (`def`): Starlette runs them in its thread pool, where `home_stores()` keeps
one SQLite connection per thread. Live parts of a page are marked `data-live`; app.js fetches
the page again when an event concerns it and swaps those parts in, so what a person sees is
always rendered (and escaped) here."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aiflow_lite.errors import NotFound

PAGE_SIZE = 50
EVENTS_SHOWN = 200
#: The end of a log a page shows (the whole file is a download away in the API).
LOG_TAIL_BYTES = 256 * 1024
DAY_MS = 24 * 3600 * 1000

_EXECUTION_SQL = (
    "SELECT e.id, e.workflow_id, w.namespace, w.name, e.snapshot_id, e.execution_type, "
    "e.status, e.begin_time, e.end_time, e.reason, e.waiting_for FROM workflow_execution e "
    "JOIN workflow w ON w.id = e.workflow_id")
WORKFLOW_STATUSES = ("INIT", "RUNNING", "SUCCESS", "FAILED", "STOPPED")


def _time(ms: Any) -> str:
    from aiflow_lite.records import format_time_ms

    return format_time_ms(ms)


def _duration(begin: Any, end: Any = None) -> str:
    """`1.2s`, `3m 04s`, ... from two epoch-ms times (to now while it runs); '' before it began."""
    from aiflow_lite.events import now_ms

    if begin is None:
        return ""
    ms = max(0, int(end if end is not None else now_ms()) - int(begin))
    if ms < 1000:
        return f"{ms}ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f}s"
    minutes, seconds = divmod(ms // 1000, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _size(n: Any) -> str:
    n = int(n or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _lower(value: Any) -> str:
    return str(getattr(value, "value", value) or "").lower()


FILTERS: Dict[str, Any] = {"time": _time, "duration": _duration, "size": _size,
                           "status_class": _lower}


def render(request: Request, template: str, **values: Any) -> Response:
    from aiflow_lite.ops.backend import scheduler_pid

    ctx = request.app.state.ctx
    values.setdefault("scheduler_pid", scheduler_pid())
    values.setdefault("nav", "")
    return ctx.templates.TemplateResponse(request, template, {
        "csrf_token": request.state.csrf_token, "read_only": ctx.read_only,
        "home": ctx.settings.home, **values})


def _stores() -> Any:
    from aiflow_lite.ops.backend import home_stores

    return home_stores()


def _int_param(request: Request, name: str, default: Optional[int] = None) -> Optional[int]:
    from aiflow_lite.web.context import positive_int

    return positive_int(request.query_params.get(name), name, default)


def _path_int(request: Request, name: str, what: str) -> int:
    """An id from the path; anything but a plain decimal number SQLite can hold is no such
    record (404), never a 500."""
    value = str(request.path_params[name])
    if not (value.isascii() and value.isdigit()) or int(value) >= 2**63:
        raise NotFound(f"no {what} with id {value!r}")
    return int(value)


def _namespace(request: Request) -> Optional[str]:
    return request.query_params.get("namespace") or None


# -- overview ---------------------------------------------------------------------------------

def overview(request: Request) -> Response:
    from aiflow_lite.events import now_ms

    s = _stores()
    now = now_ms()
    log = s.log
    rate = log.count(log.offset_at(now - 60_000))
    running = [s.executions.shown(e) for e in s.executions.running_executions()]
    idle = [e for e in running if e.waiting_for]
    busy = [e for e in running if not e.waiting_for]
    failed = [e for e in s.executions.finished_executions(now - DAY_MS, 50)
              if e.status == "FAILED"]
    failed_tasks = s.executions.db.rows(
        "SELECT t.id, t.workflow_execution_id, w.namespace, w.name, t.task_name, "
        "t.try_number, t.end_time, t.reason, t.stop_reason FROM task_execution t "
        "JOIN workflow_execution e ON e.id = t.workflow_execution_id "
        "JOIN workflow w ON w.id = e.workflow_id "
        "WHERE t.status = 'FAILED' AND t.end_time >= ? ORDER BY t.end_time DESC LIMIT 50",
        (now - DAY_MS,))
    failed_tasks = [dict(zip(("id", "workflow_execution_id", "namespace", "workflow_name",
                              "task_name", "try_number", "end_time", "reason", "stop_reason"),
                             row, strict=True)) for row in failed_tasks]
    return render(request, "overview.html", nav="overview", event_rate=rate, busy=busy,
                  idle=idle, failed=failed, failed_tasks=failed_tasks,
                  latest_offset=log.latest_offset())


# -- workflows --------------------------------------------------------------------------------

def workflows(request: Request) -> Response:
    from aiflow_lite import ops

    items = ops.list_workflows(namespace=_namespace(request))  # type: ignore[arg-type]
    s = _stores()
    latest = {}
    for w in items:
        newest = s.executions.newest_execution(w.id)
        latest[w.id] = s.executions.get_execution(newest) if newest else None
    return render(request, "workflows.html", nav="workflows", workflows=items, latest=latest)


def workflow(request: Request) -> Response:
    from aiflow_lite import ops

    namespace, name = request.path_params["namespace"], request.path_params["name"]
    meta = ops.get_workflow(name, namespace)
    if meta is None:
        raise NotFound(f"no workflow {namespace}.{name}")
    s = _stores()
    rows = s.executions.db.rows(f"{_EXECUTION_SQL} WHERE e.workflow_id = ? "
                                "ORDER BY e.id DESC LIMIT 20", (meta.id,))
    from aiflow_lite.meta import WorkflowExecutionMeta

    executions = [s.executions.shown(WorkflowExecutionMeta(*r)) for r in rows]
    return render(request, "workflow.html", nav="workflows", workflow=meta,
                  snapshots=ops.list_workflow_snapshots(name, namespace),
                  schedules=ops.list_workflow_schedules(name, namespace),
                  triggers=ops.list_workflow_triggers(name, namespace),
                  executions=executions)


# -- executions -------------------------------------------------------------------------------

def executions(request: Request) -> Response:
    from aiflow_lite.errors import InvalidInput
    from aiflow_lite.meta import WorkflowExecutionMeta

    query = request.query_params
    status = (query.get("status") or "").upper() or None
    if status is not None and status not in WORKFLOW_STATUSES:
        raise InvalidInput(f"invalid status {status!r}: use one of "
                           f"{', '.join(WORKFLOW_STATUSES)}")
    workflow_name = query.get("workflow") or None
    namespace = _namespace(request)
    if workflow_name and "." in workflow_name and namespace is None:
        namespace, workflow_name = workflow_name.split(".", 1)
    page = min(max(1, _int_param(request, "page", 1) or 1), (2**63 - 1) // PAGE_SIZE)
    where, params = [], []
    for column, value in (("e.status", status), ("w.name", workflow_name),
                          ("w.namespace", namespace)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = _EXECUTION_SQL + (" WHERE " + " AND ".join(where) if where else "")
    s = _stores()
    rows = s.executions.db.rows(f"{sql} ORDER BY e.id DESC LIMIT ? OFFSET ?",
                                (*params, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE))
    items = [s.executions.shown(WorkflowExecutionMeta(*r)) for r in rows[:PAGE_SIZE]]
    from urllib.parse import urlencode

    def page_url(number: int) -> str:
        args = {k: v for k, v in (("workflow", query.get("workflow")), ("namespace", namespace),
                                  ("status", status)) if v}
        return "/executions?" + urlencode({**args, "page": number})

    return render(request, "executions.html", nav="executions", executions=items,
                  status=status or "", workflow_filter=query.get("workflow") or "",
                  namespace=namespace or "", statuses=WORKFLOW_STATUSES, page=page,
                  prev_url=page_url(page - 1) if page > 1 else None,
                  next_url=page_url(page + 1) if len(rows) > PAGE_SIZE else None)


def execution(request: Request) -> Response:
    from aiflow_lite import ops

    execution_id = _path_int(request, "id", "workflow execution")
    meta = ops.get_workflow_execution(execution_id)
    if meta is None:
        raise NotFound(f"no workflow execution with id {execution_id}")
    tasks = ops.list_task_executions(execution_id)
    tasks.sort(key=lambda t: (t.begin_time or 0, t.id))
    workflow_meta = ops.get_workflow(meta.workflow_name, meta.namespace)
    order = [t["name"] for t in (workflow_meta.structure.get("tasks", [])
                                 if workflow_meta else [])]
    timeline = {
        "execution": {"id": meta.id, "status": meta.status, "begin_time": meta.begin_time,
                      "end_time": meta.end_time},
        "task_order": order,
        "tasks": [{"id": t.id, "task_name": t.task_name, "sequence_number": t.sequence_number,
                   "status": t.status, "try_number": t.try_number, "begin_time": t.begin_time,
                   "end_time": t.end_time, "reason": t.reason, "stop_reason": t.stop_reason}
                  for t in tasks],
    }
    return render(request, "execution.html", nav="executions", execution=meta, tasks=tasks,
                  timeline=timeline, finished=meta.status in ("SUCCESS", "FAILED", "STOPPED"))


def _read_log(path: Optional[str], settings: Any, task_id: int) -> tuple:
    """(text, truncated, missing) of the end of a task's log; a log outside the home and its
    log_dir is refused (AccessDenied) as the API refuses it."""
    from aiflow_lite.web.records import open_log, safe_log_path

    if not path:
        return "", False, True
    try:
        with open_log(safe_log_path(path, settings, task_id)) as fh:
            size = os.fstat(fh.fileno()).st_size
            truncated = size > LOG_TAIL_BYTES
            if truncated:
                fh.seek(size - LOG_TAIL_BYTES)
            data = fh.read(LOG_TAIL_BYTES)
    except NotFound:
        return "", False, True
    text = data.decode("utf-8", errors="replace")
    if truncated and "\n" in text:
        text = text.split("\n", 1)[1]
    return text, truncated, False


def task_execution(request: Request) -> Response:
    from aiflow_lite import ops

    task_id = _path_int(request, "id", "task execution")
    meta = ops.get_task_execution(task_id)
    if meta is None:
        raise NotFound(f"no task execution with id {task_id}")
    execution_meta = ops.get_workflow_execution(meta.workflow_execution_id)
    text, truncated, missing = _read_log(meta.log_path, request.app.state.ctx.settings, task_id)
    active = meta.status in ("INIT", "QUEUED", "RUNNING", "STOPPING", "RETRYING")
    return render(request, "task_execution.html", nav="executions", task=meta,
                  execution=execution_meta, log_text=text, log_truncated=truncated,
                  log_missing=missing, active=active)


# -- events -----------------------------------------------------------------------------------

def events(request: Request) -> Response:
    from aiflow_lite.events import RESERVED_KEY_PREFIX

    query = request.query_params
    key = (query.get("key") or "").strip()
    namespace = (query.get("namespace") or "").strip()
    internal = query.get("internal") in ("1", "true", "on", "yes")
    log = _stores().log
    latest = log.latest_offset()
    if key:
        found = log.read_after(max(0, latest - 100_000), keys=key, namespace=namespace or None)
        found = found[-EVENTS_SHOWN:][::-1]
    else:
        found = log.latest(EVENTS_SHOWN, namespace=namespace or None, internal=internal)
    if not internal:
        found = [e for e in found if not e.key.startswith(RESERVED_KEY_PREFIX)]
    stream = {"namespace": namespace, "internal": internal, "begin_offset": latest}
    if key:
        stream["key"] = key
    return render(request, "events.html", nav="events", events=found, key=key,
                  namespace=namespace, internal=internal, stream=stream,
                  limit=EVENTS_SHOWN)


# -- meta: models, datasets, artifacts --------------------------------------------------------

def models(request: Request) -> Response:
    from aiflow_lite import ops

    return render(request, "models.html", nav="models",
                  models=ops.list_models(namespace=_namespace(request)))


def model(request: Request) -> Response:
    from aiflow_lite import ops

    name, namespace = request.path_params["name"], _namespace(request)
    meta = ops.get_model(name, namespace=namespace)
    if meta is None:
        raise NotFound(f"no model {name!r}")
    versions = ops.list_model_versions(name, namespace=namespace)
    latest = ops.list_metrics(model_name=name, namespace=namespace)
    keys = sorted({m.key for m in latest})
    charts: List[Dict[str, Any]] = []
    for key in keys:
        series = []
        for version in sorted({m.model_version for m in latest if m.key == key},
                              key=lambda v: (v is None, v or 0)):
            history = ops.get_metric_history(key, model_name=name, model_version=version,
                                             namespace=namespace)
            series.append({"label": f"v{version}" if version is not None else "no version",
                           "steps": list(history.steps), "values": list(history.values)})
        charts.append({"key": key, "series": series})
    return render(request, "model.html", nav="models", model=meta, versions=versions,
                  metrics=latest, charts=charts)


def datasets(request: Request) -> Response:
    from aiflow_lite import ops

    return render(request, "datasets.html", nav="datasets",
                  datasets=ops.list_datasets(namespace=_namespace(request)))


def artifacts(request: Request) -> Response:
    from aiflow_lite import ops

    name = request.query_params.get("name") or None
    return render(request, "artifacts.html", nav="artifacts", name=name or "",
                  artifacts=ops.list_artifacts(name=name, namespace=_namespace(request)))


def routes() -> List[Any]:
    return [
        Route("/", overview),
        Route("/workflows", workflows),
        Route("/workflows/{namespace}/{name}", workflow),
        Route("/executions", executions),
        Route("/executions/{id}", execution),
        Route("/task-executions/{id}", task_execution),
        Route("/events", events),
        Route("/models", models),
        Route("/models/{name}", model),
        Route("/datasets", datasets),
        Route("/artifacts", artifacts),
    ]
