"""How `ops` reaches the home: the embedded metadata store on the local database."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Tuple

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
    """The pid of this home's running scheduler, or None."""
    from aiflow_lite.engine.lock import running_scheduler_pid

    return running_scheduler_pid(load_aiflow_settings())
