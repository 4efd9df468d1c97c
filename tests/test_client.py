"""The notification client: sending, reading, and listeners (in-process and across processes)."""

from __future__ import annotations

import inspect
import os
import threading
from typing import List

import pytest
from conftest import read_line, wait_for
from rpc_helpers import ServerProcess

from aiflow_lite.errors import NotFound, Unreachable
from aiflow_lite.events import Event
from aiflow_lite.ns.client import ListenerProcessor, NotificationClient


class Collector(ListenerProcessor):
    def __init__(self) -> None:
        self.events: List[Event] = []
        self.lock = threading.Lock()

    def process(self, events: List[Event]) -> None:
        with self.lock:
            self.events.extend(events)

    def values(self) -> List[str]:
        with self.lock:
            return [e.value for e in self.events]


@pytest.fixture(params=["embedded", "remote"])
def connect(request, settings, home):
    """Makes clients of the test's home: embedded, or through a real notification server (the
    same contract, run against both)."""
    made = []
    server = None
    if request.param == "remote":
        server = ServerProcess(home, "notification").start()

    def make() -> NotificationClient:
        c = (NotificationClient(server.address) if server
             else NotificationClient(settings=settings))
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
    if server:
        server.stop()


@pytest.fixture
def any_client(connect):
    return connect()


def test_send_list_count(any_client):
    client = any_client
    sent = client.send_event("k", "v", context={"run": 7})
    assert sent.offset == 1 and sent.namespace == "default"
    client.send_events([Event("k", "w", namespace="other"), Event("j", "x")])
    assert [e.value for e in client.list_events("k")] == ["v", "w"]
    assert [e.value for e in client.list_events("k", namespace="other")] == ["w"]
    assert client.count_events("*") == 3
    assert client.count_events("k", begin_offset=1) == 1
    assert client.latest_offset() == 3
    assert client.time_to_offset(sent.create_time) == 0


def test_client_defaults_for_namespace_and_sender(settings):
    with NotificationClient(settings=settings, namespace="team", sender="job-1") as c:
        e = c.send_event("k")
        assert (e.namespace, e.sender, e.value) == ("team", "job-1", None)


def test_a_server_uri_outside_a_task_means_grpc(settings):
    with NotificationClient("localhost:1", settings=settings) as remote, \
            pytest.raises(Unreachable, match="cannot reach the server at localhost:1"):
        remote.send_event("k", "v")


def test_listener_gets_every_event_once_in_order(any_client):
    client = any_client
    got = Collector()
    client.send_event("k", "before")  # before registration: not delivered (starts at the end)
    rid = client.register_listener(got, event_keys=["k"])
    for i in range(300):
        client.send_event("k", str(i))
        if i % 50 == 0:
            client.send_event("other", "ignored")
    wait_for(lambda: len(got.values()) >= 300, message="300 events")
    client.unregister_listener(rid)
    assert got.values() == [str(i) for i in range(300)]
    offsets = [e.offset for e in got.events]
    assert offsets == sorted(set(offsets))


def test_listener_filters_namespace_and_starts_where_asked(any_client):
    client = any_client
    first = client.send_event("k", "a", namespace="one")
    client.send_event("k", "b", namespace="two")
    client.send_event("k", "c", namespace="one")
    from_offset = Collector()
    from_time = Collector()
    any_key = Collector()
    client.register_listener(from_offset, ["k"], namespace="one", begin_offset=first.offset)
    client.register_listener(from_time, ["k"], begin_time=first.create_time)
    client.register_listener(any_key, None, begin_offset=0)
    wait_for(lambda: from_offset.values() == ["c"] and len(from_time.values()) == 3
             and len(any_key.values()) == 3)
    client.send_event("k", "d", namespace="one")
    wait_for(lambda: from_offset.values() == ["c", "d"])


def test_cursor_resumes_exactly(connect):
    client = connect()
    for i in range(5):
        client.send_event("k", str(i))
    first = Collector()
    rid = client.register_listener(first, ["k"], begin_offset=0, cursor="reader")
    wait_for(lambda: len(first.values()) == 5)
    client.unregister_listener(rid)
    for i in range(5, 8):
        client.send_event("k", str(i))
    # A new client (a restarted process) resumes after the last delivered event, whatever
    # begin_offset says: nothing is repeated, nothing skipped.
    with connect() as again:
        second = Collector()
        again.register_listener(second, ["k"], begin_offset=0, cursor="reader")
        wait_for(lambda: len(second.values()) == 3)
        again.send_event("k", "8")
        wait_for(lambda: len(second.values()) == 4)
    assert second.values() == ["5", "6", "7", "8"]


def test_a_failing_processor_does_not_stop_the_listener(any_client):
    client = any_client
    seen: List[str] = []

    def flaky(events: List[Event]) -> None:
        seen.extend(e.value for e in events)
        if "boom" in seen and len(seen) == 1:
            raise RuntimeError("user bug")

    client.register_listener(flaky, ["k"])
    client.send_event("k", "boom")
    wait_for(lambda: seen == ["boom"])
    client.send_event("k", "after")
    wait_for(lambda: seen == ["boom", "after"])


def test_unregister_stops_the_thread_and_unknown_ids_are_refused(client):
    before = threading.active_count()
    rid = client.register_listener(Collector(), ["k"])
    assert threading.active_count() == before + 1
    client.unregister_listener(rid)
    assert threading.active_count() == before
    with pytest.raises(NotFound):
        client.unregister_listener(rid)


def test_listener_in_another_process_gets_every_event_once_in_order(client, processes):
    listener = processes.python("listener.py", "k", "200")
    assert read_line(listener.stdout).strip() == "ready"
    for i in range(200):
        client.send_event("k", str(i))
        client.send_event("noise", str(i))
    lines = list(iter(lambda: read_line(listener.stdout), ""))
    assert listener.wait(timeout=30) == 0, listener.stderr.read()
    values = [line.split()[2] for line in lines]
    assert values == [str(i) for i in range(200)]


@pytest.fixture
def no_safety_poll(monkeypatch):
    """Listeners re-read the log only when woken: a lost wake-up fails the test."""
    import aiflow_lite.ns.client as client_module

    monkeypatch.setattr(client_module, "SAFETY_POLL_S", 600.0)


def test_wake_up_reaches_a_listener_without_the_safety_poll(client, no_safety_poll):
    got = Collector()
    client.register_listener(got, ["k"])
    for i in range(20):
        client.send_event("k", str(i))
        wait_for(lambda i=i: len(got.values()) == i + 1, timeout=5, message=f"event {i} woken")


def test_stale_sockets_of_dead_listeners_do_not_hide_live_ones(client, settings, no_safety_poll):
    import socket

    from aiflow_lite.ns.wakeup import wake_dir_for

    directory = wake_dir_for(settings.db_path)
    os.makedirs(directory, exist_ok=True)
    for i in range(30):  # sockets left behind by processes that died: nobody bound to them
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as stale:
            stale.bind(os.path.join(directory, f"{i}-stale{os.urandom(4).hex()}.sock"))
    got = Collector()
    client.register_listener(got, ["k"])
    for i in range(3):
        client.send_event("k", str(i))
        wait_for(lambda i=i: len(got.values()) == i + 1, timeout=5, message=f"event {i}")
    assert not [n for n in os.listdir(directory) if "stale" in n]


def test_a_broken_wake_directory_never_fails_a_committed_send(settings, home):
    from aiflow_lite.ns.wakeup import wake_dir_for

    home.mkdir(parents=True, exist_ok=True)
    with open(wake_dir_for(settings.db_path), "w") as fh:
        fh.write("not a directory")
    with NotificationClient(settings=settings) as c:
        assert c.send_event("k", "v").offset == 1
        assert c.count_events("k") == 1


def test_a_processor_may_unregister_itself_while_wake_ups_queue(any_client):
    client = any_client
    done = threading.Event()
    ids = []

    def stop_self(events):
        client.unregister_listener(ids[0])
        done.set()

    ids.append(client.register_listener(stop_self, ["k"]))
    for i in range(50):  # more wake-ups than a datagram queue holds (10)
        client.send_event("k", str(i))
    assert done.wait(10)


def test_the_listener_survives_the_schema_vanishing_and_coming_back(client, settings):
    from aiflow_lite.home import open_database
    from aiflow_lite.schema import MIGRATIONS
    from aiflow_lite.sqlite import migrate

    got = Collector()
    rid = client.register_listener(got, ["k"], begin_offset=0)
    client.send_event("k", "before")
    wait_for(lambda: got.values() == ["before"])
    with open_database(settings, check_schema=False) as db:
        migrate(db, MIGRATIONS, 0)
        migrate(db, MIGRATIONS)
    # A fresh schema is a new log whose offsets start again at 1: the listener, at offset 1,
    # sees the second event on. What matters here is that its thread lived through the gap.
    client.send_event("k", "first of the new log")
    client.send_event("k", "after")
    wait_for(lambda: got.values()[-1] == "after", timeout=15,
             message="delivery after the schema came back")
    client.unregister_listener(rid)


def test_a_leaked_transaction_cannot_swallow_an_acknowledged_event(client, settings):
    from aiflow_lite.home import open_database

    client._log.db.execute("BEGIN IMMEDIATE")  # what an interrupt in the wrong place leaves
    stored = client.send_event("k", "v")
    with open_database(settings) as other:
        assert other.scalar('SELECT value FROM event WHERE "offset" = ?', (stored.offset,)) == "v"


def test_a_closed_client_says_so(settings):
    from aiflow_lite.errors import AiflowError

    c = NotificationClient(settings=settings)
    c.close()
    with pytest.raises(AiflowError, match="closed"):
        c.send_event("k")


def test_register_listener_takes_begin_time_third_as_in_the_spec(any_client):
    client = any_client
    from datetime import datetime, timedelta

    old = client.send_event("k", "old")
    got = Collector()
    client.register_listener(got, ["k"], datetime.now() + timedelta(days=1))
    client.send_event("k", "new")
    client.register_listener(got, ["k"], old.create_time)
    wait_for(lambda: sorted(got.values()) == ["new", "old"] or len(got.values()) >= 2)


@pytest.mark.parametrize("call", [
    lambda c: c.send_event(123, "v"),
    lambda c: c.send_event("k", 5),
    lambda c: c.send_event("k", b"v"),
    lambda c: c.send_event("k", "\udc80"),
    lambda c: c.list_events("k", begin_offset=2**70),
], ids=["int key", "int value", "bytes value", "lone surrogate", "offset past 64 bits"])
def test_wrong_types_are_one_line_errors_alike(any_client, call):
    from aiflow_lite.errors import InvalidInput

    with pytest.raises(InvalidInput):
        call(any_client)
    assert any_client.count_events("*") == 0


def test_bad_input_is_refused_alike_and_a_batch_is_all_or_none(any_client):
    from aiflow_lite.errors import InvalidInput

    client = any_client
    with pytest.raises(InvalidInput, match="event key must be a non-empty string"):
        client.send_event("", "v")
    with pytest.raises(InvalidInput, match="reserved prefix"):
        client.send_events([Event("fine", "1"), Event("__aiflow.status", "2")])
    assert client.count_events("*") == 0
    assert client.list_events("fine") == []


def test_the_embedded_and_remote_pairs_offer_what_the_client_needs():
    from aiflow_lite.ns.client import _Listener
    from aiflow_lite.ns.event_log import EventLog
    from aiflow_lite.ns.protocols import EventLogLike, ListenerLike
    from aiflow_lite.rpc.client import RemoteEventLog, RemoteListener

    for log_class in (EventLog, RemoteEventLog):
        missing = [verb for verb in ("append", "append_many", "read_after", "count",
                                     "latest_offset", "offset_at", "cursor", "save_cursor",
                                     "close") if not callable(getattr(log_class, verb, None))]
        assert missing == [], f"{log_class.__name__} lacks {missing}"
        assert issubclass(log_class, EventLogLike)
    for listener_class in (_Listener, RemoteListener):
        assert callable(listener_class.start) and callable(listener_class.stop)
        assert "self.id" in inspect.getsource(listener_class.__init__)  # ListenerLike.id
    assert {"start", "stop"} <= set(dir(ListenerLike))
