"""Which `Launcher` an executor uses: `executor_worker_start` says."""

from __future__ import annotations

import subprocess
from typing import Optional

from aiflow_lite.engine.launch.launcher import Launcher, worker_env


def launcher_for(worker_start: str, home: str,
                 fork_server: Optional[subprocess.Popen] = None) -> Launcher:
    """"forkserver" (forks from a warm server; `fork_server`: one already started for `home`,
    see `forkserver.spawn`) or "spawn" (a fresh interpreter per task)."""
    def env():
        return worker_env(home)

    if worker_start == "forkserver":
        from aiflow_lite.engine.launch.forkserver_launcher import ForkServerLauncher

        return ForkServerLauncher(env, fork_server)
    from aiflow_lite.engine.launch.spawn import SpawnLauncher

    if fork_server is not None:
        release_fork_server(fork_server)
    return SpawnLauncher(env)


def release_fork_server(fork_server: subprocess.Popen) -> None:
    """A fork server started ahead that will not be used: it exits at the end of its input."""
    fork_server.stdin.close()
    try:
        fork_server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        fork_server.kill()
        fork_server.wait()
