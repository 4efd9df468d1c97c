"""The webserver process: binds its socket first (port 0 = any free port), writes
`<home>/webserver.addr` and `<home>/webserver.pid` once it serves, removes them when it stops
(SIGTERM or Ctrl-C: uvicorn finishes the requests in flight, the live thread ends)."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from typing import Optional

from aiflow_lite.config import Settings

ADDRESS_FILE = "webserver.addr"
PID_FILE = "webserver.pid"
LOCK_FILE = "webserver.lock"


def web_settings(settings: Settings, host: Optional[str] = None,
                 port: Optional[int] = None) -> tuple:
    """(host, port, token) from the options given, else the home's config."""
    host = host or settings.rest_host or "127.0.0.1"
    port = settings.rest_port if port is None else int(port)
    token = settings.server_token
    return host, port, str(token) if token else None


def bind(host: str, port: int) -> socket.socket:
    from aiflow_lite.errors import AiflowError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: without it a kept-alive browser connection waited
    # ~40 ms on every request (Nagle's algorithm meeting delayed ACKs).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise AiflowError(f"cannot serve the web UI on {host}:{port}: {exc.strerror or exc}; "
                          "pick another with --port (0: any free port) or rest_port") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def run(settings: Settings, host: Optional[str] = None, port: Optional[int] = None,
        read_only: bool = False) -> None:
    import uvicorn

    from aiflow_lite.web.app import create_app
    from aiflow_lite.web.context import WebContext, check_bind

    host, port, token = web_settings(settings, host, port)
    check_bind(host, token)
    lock = hold_lock(settings)  # for the process's whole life: one webserver per home
    sock = bind(host, port)
    bound = sock.getsockname()
    shown_host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    address = f"{shown_host}:{bound[1]}"
    from aiflow_lite.web.context import is_loopback

    app = create_app(WebContext(settings, read_only=read_only, token=token,
                                loopback_only=is_loopback(host)))
    server = _server_class()(uvicorn.Config(app, log_level="warning", access_log=False,
                                    lifespan="on", timeout_graceful_shutdown=3))
    home = settings.home
    original_startup = server.startup

    async def startup(sockets: Optional[list] = None) -> None:
        await original_startup(sockets=sockets)
        _write(os.path.join(home, PID_FILE), f"{os.getpid()}\n")
        _write(os.path.join(home, ADDRESS_FILE), f"{address}\n")
        print(f"aiflow webserver serving http://{address}/ for {home}"
              f"{' (read-only)' if read_only else ''}", flush=True)

    server.startup = startup  # type: ignore[method-assign]
    try:
        server.run(sockets=[sock])
    finally:
        if running_pid(settings) in (os.getpid(), None):  # ours to remove, nobody else's
            for name in (ADDRESS_FILE, PID_FILE):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(home, name))
        sock.close()
        os.close(lock)


def hold_lock(settings: Settings) -> int:
    """An exclusive lock on `<home>/webserver.lock`, held until the process ends (the kernel
    drops it even on kill -9): two starts at once cannot both serve the home."""
    import fcntl

    from aiflow_lite.errors import AiflowError

    os.makedirs(settings.home, exist_ok=True)
    fd = os.open(os.path.join(settings.home, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        pid = running_pid(settings)
        raise AiflowError(f"a webserver already runs for {settings.home}"
                          f"{f' (pid {pid})' if pid else ''}; stop it with "
                          "`aiflow webserver stop`") from None
    return fd


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's, except that a stop by SIGTERM or Ctrl-C is a clean exit (status 0, as
        `aiflow server` has), not the signal raised again once it has shut down."""

        @contextlib.contextmanager
        def capture_signals(self):  # type: ignore[no-untyped-def]
            with super().capture_signals():
                yield
                self._captured_signals.clear()

        async def main_loop(self) -> None:
            """uvicorn ticks ten times a second (0.3 % of a CPU, idle); once a second is
            enough here: its per-second work (the Date header) runs on every tick, and a
            stop is noticed within a second."""
            import asyncio

            counter = 0
            should_exit = await self.on_tick(counter)
            while not should_exit:
                counter += 10  # on_tick does its every-tenth-tick work each time
                await asyncio.sleep(1.0)
                should_exit = await self.on_tick(counter)

    return Server


def _write(path: str, text: str) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def read_address(settings: Settings) -> Optional[str]:
    """`host:port` of the home's running webserver, from its address file."""
    try:
        with open(os.path.join(settings.home, ADDRESS_FILE), encoding="ascii") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def running_pid(settings: Settings) -> Optional[int]:
    """The pid in the home's pidfile when that process still runs (a stale file is ignored)."""
    try:
        with open(os.path.join(settings.home, PID_FILE), encoding="utf-8") as fh:
            pid = int(fh.read().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    from aiflow_lite.procfs import command_line

    command = command_line(pid)
    if b"aiflow_lite.web" not in command and b"webserver" not in command:
        return None  # a recycled pid is not ours (or a zombie: it has ended)
    return pid


def main(argv: Optional[list] = None) -> None:
    """`python -m aiflow_lite.web.serve [--host H] [--port P] [--read-only]`: what
    `aiflow webserver start -d` runs."""
    import argparse

    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.errors import AiflowError

    parser = argparse.ArgumentParser(prog="aiflow_lite.web.serve")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--read-only", action="store_true")
    args = parser.parse_args(argv)
    try:
        run(load_aiflow_settings(), args.host, args.port, args.read_only)
    except AiflowError as exc:
        print(f"Error: {' '.join(str(exc).split())}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
