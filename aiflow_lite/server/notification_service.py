"""The notification service: the home's event log over gRPC. Each handler thread keeps its own
connection; a listen stream sleeps on the log's wake-up socket like an embedded listener."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Dict, Iterator

import grpc

from aiflow_lite.config import Settings
from aiflow_lite.errors import Busy
from aiflow_lite.home import open_database
from aiflow_lite.ns.client import LISTEN_BATCH, SAFETY_POLL_S
from aiflow_lite.ns.event_log import EventLog
from aiflow_lite.ns.wakeup import WakeSocket, wake_dir_for
from aiflow_lite.rpc import aiflow_pb2 as pb
from aiflow_lite.rpc.codec import event_from_message, event_to_message, read
from aiflow_lite.server.guard import CallGuard

SERVICE = "aiflow_lite.v1.NotificationService"


class NotificationService:
    def __init__(self, settings: Settings, guard: CallGuard, max_listeners: int) -> None:
        self.settings = settings
        self.guard = guard
        self.max_listeners = max_listeners
        self._local = threading.local()
        self._listeners = 0
        self._lock = threading.Lock()
        self._connections: list = []

    def _log(self) -> EventLog:
        event_log = getattr(self._local, "log", None)
        if event_log is None:
            event_log = self._local.log = EventLog(open_database(self.settings))
            with self._lock:
                self._connections.append(event_log)
        return event_log

    # -- unary calls --------------------------------------------------------------------------

    def SendEvent(self, request: pb.Event, context: Any) -> pb.Event:
        e = event_from_message(request)
        return event_to_message(self._log().append(e.key, e.value, e.namespace, e.sender,
                                                   e.context))

    def SendEvents(self, request: pb.SendEventsRequest, context: Any) -> pb.EventList:
        events = self._log().append_many([event_from_message(m) for m in request.events])
        return pb.EventList(events=[event_to_message(e) for e in events])

    def ListEvents(self, request: pb.EventFilter, context: Any) -> pb.EventList:
        f = read(request)
        events = self._log().read_after(f["begin_offset"], keys=f["keys"] or None,
                                        namespace=f["namespace"], sender=f["sender"],
                                        begin_time=f["begin_time"], limit=f["limit"])
        return pb.EventList(events=[event_to_message(e) for e in events])

    def CountEvents(self, request: pb.EventFilter, context: Any) -> pb.CountReply:
        f = read(request)
        return pb.CountReply(count=self._log().count(
            f["begin_offset"], keys=f["keys"] or None, namespace=f["namespace"],
            sender=f["sender"], begin_time=f["begin_time"]))

    def LatestOffset(self, request: pb.Empty, context: Any) -> pb.OffsetReply:
        return pb.OffsetReply(offset=self._log().latest_offset())

    def TimeToOffset(self, request: pb.TimeToOffsetRequest, context: Any) -> pb.OffsetReply:
        return pb.OffsetReply(offset=self._log().offset_at(request.time))

    def GetCursor(self, request: pb.CursorRequest, context: Any) -> pb.CursorReply:
        offset = self._log().cursor(request.name)
        return pb.CursorReply() if offset is None else pb.CursorReply(offset=offset)

    def AdvanceCursor(self, request: pb.AdvanceCursorRequest, context: Any) -> pb.Empty:
        event_log = self._log()
        with event_log.db.transaction():
            event_log.advance_cursor(request.name, request.offset)
        return pb.Empty()

    # -- the listen stream --------------------------------------------------------------------

    def Listen(self, request: pb.ListenRequest, context: Any) -> Iterator[pb.EventList]:
        with self._lock:
            if self._listeners >= self.max_listeners:
                raise Busy(f"this server already serves {self.max_listeners} listeners "
                           "(rpc_max_listeners); retry later")
            self._listeners += 1
        # Bound before the first read: a commit after this point always wakes us.
        wake = WakeSocket(wake_dir_for(self.settings.db_path))
        context.add_callback(wake.interrupt)  # the client left or the server stops
        try:
            event_log = self._log()
            f = read(request)
            position = f["begin_offset"]
            if f["cursor"]:
                saved = event_log.cursor(f["cursor"])
                position = position if saved is None else saved
            keys = f["keys"] or None
            while context.is_active():
                batch = event_log.read_after(position, keys=keys, namespace=f["namespace"],
                                             limit=LISTEN_BATCH)
                if not batch:
                    wake.wait(SAFETY_POLL_S)
                    continue
                position = batch[-1].offset
                yield pb.EventList(events=[event_to_message(e) for e in batch])
        finally:
            wake.close()
            with self._lock:
                self._listeners -= 1

    # -- wiring -------------------------------------------------------------------------------

    def handler(self) -> grpc.GenericRpcHandler:
        methods: Dict[str, grpc.RpcMethodHandler] = {}
        for method in pb.DESCRIPTOR.services_by_name["NotificationService"].methods:
            request_type = getattr(pb, method.input_type.name)
            reply_type = getattr(pb, method.output_type.name)
            function = getattr(self, method.name)
            if method.server_streaming:
                methods[method.name] = grpc.unary_stream_rpc_method_handler(
                    self.guard.stream(function), request_deserializer=request_type.FromString,
                    response_serializer=reply_type.SerializeToString)
            else:
                methods[method.name] = grpc.unary_unary_rpc_method_handler(
                    self.guard.unary(function), request_deserializer=request_type.FromString,
                    response_serializer=reply_type.SerializeToString)
        return grpc.method_handlers_generic_handler(SERVICE, methods)

    def close(self) -> None:
        with self._lock:
            for event_log in self._connections:
                # A connection still inside a call (a write waiting for the lock) refuses to
                # close from this thread; the process is ending, its call will end too.
                with contextlib.suppress(Exception):
                    event_log.db.close()
            self._connections.clear()
