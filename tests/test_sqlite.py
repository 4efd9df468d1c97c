"""The connection policy, the transaction helper and migrations."""

from __future__ import annotations

import pytest

from aiflow_lite.errors import InvalidInput, SchemaError
from aiflow_lite.schema import MIGRATIONS
from aiflow_lite.sqlite import Database, Migration, drop_everything, ensure_schema, migrate

STEPS = [
    Migration(1, "a", "CREATE TABLE a (x INTEGER)", "DROP TABLE a"),
    Migration(2, "b", "CREATE TABLE b (y INTEGER)", "DROP TABLE b"),
]


@pytest.fixture
def db(tmp_path):
    database = Database(str(tmp_path / "sub" / "t.db"))
    yield database
    database.close()


def test_policy_is_applied(tmp_path):
    with Database(str(tmp_path / "n.db")) as normal, \
            Database(str(tmp_path / "f.db"), durability="full") as full:
        assert normal.scalar("PRAGMA journal_mode") == "wal"
        assert normal.scalar("PRAGMA synchronous") == 1  # NORMAL
        assert full.scalar("PRAGMA synchronous") == 2  # FULL
        assert normal.scalar("PRAGMA foreign_keys") == 1
    with pytest.raises(InvalidInput, match="durability"):
        Database(str(tmp_path / "x.db"), durability="sometimes")


def test_transaction_commits_rolls_back_and_nests(db):
    db.execute("CREATE TABLE t (v INTEGER)")
    with db.transaction():
        db.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ValueError), db.transaction():
            db.execute("INSERT INTO t VALUES (2)")
            raise ValueError("inner fails")
        with db.transaction():
            db.execute("INSERT INTO t VALUES (3)")
    assert [r[0] for r in db.rows("SELECT v FROM t ORDER BY v")] == [1, 3]
    with pytest.raises(KeyError), db.transaction():
        db.execute("INSERT INTO t VALUES (4)")
        raise KeyError("outer fails")
    assert db.scalar("SELECT count(*) FROM t") == 2
    assert not db.in_transaction


def test_after_commit_runs_only_after_commit(db):
    db.execute("CREATE TABLE t (v INTEGER)")
    calls = []
    db.after_commit(lambda: calls.append("now"))
    assert calls == ["now"]
    with db.transaction():
        db.after_commit(lambda: calls.append("later"))
        assert calls == ["now"]
    assert calls == ["now", "later"]
    with pytest.raises(RuntimeError), db.transaction():
        db.after_commit(lambda: calls.append("never"))
        raise RuntimeError
    assert calls == ["now", "later"]


def test_migrations_go_up_and_down(db):
    assert migrate(db, STEPS) == 2
    assert sorted(db.table_names()) == ["a", "b"]
    assert migrate(db, STEPS, 1) == 1
    assert db.table_names() == ["a"] and db.user_version == 1
    assert migrate(db, STEPS, 0) == 0
    assert db.table_names() == []
    with pytest.raises(InvalidInput, match="versions go from 0 to 2"):
        migrate(db, STEPS, 3)


def test_a_failing_migration_changes_nothing(db):
    broken = [*STEPS, Migration(3, "bad", "CREATE TABLE c (z); NOT SQL", "DROP TABLE c")]
    migrate(db, STEPS)
    with pytest.raises(Exception, match="syntax error"):
        migrate(db, broken)
    assert db.user_version == 2 and "c" not in db.table_names()


def test_ensure_schema(db):
    ensure_schema(db, STEPS)  # first use creates it
    assert db.user_version == 2
    migrate(db, STEPS, 1)
    with pytest.raises(SchemaError, match="run `aiflow db upgrade`"):
        ensure_schema(db, STEPS)
    migrate(db, STEPS, 2)
    with pytest.raises(SchemaError, match="newer than this aiflow_lite"):
        ensure_schema(db, STEPS[:1])


def test_drop_everything_then_migrate_restores_a_fresh_schema(db):
    migrate(db, MIGRATIONS)
    db.execute("INSERT INTO event (key, create_time) VALUES ('k', 1)")
    drop_everything(db)
    assert db.table_names() == [] and db.user_version == 0
    migrate(db, MIGRATIONS)
    assert db.scalar("SELECT count(*) FROM event") == 0


def test_the_real_schema_round_trips(db):
    migrate(db, MIGRATIONS)
    head = db.user_version
    migrate(db, MIGRATIONS, 0)
    assert db.table_names() in ([], ["sqlite_sequence"])
    migrate(db, MIGRATIONS, head)
    assert {"event", "event_cursor"} <= set(db.table_names())
