"""Values ⇄ protobuf messages, by the naming conventions written at the top of `aiflow.proto`:
one generic codec instead of forty hand-written pairs, so the contract and the `ops` functions
cannot drift apart without a test noticing."""

from __future__ import annotations

import json
from dataclasses import fields
from enum import Enum
from typing import Any, Dict, Optional, Tuple

import grpc
from google.protobuf.descriptor import FieldDescriptor

from aiflow_lite import meta
from aiflow_lite.errors import (
    AccessDenied,
    AiflowError,
    Busy,
    InvalidInput,
    NotFound,
    SchemaError,
    Unreachable,
    Unsupported,
)
from aiflow_lite.events import Event
from aiflow_lite.rpc import aiflow_pb2 as pb

JSON_SUFFIX = "_json"


def method_name(function_name: str) -> str:
    """`list_workflow_executions` → `ListWorkflowExecutions`."""
    return "".join(part.title() for part in function_name.split("_"))


# -- events ------------------------------------------------------------------------------------

def event_to_message(event: Event) -> pb.Event:
    message = pb.Event(key=event.key, offset=event.offset or 0,
                       create_time=event.create_time or 0)
    for name in ("value", "namespace", "sender", "context"):
        value = getattr(event, name)
        if value is not None:
            setattr(message, name, value)
    return message


def event_from_message(message: pb.Event) -> Event:
    def optional(name: str) -> Optional[str]:
        return getattr(message, name) if message.HasField(name) else None

    return Event(message.key, optional("value"), optional("namespace"), optional("sender"),
                 optional("context"), message.offset or None, message.create_time or None)


# -- ops: requests, replies and metadata records -----------------------------------------------

def fill(message: Any, values: Dict[str, Any], strict: bool = False) -> Any:
    """Set `message`'s fields from `values` (a `<name>_json` field from `values[name]`); None
    leaves a field unset. An Enum member (a `ModelVersionStage`, say) travels as its value, and
    a lone str given for a repeated field as a list of that one str, as the local call takes
    it (not as its characters). A number field takes what `float()` takes, but not a bool.
    `strict` (a client's request) refuses a value JSON cannot hold, as the local call would,
    rather than sending its `str()`."""
    for field in message.DESCRIPTOR.fields:
        name = field.name
        if name.endswith(JSON_SUFFIX) and name[:-len(JSON_SUFFIX)] in values:
            value = values[name[:-len(JSON_SUFFIX)]]
            if value is not None:
                setattr(message, name, _json_text(name[:-len(JSON_SUFFIX)], value, strict))
            continue
        value = values.get(name)
        if value is None:
            continue
        if isinstance(value, Enum):
            value = value.value
        try:
            if field.message_type is not None:
                if _is_repeated(field):
                    getattr(message, name).extend(to_message(v, field.message_type)
                                                  for v in value)
                else:
                    getattr(message, name).CopyFrom(to_message(value, field.message_type))
            elif _is_repeated(field):
                if isinstance(value, (str, bytes)):
                    value = [value]
                getattr(message, name).extend(
                    v.value if isinstance(v, Enum) else v for v in value)
            elif field.type in _FLOATS:
                if isinstance(value, bool):
                    raise TypeError("a number, not a bool")
                setattr(message, name, float(value))
            else:
                setattr(message, name, value)
        except (TypeError, ValueError) as exc:  # e.g. a str for an int, an int past 64 bits
            raise InvalidInput(f"invalid {name} {value!r}: {exc}") from None
    return message


_FLOATS = (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT)


def _json_text(name: str, value: Any, strict: bool) -> str:
    if not strict:
        return json.dumps(value, sort_keys=True, default=str)
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must hold only JSON values: {exc}") from None


def read(message: Any) -> Dict[str, Any]:
    """The fields of `message` as Python values: an unset optional field is None, a
    `<name>_json` field is decoded under `name`, a nested message becomes its meta record."""
    values: Dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        name = field.name
        if field.has_presence and not _is_repeated(field) and not message.HasField(name):
            values[name] = None
            continue
        value = getattr(message, name)
        if name.endswith(JSON_SUFFIX):
            try:
                values[name[:-len(JSON_SUFFIX)]] = json.loads(value) if value else None
            except ValueError:
                raise InvalidInput(f"{name} is not JSON text") from None
        elif field.message_type is not None:
            values[name] = ([from_message(v) for v in value] if _is_repeated(field)
                            else from_message(value))
        elif _is_repeated(field):
            values[name] = list(value)
        else:
            values[name] = value
    return values


def to_message(record: Any, message_type: Any) -> Any:
    """A meta dataclass → the message of the same name."""
    values = {f.name: getattr(record, f.name) for f in fields(record)}
    return fill(pb.__dict__[message_type.name](), values)


def from_message(message: Any) -> Any:
    """A metadata message → the `aiflow_lite.meta` dataclass of the same name."""
    record_type = getattr(meta, type(message).DESCRIPTOR.name)
    values = read(message)
    for field in message.DESCRIPTOR.fields:  # `properties` and friends are {}, never None
        name = field.name[:-len(JSON_SUFFIX)]
        if field.name.endswith(JSON_SUFFIX) and values.get(name) is None:
            values[name] = {}
    return record_type(**values)


def _is_repeated(field: Any) -> bool:
    # FieldDescriptor.label is deprecated in newer protobuf; is_repeated is not in older ones.
    repeated = getattr(field, "is_repeated", None)
    return bool(repeated) if repeated is not None else field.label == field.LABEL_REPEATED


def reply_result(reply: Any) -> Any:
    """The `result` an Ops reply carries (None for `Empty`)."""
    return read(reply).get("result")


# -- errors ------------------------------------------------------------------------------------

_CODES: Tuple[Tuple[type, grpc.StatusCode], ...] = (
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AccessDenied, grpc.StatusCode.PERMISSION_DENIED),
    (Busy, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Unsupported, grpc.StatusCode.UNIMPLEMENTED),
    (SchemaError, grpc.StatusCode.FAILED_PRECONDITION),
    (AiflowError, grpc.StatusCode.FAILED_PRECONDITION),
)


def status_code_for(exc: AiflowError) -> grpc.StatusCode:
    return next(code for kind, code in _CODES if isinstance(exc, kind))


def error_from_status(code: grpc.StatusCode, details: Optional[str], target: str) -> AiflowError:
    """The `AiflowError` a client raises for a failed call: one line, never a traceback."""
    text = " ".join((details or "").split())
    if code == grpc.StatusCode.UNAVAILABLE:
        return Unreachable(f"cannot reach the server at {target} ({text or 'unavailable'}); "
                           "is it running? start it with `aiflow server start -d`")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return Unreachable(f"the server at {target} did not answer in time")
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return AccessDenied(f"the server at {target} refused the call: {text}")
    if code == grpc.StatusCode.INTERNAL:
        return AiflowError(f"the server at {target} failed: {text}")
    for kind, kind_code in _CODES:
        if code == kind_code:
            return kind(text)
    return AiflowError(f"the server at {target} answered {code.name}: {text}")
