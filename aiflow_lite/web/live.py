"""Live pages without polling: one thread per webserver sleeps on the event log's wake-up (a
datagram after every commit of any process, with a 1 s re-read as the safety net), reads what
was appended, and hands each event to the Server-Sent Event streams whose filter it matches."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, List, Optional, Set

from aiflow_lite.config import Settings
from aiflow_lite.events import RESERVED_KEY_PREFIX, Event

log = logging.getLogger(__name__)

#: A stream whose reader fell this far behind is closed (its page reconnects and catches up
#: from its last offset) instead of holding memory for ever.
QUEUE_LIMIT = 10_000
HEARTBEAT_S = 15.0
READ_BATCH = 1000


@dataclass(eq=False)
class Subscriber:
    """One SSE stream: which events it wants, and its queue (read on the event loop)."""

    keys: Optional[Set[str]] = None  # None: every key
    namespace: Optional[str] = None
    internal: bool = False
    execution_id: Optional[int] = None  # only events of this workflow execution
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))

    def wants(self, event: Event) -> bool:
        if not self.internal and event.key.startswith(RESERVED_KEY_PREFIX):
            return False
        if self.keys is not None and event.key not in self.keys:
            return False
        if self.namespace is not None and event.namespace != self.namespace:
            return False
        if self.execution_id is not None:
            return event.context_dict().get("workflow_execution_id") == self.execution_id
        return True


class LiveHub:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.subscribers: Set[Subscriber] = set()
        self.position = 0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._wake: Any = None
        self._db: Any = None
        self._log: Any = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        from aiflow_lite.home import open_database
        from aiflow_lite.ns.event_log import EventLog
        from aiflow_lite.ns.wakeup import WakeSocket, wake_dir_for

        self._loop = loop
        self._wake = WakeSocket(wake_dir_for(self.settings.db_path))  # before the first read
        # The thread's own connection, to the home these settings name (the same file the
        # wake-up belongs to), opened once; it is the only reader of the hub.
        self._db = open_database(self.settings)
        self._log = EventLog(self._db, wake=False)
        self.position = self._log.latest_offset()
        self._thread = threading.Thread(target=self._run, name="aiflow-web-live", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._wake is not None:
            self._wake.interrupt()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._wake is not None:
            self._wake.close()
        if self._db is not None and (self._thread is None or not self._thread.is_alive()):
            self._db.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(1.0)
            if self._stopping.is_set():
                break
            try:
                events = self._log.read_after(self.position, limit=READ_BATCH)
            except Exception:  # a locked or replaced database: try again on the next wake
                log.exception("live: reading the event log failed")
                continue
            while events:
                self.position = events[-1].offset
                self._loop.call_soon_threadsafe(self._deliver, events)
                if len(events) < READ_BATCH:
                    break
                events = self._log.read_after(self.position, limit=READ_BATCH)

    def _deliver(self, events: List[Event]) -> None:
        for subscriber in list(self.subscribers):
            for event in events:
                if subscriber.wants(event):
                    try:
                        subscriber.queue.put_nowait(event)
                    except asyncio.QueueFull:
                        self.subscribers.discard(subscriber)
                        subscriber.queue = asyncio.Queue(1)
                        subscriber.queue.put_nowait(None)  # ends the stream
                        break

    async def stream(self, subscriber: Subscriber, since: Optional[int] = None,
                     is_disconnected: Any = None) -> AsyncIterator[str]:
        """The SSE text of `subscriber`'s events: first those after `since` (a reconnecting
        page's Last-Event-ID), then live ones; a comment line every HEARTBEAT_S."""
        self.subscribers.add(subscriber)
        try:
            yield "retry: 1000\n\n"
            sent = -1
            if since is not None:  # everything after it, however far behind, batch by batch
                sent = since
                while True:
                    batch = await asyncio.to_thread(self._backlog, sent)
                    for event in batch:
                        sent = event.offset
                        if subscriber.wants(event):
                            yield sse(event)
                    if len(batch) < READ_BATCH:
                        break
            while True:
                try:
                    event = await asyncio.wait_for(subscriber.queue.get(), HEARTBEAT_S)
                except asyncio.TimeoutError:
                    if is_disconnected is not None and await is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                if event is None:
                    return
                if event.offset <= sent:
                    continue  # already sent from the backlog
                yield sse(event)
        finally:
            self.subscribers.discard(subscriber)

    def _backlog(self, since: int) -> List[Event]:
        """Read on a worker thread: that thread's own connection to the same home."""
        from aiflow_lite.home import open_database
        from aiflow_lite.ns.event_log import EventLog

        with open_database(self.settings) as db:
            return EventLog(db, wake=False).read_after(since, limit=READ_BATCH)


def sse(event: Event) -> str:
    """One SSE message: `id` is the offset (so a reconnect resumes after it), `data` the event
    as the CLI prints it in json."""
    return f"id: {event.offset}\nevent: event\ndata: {json.dumps(event.to_dict())}\n\n"
