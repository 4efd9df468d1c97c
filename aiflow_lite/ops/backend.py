"""How `ops` reaches the home: the embedded metadata store on the local database, or, when
`aiflow_client.yaml` names a `server_address`, the AIFlow server at that address (over gRPC).
Inside a task the local home always wins, as it does for the notification client."""

from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Optional, Tuple, TypeVar

from aiflow_lite.config import load_aiflow_settings
from aiflow_lite.engine.store import MetadataStore
from aiflow_lite.home import open_database


@contextmanager
def metadata_store() -> Iterator[MetadataStore]:
    db = open_database(load_aiflow_settings())
    try:
        yield MetadataStore(db)
    finally:
        db.close()


@contextmanager
def execution_store() -> Iterator[Tuple[Any, MetadataStore, Any]]:
    """(execution store, metadata store, schedule store) on one connection."""
    from aiflow_lite.engine.executions import ExecutionStore
    from aiflow_lite.engine.schedules import ScheduleStore

    db = open_database(load_aiflow_settings())
    try:
        yield ExecutionStore(db), MetadataStore(db), ScheduleStore(db)
    finally:
        db.close()


def send_command(db: Any, command: str, **args: Any) -> None:
    """Ask the scheduler to act: an internal event, in the caller's transaction if any."""
    from aiflow_lite.engine.scheduler import command_event
    from aiflow_lite.ns.event_log import EventLog

    event = command_event(command, **args)
    EventLog(db).append(event.key, event.value, event.namespace, event.sender, event.context,
                        internal=True)


def scheduler_pid() -> Any:
    """The pid of this home's running scheduler (on the server's host when remote), or None."""
    remote = remote_ops()
    if remote is not None:
        return remote.server_info().get("scheduler_pid")
    from aiflow_lite.engine.lock import running_scheduler_pid

    return running_scheduler_pid(load_aiflow_settings())


F = TypeVar("F", bound=Callable[..., Any])
_local_only = False
_remotes: Dict[Tuple[str, Any], Any] = {}


def serve_locally() -> None:
    """Called by a server process: its `ops` calls are the ones it serves, never forwarded."""
    global _local_only
    _local_only = True


def remote_ops() -> Optional[Any]:
    """The `RemoteOps` of the configured server, or None to work on the local home."""
    from aiflow_lite.task_context import task_context

    if _local_only or task_context() is not None:
        return None
    from aiflow_lite.config import load_client_settings

    settings = load_client_settings()
    if not settings.server_address:
        return None
    key = (settings.server_address, settings)
    if key not in _remotes:
        from aiflow_lite.rpc.client import RemoteOps

        _remotes[key] = RemoteOps(settings.server_address, settings)
    return _remotes[key]


def served(function: F) -> F:
    """Marks an `ops` function that a server can run for a remote client."""

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        remote = remote_ops()
        if remote is None:
            return function(*args, **kwargs)
        return remote.call(function, args, kwargs)

    call.local = function  # type: ignore[attr-defined]
    return call  # type: ignore[return-value]
