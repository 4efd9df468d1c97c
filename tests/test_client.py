"""The notification client: sending, reading, and listeners (in-process and across processes)."""

from __future__ import annotations

import threading
from typing import List

import pytest
from conftest import wait_for

from aiflow_lite.errors import NotFound, Unsupported
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


def test_send_list_count(client):
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


def test_a_server_uri_outside_a_task_is_refused_until_the_grpc_shim(settings):
    with pytest.raises(Unsupported, match="leave out the server uri"):
        NotificationClient("localhost:50052", settings=settings)


def test_listener_gets_every_event_once_in_order(client):
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


def test_listener_filters_namespace_and_starts_where_asked(client):
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


def test_cursor_resumes_exactly(client, settings):
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
    with NotificationClient(settings=settings) as again:
        second = Collector()
        again.register_listener(second, ["k"], begin_offset=0, cursor="reader")
        wait_for(lambda: len(second.values()) == 3)
        again.send_event("k", "8")
        wait_for(lambda: len(second.values()) == 4)
    assert second.values() == ["5", "6", "7", "8"]


def test_a_failing_processor_does_not_stop_the_listener(client):
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
    assert listener.stdout.readline().strip() == "ready"
    for i in range(200):
        client.send_event("k", str(i))
        client.send_event("noise", str(i))
    assert listener.wait(timeout=30) == 0, listener.stderr.read()
    values = [line.split()[2] for line in listener.stdout.read().splitlines()]
    assert values == [str(i) for i in range(200)]
