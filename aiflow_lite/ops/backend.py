"""How `ops` reaches the home: the embedded metadata store on the local database, or, when
`aiflow_client.yaml` names a `server_address`, the AIFlow server at that address (over gRPC).
Inside a task the local home always wins, as it does for the notification client."""

from __future__ import annotations

import functools
import os
import threading
from contextlib import contextmanager
from functools import cached_property
from typing import Any, Callable, Dict, Iterator, Optional, Tuple, TypeVar

from aiflow_lite.config import load_aiflow_settings
from aiflow_lite.engine.store import MetadataStore
from aiflow_lite.events import Command
from aiflow_lite.home import open_database
from aiflow_lite.schema import MIGRATIONS
from aiflow_lite.sqlite import Database, head_version

_HEAD = head_version(MIGRATIONS)


class Stores:
    """Every store of a home over one connection: what an `ops` function works through. Each
    store is made when first asked for, so a call pays only for the ones it uses."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @cached_property
    def log(self) -> Any:
        from aiflow_lite.ns.event_log import EventLog

        return EventLog(self.db)

    @cached_property
    def metadata(self) -> MetadataStore:
        return MetadataStore(self.db)

    @cached_property
    def executions(self) -> Any:
        from aiflow_lite.engine.executions import ExecutionStore

        return ExecutionStore(self.db)

    @cached_property
    def schedules(self) -> Any:
        from aiflow_lite.engine.schedules import ScheduleStore

        return ScheduleStore(self.db)

    @cached_property
    def datasets(self) -> Any:
        from aiflow_lite.meta_service.datasets import DatasetStore

        return DatasetStore(self.db, self.log)

    @cached_property
    def models(self) -> Any:
        from aiflow_lite.meta_service.models import ModelStore

        return ModelStore(self.db, self.log)

    @cached_property
    def metrics(self) -> Any:
        from aiflow_lite.meta_service.metrics import MetricStore

        return MetricStore(self.db, self.log)

    @cached_property
    def artifacts(self) -> Any:
        from aiflow_lite.meta_service.artifacts import ArtifactStore

        return ArtifactStore(self.db, self.log)


_connections = threading.local()
#: Connections inherited through fork: never used again, and never closed either (closing
#: one in the child could disturb the parent's locks), so they are kept referenced here.
_inherited: list = []


def home_stores() -> Stores:
    """This thread's stores on its connection to the home's database, opened on first use and
    then reused: opening one costs ~0.5 ms, ten times a small `ops` call. It is opened again
    when the home or its settings change, when the file was replaced (`db reset`), when another
    process moved the schema, and in a forked child."""
    settings = load_aiflow_settings()
    key = (settings.db_path, settings.durability, settings.busy_timeout_ms)
    cached = getattr(_connections, "entry", None)
    if cached is not None:
        db, pid, cached_key, identity, _ = cached
        if pid != os.getpid():
            _inherited.append(db)
        elif cached_key == key and identity == _file_identity(db.path) and \
                db.user_version == _HEAD:
            db.discard_leaked_transaction()
            return cached[4]
        else:
            db.close()
        _connections.entry = None
    db = open_database(settings)
    stores = Stores(db)
    _connections.entry = (db, os.getpid(), key, _file_identity(db.path), stores)
    return stores


def _file_identity(path: str) -> Optional[Tuple[int, int]]:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


@contextmanager
def stores() -> Iterator[Stores]:
    """The home's stores, on this thread's connection."""
    yield home_stores()


@contextmanager
def metadata_store() -> Iterator[MetadataStore]:
    with stores() as s:
        yield s.metadata


@contextmanager
def execution_store() -> Iterator[Tuple[Any, MetadataStore, Any]]:
    """(execution store, metadata store, schedule store) on one connection."""
    with stores() as s:
        yield s.executions, s.metadata, s.schedules


def send_command(db: Any, command: Command, **args: Any) -> None:
    """Ask the scheduler to act: an internal event, in the caller's transaction if any."""
    from aiflow_lite.events import command_event
    from aiflow_lite.ns.event_log import EventLog

    EventLog(db).append_event(command_event(command, **args), internal=True)


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
