"""The ASGI app: security middleware (token, CSRF cookie), errors as one line with a status
code, the REST API, the pages, the live stream and the packaged static files."""

from __future__ import annotations

import os
import time
from typing import Any, Optional

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from aiflow_lite.errors import AccessDenied, AiflowError, InvalidInput, NotFound
from aiflow_lite.web.context import (
    CSRF_COOKIE,
    TOKEN_COOKIE,
    WebContext,
    new_csrf_cookie,
)
from aiflow_lite.web.forms import read_form

HERE = os.path.dirname(os.path.abspath(__file__))



def status_for(exc: AiflowError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, InvalidInput):
        return 400
    if isinstance(exc, AccessDenied):
        return 403
    return 409


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str) -> Response:
    """One line: JSON `{"error": ...}` for the API, the error page for a person."""
    if wants_json(request):
        return _secured(JSONResponse({"error": message}, status_code=status))
    from aiflow_lite.ops.backend import scheduler_pid

    ctx: WebContext = request.app.state.ctx
    return _secured(ctx.templates.TemplateResponse(request, "error.html", {
        "status": status, "message": message, "nav": "", "home": ctx.settings.home,
        "read_only": ctx.read_only, "scheduler_pid": scheduler_pid(),
        "csrf_token": getattr(request.state, "csrf_token", "")}, status_code=status))


class Security(BaseHTTPMiddleware):
    """Every request but the login page and static files must present the token (when there is
    one); every browser gets a CSRF cookie, from which its pages' CSRF token is derived."""

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        ctx: WebContext = request.app.state.ctx
        path = request.url.path
        if not ctx.host_allowed(request.headers.get("host", "")):
            return _secured(JSONResponse({"error": "this webserver answers only to its loopback "
                                                   "address (open it as 127.0.0.1 or localhost)"},
                                         status_code=421))
        origin = request.headers.get("origin")
        if request.method == "POST" and origin and origin != "null" and \
                origin.split("://", 1)[-1] != request.headers.get("host"):
            return _secured(JSONResponse({"error": "a POST from another site is refused"},
                                         status_code=403))
        bearer = _bearer(request)
        open_path = path == "/login" or path.startswith("/static/")
        if not open_path and not ctx.authenticated(bearer, request.cookies.get(TOKEN_COOKIE)):
            if wants_json(request) or request.method != "GET":
                return JSONResponse({"error": "this webserver needs its token: send "
                                              "`Authorization: Bearer <server_token>`"},
                                    status_code=401)
            return RedirectResponse(f"/login?next={_safe_next(path)}", status_code=303)
        cookie = request.cookies.get(CSRF_COOKIE)
        fresh = cookie is None
        if fresh:
            cookie = new_csrf_cookie()
        request.state.csrf_cookie = cookie
        request.state.csrf_token = ctx.csrf_token(cookie)
        # Only the right token counts as a bearer (which a cross-site form cannot send, so it
        # stands in for the CSRF token); a wrong one is as good as none.
        request.state.bearer = bearer if ctx.token and bearer is not None and \
            ctx.authenticated(bearer, None) else None
        started = time.perf_counter()
        response = await call_next(request)
        response.headers.setdefault(  # the handler's own figure, when it set one, wins
            "Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.2f}")
        if fresh:
            response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="strict")
        return _secured(response)


def _secured(response: Response) -> Response:
    """The headers every answer carries, errors included."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CSP)
    return response


CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
       "object-src 'none'")


def _bearer(request: Request) -> Optional[str]:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _safe_next(path: str) -> str:
    """Only a path of this site (no `//host`, no scheme) is a place to go back to."""
    from urllib.parse import quote

    return quote(path if path.startswith("/") and not path.startswith("//") else "/")


async def login_page(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    target = request.query_params.get("next", "/")
    if request.method == "POST":
        form = await read_form(request)
        if ctx.authenticated(str(form.get("token", "")), None):
            response = RedirectResponse(_safe_next(str(form.get("next", "/"))),
                                        status_code=303)
            response.set_cookie(TOKEN_COOKIE, str(form.get("token")), httponly=True,
                                samesite="strict")
            return response
        return ctx.templates.TemplateResponse(request, "login.html",
                                              {"next": target, "wrong": True}, status_code=401)
    return ctx.templates.TemplateResponse(request, "login.html",
                                          {"next": target, "wrong": False})


async def aiflow_error(request: Request, exc: AiflowError) -> Response:
    return error_response(request, status_for(exc), str(exc).splitlines()[0] if str(exc)
                          else type(exc).__name__)


async def internal_error(request: Request, exc: Exception) -> Response:
    """A bug of ours: logged with its traceback, answered in one line (JSON for the API)."""
    import logging

    logging.getLogger(__name__).error("%s %s failed", request.method, request.url.path,
                                      exc_info=exc)
    return error_response(request, 500, f"internal error ({type(exc).__name__}); see the "
                                        "webserver's log")


async def not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    detail = getattr(exc, "detail", None) or "not found"
    return error_response(request, status, str(detail))


def templates() -> Any:
    import jinja2
    from starlette.templating import Jinja2Templates

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(HERE, "templates")),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    from aiflow_lite.web import pages

    env.filters.update(pages.FILTERS)
    return Jinja2Templates(env=env)


def create_app(ctx: WebContext) -> Starlette:
    from contextlib import asynccontextmanager

    from starlette.exceptions import HTTPException

    from aiflow_lite.ops.backend import serve_locally
    from aiflow_lite.web import api, pages
    from aiflow_lite.web.live import LiveHub

    serve_locally()  # it reads this home, never a server named in aiflow_client.yaml
    ctx.templates = templates()
    ctx.hub = LiveHub(ctx.settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        import asyncio

        ctx.hub.start(asyncio.get_running_loop())
        try:
            yield
        finally:
            ctx.hub.stop()

    routes = [
        Route("/login", login_page, methods=["GET", "POST"]),
        *api.routes(),
        *pages.routes(),
        Mount("/static", StaticFiles(directory=os.path.join(HERE, "static")), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(Security)], lifespan=lifespan,
                    exception_handlers={AiflowError: aiflow_error, HTTPException: not_found,
                                        Exception: internal_error})
    app.state.ctx = ctx
    return app
