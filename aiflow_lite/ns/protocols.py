"""What the notification client needs of an event log and of a listener, as protocols: the
embedded pair (`event_log.EventLog`, `client._Listener`) and the remote pair
(`rpc.client.RemoteEventLog`, `RemoteListener`) both offer them, and tests/test_client.py runs
the same contract against both."""

from __future__ import annotations

from typing import Any, Iterable, List, Optional, Protocol, runtime_checkable

from aiflow_lite.events import Event


@runtime_checkable
class EventLogLike(Protocol):
    def append(self, key: str, value: Optional[str] = None, namespace: Optional[str] = None,
               sender: Optional[str] = None, context: Any = None) -> Event: ...

    def append_many(self, events: Iterable[Event], *, namespace: Optional[str] = None,
                    sender: Optional[str] = None) -> List[Event]: ...

    def read_after(self, offset: int = 0, *, keys: Any = None, namespace: Optional[str] = None,
                   sender: Optional[str] = None, begin_time: Optional[int] = None,
                   limit: Optional[int] = None) -> List[Event]: ...

    def count(self, offset: int = 0, *, keys: Any = None, namespace: Optional[str] = None,
              sender: Optional[str] = None, begin_time: Optional[int] = None) -> int: ...

    def latest_offset(self) -> int: ...

    def offset_at(self, time_ms: int) -> int: ...

    def cursor(self, name: str) -> Optional[int]: ...

    def save_cursor(self, name: str, offset: int) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class ListenerLike(Protocol):
    """A registration: a thread delivering each new event once, resumable from a cursor."""

    id: str

    def start(self) -> None: ...

    def stop(self) -> None: ...
