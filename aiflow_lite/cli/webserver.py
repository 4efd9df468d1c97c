"""`aiflow webserver start [-d] | stop`: the web UI and REST API of this home
(`aiflow_lite.web`), in the foreground or as a daemon with a pidfile and a log under the home."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from typing import Optional

import click

from aiflow_lite.cli.server import START_TIMEOUT_S, STOP_TIMEOUT_S, daemon_option

_options = [
    click.option("--host", default=None, help="Address to bind (default rest_host, 127.0.0.1; "
                                              "any other needs server_token)."),
    click.option("--port", type=click.IntRange(0, 65535), default=None,
                 help="Port (default rest_port, 8000; 0: any free port, written to "
                      "<home>/webserver.addr)."),
    click.option("--read-only", is_flag=True,
                 help="Show everything, allow no action (no start, stop, pause, enable)."),
]


@click.group("webserver")
def webserver() -> None:
    """The web UI and REST API (/api/v1/) of this home."""


def _with_options(function):  # type: ignore[no-untyped-def]
    for option in reversed(_options):
        function = option(function)
    return function


@webserver.command("start")
@daemon_option
@_with_options
def start(daemon: bool, host: Optional[str], port: Optional[int], read_only: bool) -> None:
    """Starts the AIFlow webserver: pages for workflows, executions, events, models, datasets
    and artifacts, live, and a JSON REST API under /api/v1/.

    Example: aiflow webserver start -d --port 0
    """
    from aiflow_lite.config import load_aiflow_settings, log_directory
    from aiflow_lite.errors import AiflowError
    from aiflow_lite.web.context import check_bind
    from aiflow_lite.web.serve import ADDRESS_FILE, running_pid, web_settings

    settings = load_aiflow_settings()
    pid = running_pid(settings)
    if pid is not None:
        raise AiflowError(f"a webserver already runs for {settings.home} (pid {pid}); stop it "
                          "with `aiflow webserver stop`")
    bind_host, _, token = web_settings(settings, host, port)
    check_bind(bind_host, token)  # refused here, in one line, not in a log
    if not daemon:
        from aiflow_lite.web.serve import run

        run(settings, host, port, read_only)
        return
    from aiflow_lite.cli.server import _last_error, port_answers
    from aiflow_lite.web.serve import read_address

    log_dir = log_directory(settings)
    os.makedirs(log_dir, exist_ok=True)
    log_path = os.path.join(log_dir, "webserver.log")
    address_file = os.path.join(settings.home, ADDRESS_FILE)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(address_file)  # a killed webserver's: only the new one's may be read below
    argv = [sys.executable, "-m", "aiflow_lite.web.serve"]
    if host:
        argv += ["--host", host]
    if port is not None:
        argv += ["--port", str(port)]
    if read_only:
        argv.append("--read-only")
    with open(log_path, "ab") as log:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   close_fds=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:  # up means: its pidfile names it and its port answers
        address = read_address(settings)
        if running_pid(settings) == process.pid and address and port_answers(address):
            break
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.terminate()
            raise AiflowError(f"the webserver did not start: {_last_error(log_path)} "
                              f"(log: {log_path})")
        time.sleep(0.02)
    click.echo(f"AIFlow webserver started (pid {process.pid}), serving http://{address}/"
               f"{' read-only' if read_only else ''}; log: {log_path}")


@webserver.command("stop")
def stop() -> None:
    """Stops the AIFlow webserver of this home.

    Example: aiflow webserver stop
    """
    import signal

    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.errors import AiflowError
    from aiflow_lite.procfs import is_running
    from aiflow_lite.web.serve import running_pid

    settings = load_aiflow_settings()
    pid = running_pid(settings)
    if pid is None:
        click.echo(f"No webserver runs for {settings.home}.")
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while running_pid(settings) is not None or is_running(pid):  # its files gone, then itself
        if time.monotonic() > deadline:
            raise AiflowError(f"the webserver (pid {pid}) did not stop within "
                              f"{STOP_TIMEOUT_S:.0f}s")
        time.sleep(0.02)
    click.echo(f"AIFlow webserver stopped (pid {pid}).")
