"""Opening a home's database: the directory, the connection policy, and the schema on first use."""

from __future__ import annotations

from aiflow_lite.config import Settings
from aiflow_lite.schema import MIGRATIONS
from aiflow_lite.sqlite import Database, ensure_schema


def open_database(settings: Settings, *, check_schema: bool = True) -> Database:
    """A new connection to the home's database; creates the file and schema on first use.

    `check_schema=False` is for the `db` commands, which inspect or change the schema themselves.
    """
    db = Database(
        settings.db_path,
        durability=settings.durability,
        busy_timeout_ms=settings.busy_timeout_ms,
    )
    if check_schema:
        try:
            ensure_schema(db, MIGRATIONS)
        except BaseException:
            db.close()
            raise
    return db
