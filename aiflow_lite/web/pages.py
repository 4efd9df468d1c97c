"""The HTML pages. Every value reaches the page through a Jinja2 template with autoescape on;
filters here format times and durations the way the CLI does."""

from __future__ import annotations

from typing import Any, Dict, List

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def _time(ms: Any) -> str:
    from aiflow_lite.cli.output import format_time_ms

    return format_time_ms(ms)


FILTERS: Dict[str, Any] = {"time": _time}


def render(request: Request, template: str, **values: Any) -> Response:
    from aiflow_lite.ops.backend import scheduler_pid

    ctx = request.app.state.ctx
    values.setdefault("scheduler_pid", scheduler_pid())
    return ctx.templates.TemplateResponse(request, template, {
        "csrf_token": request.state.csrf_token, "read_only": ctx.read_only,
        "home": ctx.settings.home, **values})


def overview(request: Request) -> Response:
    return render(request, "overview.html")


def routes() -> List[Any]:
    return [Route("/", overview)]
