"""`aiflow webserver start [-d] | stop`: the web UI and REST API of this home
(`aiflow_lite.web`), in the foreground or as a daemon with a pidfile and a log under the home."""

from __future__ import annotations

import os
import sys
from typing import Optional

import click

from aiflow_lite.cli.server import START_TIMEOUT_S, daemon_option

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
    from aiflow_lite.config import load_aiflow_settings
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
    from aiflow_lite.cli.server import launch_daemon, port_answers, wait_until_up
    from aiflow_lite.web.serve import read_address

    argv = [sys.executable, "-m", "aiflow_lite.web.serve"]
    if host:
        argv += ["--host", host]
    if port is not None:
        argv += ["--port", str(port)]
    if read_only:
        argv.append("--read-only")
    process, log_path = launch_daemon(argv, settings, "webserver.log",
                                      os.path.join(settings.home, ADDRESS_FILE))

    def up() -> Optional[str]:  # its pidfile names it and its port answers
        address = read_address(settings)
        return address if running_pid(settings) == process.pid and address and \
            port_answers(address) else None

    address = wait_until_up(process, up, START_TIMEOUT_S, "webserver", log_path)
    click.echo(f"AIFlow webserver started (pid {process.pid}), serving http://{address}/"
               f"{' read-only' if read_only else ''}; log: {log_path}")


@webserver.command("stop")
def stop() -> None:
    """Stops the AIFlow webserver of this home.

    Example: aiflow webserver stop
    """
    from aiflow_lite.cli.server import stop_and_wait
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.web.serve import running_pid

    settings = load_aiflow_settings()
    pid = running_pid(settings)
    if pid is None:
        click.echo(f"No webserver runs for {settings.home}.")
        return
    stop_and_wait(pid, lambda: running_pid(settings) is not None, "webserver")
    click.echo(f"AIFlow webserver stopped (pid {pid}).")
