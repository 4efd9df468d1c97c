"""The REST API under /api/v1/: each GET answers the same JSON as the matching CLI command's
`-o json` (lists are arrays and page with `limit`/`offset`; a missing record is 404 with one
line), each POST acts through `ops`. `GET /api/v1/stream` is the live event stream (SSE)."""

from __future__ import annotations

from typing import Any, List

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

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


def routes() -> List[Any]:
    return [
        Route("/api/v1/stream", stream),
        Route("/api/v1/server", server_info),
        Route("/api/v1/csrf", csrf),
    ]
