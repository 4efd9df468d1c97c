"""The remote side of the clients: the event log and `ops` of a home served by a gRPC server.

`RemoteEventLog` offers the verbs of `aiflow_lite.ns.event_log.EventLog` that the notification
client uses, so `NotificationClient("host:port")` behaves as the embedded client does; the same
contract tests run against both. `RemoteOps` forwards an `ops` function's call by name.
"""

from __future__ import annotations

import inspect
import logging
import os
import threading
from typing import Any, Callable, Dict, Iterable, List, Optional

import grpc

from aiflow_lite.config import ClientSettings
from aiflow_lite.errors import AiflowError, Busy, HomeError, InvalidInput
from aiflow_lite.events import Event, check_event
from aiflow_lite.rpc import aiflow_pb2 as pb
from aiflow_lite.rpc.channel import CHANNEL_OPTIONS, Connection
from aiflow_lite.rpc.codec import (
    event_from_message,
    event_to_message,
    fill,
    method_name,
    reply_result,
)

log = logging.getLogger(__name__)

#: Answers a listen stream does not retry: the token or the request is wrong.
FATAL_CODES = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED,
               grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNIMPLEMENTED)

NS = "NotificationService"
OPS = "OpsService"
_OPS_METHODS = pb.DESCRIPTOR.services_by_name[OPS].methods_by_name
#: The largest message this client sends or takes (the server has its own limit).
MAX_MESSAGE_BYTES = dict(CHANNEL_OPTIONS)["grpc.max_send_message_length"]


def _keys(keys: Any) -> List[str]:
    if keys is None or keys == "*":
        return []
    if isinstance(keys, str):
        return [keys]
    keys = list(keys)
    return [] if "*" in keys else keys


class RemoteEventLog:
    """The event log of a home, over gRPC."""

    def __init__(self, uri: str, settings: Optional[ClientSettings] = None) -> None:
        self.connection = Connection(uri, settings)
        self.uri = uri

    def _call(self, method: str, request: Any, reply_type: Any) -> Any:
        return self.connection.call(NS, method, request, reply_type)

    def append(self, key: str, value: Optional[str] = None, namespace: Optional[str] = None,
               sender: Optional[str] = None, context: Any = None) -> Event:
        event = Event(*check_event(key, value, namespace, sender, context))  # as locally
        return event_from_message(self._call("SendEvent", event_to_message(event), pb.Event))

    def append_many(self, events: Iterable[Event], *, namespace: Optional[str] = None,
                    sender: Optional[str] = None) -> List[Event]:
        messages = [event_to_message(Event(*check_event(
            e.key, e.value, e.namespace or namespace, e.sender or sender, e.context)))
            for e in events]
        reply = self._call("SendEvents", pb.SendEventsRequest(events=messages), pb.EventList)
        return [event_from_message(m) for m in reply.events]

    def _filter(self, offset: int, keys: Any, namespace: Optional[str], sender: Optional[str],
                begin_time: Optional[int], limit: Optional[int] = None) -> pb.EventFilter:
        return fill(pb.EventFilter(), {"keys": _keys(keys), "namespace": namespace,
                                       "sender": sender, "begin_offset": int(offset),
                                       "begin_time": begin_time, "limit": limit})

    def read_after(self, offset: int = 0, *, keys: Any = None, namespace: Optional[str] = None,
                   sender: Optional[str] = None, begin_time: Optional[int] = None,
                   limit: Optional[int] = None) -> List[Event]:
        request = self._filter(offset, keys, namespace, sender, begin_time, limit)
        return [event_from_message(m) for m in self._call("ListEvents", request,
                                                          pb.EventList).events]

    def count(self, offset: int = 0, *, keys: Any = None, namespace: Optional[str] = None,
              sender: Optional[str] = None, begin_time: Optional[int] = None) -> int:
        request = self._filter(offset, keys, namespace, sender, begin_time)
        return self._call("CountEvents", request, pb.CountReply).count

    def latest_offset(self) -> int:
        return self._call("LatestOffset", pb.Empty(), pb.OffsetReply).offset

    def offset_at(self, time_ms: int) -> int:
        return self._call("TimeToOffset", pb.TimeToOffsetRequest(time=int(time_ms)),
                          pb.OffsetReply).offset

    def cursor(self, name: str) -> Optional[int]:
        reply = self._call("GetCursor", pb.CursorRequest(name=name), pb.CursorReply)
        return reply.offset if reply.HasField("offset") else None

    def save_cursor(self, name: str, offset: int) -> None:
        self._call("AdvanceCursor", pb.AdvanceCursorRequest(name=name, offset=int(offset)),
                   pb.Empty)

    def close(self) -> None:
        self.connection.close()


class RemoteListener:
    """A listen stream read by a thread. The stream resumes after the last delivered offset
    when it breaks (a server restart, a network blip), so each event is delivered once."""

    def __init__(self, remote: RemoteEventLog, process: Callable[[List[Event]], Any],
                 keys: Optional[List[str]], namespace: Optional[str], start: int,
                 cursor: Optional[str]) -> None:
        self.remote = remote
        self.process = process
        self.keys = keys
        self.namespace = namespace
        self.position = start
        self.cursor = cursor
        self.last_error: Optional[Exception] = None
        self.id = f"remote-{os.getpid()}-{id(self):x}"
        self._stop = threading.Event()
        self._call: Any = None
        self._thread = threading.Thread(target=self._run, name="aiflow-remote-listener",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        call = self._call
        if call is not None:
            call.cancel()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            request = fill(pb.ListenRequest(), {"keys": _keys(self.keys),
                                                "namespace": self.namespace,
                                                "begin_offset": self.position})
            try:
                self._call = self.remote.connection.stream(NS, "Listen", request, pb.EventList)
                if self._stop.is_set():
                    self._call.cancel()
                for batch in self._call:
                    events = [event_from_message(m) for m in batch.events]
                    if events:
                        self._deliver(events)
                    backoff = 0.0
            except grpc.RpcError as exc:
                if self._stop.is_set():
                    break
                self.last_error = self.remote.connection.error(exc)
                if exc.code() in FATAL_CODES:  # retrying cannot help: say so, once, and stop
                    log.error("remote listener %s stopped: %s", self.id, self.last_error)
                    return
                backoff = min(max(backoff * 2, 0.05), 2.0)
                log.warning("remote listener %s: %s; retrying in %.2fs", self.id,
                            self.last_error, backoff)
                self._stop.wait(backoff)
            except AiflowError as exc:  # saving the cursor failed: retry from the same spot
                self.last_error = exc
                self._stop.wait(0.2)

    def _deliver(self, events: List[Event]) -> None:
        try:
            self.process(events)
        except Exception:  # a listener's bug must not kill the thread or stall the stream
            log.exception("listener processor failed on events %s..%s; continuing",
                          events[0].offset, events[-1].offset)
        self.position = events[-1].offset
        if self.cursor:
            self.remote.save_cursor(self.cursor, self.position)


class RemoteOps:
    """Calls `ops` functions on a server: the arguments as the request's fields, the reply's
    `result` as the return value."""

    def __init__(self, uri: str, settings: Optional[ClientSettings] = None) -> None:
        self.connection = Connection(uri, settings)

    def call(self, function: Callable[..., Any], args: tuple, kwargs: Dict[str, Any]) -> Any:
        bound = inspect.signature(function).bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        name = function.__name__
        if name == "download_artifact":
            return self.download_artifact(**values)
        if name == "upload_workflows":
            request = upload_request(values["workflow_file_path"], values.get("artifacts"))
        elif name == "add_workflow_trigger":
            import cloudpickle

            request = pb.AddTriggerRequest(rule_pickle=cloudpickle.dumps(values["rule"]),
                                           workflow_name=values["workflow_name"],
                                           namespace=values["namespace"])
        elif name == "register_artifact":
            request = artifact_request(values["name"], values["path"], values["description"],
                                       values["namespace"])
        else:
            method = _OPS_METHODS[method_name(name)]
            request = fill(getattr(pb, method.input_type.name)(), values, strict=True)
        method = _OPS_METHODS[method_name(name)]
        reply = self._call(method.name, request, getattr(pb, method.output_type.name))
        return reply_result(reply)

    def _call(self, method: str, request: Any, reply_type: Any) -> Any:
        try:
            return self.connection.call(OPS, method, request, reply_type)
        except Busy as exc:  # grpc's own words for a message over a limit are cryptic
            if "larger than max" not in str(exc).lower():
                raise
            raise Busy(f"the {method} message is over the server's or client's size limit "
                       f"({exc}); raise rpc_max_message_mb in the server's config, or move "
                       "the file another way") from None

    def download_artifact(self, name: str, dest: str, version: Optional[int] = None,
                          namespace: Optional[str] = None, overwrite: bool = False) -> str:
        """The server sends the version's bytes; they are written into the client's `dest`
        exactly as a local download writes them: checked against the sha256, into a temporary
        file beside the target, then renamed."""
        from aiflow_lite.rpc.codec import from_message

        request = fill(pb.DownloadArtifactRequest(),
                       {"name": name, "version": version, "namespace": namespace}, strict=True)
        reply = self._call("DownloadArtifact", request, pb.DownloadArtifactReply)
        return write_artifact(from_message(reply.artifact), reply.content, dest, overwrite)

    def server_info(self) -> Dict[str, Any]:
        """The server's version, home and scheduler pid."""
        from aiflow_lite.rpc.codec import read

        return read(self.connection.call(OPS, "ServerInfo", pb.Empty(), pb.ServerInfoReply))

    def close(self) -> None:
        self.connection.close()


def write_artifact(artifact: Any, content: bytes, dest: str, overwrite: bool = False) -> str:
    """Write a downloaded artifact's bytes into the directory `dest` as its file name, as
    `aiflow_lite.ops.artifact_ops.fetch_artifact` does locally: checked against its sha256
    first, written to a temporary directory beside the target, then renamed, so a reader of
    `dest` never sees a partial or corrupt file."""
    import hashlib
    import tempfile

    from aiflow_lite.blob import place_file, plain_file_name

    dest = os.path.abspath(os.path.expanduser(dest))
    target = os.path.join(dest, plain_file_name(artifact.file_name))
    if len(content) != artifact.size or \
            hashlib.sha256(content).hexdigest() != artifact.content_hash:
        raise HomeError(f"artifact {artifact.name!r} version {artifact.version}: the bytes the "
                        "server sent do not match its sha256; nothing was written")
    try:
        os.makedirs(dest, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest, prefix=".aiflow-download-") as tmp:
            local = os.path.join(tmp, "received")
            with open(local, "wb") as fh:
                fh.write(content)
            place_file(local, target, overwrite)
    except OSError as exc:
        raise HomeError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target


def artifact_request(name: str, path: str, description: Optional[str],
                     namespace: Optional[str]) -> pb.RegisterArtifactRequest:
    """The client's file at `path` as its name and bytes, checked as a local registration
    checks them (the name first: no bytes are read for a bad one)."""
    from aiflow_lite.blob import plain_file_name
    from aiflow_lite.events import validate_name

    validate_name(name, "artifact name")
    path = os.path.abspath(os.path.expanduser(path))
    file_name = plain_file_name(os.path.basename(path))
    if not os.path.isfile(path):
        raise InvalidInput(f"cannot register {path!r} as an artifact: not a regular file "
                           "(pack a directory into an archive first)")
    size = os.path.getsize(path)
    if size >= MAX_MESSAGE_BYTES:
        raise Busy(f"cannot register {path} as an artifact: it is {size} bytes, over the "
                   f"{MAX_MESSAGE_BYTES >> 20} MiB a client sends in one message")
    try:
        with open(path, "rb") as fh:
            content = fh.read()
    except OSError as exc:
        raise HomeError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return fill(pb.RegisterArtifactRequest(path=pb.ArtifactFile(file_name=file_name,
                                                                content=content)),
                {"name": name, "description": description, "namespace": namespace}, strict=True)


def upload_request(workflow_file: str, artifacts: Optional[List[str]]) -> pb.UploadWorkflowsRequest:
    """The snapshot zip the server runs: built exactly as a local upload builds it."""
    from aiflow_lite.blob import pack_snapshot, temporary_directory

    with temporary_directory() as tmp:
        archive, _ = pack_snapshot(workflow_file, artifacts or [], tmp)
        with open(archive, "rb") as fh:
            data = fh.read()
    names = [os.path.basename(os.path.abspath(os.path.expanduser(p)).rstrip(os.sep))
             for p in artifacts or []]
    return pb.UploadWorkflowsRequest(
        snapshot_zip=data, workflow_file_name=os.path.basename(workflow_file),
        artifact_names=names)
