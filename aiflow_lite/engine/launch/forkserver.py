"""The fork server: a small process that has already imported the worker code and forks one
child per task execution, so a task starts in ~2 ms instead of a fresh interpreter's ~100 ms
(the forking itself: `forker`). Zygotes (see `zygotes`): once a snapshot has had a task, its
later tasks are forked from a process that has executed its workflow file already.

It speaks `protocol` over its stdin (RUN, GO, DROP from the executor) and stdout (PID, NOPID,
EXIT, LOST to it); its client is `forkserver_launcher`. A child gets its ORDER at RUN and
waits for the word between RUN and GO: the executor claims the task execution for that pid in
between. Children run in their own session (STOP reaches their whole group) and outlive this
server: when its stdin closes (the scheduler exited or died) it exits at once and leaves them
running. A child still waiting for the word then sees its pipe close, and runs only if the
database says its claim was committed (`worker.receive`). Neither this server nor its
children otherwise open the database: a worker reports through a result file.
"""

from __future__ import annotations

import gc
import importlib
import subprocess
import sys
from typing import Dict, Iterable

from aiflow_lite.engine.launch.forker import SPARES, serve_commands

__all__ = ["SPARES", "serve", "spawn"]


def spawn(env: Dict[str, str]) -> subprocess.Popen:
    """Start a fork server process (this module imports almost nothing, so a command can call
    this first thing and let the server warm up while it does its own work)."""
    return subprocess.Popen([sys.executable, "-m", "aiflow_lite.engine.launch.forkserver"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                            close_fds=True)


def serve(warm: Iterable[str]) -> None:
    """Import the modules `warm` names and read the config, once, here; then serve. Never
    returns."""
    for name in warm:
        importlib.import_module(name)
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.launch.zygotes import Zygotes

    settings = load_aiflow_settings()
    # Children share this memory copy-on-write. Frozen objects are left out of every garbage
    # collection, so a child's collections neither walk nor copy them (measured: a no-op task's
    # worker 4.3 -> 3.5 ms of user CPU).
    gc.collect()
    gc.freeze()
    sys.stdout.flush()
    serve_commands(sys.stdin.fileno(), sys.stdout.fileno(), settings, None, Zygotes)


if __name__ == "__main__":
    from aiflow_lite.engine.launch import WARM_MODULES

    serve(WARM_MODULES)
