"""What a POST brings: its form fields (url-encoded only), and the checks every action passes
first (not read-only; the CSRF token of this browser unless the bearer token was given)."""

from __future__ import annotations

from starlette.requests import Request

from aiflow_lite.errors import InvalidInput
from aiflow_lite.web.context import WebContext


async def check_action(request: Request) -> dict:
    """A POST that changes something: not read-only, and (unless the bearer token was given,
    which a cross-site form cannot send) with the CSRF token of this browser. Returns the
    form fields, if any."""
    ctx: WebContext = request.app.state.ctx
    ctx.require_writable()
    form = await read_form(request)
    if request.state.bearer is None:
        ctx.check_csrf(request.state.csrf_cookie,
                       request.headers.get("x-csrf-token") or form.get("csrf_token"))
    return form


async def read_form(request: Request) -> dict:
    """The fields of a url-encoded form (the only kind the UI sends; Starlette's own parser
    needs python-multipart), {} for any other body."""
    from urllib.parse import parse_qs

    if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    if len(body) > 64 * 1024:
        raise InvalidInput("the form is over 64 KiB")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}
