"""What a user event, a name or a duration may be: table-driven, pure, no I/O."""

from __future__ import annotations

import pytest

from aiflow_lite.config import db_path_from_uri, parse_duration_ms
from aiflow_lite.errors import InvalidInput
from aiflow_lite.events import (
    MAX_KEY_BYTES,
    MAX_VALUE_BYTES,
    validate_event,
    validate_name,
)
from aiflow_lite.ns.client import parse_iso_time


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": ""}, "non-empty"),
        ({"key": "   "}, "non-empty"),
        ({"key": None}, "non-empty"),
        ({"key": "a\nb"}, "control character"),
        ({"key": "*"}, "reserved for matching any key"),
        ({"key": "__aiflow.task_status"}, "reserved prefix"),
        ({"key": "k" * (MAX_KEY_BYTES + 1)}, "limit is 1024 bytes"),
        ({"key": "k", "value": "v" * (MAX_VALUE_BYTES + 1)}, "event value is 1048577 bytes"),
        ({"key": "k", "value": "é" * (MAX_VALUE_BYTES // 2 + 1)}, "limit is 1048576"),
        ({"key": "k", "value": b"bytes"}, "must be a string"),
        ({"key": "k", "namespace": ""}, "invalid namespace"),
        ({"key": "k", "namespace": "has space"}, "invalid namespace"),
        ({"key": "k", "namespace": "-dash"}, "invalid namespace"),
        ({"key": "k", "namespace": "a/b"}, "invalid namespace"),
        ({"key": "k", "namespace": "n" * 129}, "invalid namespace"),
        ({"key": "k", "sender": "s" * 300}, "sender is 300 bytes"),
        ({"key": "k", "context": "not json"}, "must be JSON text"),
        ({"key": "k", "context": 42}, "dict or JSON text"),
    ],
)
def test_bad_events_are_rejected_with_one_clear_line(kwargs, message):
    with pytest.raises(InvalidInput) as err:
        validate_event(**kwargs)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"key": "k"},
        {"key": "model validated", "value": ""},
        {"key": "k" * MAX_KEY_BYTES, "value": "v" * MAX_VALUE_BYTES},
        {"key": "k", "namespace": "my-ns_1.prod"},
        {"key": "k", "namespace": None},
        {"key": "k", "context": '{"workflow_execution_id": 3}'},
        {"key": "k", "context": {"b": 1, "a": 2}},
        {"key": "__aiflow.task_status", "internal": True},
        {"key": "aiflow.not_reserved"},
    ],
)
def test_good_events_pass(kwargs):
    event = validate_event(**kwargs)
    assert event.key == kwargs["key"] and event.offset is None


def test_context_dict_is_canonical_json():
    assert validate_event("k", context={"b": 1, "a": 2}).context == '{"a":2,"b":1}'


@pytest.mark.parametrize("name", ["default", "a", "A_b-c.d", "0abc", "x" * 128])
def test_good_names(name):
    assert validate_name(name) == name


@pytest.mark.parametrize(
    ("text", "ms"),
    [("30d", 30 * 86_400_000), ("12h", 43_200_000), ("90m", 5_400_000), ("45s", 45_000),
     ("45", 45_000), ("1.5h", 5_400_000), ("250ms", 250), ("2w", 1_209_600_000),
     ("0", None), ("none", None), (None, None)],
)
def test_durations(text, ms):
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["30x", "d30", "-5s", "thirty days"])
def test_bad_durations(text):
    with pytest.raises(InvalidInput, match="invalid duration"):
        parse_duration_ms(text)


@pytest.mark.parametrize(
    ("uri", "path"),
    [("sqlite:////abs/x.db", "/abs/x.db"), ("sqlite:///rel.db", "/home/rel.db"),
     ("/abs/y.db", "/abs/y.db"), ("z.db", "/home/z.db")],
)
def test_db_uris(uri, path):
    assert db_path_from_uri(uri, "/home") == path


@pytest.mark.parametrize("uri", ["mysql://u@h/db", "sqlite://relative-host.db"])
def test_unsupported_db_uris(uri):
    with pytest.raises(InvalidInput, match="sqlite:///PATH"):
        db_path_from_uri(uri, "/home")


def test_iso_times():
    assert parse_iso_time("1970-01-01T00:00:01Z") == 1000
    assert parse_iso_time("1970-01-01T01:00:00+01:00") == 0
    with pytest.raises(InvalidInput, match="ISO 8601"):
        parse_iso_time("yesterday")
