"""The owner of a home's Ray tasks: a detached, named actor (one per home, on the head node).

Why an actor owns them, not the scheduler: Ray ties a task's life to its owner's, and the
process that submits a task owns it. Submitted by the scheduler (a Ray driver), every running
task would die with a scheduler crash. Submitted by a detached actor, they run on, and the
restarted scheduler finds them here by their keys.

Each try is submitted once under its deterministic key (`<task execution id>.<try>`): a second
submit of a key finds the first instead of starting another. Its outcome is kept until the
executor has committed it (`forget`), so neither a result nor a loss is missed while no
scheduler listens. Stops are relayed through the home's `ray` folder (see `node_task`), and a
try stopped before its Ray task began never begins: its Ray task is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from aiflow_lite.engine.ray.node_task import (
    CANCELLED,
    begun_path,
    mark_once,
    run_try,
    signals_path,
)

#: (status value, message, lost): how a try ended; lost: its Ray task (node, worker) was lost.
Outcome = Tuple[str, Optional[str], bool]


@dataclass
class _Try:
    ref: Any = None  # its Ray task
    cancelled: bool = False  # stopped before it began: it never will
    outcome: Optional[Outcome] = None
    seq: int = 0  # when it ended
    forgotten: bool = False


def _run_on_node(order_line: bytes, home: str, key: str) -> tuple:
    """The Ray task: run the try on this node (see `node_task`)."""
    return run_try(order_line, home, key)


class TaskOwner:
    """Made with `ray.remote(TaskOwner).options(name=..., lifetime="detached")` (see
    `ray_executor`); every method is a coroutine, so a long poll of `changes` costs no thread."""

    def __init__(self, home: str) -> None:
        self.home = home
        self.tries: Dict[str, _Try] = {}
        self.seq = 0
        self.news = asyncio.Event()
        self._watchers: set = set()
        self._remote: Any = None  # the Ray task's function, made once

    async def submit(self, tries: Sequence[Tuple[str, bytes, dict]]) -> List[str]:
        """Submit each (key, encoded order, Ray options) not known yet (a key known already is
        not started again); returns the keys held by a forgotten try that still runs (of a
        home whose database was reset): submit those again once it has ended."""
        import ray

        if self._remote is None:
            self._remote = ray.remote(_run_on_node)
        remote = self._remote
        busy = []
        for key, order_line, options in tries:
            if key in self.tries:
                if self.tries[key].forgotten:
                    busy.append(key)
                continue
            entry = self.tries[key] = _Try()
            ref = entry.ref = remote.options(name=f"aiflow-{key}", max_retries=0,
                                             **options).remote(order_line, self.home, key)
            watcher = asyncio.ensure_future(self._watch(key, ref))
            self._watchers.add(watcher)
            watcher.add_done_callback(self._watchers.discard)
        return busy

    async def _watch(self, key: str, ref: Any) -> None:
        try:
            status, message = await ref
            outcome: Outcome = (status, message, False)
        except Exception as exc:  # the node, the Ray worker or the object was lost
            first = (str(exc).strip().splitlines() or [""])[-1][:300]
            outcome = ("FAILED", f"its Ray task was lost ({type(exc).__name__}: {first})", True)
        entry = self.tries[key]
        if entry.cancelled and outcome[2]:
            outcome = ("STOPPED", "stopped while it waited for a Ray worker", True)
        self.seq += 1
        entry.outcome, entry.seq = outcome, self.seq
        if entry.forgotten:
            self._drop(key)
        self.news.set()
        self.news = asyncio.Event()

    async def signal(self, key: str, signum: int) -> bool:
        """Relay `signum` to the try's worker (its process group); False if it is not running.
        A try whose Ray task has not begun never will: it is cancelled."""
        entry = self.tries.get(key)
        if entry is None or entry.outcome is not None or entry.cancelled:
            return False
        if mark_once(begun_path(self.home, key), CANCELLED):
            import ray

            entry.cancelled = True
            with contextlib.suppress(Exception):  # it ended meanwhile: its outcome says so
                ray.cancel(entry.ref)
            return True
        with open(signals_path(self.home, key), "ab") as fh:
            fh.write(b"%d\n" % signum)
        return True

    async def changes(self, after: int, timeout: float) -> Tuple[int, Dict[str, Outcome]]:
        """(the latest change, every try that ended after change `after` and is not forgotten);
        waits up to `timeout` seconds for one."""
        if self.seq <= after:
            news = self.news
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(news.wait(), timeout)
        return self.seq, {key: entry.outcome for key, entry in self.tries.items()
                          if entry.outcome is not None and entry.seq > after}

    async def state(self) -> Tuple[int, Dict[str, Optional[Outcome]]]:
        """(the latest change, every try known: its outcome, or None while it runs)."""
        return self.seq, {key: entry.outcome for key, entry in self.tries.items()
                          if not entry.forgotten}

    async def forget(self, keys: Sequence[str]) -> None:
        """The executor has committed these tries' outcomes (or given them up): drop them, each
        once it has ended."""
        for key in keys:
            entry = self.tries.get(key)
            if entry is None:
                continue
            if entry.outcome is not None:
                self._drop(key)
            else:
                entry.forgotten = True

    def _drop(self, key: str) -> None:
        """Forget the try, and its files (see `node_task`)."""
        del self.tries[key]
        for path in (begun_path(self.home, key), signals_path(self.home, key)):
            with contextlib.suppress(OSError):
                os.unlink(path)

    async def ping(self) -> str:
        return "ok"
