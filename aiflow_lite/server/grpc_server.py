"""Building, binding and stopping a gRPC server for one home, with the rules every server keeps:
loopback unless a token is set, no port sharing, size limits, optional TLS."""

from __future__ import annotations

import ipaddress
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, List, Optional

import grpc

from aiflow_lite.config import Settings
from aiflow_lite.errors import AiflowError, InvalidInput
from aiflow_lite.server.guard import CallGuard
from aiflow_lite.server.notification_service import NotificationService

log = logging.getLogger(__name__)


#: The addresses served without a token. Other loopback addresses (127.0.0.2, ...) are not:
#: containers and network namespaces route them, so they count as "elsewhere".
PRIVATE_HOSTS = ("127.0.0.1", "::1", "localhost")


def is_private(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return str(ipaddress.ip_address(host)) in PRIVATE_HOSTS
    except ValueError:
        return False


class RpcServer:
    """A started gRPC server serving the notification service and, with `with_ops`, the
    operations. `address` is where it listens (the real port when 0 was asked for)."""

    def __init__(self, settings: Settings, host: str, port: int, *, with_ops: bool) -> None:
        token = settings.server_token or None
        host = str(host).strip()
        if not is_private(host) and not token:
            raise InvalidInput(
                f"refusing to serve {settings.home} on {host}: only 127.0.0.1 and ::1 are "
                "served without a token; set server_token in the config (or "
                "AIFLOW_SERVER_TOKEN), or bind 127.0.0.1")
        self.guard = CallGuard(token, settings.rpc_max_calls_per_s)
        max_listeners = settings.rpc_max_listeners
        max_bytes = settings.rpc_max_message_mb << 20
        self.notification = NotificationService(settings, self.guard, max_listeners)
        handlers: List[Any] = [self.notification.handler()]
        if with_ops:
            from aiflow_lite.server.ops_service import OpsService

            handlers.append(OpsService(settings, self.guard).handler())
        self._pool = ThreadPoolExecutor(max_workers=max_listeners + 16,
                                        thread_name_prefix="aiflow-rpc")
        self.server = grpc.server(
            self._pool,
            handlers=handlers,
            options=[
                ("grpc.so_reuseport", 0),  # a second server on the port must fail, not share
                ("grpc.max_receive_message_length", max_bytes),
                ("grpc.max_send_message_length", max_bytes),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", 5000),
            ],
            maximum_concurrent_rpcs=max_listeners + 256,
        )
        target = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else \
            f"{host}:{port}"
        try:
            credentials = _tls_credentials(settings)
            if credentials is None:
                bound = self.server.add_insecure_port(target)
            else:
                bound = self.server.add_secure_port(target, credentials)
        except RuntimeError:
            bound = 0
        if not bound:
            raise AiflowError(f"cannot listen on {target}: the port is in use, or the address "
                              "is not on this machine; choose another port or host in the config")
        self.host = host
        self.port = bound
        self.tls = credentials is not None
        self.server.start()

    @property
    def address(self) -> str:
        """`host:port` as a client dials it (an IPv6 host in brackets)."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") \
            else self.host
        return f"{host}:{self.port}"

    def stop(self, grace_s: Optional[float] = 1.0) -> None:
        """Refuse new calls, give running ones `grace_s`, then let go of the connections (one
        still in a call's hands, a write waiting for the lock say, is left to that call)."""
        self.server.stop(grace_s).wait()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.notification.close()


def _tls_credentials(settings: Settings) -> Optional[grpc.ServerCredentials]:
    cert, key = settings.tls_cert_file, settings.tls_key_file
    if not cert and not key:
        return None
    if not (cert and key):
        raise InvalidInput("TLS needs both tls_cert_file and tls_key_file")
    import ssl

    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)  # check them first
        with open(cert, "rb") as c, open(key, "rb") as k:
            return grpc.ssl_server_credentials([(k.read(), c.read())])
    except OSError as exc:
        if isinstance(exc, ssl.SSLError) or not exc.strerror:
            raise InvalidInput(f"invalid TLS files {cert} / {key}: they must be a PEM "
                               f"certificate and its private key ({exc})") from None
        raise AiflowError(f"cannot read {exc.filename}: {exc.strerror}") from None


def write_address_file(path: str, address: str) -> None:
    """Where a server listens, for `server start -d` and for clients of an ephemeral port."""
    staging = f"{path}.{os.getpid()}.tmp"
    with open(staging, "w", encoding="ascii") as fh:
        fh.write(address + "\n")
    os.replace(staging, path)


def read_address_file(path: str) -> Optional[str]:
    try:
        with open(path, encoding="ascii") as fh:
            return fh.read().strip() or None
    except OSError:
        return None
