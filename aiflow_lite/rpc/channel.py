"""Opening a channel to a server named by `host:port`, with the token and TLS a client needs."""

from __future__ import annotations

import re
from typing import Any, Callable, List, Optional, Tuple

import grpc

from aiflow_lite.config import ClientSettings, load_client_settings
from aiflow_lite.errors import AiflowError, InvalidInput
from aiflow_lite.rpc.codec import error_from_status

TOKEN_HEADER = "authorization"
_URI_RE = re.compile(r"\A(?:[A-Za-z][A-Za-z0-9+.-]*://)?(\[[0-9A-Fa-f:.]+\]|[^:/\s\[\]]+):(\d{1,5})/?\Z")
#: Keepalive pings notice a dead server under a listen stream within seconds, not hours.
CHANNEL_OPTIONS: List[Tuple[str, Any]] = [
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", 256 << 20),
    ("grpc.max_send_message_length", 256 << 20),
    ("grpc.enable_retries", 0),
    # A restarted server is found again within ~2 s, not grpc's default of up to 2 minutes.
    # (Not grpc.min_reconnect_backoff_ms: it is also each connection attempt's timeout, and at
    # 100 ms a busy server's first SETTINGS frame came too late: the call failed as unreachable.)
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


#: How long a client that was connected waits for its server to come back before failing.
RECONNECT_WAIT_S = 5.0


def _never_sent(exc: grpc.RpcError) -> bool:
    """True when the call failed before reaching any server (no connection)."""
    code = exc.code() if hasattr(exc, "code") else None
    details = (exc.details() if hasattr(exc, "details") else "") or ""
    return code == grpc.StatusCode.UNAVAILABLE and (
        "failed to connect" in details.lower() or "connection refused" in details.lower())


def parse_uri(uri: str) -> str:
    """`host:port` (a `grpc://` or `http://` prefix is tolerated) → the target grpc dials."""
    match = _URI_RE.match(uri.strip()) if isinstance(uri, str) else None
    if not match or not 0 < int(match.group(2)) < 65536:
        raise InvalidInput(f"invalid server uri {uri!r}: use HOST:PORT, e.g. localhost:50052")
    return f"{match.group(1)}:{int(match.group(2))}"


class Connection:
    """A channel plus what every call carries (token, deadline); turns failures into one-line
    `AiflowError`s."""

    def __init__(self, uri: str, settings: Optional[ClientSettings] = None) -> None:
        self.settings = settings or load_client_settings()
        self.target = parse_uri(uri)
        if self.settings.tls_ca_file:
            try:
                with open(self.settings.tls_ca_file, "rb") as fh:
                    credentials = grpc.ssl_channel_credentials(fh.read())
            except OSError as exc:
                raise AiflowError(f"cannot read tls_ca_file {self.settings.tls_ca_file}: "
                                  f"{exc.strerror}") from None
            self.channel = grpc.secure_channel(self.target, credentials, CHANNEL_OPTIONS)
        else:
            self.channel = grpc.insecure_channel(self.target, CHANNEL_OPTIONS)
        self.metadata = ((TOKEN_HEADER, f"Bearer {self.settings.token}"),) \
            if self.settings.token else ()
        self._methods: dict = {}
        self._connected_once = False

    def unary(self, service: str, method: str, reply_type: Any) -> Callable[..., Any]:
        key = (service, method)
        if key not in self._methods:
            self._methods[key] = self.channel.unary_unary(
                f"/aiflow_lite.v1.{service}/{method}",
                request_serializer=_serialize, response_deserializer=reply_type.FromString)
        return self._methods[key]

    def call(self, service: str, method: str, request: Any, reply_type: Any,
             timeout: Optional[float] = None) -> Any:
        stub = self.unary(service, method, reply_type)
        timeout = timeout or self.settings.timeout_s
        try:
            reply = stub(request, timeout=timeout, metadata=self.metadata, wait_for_ready=False)
        except grpc.RpcError as exc:
            if not (self._connected_once and _never_sent(exc)):
                raise self.error(exc) from None
            # The server went away and may be coming back (a restart): the request never left,
            # so waiting for the channel and sending it once is safe, even for a send.
            try:
                reply = stub(request, timeout=min(timeout, RECONNECT_WAIT_S),
                             metadata=self.metadata, wait_for_ready=True)
            except grpc.RpcError as again:
                raise self.error(again) from None
        self._connected_once = True
        return reply

    def stream(self, service: str, method: str, request: Any, reply_type: Any) -> Any:
        stub = self.channel.unary_stream(
            f"/aiflow_lite.v1.{service}/{method}",
            request_serializer=_serialize, response_deserializer=reply_type.FromString)
        return stub(request, metadata=self.metadata, wait_for_ready=True)

    def error(self, exc: grpc.RpcError) -> AiflowError:
        code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
        details = exc.details() if hasattr(exc, "details") else str(exc)
        return error_from_status(code, details, self.target)

    def close(self) -> None:
        self.channel.close()


def _serialize(message: Any) -> bytes:
    return message.SerializeToString()
