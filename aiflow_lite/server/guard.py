"""What every call passes before its handler runs: the token, the rate limit, and the error
boundary that turns any failure into a status code with one line, never a traceback."""

from __future__ import annotations

import functools
import hmac
import logging
import threading
import time
from typing import Any, Callable, Dict, Iterator, Optional

import grpc

from aiflow_lite.errors import AccessDenied, AiflowError
from aiflow_lite.rpc.channel import TOKEN_HEADER
from aiflow_lite.rpc.codec import status_code_for

log = logging.getLogger(__name__)


class CallGuard:
    """Checks the token (when the server has one) and a per-address rate on every call."""

    def __init__(self, token: Optional[str], max_calls_per_s: int) -> None:
        self.token = token
        self._expected = f"Bearer {token}".encode() if token else b""
        self.rate = max(1, int(max_calls_per_s))
        self._buckets: Dict[str, list] = {}
        self._lock = threading.Lock()

    @property
    def authenticates(self) -> bool:
        """True when every call presents the right token: the peer is known, so what it sends
        may be trusted as far as the token's holder is (code included)."""
        return bool(self.token)

    def check(self, context: grpc.ServicerContext) -> None:
        if self.token:
            presented = ""
            for key, value in context.invocation_metadata() or ():
                if key == TOKEN_HEADER:
                    presented = value
            if not hmac.compare_digest(presented.encode(), self._expected):
                context.abort(grpc.StatusCode.UNAUTHENTICATED,
                              "missing or wrong token: set server_token in aiflow_client.yaml "
                              "or AIFLOW_SERVER_TOKEN to the server's token")
        if not self._take(_address(context.peer())):
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                          f"more than {self.rate} calls per second from this address; slow down")

    def _take(self, address: str) -> bool:
        """A token bucket per address: `rate` calls per second, bursts up to `rate`."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(address, (float(self.rate), now))
            tokens = min(float(self.rate), tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[address] = [tokens - 1.0 if allowed else tokens, now]
            if len(self._buckets) > 10_000:  # forget idle addresses
                self._buckets = {a: b for a, b in self._buckets.items() if now - b[1] < 10}
            return allowed

    def require_authenticated(self, context: grpc.ServicerContext, what: str) -> None:
        if not self.authenticates:
            raise AccessDenied(
                f"{what} runs the sender's code on the server, so it needs a token: set "
                "server_token (or AIFLOW_SERVER_TOKEN) on the server and the same on the client")

    def unary(self, handler: Callable[[Any, grpc.ServicerContext], Any]) -> Callable:
        @functools.wraps(handler)
        def guarded(request: Any, context: grpc.ServicerContext) -> Any:
            self.check(context)
            try:
                return handler(request, context)
            except Exception as exc:
                _abort(context, exc)
        return guarded

    def stream(self, handler: Callable[[Any, grpc.ServicerContext], Iterator[Any]]) -> Callable:
        @functools.wraps(handler)
        def guarded(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            self.check(context)
            try:
                yield from handler(request, context)
            except Exception as exc:
                _abort(context, exc)
        return guarded


def _abort(context: grpc.ServicerContext, exc: Exception) -> None:
    if isinstance(exc, AiflowError):
        context.abort(status_code_for(exc), " ".join(str(exc).split()) or type(exc).__name__)
    if type(exc).__module__ == "apsw":
        from aiflow_lite.sqlite import user_message

        message = user_message(exc)
        if message:
            context.abort(grpc.StatusCode.UNAVAILABLE, message)
    log.exception("call failed")
    context.abort(grpc.StatusCode.INTERNAL, f"internal error ({type(exc).__name__}); see the "
                  "server log")


def _address(peer: str) -> str:
    """`ipv4:127.0.0.1:5000` → `127.0.0.1`; `ipv6:[::1]:5000` → `[::1]`."""
    kind, _, rest = (peer or "").partition(":")
    return rest.rsplit(":", 1)[0] if kind in ("ipv4", "ipv6") else peer or "?"
