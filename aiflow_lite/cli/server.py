"""`aiflow server start [-d] | stop` and `notification server start [-d] | stop`: the spec's two
server processes (`aiflow_lite.server.processes`), run in the foreground or as daemons."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

import click

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 60.0


@dataclass
class Role:
    """What differs between the two servers."""

    name: str           # "aiflow" or "notification"
    title: str          # for messages
    load_settings: Callable[[], Any]
    running_pid: Callable[[Any], Optional[int]]
    address_file: str
    stop_hint: str
    article: str


def _aiflow_role() -> Role:
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.lock import running_scheduler_pid
    from aiflow_lite.server.processes import AIFLOW_ADDRESS_FILE

    return Role("aiflow", "AIFlow server", load_aiflow_settings, running_scheduler_pid,
                AIFLOW_ADDRESS_FILE, "aiflow server stop", "an")


def _notification_role() -> Role:
    from aiflow_lite.config import load_notification_settings
    from aiflow_lite.server.processes import (
        NOTIFICATION_ADDRESS_FILE,
        running_notification_server_pid,
    )

    return Role("notification", "notification server", load_notification_settings,
                running_notification_server_pid, NOTIFICATION_ADDRESS_FILE,
                "notification server stop", "a")


def start_server(role: Role, daemon: bool) -> None:
    from aiflow_lite.errors import AiflowError
    from aiflow_lite.server.grpc_server import read_address_file

    settings = role.load_settings()
    pid = role.running_pid(settings)
    if pid is not None:
        raise AiflowError(f"{role.article} {role.title} already runs for {settings.home} (pid "
                          f"{pid}); stop it with `{role.stop_hint}`")
    if not daemon:
        from aiflow_lite.server.processes import main

        main([role.name])
        return
    address_file = os.path.join(settings.home, role.address_file)
    process, log_path = launch_daemon(
        [sys.executable, "-m", "aiflow_lite.server.processes", role.name], settings,
        f"{role.name}_server.log", address_file)
    # The notification server's config names its wait (the spec's option); the AIFlow server's
    # has none, and it starts a scheduler and a fork server too.
    wait_s = settings.wait_for_server_started_timeout if role.name == "notification" \
        else START_TIMEOUT_S

    def up() -> Optional[str]:  # it holds the lock and its port answers
        if role.running_pid(settings) != process.pid:
            return None
        address = read_address_file(address_file)
        return address if address and port_answers(address) else None

    address = wait_until_up(process, up, wait_s, role.title, log_path)
    click.echo(f"{_capital(role.title)} started (pid {process.pid}), listening on {address}; "
               f"log: {log_path}")


def launch_daemon(argv: list, settings: Any, log_name: str,
                  address_file: str) -> Tuple[subprocess.Popen, str]:
    """Start `argv` in a session of its own, its output appended to `log_name` in the home's
    log directory; the address file a killed predecessor left is removed first (only the new
    process's may be read)."""
    from aiflow_lite.config import log_directory

    log_dir = log_directory(settings)
    os.makedirs(log_dir, exist_ok=True)
    log_path = os.path.join(log_dir, log_name)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(address_file)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   close_fds=True)
    return process, log_path


def wait_until_up(process: subprocess.Popen, up: Callable[[], Optional[str]], timeout_s: float,
                  title: str, log_path: str) -> str:
    """The address `up()` returns once the started server serves; if it exits or the time
    runs out first, one line saying why (the error it logged)."""
    from aiflow_lite.errors import AiflowError

    deadline = time.monotonic() + timeout_s
    while True:
        address = up()
        if address:
            return address
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.terminate()
            raise AiflowError(f"the {title} did not start: {_last_error(log_path)}"
                              f" (log: {log_path})")
        time.sleep(0.02)


def stop_and_wait(pid: int, still_serving: Callable[[], bool], title: str) -> None:
    """SIGTERM `pid`, then wait until it no longer serves (its lock or pidfile released) and
    has exited; one line if that takes longer than STOP_TIMEOUT_S."""
    import signal

    from aiflow_lite.errors import AiflowError
    from aiflow_lite.procfs import is_running

    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while still_serving() or is_running(pid):
        if time.monotonic() > deadline:
            raise AiflowError(f"the {title} (pid {pid}) did not stop within "
                              f"{STOP_TIMEOUT_S:.0f}s")
        time.sleep(0.02)


def stop_server(role: Role) -> None:
    settings = role.load_settings()
    pid = role.running_pid(settings)
    if pid is None:
        click.echo(f"No {role.title} runs for {settings.home}.")
        return
    stop_and_wait(pid, lambda: role.running_pid(settings) is not None, role.title)
    click.echo(f"{_capital(role.title)} stopped (pid {pid}).")

def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def port_answers(address: str) -> bool:
    """True when something accepts TCP connections at `host:port`."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def _last_error(log_path: str) -> str:
    """The line a failed server left in its log, to show instead of 'see the log'."""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            lines = [line.strip() for line in fh.readlines()[-20:] if line.strip()]
    except OSError:
        return "no log"
    errors = [line[len("Error:"):].strip() for line in lines if line.startswith("Error:")]
    return (errors or lines or ["no output"])[-1]


daemon_option = click.option("-d", "--daemon", is_flag=True,
                             help="Daemonizes and returns once the server answers.")


@click.group("server")
def server() -> None:
    """AIFlow server (scheduler, executor and rpc server) operations."""


@server.command("start")
@daemon_option
def start(daemon: bool) -> None:
    """Starts the scheduler of this home and its rpc server (rpc_host:rpc_port).

    Example: aiflow server start -d
    """
    start_server(_aiflow_role(), daemon)


@server.command("stop")
def stop() -> None:
    """Stops the AIFlow server (running tasks go on and are adopted at the next start).

    Example: aiflow server stop
    """
    stop_server(_aiflow_role())


@click.group("server")
def notification_server() -> None:
    """Notification server operations."""


@notification_server.command("start")
@daemon_option
def notification_start(daemon: bool) -> None:
    """Starts the notification server (server_host:server_port) on this home's event log.

    Example: notification server start -d
    """
    start_server(_notification_role(), daemon)


@notification_server.command("stop")
def notification_stop() -> None:
    """Stops the notification server.

    Example: notification server stop
    """
    stop_server(_notification_role())
