"""`aiflow server start [-d] | stop`: the scheduler process of the home."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import click

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 60.0


@click.group("server")
def server() -> None:
    """AIFlow server (scheduler and executor) operations."""


@server.command("start")
@click.option("-d", "--daemon", is_flag=True,
              help="Daemonizes instead of running in the foreground.")
def start(daemon: bool) -> None:
    """Starts the scheduler of this home; with -d, returns once it runs.

    Example: aiflow server start -d
    """
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.lock import running_scheduler_pid
    from aiflow_lite.errors import AiflowError

    settings = load_aiflow_settings()
    pid = running_scheduler_pid(settings)
    if pid is not None:
        raise AiflowError(f"a scheduler already runs for {settings.home} (pid {pid})")
    if not daemon:
        from aiflow_lite.engine.runner import main

        main()
        return
    log_dir = str(settings.values.get("log_dir") or os.path.join(settings.home, "logs"))
    os.makedirs(log_dir, exist_ok=True)
    log_path = os.path.join(log_dir, "scheduler.log")
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "aiflow_lite.engine.runner"], stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
            env={**os.environ, "AIFLOW_HOME": settings.home})
    deadline = time.monotonic() + START_TIMEOUT_S
    while running_scheduler_pid(settings) != process.pid:
        if process.poll() is not None or time.monotonic() > deadline:
            raise AiflowError(f"the scheduler did not start; see {log_path}")
        time.sleep(0.02)
    click.echo(f"AIFlow server started (pid {process.pid}); log: {log_path}")


@server.command("stop")
def stop() -> None:
    """Stops the scheduler of this home (running tasks go on and are adopted at the next start).

    Example: aiflow server stop
    """
    import signal

    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.lock import running_scheduler_pid
    from aiflow_lite.errors import AiflowError

    settings = load_aiflow_settings()
    pid = running_scheduler_pid(settings)
    if pid is None:
        click.echo(f"No scheduler runs for {settings.home}.")
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while running_scheduler_pid(settings) is not None:
        if time.monotonic() > deadline:
            raise AiflowError(f"the scheduler (pid {pid}) did not stop within "
                              f"{STOP_TIMEOUT_S:.0f}s")
        time.sleep(0.02)
    click.echo(f"AIFlow server stopped (pid {pid}).")
