"""The numbered schema of a home's database: the event log and (later) the metadata, in one file so
that a state change and the cursor that caused it commit together (DESIGN.md §2).

Append a `Migration` to change the schema; never edit one that has shipped.
"""

from __future__ import annotations

from aiflow_lite.sqlite import Migration

MIGRATIONS = [
    Migration(
        version=1,
        name="event log",
        up="""
            -- AUTOINCREMENT: an offset is never reused, even after retention empties the table.
            CREATE TABLE event (
                "offset"    INTEGER PRIMARY KEY AUTOINCREMENT,
                key         TEXT NOT NULL,
                value       TEXT,
                namespace   TEXT,
                sender      TEXT,
                context     TEXT,
                create_time INTEGER NOT NULL
            );
            -- (key) implicitly ends with the rowid, i.e. the offset: serves "next events of a key
            -- after an offset" as one index range scan in offset order.
            CREATE INDEX event_key ON event(key);
            CREATE INDEX event_create_time ON event(create_time);
            CREATE TABLE event_cursor (
                name        TEXT PRIMARY KEY,
                "offset"    INTEGER NOT NULL,
                update_time INTEGER NOT NULL
            ) WITHOUT ROWID;
        """,
        down="""
            DROP TABLE event_cursor;
            DROP TABLE event;
        """,
    ),
]
