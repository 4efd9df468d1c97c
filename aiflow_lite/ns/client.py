"""The notification client: send, list and count events, and listen to them from a thread.

With no server uri it is the embedded client: it works on the home's SQLite file directly and
needs no server. With a `host:port` uri it talks to a notification (or AIFlow) server over gRPC
(`aiflow_lite.rpc.client`), with the same behaviour.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Union

from aiflow_lite.config import Settings, load_notification_settings
from aiflow_lite.errors import AiflowError, InvalidInput, NotFound
from aiflow_lite.events import DEFAULT_NAMESPACE, Event, validate_name
from aiflow_lite.home import open_database
from aiflow_lite.ns.event_log import EventLog, Keys
from aiflow_lite.ns.protocols import EventLogLike, ListenerLike
from aiflow_lite.ns.wakeup import WakeSocket, wake_dir_for
from aiflow_lite.task_context import TASK_CONTEXT_ENV, task_context  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)

#: A listener with nothing to do re-reads the log this often, in case a wake-up was lost.
SAFETY_POLL_S = 1.0
LISTEN_BATCH = 1000


class ListenerProcessor:
    """Subclass and implement `process`; it is called from the listener's thread with each batch
    of new events, in offset order."""

    def process(self, events: List[Event]) -> None:
        raise NotImplementedError


ListenerRegistrationId = str
Processor = Union[ListenerProcessor, Callable[[List[Event]], Any]]


def to_epoch_ms(moment: Union[int, float, datetime, None]) -> Optional[int]:
    """A datetime (naive = local time), epoch milliseconds (int) or epoch seconds (float, as
    `time.time()` gives) → epoch milliseconds."""
    if moment is None or isinstance(moment, bool):
        return None
    if isinstance(moment, int):
        return moment
    if isinstance(moment, float):
        return int(moment * 1000)
    if isinstance(moment, datetime):
        return _timestamp_ms(moment, repr(moment))
    raise InvalidInput(f"expected a datetime or epoch milliseconds, got {moment!r}")


def _timestamp_ms(moment: datetime, shown: str) -> int:
    try:
        return int(moment.timestamp() * 1000)
    except (OverflowError, ValueError, OSError):
        raise InvalidInput(f"time {shown} is out of range") from None


def check_offset(offset: Any) -> int:
    """An offset to read after: an integer from 0 to 2**63 - 1 (SQLite's range)."""
    import operator

    try:
        number = operator.index(offset)  # ints and int-likes (numpy's), not floats or text
    except TypeError:
        number = -1
    if isinstance(offset, bool) or not 0 <= number < 2**63:
        raise InvalidInput(f"invalid offset {offset!r}: use an integer from 0 to {2**63 - 1}")
    return number


def parse_iso_time(text: str) -> int:
    """ISO 8601 text (naive = local time, 'Z' = UTC) → epoch milliseconds."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"invalid time {text!r}: use ISO 8601, e.g. 2026-11-23T10:00:00 or 2026-11-23"
        ) from None
    return _timestamp_ms(moment, repr(text))


class NotificationClient:
    """Sends and reads events of one home. Safe to share between threads."""

    def __init__(
        self,
        server_uri: Optional[str] = None,
        *,
        settings: Optional[Settings] = None,
        namespace: str = DEFAULT_NAMESPACE,
        sender: Optional[str] = None,
    ) -> None:
        self.namespace = validate_name(namespace)
        self.sender = sender
        self.server_uri = server_uri or None
        self._lock = threading.Lock()
        self._listeners: Dict[str, ListenerLike] = {}
        self._log: Optional[EventLogLike]
        if self.server_uri:
            from aiflow_lite.rpc.client import RemoteEventLog

            self.settings = settings
            self._log = RemoteEventLog(self.server_uri)
            return
        self.settings = settings or load_notification_settings()
        self._log = EventLog(open_database(self.settings))
        # Retention needs no server: each client prunes what has expired (a cheap indexed
        # read when nothing has).
        self._log.apply_retention(self.settings.history_retention_ms)

    # -- sending ------------------------------------------------------------------------------

    def send_event(
        self,
        key: str,
        value: Optional[str] = None,
        *,
        namespace: Optional[str] = None,
        sender: Optional[str] = None,
        context: Any = None,
    ) -> Event:
        """Append one event; returns it (with its offset) only after it is committed."""
        with self._open_log() as event_log:
            return event_log.append(
                key, value, self.namespace if namespace is None else namespace,
                self.sender if sender is None else sender, context,
            )

    def send_events(self, events: Iterable[Event]) -> List[Event]:
        """Append several events in one transaction (all or none)."""
        with self._open_log() as event_log:
            return event_log.append_many(events, namespace=self.namespace, sender=self.sender)

    # -- reading ------------------------------------------------------------------------------

    def list_events(
        self,
        key: Keys = None,
        *,
        namespace: Optional[str] = None,
        sender: Optional[str] = None,
        begin_offset: int = 0,
        begin_time: Union[int, datetime, None] = None,
        limit: Optional[int] = None,
    ) -> List[Event]:
        """Events after `begin_offset` (exclusive), oldest first. `key` may be a list or '*'."""
        with self._open_log() as event_log:
            return event_log.read_after(
                check_offset(begin_offset), keys=key, namespace=namespace, sender=sender,
                begin_time=to_epoch_ms(begin_time), limit=limit,
            )

    def count_events(
        self,
        key: Keys = None,
        *,
        namespace: Optional[str] = None,
        sender: Optional[str] = None,
        begin_offset: int = 0,
        begin_time: Union[int, datetime, None] = None,
    ) -> int:
        with self._open_log() as event_log:
            return event_log.count(
                check_offset(begin_offset), keys=key, namespace=namespace, sender=sender,
                begin_time=to_epoch_ms(begin_time),
            )

    def latest_offset(self) -> int:
        with self._open_log() as event_log:
            return event_log.latest_offset()

    def time_to_offset(self, moment: Union[int, datetime]) -> int:
        """The offset to listen after to get the events created at or after `moment`."""
        with self._open_log() as event_log:
            return event_log.offset_at(to_epoch_ms(moment))

    # -- listening ----------------------------------------------------------------------------

    def register_listener(
        self,
        listener_processor: Processor,
        event_keys: Optional[Sequence[str]] = None,
        begin_time: Union[int, float, datetime, None] = None,
        *,
        namespace: Optional[str] = None,
        begin_offset: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> ListenerRegistrationId:
        """Start a thread that delivers matching events to `listener_processor`, in batches, in
        offset order, each once.

        Where it starts: after the named `cursor` if that exists; else after `begin_offset`;
        else at `begin_time`; else at the log's current end. With a cursor, the position is
        saved after every batch the processor returns from (a batch it raised on is logged and
        skipped), so a new registration under that name resumes exactly where this one stopped.
        """
        process = getattr(listener_processor, "process", listener_processor)
        if not callable(process):
            raise InvalidInput("a listener needs a ListenerProcessor or a callable")
        if namespace is not None:
            validate_name(namespace)
        with self._open_log() as event_log:
            if self.server_uri:  # a wrong token or an absent server fails here, not in a thread
                event_log.latest_offset()
            start = event_log.cursor(cursor) if cursor else None
            if start is None:
                if begin_offset is not None:
                    start = check_offset(begin_offset)
                elif begin_time is not None:
                    start = event_log.offset_at(to_epoch_ms(begin_time))
                else:
                    start = event_log.latest_offset()
            if cursor:
                event_log.save_cursor(cursor, start)
        keys = list(event_keys) if event_keys else None
        if self.server_uri:
            from aiflow_lite.rpc.client import RemoteListener

            listener: ListenerLike = RemoteListener(event_log, process, keys, namespace, start,
                                                    cursor)
        else:
            listener = _Listener(self.settings, process, keys, namespace, start, cursor)
        self._listeners[listener.id] = listener
        listener.start()
        return listener.id

    def unregister_listener(self, registration_id: ListenerRegistrationId) -> None:
        listener = self._listeners.pop(registration_id, None)
        if listener is None:
            raise NotFound(f"no listener registered as {registration_id!r}")
        listener.stop()

    def close(self) -> None:
        for registration_id in list(self._listeners):
            self.unregister_listener(registration_id)
        with self._lock:
            if self._log is not None:
                self._log.close()
                if not self.server_uri:
                    self._log.db.close()
                self._log = None

    @contextmanager
    def _open_log(self) -> Iterator[EventLogLike]:
        with self._lock:
            if self._log is None:
                raise AiflowError("this notification client is closed")
            yield self._log

    def __enter__(self) -> NotificationClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Listener:
    """One registration: a thread with its own connection and wake-up socket."""

    def __init__(
        self,
        settings: Settings,
        process: Callable[[List[Event]], Any],
        keys: Optional[List[str]],
        namespace: Optional[str],
        start: int,
        cursor: Optional[str],
    ) -> None:
        self.settings = settings
        self.process = process
        self.keys = keys
        self.namespace = namespace
        self.position = start
        self.cursor = cursor
        self._stop = threading.Event()
        self.last_error: Optional[Exception] = None
        # Bound before the thread's first read: a commit after this point always wakes us.
        self._wake = WakeSocket(wake_dir_for(settings.db_path))
        self._thread = threading.Thread(target=self._run, name="aiflow-listener", daemon=True)
        self.id: ListenerRegistrationId = self._wake.path.rsplit("/", 1)[-1][:-5]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.interrupt()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        """Deliver until stopped. An error (a locked or briefly missing database, say) is logged
        and retried with a growing pause, never the silent end of the thread."""
        backoff = 0.0
        event_log = None
        try:
            while not self._stop.is_set():
                try:
                    if event_log is None:
                        event_log = EventLog(open_database(self.settings), wake=False)
                    self._step(event_log)
                    backoff = 0.0
                except Exception as exc:
                    backoff = min(max(backoff * 2, 0.05), 5.0)
                    self.last_error = exc
                    log.warning("listener %s: %s; retrying in %.2fs", self.id, exc, backoff)
                    if event_log is not None:
                        event_log.db.close()
                        event_log = None
                    self._wake.wait(backoff)
        finally:
            self._wake.close()
            if event_log is not None:
                event_log.db.close()

    def _step(self, event_log: EventLog) -> None:
        batch = event_log.read_after(
            self.position, keys=self.keys, namespace=self.namespace, limit=LISTEN_BATCH
        )
        if not batch:
            self._wake.wait(SAFETY_POLL_S)
            return
        self._deliver(batch)
        self.position = batch[-1].offset
        if self.cursor:
            event_log.advance_cursor(self.cursor, self.position)

    def _deliver(self, batch: List[Event]) -> None:
        try:
            self.process(batch)
        except Exception:  # a listener's bug must not kill the thread or stall the log
            log.exception("listener processor failed on events %s..%s; continuing",
                          batch[0].offset, batch[-1].offset)


class AIFlowNotificationClient(NotificationClient):
    """The spec's client. Inside a task it always writes to the task's own home, whatever uri it
    is given, and its events carry the task's workflow execution in `context`, so rules fire
    only in that execution. Outside a task, no uri means the local home."""

    def __init__(self, server_uri: Optional[str] = None) -> None:
        context = task_context()
        if context is None:
            super().__init__(server_uri)
            self._context = None
            return
        super().__init__(None, namespace=context.get("namespace") or DEFAULT_NAMESPACE,
                         sender=context.get("task_name"))
        self._context = {k: context[k] for k in ("workflow_execution_id", "task_name")
                         if k in context}

    def send_event(self, key: str, value: Optional[str] = None, **kwargs: Any) -> Event:
        """Send to the current workflow execution (inside a task) or the namespace."""
        if self._context is not None and "context" not in kwargs:
            kwargs["context"] = self._context
        return super().send_event(key, value, **kwargs)
