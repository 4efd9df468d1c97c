"""The ASGI app: security middleware (token, CSRF cookie), errors as one line with a status
code, the REST API, the pages, the live stream and the packaged static files."""

from __future__ import annotations

import os
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

HERE = os.path.dirname(os.path.abspath(__file__))
_OPEN_PATHS = ("/login", "/static/")


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
        return JSONResponse({"error": message}, status_code=status)
    ctx: WebContext = request.app.state.ctx
    return ctx.templates.TemplateResponse(request, "error.html",
                                          {"status": status, "message": message},
                                          status_code=status)


class Security(BaseHTTPMiddleware):
    """Every request but the login page and static files must present the token (when there is
    one); every browser gets a CSRF cookie, from which its pages' CSRF token is derived."""

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        ctx: WebContext = request.app.state.ctx
        path = request.url.path
        bearer = _bearer(request)
        if not path.startswith(_OPEN_PATHS) and not ctx.authenticated(
                bearer, request.cookies.get(TOKEN_COOKIE)):
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
        request.state.bearer = bearer if ctx.token and bearer is not None else None
        response = await call_next(request)
        if fresh:
            response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="strict")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'")
        return response


def _bearer(request: Request) -> Optional[str]:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _safe_next(path: str) -> str:
    """Only a path of this site (no `//host`, no scheme) is a place to go back to."""
    from urllib.parse import quote

    return quote(path if path.startswith("/") and not path.startswith("//") else "/")


async def check_action(request: Request) -> dict:
    """A POST that changes something: not read-only, and (unless the bearer token was given,
    which a cross-site form cannot send) with the CSRF token of this browser. Returns the
    form fields, if any."""
    ctx: WebContext = request.app.state.ctx
    ctx.require_writable()
    form: dict = {}
    if request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = dict(await request.form())
    if request.state.bearer is None:
        ctx.check_csrf(request.state.csrf_cookie,
                       request.headers.get("x-csrf-token") or form.get("csrf_token"))
    return form


async def login_page(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    target = request.query_params.get("next", "/")
    if request.method == "POST":
        form = await request.form()
        if ctx.authenticated(str(form.get("token", "")), None):
            response = RedirectResponse(_safe_next(str(form.get("next", "/"))),
                                        status_code=303)
            response.set_cookie(TOKEN_COOKIE, str(form.get("token")), httponly=True,
                                samesite="strict")
            return response
        return ctx.templates.TemplateResponse(request, "login.html",
                                              {"next": target, "wrong": True}, status_code=401)
    return ctx.templates.TemplateResponse(request, "login.html", {"next": target})


async def aiflow_error(request: Request, exc: AiflowError) -> Response:
    return error_response(request, status_for(exc), str(exc).splitlines()[0] if str(exc)
                          else type(exc).__name__)


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
                    exception_handlers={AiflowError: aiflow_error, HTTPException: not_found})
    app.state.ctx = ctx
    return app
