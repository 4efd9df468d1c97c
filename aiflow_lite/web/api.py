"""The REST API under /api/v1/: each GET answers the same JSON as the matching CLI command's
`-o json` (lists are arrays and page with `limit`/`offset`; a missing record is 404 with one
line), each POST acts through `ops`. `GET /api/v1/stream` is the live event stream (SSE)."""

from __future__ import annotations

import functools
import json
import time
from typing import Any, Callable, List, Optional

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from aiflow_lite.errors import InvalidInput
from aiflow_lite.web import records
from aiflow_lite.web.context import WebContext, positive_int


def ctx_of(request: Request) -> WebContext:
    return request.app.state.ctx


async def stream(request: Request) -> Response:
    """SSE of new events. Filters: `key` (repeatable), `namespace`, `internal=1` (aiflow_lite's
    own events too), `workflow_execution_id`; `Last-Event-ID` or `begin_offset` to resume."""
    from aiflow_lite.web.live import Subscriber

    query = request.query_params
    keys = set(query.getlist("key")) or None
    since = request.headers.get("last-event-id") or query.get("begin_offset")
    subscriber = Subscriber(
        keys=None if keys is None or "*" in keys else keys,
        namespace=query.get("namespace") or None,
        internal=query.get("internal") in ("1", "true", "yes"),
        execution_id=positive_int(query.get("workflow_execution_id"),
                                  "workflow_execution_id"))
    body = ctx_of(request).hub.stream(subscriber, positive_int(since, "begin_offset"),
                                      request.is_disconnected)
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def server_info(request: Request) -> Response:
    """Whether a scheduler runs for this home, and this webserver's mode."""
    from aiflow_lite import __version__
    from aiflow_lite.ops.backend import scheduler_pid

    ctx = ctx_of(request)
    return JSONResponse({"version": __version__, "home": ctx.settings.home,
                         "scheduler_pid": scheduler_pid(), "read_only": ctx.read_only})


def csrf(request: Request) -> Response:
    """This browser's (or cookie jar's) CSRF token, for a script that POSTs without a bearer."""
    return JSONResponse({"csrf_token": request.state.csrf_token})


class Json(Response):
    """JSON as the CLI's `-o json` writes it (`default=str`), always application/json: a value
    such as `<script>` is a JSON string, never markup."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=str, ensure_ascii=False).encode("utf-8")


def timed(endpoint: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """A sync endpoint (run in Starlette's thread pool) that says how long it took in a
    `Server-Timing: app;dur=<ms>` header (the handler only: not the middleware or transport)."""

    @functools.wraps(endpoint)
    def run(request: Request) -> Response:
        start = time.perf_counter()
        response = endpoint(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1000:.2f}"
        return response

    return run


# -- query and path parameters -------------------------------------------------------------------


def _whole(value: Any, what: str) -> int:
    number = positive_int(value, what)
    if number is None:
        raise InvalidInput(f"{what} is required")
    return number


def _id(request: Request, name: str = "id") -> int:
    return _whole(request.path_params[name], name.replace("_", " "))


def _paging(request: Request) -> tuple:
    """(limit, offset): `limit` 1..MAX_LIMIT (default DEFAULT_LIMIT), `offset` >= 0."""
    query = request.query_params
    limit = positive_int(query.get("limit"), "limit", records.DEFAULT_LIMIT)
    if not 1 <= limit <= records.MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {records.MAX_LIMIT}, got {limit}")
    return limit, positive_int(query.get("offset"), "offset", 0)


def _required(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise InvalidInput(f"the query parameter {name!r} is required")
    return value


def _optional(request: Request, name: str) -> Optional[str]:
    return request.query_params.get(name) or None


def _namespace(request: Request, default: Optional[str] = "default") -> Optional[str]:
    return request.query_params.get("namespace") or default


def _version(request: Request) -> Optional[int]:
    version = positive_int(request.query_params.get("version"), "version")
    if version == 0:
        raise InvalidInput("version must be >= 1, got 0")
    return version


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


# -- reads: each the JSON of the matching CLI command's `-o json` -------------------------------


def namespaces(request: Request) -> Response:
    return Json(records.namespaces(*_paging(request)))


def workflows(request: Request) -> Response:
    return Json(records.workflows(_namespace(request), *_paging(request)))


def workflow(request: Request) -> Response:
    return Json(records.workflow(request.path_params["name"], _namespace(request)))


def workflow_executions(request: Request) -> Response:
    return Json(records.workflow_executions(_required(request, "workflow"), _namespace(request),
                                            _optional(request, "status"), *_paging(request)))


def workflow_execution(request: Request) -> Response:
    return Json(records.workflow_execution(_id(request)))


def task_executions(request: Request) -> Response:
    execution_id = _whole(request.query_params.get("workflow_execution_id"),
                          "workflow_execution_id")
    return Json(records.task_executions(execution_id, *_paging(request)))


def task_execution(request: Request) -> Response:
    return Json(records.task_execution(_id(request)))


def task_log(request: Request) -> Response:
    """The task's log as text/plain (`tail=N`: its last N lines); only a file in the home."""
    from starlette.responses import PlainTextResponse

    tail = positive_int(request.query_params.get("tail"), "tail")
    if tail == 0:
        raise InvalidInput("tail must be >= 1, got 0")
    path = records.task_log_path(_id(request), ctx_of(request).settings)
    return PlainTextResponse(records.read_log(path, tail),
                             headers={"Cache-Control": "no-store"})


def events(request: Request) -> Response:
    limit, _ = _paging(request)
    return Json(records.events(request.query_params.get("key") or "*",
                               _namespace(request, None),
                               positive_int(request.query_params.get("begin_offset"),
                                            "begin_offset", 0),
                               limit, _flag(request, "internal")))


def workflow_schedules(request: Request) -> Response:
    return Json(records.schedules(_required(request, "workflow"), _namespace(request),
                                  *_paging(request)))


def workflow_triggers(request: Request) -> Response:
    return Json(records.triggers(_required(request, "workflow"), _namespace(request),
                                 *_paging(request)))


def models(request: Request) -> Response:
    return Json(records.models(_namespace(request, None), *_paging(request)))


def model(request: Request) -> Response:
    return Json(records.model(request.path_params["name"], _namespace(request, None)))


def model_versions(request: Request) -> Response:
    return Json(records.model_versions(request.path_params["name"], _optional(request, "stage"),
                                       _namespace(request, None), *_paging(request)))


def model_version(request: Request) -> Response:
    version = _whole(request.path_params["version"], "version")
    return Json(records.model_version(request.path_params["name"], version,
                                      _namespace(request, None)))


def datasets(request: Request) -> Response:
    return Json(records.datasets(_namespace(request, None), *_paging(request)))


def dataset(request: Request) -> Response:
    return Json(records.dataset(request.path_params["name"], _namespace(request, None)))


def metrics(request: Request) -> Response:
    query = request.query_params
    return Json(records.metrics(
        _optional(request, "key"), _optional(request, "model"), _version(request),
        _optional(request, "dataset"),
        positive_int(query.get("task_execution_id"), "task_execution_id"),
        _namespace(request, None), *_paging(request)))


def metric_history(request: Request) -> Response:
    return Json(records.metric_history(request.path_params["key"], _optional(request, "model"),
                                       _version(request), _optional(request, "dataset"),
                                       _namespace(request, None)))


def artifacts(request: Request) -> Response:
    return Json(records.artifacts(_optional(request, "name"), _namespace(request, None),
                                  *_paging(request)))


def artifact(request: Request) -> Response:
    return Json(records.artifact(request.path_params["name"], _version(request),
                                 _namespace(request, None)))


def artifact_download(request: Request) -> Response:
    """The artifact's bytes, from the blob manager by the artifact's record (never a path the
    request names), as an attachment; the temporary copy is removed once sent."""
    import shutil
    import tempfile

    from starlette.background import BackgroundTask
    from starlette.responses import FileResponse

    directory = tempfile.mkdtemp(prefix="aiflow-web-download-")
    try:
        path, file_name = records.artifact_file(request.path_params["name"], _version(request),
                                                _namespace(request, None), directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return FileResponse(path, filename=file_name, media_type="application/octet-stream",
                        content_disposition_type="attachment",
                        background=BackgroundTask(shutil.rmtree, directory,
                                                  ignore_errors=True))


# -- actions: POST, each checked by `check_action` first, then done through `ops` ---------------


def _act(work: Callable[[], Any]) -> Any:
    """Run an `ops` call (SQLite writes) off the event loop."""
    import anyio

    return anyio.to_thread.run_sync(work)


async def start_workflow_execution(request: Request) -> Response:
    from aiflow_lite import ops
    from aiflow_lite.web.forms import check_action

    await check_action(request)
    name, namespace = request.path_params["name"], _namespace(request)
    execution_id = await _act(lambda: ops.start_workflow_execution(name, namespace))
    return Json(await _act(lambda: records.workflow_execution(execution_id)), status_code=201)


async def stop_workflow_execution(request: Request) -> Response:
    from aiflow_lite import ops
    from aiflow_lite.web.forms import check_action

    await check_action(request)
    execution_id = _id(request)
    await _act(lambda: ops.stop_workflow_execution(execution_id))
    return Json({"workflow_execution_id": execution_id, "action": "stopping"})


def _task_action(verb: str) -> Callable[[Request], Any]:
    async def act(request: Request) -> Response:
        from aiflow_lite import ops
        from aiflow_lite.web.forms import check_action

        await check_action(request)
        execution_id, task = _id(request), request.path_params["task"]
        await _act(lambda: getattr(ops, f"{verb}_task_execution")(execution_id, task))
        return Json({"workflow_execution_id": execution_id, "task_name": task,
                     "action": {"start": "starting", "stop": "stopping"}[verb]})

    act.__name__ = f"{verb}_task"
    return act


def _pause_action(noun: str, verb: str) -> Callable[[Request], Any]:
    async def act(request: Request) -> Response:
        from aiflow_lite import ops
        from aiflow_lite.web.forms import check_action

        await check_action(request)
        item_id = _id(request)
        await _act(lambda: getattr(ops, f"{verb}_workflow_{noun}")(item_id))
        return Json(await _act(lambda: getattr(records, noun)(item_id)))

    act.__name__ = f"{verb}_{noun}"
    return act


def _toggle_action(verb: str) -> Callable[[Request], Any]:
    async def act(request: Request) -> Response:
        from aiflow_lite import ops
        from aiflow_lite.web.forms import check_action

        await check_action(request)
        name, namespace = request.path_params["name"], _namespace(request)
        await _act(lambda: getattr(ops, f"{verb}_workflow")(name, namespace))
        return Json(await _act(lambda: records.workflow_row(name, namespace)))

    act.__name__ = f"{verb}_workflow"
    return act


def routes() -> List[Any]:
    v1 = "/api/v1"
    reads = [
        ("/namespaces", namespaces),
        ("/workflows", workflows),
        ("/workflows/{name}", workflow),
        ("/workflow-executions", workflow_executions),
        ("/workflow-executions/{id}", workflow_execution),
        ("/task-executions", task_executions),
        ("/task-executions/{id}", task_execution),
        ("/task-executions/{id}/log", task_log),
        ("/events", events),
        ("/workflow-schedules", workflow_schedules),
        ("/workflow-triggers", workflow_triggers),
        ("/models", models),
        ("/models/{name}", model),
        ("/models/{name}/versions", model_versions),
        ("/models/{name}/versions/{version}", model_version),
        ("/datasets", datasets),
        ("/datasets/{name}", dataset),
        ("/metrics", metrics),
        ("/metrics/{key}/history", metric_history),
        ("/artifacts", artifacts),
        ("/artifacts/{name}", artifact),
        ("/artifacts/{name}/download", artifact_download),
    ]
    actions = [
        ("/workflows/{name}/executions", start_workflow_execution),
        ("/workflows/{name}/enable", _toggle_action("enable")),
        ("/workflows/{name}/disable", _toggle_action("disable")),
        ("/workflow-executions/{id}/stop", stop_workflow_execution),
        ("/workflow-executions/{id}/tasks/{task}/start", _task_action("start")),
        ("/workflow-executions/{id}/tasks/{task}/stop", _task_action("stop")),
        ("/workflow-schedules/{id}/pause", _pause_action("schedule", "pause")),
        ("/workflow-schedules/{id}/resume", _pause_action("schedule", "resume")),
        ("/workflow-triggers/{id}/pause", _pause_action("trigger", "pause")),
        ("/workflow-triggers/{id}/resume", _pause_action("trigger", "resume")),
    ]
    return [
        Route(f"{v1}/stream", stream),
        Route(f"{v1}/server", server_info),
        Route(f"{v1}/csrf", csrf),
        *(Route(v1 + path, timed(endpoint), methods=["GET"]) for path, endpoint in reads),
        *(Route(v1 + path, endpoint, methods=["POST"]) for path, endpoint in actions),
    ]
