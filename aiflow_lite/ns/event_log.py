"""The event log: an append-only table of events with strictly increasing offsets, and durable
named cursors recording how far each consumer got. All of its SQL lives here.

Verbs: `append`, `append_event`, `append_many`, `append_rows`, `read_after`, `count`,
`latest_offset`, `offset_at`, `create_cursor`, `cursor`, `advance_cursor`, `save_cursor`,
`delete_cursor`, `cursors`, `prune`.
Every write wakes listeners after its transaction commits, never before.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Optional, Sequence, Union

from aiflow_lite.errors import InvalidInput, NotFound
from aiflow_lite.events import (
    ANY_KEY,
    DEFAULT_NAMESPACE,
    EVENT_COLUMNS,
    RESERVED_KEY_PREFIX,
    Event,
    EventRow,
    check_event,
    check_text,
    now_ms,
)
from aiflow_lite.ns.wakeup import Waker, wake_dir_for
from aiflow_lite.sqlite import Database

Keys = Union[None, str, Sequence[str]]
#: SQLite integers are 64-bit; no offset is larger.
MAX_OFFSET = 2**63 - 1

_INSERT = (
    "INSERT INTO event (key, value, namespace, sender, context, create_time) "
    "VALUES (?, ?, ?, ?, ?, CAST(unixepoch('subsec') * 1000 AS INTEGER)) "
    'RETURNING "offset", create_time'
)
_INSERT_AT = (
    "INSERT INTO event (key, value, namespace, sender, context, create_time) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


class EventLog:
    """The verbs of the event log over one `Database` connection.

    `create_time` is taken by SQLite inside the write lock, so it never decreases along offsets
    (unless the wall clock is set back).
    """

    def __init__(self, db: Database, *, wake: bool = True) -> None:
        self.db = db
        self._waker = Waker(wake_dir_for(db.path)) if wake else None

    # -- writing ------------------------------------------------------------------------------

    def append(
        self,
        key: str,
        value: Optional[str] = None,
        namespace: Optional[str] = DEFAULT_NAMESPACE,
        sender: Optional[str] = None,
        context: Any = None,
        *,
        internal: bool = False,
    ) -> Event:
        """Validate and append one event; returns it with its offset once committed (or once the
        caller's transaction commits, when called inside one)."""
        row = check_event(key, value, namespace, sender, context, internal=internal)
        self.db.discard_leaked_transaction()  # or this "acknowledged" insert would never commit
        offset, create_time = self.db.one(_INSERT, row)
        self._wake_after_commit()
        return Event(*row, offset, create_time)

    def append_event(self, event: Event, *, internal: bool = False) -> Event:
        """`append` of an `Event` record (its offset and time, if any, are the log's to set)."""
        return self.append(event.key, event.value, event.namespace, event.sender, event.context,
                           internal=internal)

    def append_many(
        self,
        events: Iterable[Event],
        *,
        namespace: Optional[str] = None,
        sender: Optional[str] = None,
        internal: bool = False,
    ) -> List[Event]:
        """Append several events in one transaction: all of them are stored, or none.
        `namespace` and `sender` fill in events that have none."""
        rows: List[EventRow] = [
            check_event(e.key, e.value, e.namespace or namespace, e.sender or sender, e.context,
                        internal=internal)
            for e in events
        ]
        return self.append_rows(rows)

    def append_rows(self, rows: List[EventRow]) -> List[Event]:
        """Append rows that `check_event` accepted, or that the caller built from parts it
        checked the same way (the meta service's metric events: a batch of 1,000 spent most
        of its time re-checking one shared context), in one transaction."""
        if not rows:
            return []
        with self.db.transaction():
            # Under the write lock, AUTOINCREMENT hands out consecutive offsets after the latest.
            first = self.latest_offset() + 1
            create_time = now_ms()
            self.db.executemany(_INSERT_AT, [(*row, create_time) for row in rows])
            if self.db.last_insert_rowid() != first + len(rows) - 1:
                raise AssertionError("event offsets were not consecutive inside one transaction")
            self._wake_after_commit()
        return [Event(*row, first + i, create_time) for i, row in enumerate(rows)]

    def _wake_after_commit(self) -> None:
        if self._waker is not None:
            self.db.after_commit(self._waker.notify)

    # -- reading ------------------------------------------------------------------------------

    def read_after(
        self,
        offset: int = 0,
        *,
        keys: Keys = None,
        namespace: Optional[str] = None,
        sender: Optional[str] = None,
        begin_time: Optional[int] = None,
        limit: Optional[int] = None,
    ) -> List[Event]:
        """Events with an offset greater than `offset`, oldest first, filtered by any of: keys
        (a key, a list, or None/'*' for all), namespace, sender, `create_time >= begin_time`."""
        where, params = _filters(offset, keys, namespace, sender, begin_time)
        sql = f"SELECT {EVENT_COLUMNS} FROM event WHERE {where} ORDER BY \"offset\""
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [Event(*row) for row in self.db.execute(sql, params)]

    def latest(self, limit: int, *, namespace: Optional[str] = None,
               internal: bool = False, window: int = 10_000) -> List[Event]:
        """The newest `limit` events among the last `window` offsets, newest first;
        aiflow_lite's own (`__aiflow.*`) only with `internal` (a view of a busy home would
        show nothing else)."""
        where, params = _filters(max(0, self.latest_offset() - window), None, namespace, None,
                                 None)
        if not internal:
            where += " AND substr(key, 1, ?) != ?"
            params += [len(RESERVED_KEY_PREFIX), RESERVED_KEY_PREFIX]
        return [Event(*row) for row in self.db.execute(
            f"SELECT {EVENT_COLUMNS} FROM event WHERE {where} ORDER BY \"offset\" DESC "
            "LIMIT ?", [*params, int(limit)])]

    def count(
        self,
        offset: int = 0,
        *,
        keys: Keys = None,
        namespace: Optional[str] = None,
        sender: Optional[str] = None,
        begin_time: Optional[int] = None,
    ) -> int:
        where, params = _filters(offset, keys, namespace, sender, begin_time)
        return int(self.db.scalar(f"SELECT count(*) FROM event WHERE {where}", params))

    def latest_offset(self) -> int:
        """The offset of the newest event ever appended (0 for a log that never had one)."""
        row = self.db.one("SELECT seq FROM sqlite_sequence WHERE name = 'event'")
        return int(row[0]) if row else 0

    def offset_at(self, time_ms: int) -> int:
        """The offset to read after to get the events created at or after `time_ms`."""
        first = self.db.scalar(
            'SELECT min("offset") FROM event WHERE create_time >= ?', (int(time_ms),)
        )
        return int(first) - 1 if first is not None else self.latest_offset()

    # -- cursors ------------------------------------------------------------------------------

    def create_cursor(self, name: str, offset: Optional[int] = None) -> int:
        """Create the cursor at `offset` (default: the log's end) unless it exists; returns its
        position either way."""
        _check_cursor_name(name)
        start = self.latest_offset() if offset is None else int(offset)
        with self.db.transaction():
            self.db.execute(
                'INSERT INTO event_cursor (name, "offset", update_time) VALUES (?, ?, ?) '
                "ON CONFLICT(name) DO NOTHING",
                (name, start, now_ms()),
            )
            return int(self.db.scalar('SELECT "offset" FROM event_cursor WHERE name = ?', (name,)))

    def cursor(self, name: str) -> Optional[int]:
        """Where the cursor stands (the last offset its consumer finished), None if absent."""
        value = self.db.scalar('SELECT "offset" FROM event_cursor WHERE name = ?', (name,))
        return None if value is None else int(value)

    def advance_cursor(self, name: str, offset: int) -> None:
        """Move the cursor to `offset`, creating it if needed. Inside the caller's transaction
        when there is one, so "apply an event" and "mark it applied" commit together."""
        _check_cursor_name(name)
        self.db.execute(
            'INSERT INTO event_cursor (name, "offset", update_time) VALUES (?, ?, ?) '
            'ON CONFLICT(name) DO UPDATE SET "offset" = excluded."offset", '
            "update_time = excluded.update_time",
            (name, int(offset), now_ms()),
        )

    def save_cursor(self, name: str, offset: int) -> None:
        """`advance_cursor` in a transaction of its own (or the caller's)."""
        with self.db.transaction():
            self.advance_cursor(name, offset)

    def delete_cursor(self, name: str) -> None:
        self.db.execute("DELETE FROM event_cursor WHERE name = ?", (name,))
        if not self.db.changes:
            raise NotFound(f"no cursor named {name!r}")

    def cursors(self) -> dict:
        return dict(self.db.rows('SELECT name, "offset" FROM event_cursor ORDER BY name'))

    # -- retention ----------------------------------------------------------------------------

    def prune(self, before_ms: int, batch: int = 10_000) -> int:
        """Delete events created before `before_ms`, in batches so the write lock is held
        briefly; returns how many. Offsets are never reused and cursors keep their positions,
        so a consumer behind the pruned range resumes at the oldest event that is left."""
        removed = 0
        while self.db.one("SELECT 1 FROM event WHERE create_time < ? LIMIT 1",
                          (int(before_ms),)):  # a read: no write lock when nothing is due
            with self.db.transaction():
                self.db.execute(
                    'DELETE FROM event WHERE "offset" IN (SELECT "offset" FROM event '
                    'WHERE create_time < ? ORDER BY "offset" LIMIT ?)', (int(before_ms), batch))
                removed += self.db.changes
        return removed

    def apply_retention(self, retention_ms: Optional[int]) -> int:
        """Prune what is older than the retention window (None: keep everything)."""
        return 0 if retention_ms is None else self.prune(now_ms() - retention_ms)

    def close(self) -> None:
        if self._waker is not None:
            self._waker.close()


def _check_cursor_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        raise InvalidInput("a cursor name must be a non-empty string of at most 256 characters")


def _normalize_keys(keys: Keys) -> Optional[List[str]]:
    if keys is None:
        return None
    if isinstance(keys, str):
        keys = [keys]
    keys = [check_text(k, "event key") for k in keys]
    if not keys or ANY_KEY in keys:
        return None
    return keys


def _filters(
    offset: int,
    keys: Keys,
    namespace: Optional[str],
    sender: Optional[str],
    begin_time: Optional[int],
) -> tuple:
    clauses = ['"offset" > ?']
    params: list = [min(int(offset or 0), MAX_OFFSET)]
    key_list = _normalize_keys(keys)
    if key_list is not None:
        if len(key_list) == 1:
            clauses.append("key = ?")
        else:
            clauses.append(f"key IN ({', '.join('?' * len(key_list))})")
        params.extend(key_list)
    if namespace is not None:
        clauses.append("namespace = ?")
        params.append(check_text(namespace, "namespace"))
    if sender is not None:
        clauses.append("sender = ?")
        params.append(check_text(sender, "sender"))
    if begin_time is not None:
        clauses.append("create_time >= ?")
        params.append(int(begin_time))
    return " AND ".join(clauses), params
