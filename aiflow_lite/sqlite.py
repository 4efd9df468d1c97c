"""The one place that imports apsw: connection policy, the transaction helper, and migrations.

Policy: WAL journal (readers never block the writer), a busy timeout (writers queue instead of
failing), foreign keys on, and `synchronous` chosen by the home's durability setting:

* ``normal`` (default): a committed transaction survives any process crash (kill -9 included);
  the last few may be lost if the machine loses power.
* ``full``: also survives power loss, at the price of an fsync per commit.

A `Database` is one connection for one thread. A forked child or a new thread opens its own.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence

import apsw

from aiflow_lite.errors import HomeError, InvalidInput, SchemaError, make_directory

DURABILITY_LEVELS = {"normal": "NORMAL", "full": "FULL"}
DEFAULT_BUSY_TIMEOUT_MS = 30_000

#: Errors from SQLite that mean "the database is locked or busy" (callers may retry).
BusyError = apsw.BusyError


@dataclass(frozen=True)
class Migration:
    """One numbered schema step; `version` is the `PRAGMA user_version` after `up` ran."""

    version: int
    name: str
    up: str
    down: str


class _BusyWait:
    """Waits for a lock held by another connection: short sleeps first (0.1 ms, doubling up to
    5 ms), up to the busy timeout. SQLite's own handler sleeps 1, 2, 5, 10 ms... while a commit
    here holds the lock for ~0.1 ms, so a contended writer (a worker reporting while the
    scheduler commits) used to lose a millisecond or more for nothing."""

    __slots__ = ("_deadline", "_timeout_s")

    def __init__(self, timeout_ms: int) -> None:
        self._timeout_s = max(0, int(timeout_ms)) / 1000
        self._deadline = 0.0

    def __call__(self, count: int) -> bool:
        now = time.monotonic()
        if count == 0:
            self._deadline = now + self._timeout_s
        elif now >= self._deadline:
            return False  # SQLITE_BUSY: the caller reports "locked"
        time.sleep(min(0.0001 * (2 ** min(count, 6)), 0.005, max(0.0, self._deadline - now)))
        return True


class Database:
    """One apsw connection with aiflow_lite's policy, and a nestable `transaction()`."""

    def __init__(
        self,
        path: str,
        *,
        durability: str = "normal",
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> None:
        if durability not in DURABILITY_LEVELS:
            raise InvalidInput(
                f"unknown durability {durability!r}: use one of {', '.join(DURABILITY_LEVELS)}"
            )
        self.path = path
        self.durability = durability
        self._depth = 0
        self._after_commit: list = []
        make_directory(os.path.dirname(os.path.abspath(path)), "the database's directory")
        try:
            self._conn = apsw.Connection(path)
        except (OSError, apsw.Error) as exc:
            raise HomeError(f"cannot open database {path}: {_reason(exc)}") from exc
        try:
            self._conn.set_busy_handler(_BusyWait(busy_timeout_ms))
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={DURABILITY_LEVELS[durability]}")
            self._conn.execute("PRAGMA foreign_keys=ON")
        except apsw.Error as exc:
            self._conn.close()
            raise HomeError(f"cannot open database {path}: {user_message(exc) or exc}") from exc

    # -- statements ---------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; returns an iterable cursor over its rows."""
        return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list:
        return self._conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Optional[tuple]:
        """The first row. The statement always runs to completion: one left half-stepped keeps
        its transaction open, and then SQLite never checkpoints and the WAL grows forever."""
        rows = self._conn.execute(sql, params).fetchall()
        return rows[0] if rows else None

    def last_insert_rowid(self) -> int:
        return self._conn.last_insert_rowid()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]

    @property
    def changes(self) -> int:
        """Rows changed by the last INSERT/UPDATE/DELETE."""
        return self._conn.changes()

    # -- transactions -------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """BEGIN IMMEDIATE (take the write lock up front, so no deadlock on upgrade), COMMIT on
        success, ROLLBACK on any exception. Nested calls become savepoints of the outer one, so a
        verb such as `advance_cursor` joins whatever transaction its caller holds."""
        if self._depth:
            name = f"sp{self._depth}"
            self._conn.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield self
            except BaseException:
                if not self._conn.get_autocommit():  # SQLite may have rolled back everything
                    with suppress(apsw.Error):
                        self._conn.execute(f"ROLLBACK TO {name}; RELEASE {name}")
                raise
            else:
                self._conn.execute(f"RELEASE {name}")
            finally:
                self._depth -= 1
            return
        self.discard_leaked_transaction()
        try:
            self._depth = 1
            self._conn.execute("BEGIN IMMEDIATE")
            yield self
            self._conn.execute("COMMIT")
        except BaseException:
            self._after_commit.clear()
            if not self._conn.get_autocommit():
                with suppress(apsw.Error):
                    self._conn.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0
        self._run_after_commit()

    def discard_leaked_transaction(self) -> None:
        """Roll back a transaction left open outside `transaction()` (an interrupt between BEGIN
        and the bookkeeping). Writes after it would otherwise be acknowledged yet never committed.
        Nothing in it was acknowledged: acknowledgements come after COMMIT."""
        if self._depth == 0 and not self._conn.get_autocommit():
            with suppress(apsw.Error):
                self._conn.execute("ROLLBACK")

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the current transaction commits (now, if there is none); dropped on
        rollback. This is how "commit first, then act" is kept: e.g. waking listeners. The
        actions must not raise: the commit has happened whatever they do."""
        if self._depth == 0:
            action()
        elif action not in self._after_commit:
            self._after_commit.append(action)

    def _run_after_commit(self) -> None:
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            action()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------------

    @property
    def user_version(self) -> int:
        return int(self.scalar("PRAGMA user_version"))

    def table_names(self) -> list:
        return [r[0] for r in self.rows(
            "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )]

    def integrity_check(self) -> str:
        return "; ".join(str(r[0]) for r in self.rows("PRAGMA integrity_check"))


def _reason(exc: BaseException) -> str:
    """`PermissionError(13, 'Permission denied')` → 'Permission denied'; apsw's text as it is."""
    return getattr(exc, "strerror", None) or str(exc)


_USER_ERRORS = (
    (apsw.BusyError, "the database is locked by another process (longer than busy_timeout_ms); "
                     "try again"),
    (apsw.ReadOnlyError, "the database is read-only; check the permissions of the home"),
    (apsw.NotADBError, "the file is not an aiflow_lite database; check db_uri or "
                       "metadata_backend_uri"),
    (apsw.CorruptError, "the database file is corrupt; restore it from a backup"),
    (apsw.FullError, "the disk is full"),
    (apsw.CantOpenError, "cannot open the database file; check the home and its permissions"),
    (apsw.IOError, "a disk I/O error hit the database"),
)


def user_message(exc: BaseException) -> Optional[str]:
    """A one-line explanation for an SQLite error a user can cause or fix, else None (a bug)."""
    for kind, message in _USER_ERRORS:
        if isinstance(exc, kind):
            return message
    return None


def head_version(migrations: Sequence[Migration]) -> int:
    return migrations[-1].version if migrations else 0


def migrate(db: Database, migrations: Sequence[Migration], target: Optional[int] = None) -> int:
    """Move the schema up or down to `target` (default: the newest) in one transaction.

    Returns the version reached. Safe when several processes migrate at once: the version is
    re-read under the write lock.
    """
    head = head_version(migrations)
    target = head if target is None else target
    if not 0 <= target <= head:
        raise InvalidInput(f"unknown schema version {target}: versions go from 0 to {head}")
    with db.transaction():
        current = db.user_version
        if current > head:
            raise SchemaError(
                f"database {db.path} is at schema version {current}, newer than this aiflow_lite "
                f"knows ({head}); upgrade aiflow_lite"
            )
        if target > current:
            for step in migrations:
                if current < step.version <= target:
                    db.execute(step.up)
        elif target < current:
            for step in reversed(migrations):
                if target < step.version <= current:
                    db.execute(step.down)
        db.execute(f"PRAGMA user_version={int(target)}")
    return target


def ensure_schema(db: Database, migrations: Sequence[Migration]) -> None:
    """First use creates the schema; an older or newer schema is an error that says what to run."""
    head = head_version(migrations)
    version = db.user_version
    if version == head:
        return
    if version == 0:
        migrate(db, migrations, head)  # a fresh file (or a race with another first user)
        return
    if version < head:
        raise SchemaError(
            f"database {db.path} is at schema version {version}, this aiflow_lite needs {head}: "
            "run `aiflow db upgrade`"
        )
    raise SchemaError(
        f"database {db.path} is at schema version {version}, newer than this aiflow_lite knows "
        f"({head}); upgrade aiflow_lite"
    )


def drop_everything(db: Database) -> None:
    """Drop every table, index, view and trigger and set the version to 0 (for `db reset`)."""
    db.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction: set it first
    with db.transaction():
        objects = db.rows(
            "SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' "
            "AND type IN ('view', 'trigger', 'table') ORDER BY type = 'table'"
        )
        for kind, name in objects:
            db.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')
        if db.one("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'"):
            db.execute("DELETE FROM sqlite_sequence")
        db.execute("PRAGMA user_version=0")
    db.execute("PRAGMA foreign_keys=ON")
