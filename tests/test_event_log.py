"""The event log's verbs on a real SQLite file."""

from __future__ import annotations

import time

import pytest

from aiflow_lite.errors import InvalidInput, NotFound
from aiflow_lite.events import Event
from aiflow_lite.home import open_database
from aiflow_lite.ns.event_log import EventLog


def test_append_returns_the_stored_event_with_increasing_offsets(event_log):
    first = event_log.append("k", "v1", context={"run": 1})
    second = event_log.append("k", None, namespace="other", sender="me")
    assert (first.offset, second.offset) == (1, 2)
    assert first.context == '{"run":1}' and first.context_dict() == {"run": 1}
    assert first.create_time <= second.create_time
    assert abs(first.create_time - time.time() * 1000) < 5000
    assert event_log.read_after(0) == [first, second]


def test_append_many_is_one_transaction(event_log):
    stored = event_log.append_many([Event("a", "1"), Event("b", "2"), Event("c", "3")])
    assert [e.offset for e in stored] == [1, 2, 3]
    with pytest.raises(InvalidInput):
        event_log.append_many([Event("d", "4"), Event("", "bad")])
    assert event_log.count() == 3  # the valid one before the bad one was not written either


def test_rollback_of_callers_transaction_removes_appends(event_log):
    with pytest.raises(RuntimeError), event_log.db.transaction():
        event_log.append("k", "lost")
        raise RuntimeError("boom")
    assert event_log.count() == 0
    assert event_log.latest_offset() == 0  # never acknowledged, so its offset may be handed out
    assert event_log.append("k", "kept").offset == 1


@pytest.mark.parametrize(
    ("filters", "expected_values"),
    [
        ({}, ["a1", "b1", "a2", "c1", "a3"]),
        ({"keys": "a"}, ["a1", "a2", "a3"]),
        ({"keys": ["a", "c"]}, ["a1", "a2", "c1", "a3"]),
        ({"keys": "*"}, ["a1", "b1", "a2", "c1", "a3"]),
        ({"namespace": "ns2"}, ["b1", "c1"]),
        ({"sender": "s1"}, ["a1", "a2"]),
        ({"keys": "a", "sender": "s1"}, ["a1", "a2"]),
        ({"offset": 3}, ["c1", "a3"]),
        ({"keys": "a", "offset": 3}, ["a3"]),
        ({"keys": "zzz"}, []),
    ],
)
def test_read_and_count_filters(event_log, filters, expected_values):
    event_log.append("a", "a1", sender="s1")
    event_log.append("b", "b1", namespace="ns2")
    event_log.append("a", "a2", sender="s1")
    event_log.append("c", "c1", namespace="ns2")
    event_log.append("a", "a3", sender="s2")
    offset = filters.pop("offset", 0)
    got = event_log.read_after(offset, **filters)
    assert [e.value for e in got] == expected_values
    assert [e.offset for e in got] == sorted(e.offset for e in got)
    assert event_log.count(offset, **filters) == len(expected_values)
    assert event_log.read_after(offset, limit=2, **filters) == got[:2]


def test_count_matches_read(event_log):
    for i in range(10):
        event_log.append("even" if i % 2 == 0 else "odd", str(i), sender=f"s{i % 3}")
    for keys in ("even", "odd", None, ["even", "odd"]):
        for sender in (None, "s0", "s1"):
            for offset in (0, 3, 9):
                read = event_log.read_after(offset, keys=keys, sender=sender)
                assert event_log.count(offset, keys=keys, sender=sender) == len(read)


def _after_ms(ms: int) -> None:
    """Two appends may share a millisecond: wait until the wall clock has passed `ms`."""
    while int(time.time() * 1000) <= ms + 1:
        time.sleep(0.001)


def test_time_filters_and_time_to_offset(event_log):
    early = event_log.append("k", "early")
    _after_ms(early.create_time)
    middle = event_log.append("k", "middle")
    t_middle = middle.create_time
    _after_ms(t_middle)
    late = event_log.append("k", "late")
    assert late.create_time > t_middle
    assert event_log.offset_at(late.create_time) == middle.offset
    at_middle = event_log.read_after(event_log.offset_at(t_middle))
    assert at_middle[-1] == late and early not in at_middle
    assert [e.value for e in event_log.read_after(0, begin_time=late.create_time)] == ["late"]
    assert event_log.count(begin_time=t_middle) == len(at_middle)
    assert event_log.offset_at(late.create_time + 10_000) == late.offset  # the future: the end
    assert event_log.offset_at(0) == 0


def test_latest_offset(event_log):
    assert event_log.latest_offset() == 0
    event_log.append("k")
    event_log.append("k")
    assert event_log.latest_offset() == 2


def test_cursors_are_durable_and_join_the_callers_transaction(settings, event_log):
    for i in range(5):
        event_log.append("k", str(i))
    assert event_log.cursor("c") is None
    assert event_log.create_cursor("c", 2) == 2
    assert event_log.create_cursor("c", 4) == 2  # exists: unchanged
    with pytest.raises(RuntimeError), event_log.db.transaction():
        event_log.advance_cursor("c", 5)
        raise RuntimeError("the work failed")
    assert event_log.cursor("c") == 2
    with event_log.db.transaction():
        event_log.advance_cursor("c", 4)
    # A new connection (another process would do the same) sees the committed position.
    other = open_database(settings)
    try:
        other_log = EventLog(other, wake=False)
        assert other_log.cursor("c") == 4
        assert [e.value for e in other_log.read_after(other_log.cursor("c"))] == ["4"]
        assert other_log.cursors() == {"c": 4}
    finally:
        other.close()
    event_log.delete_cursor("c")
    assert event_log.cursor("c") is None
    with pytest.raises(NotFound):
        event_log.delete_cursor("c")
    with pytest.raises(InvalidInput):
        event_log.advance_cursor("", 1)


def test_create_cursor_defaults_to_the_end(event_log):
    event_log.append("k")
    event_log.append("k")
    assert event_log.create_cursor("fresh") == 2


def test_prune_keeps_offsets_and_cursors(event_log):
    old = [event_log.append("k", str(i)) for i in range(3)]
    event_log.advance_cursor("slow", 1)
    event_log.advance_cursor("fast", 3)
    cutoff = old[-1].create_time + 1
    _after_ms(cutoff)
    assert event_log.prune(cutoff) == 3
    assert event_log.count() == 0
    new = event_log.append("k", "new")
    assert new.offset == 4  # offsets are never reused, even when the table was emptied
    assert event_log.latest_offset() == 4
    # A cursor behind the pruned range resumes at the oldest event left; one ahead is unaffected.
    assert event_log.read_after(event_log.cursor("slow")) == [new]
    assert event_log.read_after(event_log.cursor("fast")) == [new]


def test_next_events_of_a_key_use_the_key_index(event_log):
    plan = event_log.db.rows(
        'EXPLAIN QUERY PLAN SELECT "offset" FROM event WHERE "offset" > ? AND key = ? '
        'ORDER BY "offset" LIMIT 100',
        (10, "k"),
    )
    detail = " ".join(str(row[-1]) for row in plan)
    assert "event_key" in detail and "TEMP B-TREE" not in detail


def test_single_appends_let_sqlite_checkpoint_the_wal(event_log):
    """Regression: a half-read INSERT ... RETURNING kept each transaction open, SQLite never
    checkpointed, and the WAL grew by ~17 KB an event (1 GB after 60k sends)."""
    import os

    for i in range(3000):
        event_log.append("k", str(i))
    wal = event_log.db.path + "-wal"
    assert os.path.getsize(wal) < 8 * 1024 * 1024  # the 1000-page auto-checkpoint keeps ~4 MB
    assert event_log.db.scalar("SELECT count(*) FROM event") == 3000


def test_retention_prunes_in_batches_and_a_client_applies_it(event_log, settings, home):
    import dataclasses

    from aiflow_lite.ns.client import NotificationClient

    old = [event_log.append("k", str(i)) for i in range(25)]
    _after_ms(old[-1].create_time)
    assert event_log.prune(old[-1].create_time + 1, batch=10) == 25
    assert event_log.apply_retention(None) == 0
    kept = event_log.append("k", "kept")
    _after_ms(kept.create_time)
    # A client whose retention window is 1 ms prunes everything older when it opens.
    short = dataclasses.replace(settings, history_retention_ms=1)
    with NotificationClient(settings=short) as client:
        assert client.count_events("*") == 0
        assert client.latest_offset() == kept.offset
