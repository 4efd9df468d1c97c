"""`notification event send|list|count|listen`."""

from __future__ import annotations

import sys
from typing import Any, List, Optional

import click

from aiflow_lite.cli.options import (
    begin_offset_option,
    begin_time_option,
    namespace_option,
    output_option,
    sender_option,
    server_uri_option,
)
from aiflow_lite.records import EVENT_COLUMNS


def _client(server_uri: Optional[str]) -> Any:
    from aiflow_lite.ns.client import NotificationClient

    return NotificationClient(server_uri)


def _begin_ms(begin_time: Optional[str]) -> Optional[int]:
    from aiflow_lite.ns.client import parse_iso_time

    return None if begin_time is None else parse_iso_time(begin_time)


def _check_filters(key: str, namespace: Optional[str], sender: Optional[str]) -> None:
    """Check filters before anything is opened: bad input writes nothing, not even a home."""
    from aiflow_lite.events import check_text, validate_name

    check_text(key, "event key")
    if sender is not None:
        check_text(sender, "sender")
    if namespace is not None:
        validate_name(namespace)


def _field(value: Any) -> str:
    """One tab-separated field: tabs and line breaks inside it are escaped, so a line is an
    event."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace(
        "\r", "\\r")


@click.group("event")
def event() -> None:
    """Manages events."""


@event.command("send")
@click.argument("key")
@click.argument("value", required=False)
@server_uri_option
@namespace_option("Namespace of the event.", default="default")
@click.option("--context", default=None, help="Context of the event (JSON text).")
@sender_option
def send(key: str, value: Optional[str], server_uri: Optional[str], namespace: str,
         context: Optional[str], sender: Optional[str]) -> None:
    """Sends an event; prints its offset once it is stored.

    Example: notification event send model_validated v1 -n default
    """
    from aiflow_lite.events import validate_event

    validate_event(key, value, namespace, sender, context)  # before anything is opened
    with _client(server_uri) as client:
        stored = client.send_event(key, value, namespace=namespace, sender=sender,
                                   context=context)
    click.echo(f"Event sent: key={stored.key} offset={stored.offset}")


def _filter_options(func):
    for decorator in reversed([
        click.argument("key"),
        server_uri_option,
        namespace_option(),
        begin_offset_option,
        begin_time_option(),
        sender_option,
    ]):
        func = decorator(func)
    return func


@event.command("list")
@_filter_options
@output_option
def list_(key: str, server_uri: Optional[str], namespace: Optional[str],
          begin_offset: Optional[int], begin_time: Optional[str], sender: Optional[str],
          output: str) -> None:
    """Lists events of KEY ('*' for every key), oldest first.

    Example: notification event list model_validated --begin-offset 10 -o json
    """
    from aiflow_lite.cli.output import emit

    _check_filters(key, namespace, sender)
    begin_ms = _begin_ms(begin_time)
    with _client(server_uri) as client:
        events = client.list_events(key, namespace=namespace, sender=sender,
                                    begin_offset=begin_offset or 0, begin_time=begin_ms)
    emit((e.to_dict() for e in events), EVENT_COLUMNS, output, time_columns=("create_time",))


@event.command("count")
@_filter_options
def count(key: str, server_uri: Optional[str], namespace: Optional[str],
          begin_offset: Optional[int], begin_time: Optional[str], sender: Optional[str]) -> None:
    """Counts events of KEY ('*' for every key).

    Example: notification event count model_validated -n default
    """
    _check_filters(key, namespace, sender)
    begin_ms = _begin_ms(begin_time)
    with _client(server_uri) as client:
        click.echo(client.count_events(key, namespace=namespace, sender=sender,
                                       begin_offset=begin_offset or 0, begin_time=begin_ms))


@event.command("listen")
@_filter_options
def listen(key: str, server_uri: Optional[str], namespace: Optional[str],
           begin_offset: Optional[int], begin_time: Optional[str], sender: Optional[str]) -> None:
    """Listens to events of KEY ('*' for every key) and prints each as a line, until Ctrl-C.

    Starts at the log's end unless --begin-offset or --begin-time says otherwise.

    Example: notification event listen model_validated --begin-offset 0
    """
    import signal
    import threading

    from aiflow_lite.cli.output import format_time_ms

    _check_filters(key, namespace, sender)
    begin_ms = _begin_ms(begin_time)
    done = threading.Event()

    def show(events: List[Any]) -> None:
        try:
            for e in events:
                if sender is not None and e.sender != sender:
                    continue
                fields = (e.offset, e.key, e.value, e.namespace, e.sender,
                          format_time_ms(e.create_time))
                sys.stdout.write("\t".join(_field(f) for f in fields) + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            done.set()

    stopped: list = []  # a handler sets a flag: Event.set() in one can deadlock its wait()
    stop = lambda *_: stopped.append(True)  # noqa: E731
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _client(server_uri) as client:
            client.register_listener(show, [key], begin_ms, namespace=namespace,
                                     begin_offset=begin_offset)
            click.echo(f"Listening to events of {key!r}; Ctrl-C to stop.", err=True)
            while not (stopped or done.wait(0.5)):  # a signal on another thread: <= 0.5 s
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
