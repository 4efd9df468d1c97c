"""What every request handler shares: the home's settings, whether actions are allowed, and the
security rules (a token off loopback, CSRF on every POST)."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from typing import Any, Optional

from aiflow_lite.config import Settings
from aiflow_lite.errors import AccessDenied, InvalidInput

TOKEN_COOKIE = "aiflow_token"
CSRF_COOKIE = "aiflow_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: Optional[str]) -> None:
    """Binding anywhere but loopback needs a token: the UI can stop executions."""
    if not is_loopback(host) and not token:
        raise AccessDenied(f"refusing to serve the web UI on {host} without a server_token: "
                           "set server_token in aiflow_server.yaml (or AIFLOW_SERVER_TOKEN), "
                           "or bind rest_host: 127.0.0.1")


@dataclass
class WebContext:
    settings: Settings
    read_only: bool = False
    token: Optional[str] = None
    #: Signs CSRF tokens; new per process, so a restart invalidates open forms (they reload).
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    hub: Any = None  # the live.LiveHub, set when the app starts
    templates: Any = None
    #: Serving on loopback: only a Host header naming loopback is answered, so a web page
    #: whose name was rebound to 127.0.0.1 (DNS rebinding) cannot read or drive the UI.
    loopback_only: bool = False

    def host_allowed(self, host_header: str) -> bool:
        if not self.loopback_only:
            return True
        host = host_header.rsplit("]", 1)[0].lstrip("[") if host_header.startswith("[") \
            else host_header.rsplit(":", 1)[0]
        return is_loopback(host)

    # -- authentication ------------------------------------------------------------------------

    def authenticated(self, bearer: Optional[str], cookie: Optional[str]) -> bool:
        if not self.token:
            return True
        return any(given is not None and hmac.compare_digest(given.encode(), self.token.encode())
                   for given in (bearer, cookie))

    # -- CSRF: a token bound to the browser's CSRF cookie, signed with the process secret ------

    def csrf_token(self, cookie: str) -> str:
        return hmac.new(self.secret, cookie.encode(), "sha256").hexdigest()

    def check_csrf(self, cookie: Optional[str], given: Optional[str]) -> None:
        if not cookie or not given or not hmac.compare_digest(self.csrf_token(cookie), given):
            raise AccessDenied("missing or stale CSRF token: reload the page and try again")

    def require_writable(self) -> None:
        if self.read_only:
            raise AccessDenied("this webserver is read-only (--read-only): no actions")


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(24)


def positive_int(value: Any, what: str, default: Optional[int] = None) -> Optional[int]:
    """A query parameter that must be a whole number >= 0."""
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} must be a whole number, got {value!r}") from None
    if number < 0:
        raise InvalidInput(f"{what} must be >= 0, got {number}")
    if number >= 2**63:  # SQLite's integers end there
        raise InvalidInput(f"{what} is too large: {number}")
    return number
