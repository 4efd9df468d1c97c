"""The Event record, the rules a user event must follow, and how it maps to a table row."""

from __future__ import annotations

import json
import re
import time
from enum import Enum
from typing import Any, Mapping, NamedTuple, Optional, Tuple

from aiflow_lite.errors import InvalidInput

#: Keys starting with this prefix belong to aiflow_lite's own events (task status, ...).
RESERVED_KEY_PREFIX = "__aiflow."
#: In listen/list/count filters, this key matches every key.
ANY_KEY = "*"
DEFAULT_NAMESPACE = "default"

MAX_KEY_BYTES = 1024
MAX_VALUE_BYTES = 1024 * 1024
MAX_SENDER_BYTES = 256
MAX_CONTEXT_BYTES = 64 * 1024

def now_ms() -> int:
    """Wall-clock time in epoch milliseconds, the unit of every stored time."""
    return time.time_ns() // 1_000_000


def local_time(ms: int) -> str:
    """A stored time as a person reads it: the machine's local time, to the second."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}\Z")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class Event(NamedTuple):
    """One event of the log: an immutable record. `offset` and `create_time` (ms since the epoch)
    are set by the log. (A NamedTuple, not a frozen dataclass: reading 100 events from the log
    builds 100 of them, and a tuple is built four times faster.)"""

    key: str
    value: Optional[str] = None
    namespace: Optional[str] = None
    sender: Optional[str] = None
    context: Optional[str] = None
    offset: Optional[int] = None
    create_time: Optional[int] = None

    def context_dict(self) -> dict:
        """The context parsed as a JSON object ({} when there is none, or it is not JSON: an
        event built outside the log is not checked)."""
        if not self.context:
            return {}
        try:
            parsed = json.loads(self.context)
        except (ValueError, TypeError):
            return {}
        return parsed if isinstance(parsed, dict) else {"value": parsed}

    def to_dict(self) -> dict:
        return self._asdict()


#: The `event` table's columns in `Event` field order: `Event(*row)` decodes a row.
EVENT_COLUMNS = 'key, value, namespace, sender, context, "offset", create_time'
#: What is stored for a new event, in column order (the log adds offset and create_time).
EventRow = Tuple[str, Optional[str], Optional[str], Optional[str], Optional[str]]


def validate_name(name: str, what: str = "namespace") -> str:
    """Namespaces (and later workflow and task names): letters, digits, `_`, `.`, `-`; ≤ 128."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidInput(
            f"invalid {what} {name!r}: use 1-128 letters, digits, '_', '.' or '-', "
            "not starting with '.' or '-'"
        )
    return name


def check_text(value: str, what: str) -> str:
    """A filter value SQLite can take: a str of valid UTF-8."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a string, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} {value!r} is not valid UTF-8 text") from None
    return value


def _check_size(text: str, limit: int, what: str) -> None:
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidInput(f"event {what} is not valid UTF-8 text") from None
    if size > limit:
        raise InvalidInput(f"event {what} is {size} bytes; the limit is {limit} bytes")


def encode_context(context: Any) -> Optional[str]:
    """Context is stored as JSON text: accept a mapping, or a string that already holds JSON."""
    if context is None:
        return None
    if isinstance(context, Mapping):
        try:
            return json.dumps(dict(context), separators=(",", ":"), sort_keys=True, default=str)
        except (ValueError, RecursionError):
            raise InvalidInput("event context cannot be written as JSON") from None
    if isinstance(context, str):
        try:
            json.loads(context)
        except (ValueError, RecursionError):
            raise InvalidInput(
                f"event context must be JSON text, e.g. '{{\"run\": 1}}', got {context!r}"
            ) from None
        return context
    raise InvalidInput(f"event context must be a dict or JSON text, not {type(context).__name__}")


def validate_event(
    key: str,
    value: Optional[str] = None,
    namespace: Optional[str] = DEFAULT_NAMESPACE,
    sender: Optional[str] = None,
    context: Any = None,
    *,
    internal: bool = False,
) -> Event:
    """Check a user event before anything is written; return it as an unsaved `Event`."""
    return Event(*check_event(key, value, namespace, sender, context, internal=internal))


def check_event(
    key: str,
    value: Optional[str],
    namespace: Optional[str],
    sender: Optional[str],
    context: Any,
    *,
    internal: bool = False,
) -> EventRow:
    """Validate one event's fields; return them as the row to store (context as JSON text).

    `internal=True` is for aiflow_lite itself: it may use the reserved key prefix.
    """
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput("event key must be a non-empty string")
    _check_size(key, MAX_KEY_BYTES, "key")
    if _CONTROL_RE.search(key):
        raise InvalidInput(f"event key {key!r} contains a control character")
    if key == ANY_KEY:
        raise InvalidInput(f"event key {ANY_KEY!r} is reserved for matching any key")
    if key.startswith(RESERVED_KEY_PREFIX) and not internal:
        raise InvalidInput(
            f"event key {key!r} uses the reserved prefix {RESERVED_KEY_PREFIX!r}; pick another key"
        )
    if value is not None:
        if not isinstance(value, str):
            raise InvalidInput(f"event value must be a string, not {type(value).__name__}")
        _check_size(value, MAX_VALUE_BYTES, "value")
    if namespace is not None:
        validate_name(namespace)
    if sender is not None:
        if not isinstance(sender, str):
            raise InvalidInput(f"event sender must be a string, not {type(sender).__name__}")
        _check_size(sender, MAX_SENDER_BYTES, "sender")
    context_text = encode_context(context)
    if context_text is not None:
        _check_size(context_text, MAX_CONTEXT_BYTES, "context")
    return (key, value, namespace, sender, context_text)


def task_status_key(task_name: str) -> str:
    """The key of the internal event a task's status change is announced with."""
    return f"{InternalKey.TASK_STATUS.value}.{task_name}"


def is_task_status_key(key: str) -> bool:
    return key.startswith(f"{InternalKey.TASK_STATUS.value}.")


class InternalKey(str, Enum):
    """Keys of aiflow_lite's own events. Users cannot send them (reserved prefix)."""

    #: A task execution's status changed; the full key ends with ".<task name>".
    TASK_STATUS = f"{RESERVED_KEY_PREFIX}task_status"
    #: A worker finished (value: the final status), or its executor found it dead.
    TASK_RESULT = f"{RESERVED_KEY_PREFIX}task_result"
    #: A user command for the scheduler (value: a `Command`, context: its arguments).
    COMMAND = f"{RESERVED_KEY_PREFIX}command"


class Command(str, Enum):
    """What `ops` asks the scheduler to do: the value of an `InternalKey.COMMAND` event, whose
    context names the workflow execution (and the task)."""

    START_EXECUTION = "start_execution"
    STOP_EXECUTION = "stop_execution"
    START_TASK = "start_task"
    STOP_TASK = "stop_task"
    RESTART_TASK = "restart_task"

    @property
    def reason(self) -> str:
        """Why the execution or task started or stopped, as its record says."""
        return {"start_execution": "a user started it", "stop_execution": "a user stopped it",
                "start_task": "started by a user", "stop_task": "stopped by a user",
                "restart_task": "restarted by a user"}[self.value]


def command_event(command: Command, **args: Any) -> Event:
    """The event that asks the scheduler to act (sent by ops, in their own transaction)."""
    return Event(InternalKey.COMMAND.value, Command(command).value, None, "ops",
                 json.dumps(args))
