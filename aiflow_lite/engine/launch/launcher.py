"""What the executor needs of whatever starts its workers: the `Launcher` protocol.

A launch has three steps, so that nothing runs twice: `start` gives each order a process that
holds it and waits; the executor claims every execution for its pid (one transaction); `hand`
then says GO to each claimed process and DROP to the others. Afterwards the launcher reports
how each ended (`exit_code`), for as long as it can tell (`watching`); the executor watches
the others by pid. Implementations: `spawn.SpawnLauncher` (a fresh interpreter per task),
`forkserver_launcher.ForkServerLauncher` (forked from a warm server; the default) and
`inline.InlineLauncher` (in this process, for tests); `choose.launcher_for` picks one.
"""

from __future__ import annotations

import contextlib
import os
from typing import Dict, NamedTuple, Optional, Protocol, Sequence, Tuple

from aiflow_lite.engine.launch.protocol import Order

#: (task execution id, pid, go): the word for one started process.
Decision = Tuple[int, int, bool]


class Launch(NamedTuple):
    """What `start` made of its orders: a waiting process's pid by task execution id, and why
    by task execution id for those that could not start (and failed). An order in neither
    was not started now: it stays QUEUED and is offered again."""

    pids: Dict[int, int]
    failed: Dict[int, str]


class Launcher(Protocol):
    def start(self, orders: Sequence[Order]) -> Launch:
        """A process per order, each holding its order and waiting for its word."""

    def hand(self, decisions: Sequence[Decision]) -> None:
        """GO (run the order: its claim is committed) or DROP (exit unrun) to each."""

    def poll(self) -> None:
        """Take in the news (exits) so far."""

    def exit_code(self, task_execution_id: int, pid: int) -> Optional[int]:
        """How it ended (an exit code, or minus a signal), once it did; None while it runs."""

    def watching(self, task_execution_id: int, pid: int) -> bool:
        """Whether `exit_code` will tell when it ends (False: it no longer can, its fork server
        died say, and has let it go: the executor watches it by pid)."""

    def signal(self, task_execution_id: int, pid: int, signum: int) -> None:
        """Send `signum` to what it started for the task (its process group)."""

    def wake_fd(self) -> Optional[int]:
        """An fd readable when there is news (an exit), or None."""

    def close(self) -> None:
        """Let go: started processes keep running (a restarted executor adopts them)."""


def signal_group(pid: int, signum: int) -> None:
    """To its process group; to the process alone if it has not made its group yet (a
    freshly forked worker calls setsid first thing)."""
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)
    except PermissionError:
        pass


def worker_env(home: str) -> Dict[str, str]:
    """The environment of a worker process of `home`."""
    env = {**os.environ, "AIFLOW_HOME": home}
    env.pop("NOTIFICATION_HOME", None)
    return env

