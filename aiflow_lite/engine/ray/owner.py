"""The owner of a home's Ray tasks: a detached, named actor (one per home, on the head node).

Why an actor owns them, not the scheduler: Ray ties a task's life to its owner's, and the
process that submits a task owns it. Submitted by the scheduler (a Ray driver), every running
task would die with a scheduler crash. Submitted by a detached actor, they run on, and the
restarted scheduler finds them here by their keys.

Each try is submitted once under its deterministic key (`<task execution id>.<try>`): a second
submit of a key finds the first instead of starting another. Its outcome is kept until the
executor has committed it (`forget`), so neither a result nor a loss is missed while no
scheduler listens. Stops are relayed: the Ray task asks `next_signal` for them.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

#: (status value, message, lost): how a try ended; lost: its Ray task (node, worker) was lost.
Outcome = Tuple[str, Optional[str], bool]


@dataclass
class _Try:
    signals: List[int] = field(default_factory=list)
    outcome: Optional[Outcome] = None
    seq: int = 0  # when it ended
    forgotten: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


def _run_on_node(order_line: bytes, home: str, key: str, owner: Any) -> tuple:
    """The Ray task: run the try on this node (see `node_task`)."""
    import ray

    from aiflow_lite.engine.ray.node_task import run_try

    def next_signal(index: int) -> Optional[int]:
        return ray.get(owner.next_signal.remote(key, index))

    return run_try(order_line, home, next_signal)


class TaskOwner:
    """Made with `ray.remote(TaskOwner).options(name=..., lifetime="detached")` (see
    `ray_executor`); every method is a coroutine, so a stop relay waiting costs no thread."""

    def __init__(self, home: str) -> None:
        self.home = home
        self.tries: Dict[str, _Try] = {}
        self.seq = 0
        self.news = asyncio.Event()
        self._watchers: set = set()
        self._remote: Any = None  # the Ray task's function, made once

    async def submit(self, tries: Sequence[Tuple[str, bytes, dict]]) -> List[str]:
        """Submit each (key, encoded order, Ray options) not known yet; returns the keys that
        were (running, or ended and not yet forgotten): those are not started again."""
        import ray

        if self._remote is None:
            self._remote = ray.remote(_run_on_node)
        remote, me = self._remote, ray.get_runtime_context().current_actor
        known = []
        for key, order_line, options in tries:
            if key in self.tries:
                known.append(key)
                continue
            self.tries[key] = _Try()
            ref = remote.options(name=f"aiflow-{key}", max_retries=0, **options).remote(
                order_line, self.home, key, me)
            watcher = asyncio.ensure_future(self._watch(key, ref))
            self._watchers.add(watcher)
            watcher.add_done_callback(self._watchers.discard)
        return known

    async def _watch(self, key: str, ref: Any) -> None:
        try:
            status, message = await ref
            outcome: Outcome = (status, message, False)
        except Exception as exc:  # the node, the Ray worker or the object was lost
            first = (str(exc).strip().splitlines() or [""])[-1][:300]
            outcome = ("FAILED", f"its Ray task was lost ({type(exc).__name__}: {first})", True)
        entry = self.tries[key]
        self.seq += 1
        entry.outcome, entry.seq = outcome, self.seq
        entry.wake()
        if entry.forgotten:
            del self.tries[key]
        self.news.set()
        self.news = asyncio.Event()

    async def next_signal(self, key: str, index: int) -> Optional[int]:
        """The `index`-th signal for the try (waits for it); None once it ended or is unknown."""
        while True:
            entry = self.tries.get(key)
            if entry is None or entry.outcome is not None:
                return None
            if index < len(entry.signals):
                return entry.signals[index]
            await entry.changed.wait()

    async def signal(self, key: str, signum: int) -> bool:
        """Relay `signum` to the try's worker (its process group); False if it is not running."""
        entry = self.tries.get(key)
        if entry is None or entry.outcome is not None:
            return False
        entry.signals.append(signum)
        entry.wake()
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
                del self.tries[key]
            else:
                entry.forgotten = True

    async def ping(self) -> str:
        return "ok"
