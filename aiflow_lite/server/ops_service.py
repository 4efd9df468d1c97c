"""The operations service: each `ops` function as an rpc of the same name (in CamelCase), run on
the server's home. Two calls carry code — an upload runs the uploaded workflow file (in a child
process, not in the server), a trigger's rule is unpickled — and so are served only to a peer
that presented the server's token. Two carry a file's bytes, in one message each way: an
artifact registered from, or downloaded to, the client's disk; nothing in them is run or
unpickled, so they need no token."""

from __future__ import annotations

import os
import zipfile
from typing import Any, Callable, Dict, List

import grpc

from aiflow_lite import __version__
from aiflow_lite.config import Settings
from aiflow_lite.errors import InvalidInput
from aiflow_lite.meta import WorkflowMeta
from aiflow_lite.rpc import aiflow_pb2 as pb
from aiflow_lite.rpc.codec import fill, method_name, read
from aiflow_lite.server.guard import CallGuard

SERVICE = "aiflow_lite.v1.OpsService"
#: How long an uploaded workflow file may take to run its top level.
UPLOAD_TIMEOUT_S = 300.0


class OpsService:
    def __init__(self, settings: Settings, guard: CallGuard) -> None:
        from aiflow_lite import ops
        from aiflow_lite.ops import backend

        backend.serve_locally()  # this process is the server: never forward to one
        self.settings = settings
        self.guard = guard
        self.functions: Dict[str, Callable[..., Any]] = {
            method_name(name): getattr(ops, name) for name in ops.__all__}
        #: An upload may expand to this much (a zip bomb must not fill the disk).
        self.max_message_bytes = settings.rpc_max_message_mb << 20
        self.max_expanded_bytes = 16 * self.max_message_bytes

    def call(self, method: Any, request: Any, context: Any) -> Any:
        reply_type = getattr(pb, method.output_type.name)
        if method.name == "UploadWorkflows":
            result = self.upload(request, context)
        elif method.name == "AddWorkflowTrigger":
            result = self.add_trigger(request, context)
        elif method.name == "RegisterArtifact":
            result = self.register_artifact(request)
        elif method.name == "DownloadArtifact":
            return self.download_artifact(request)
        elif method.name == "ServerInfo":
            return self.server_info()
        else:
            result = self.functions[method.name](**read(request))
        reply = reply_type()
        if "result" in reply_type.DESCRIPTOR.fields_by_name:
            fill(reply, {"result": result})
        return reply

    def upload(self, request: pb.UploadWorkflowsRequest, context: Any) -> Any:
        from aiflow_lite.blob import extract_snapshot, temporary_directory

        self.guard.require_authenticated(context, "uploading a workflow")
        names = [request.workflow_file_name, *request.artifact_names]
        for name in names:
            if not name or name != os.path.basename(name) or name in (".", ".."):
                raise InvalidInput(f"invalid uploaded file name {name!r}: a plain file name")
        with temporary_directory() as tmp:
            archive = os.path.join(tmp, "upload.zip")
            with open(archive, "wb") as fh:
                fh.write(request.snapshot_zip)
            root = os.path.join(tmp, "files")
            try:
                _check_expanded_size(archive, self.max_expanded_bytes)
                extract_snapshot(archive, root)  # refuses members that would escape `root`
            except InvalidInput:
                raise
            except (OSError, ValueError, NotImplementedError, zipfile.BadZipFile) as exc:
                raise InvalidInput(f"the uploaded snapshot is not a valid zip: {exc}") from None
            path = os.path.join(root, request.workflow_file_name)
            if not os.path.isfile(path):
                raise InvalidInput(f"the upload holds no file {request.workflow_file_name!r}")
            return self._upload_in_a_process(
                path, [os.path.join(root, n) for n in request.artifact_names])

    def _upload_in_a_process(self, path: str, artifacts: List[str]) -> List[WorkflowMeta]:
        """Run the upload in a child process (`aiflow_lite.server.upload`): the file's code
        never runs inside the server."""
        import json
        import subprocess
        import sys

        env = {**os.environ, "AIFLOW_HOME": self.settings.home}
        env.pop("NOTIFICATION_HOME", None)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "aiflow_lite.server.upload", path, *artifacts],
                capture_output=True, text=True, env=env, timeout=UPLOAD_TIMEOUT_S,
                cwd=os.path.dirname(path))
        except subprocess.TimeoutExpired:
            raise InvalidInput(f"the workflow file ran longer than {UPLOAD_TIMEOUT_S:.0f}s "
                               "while being uploaded; keep its top level quick") from None
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines()
            raise InvalidInput(lines[-1] if lines else f"the upload failed ({done.returncode})")
        return [WorkflowMeta(**json.loads(line)) for line in done.stdout.splitlines() if line]

    def add_trigger(self, request: pb.AddTriggerRequest, context: Any) -> Any:
        self.guard.require_authenticated(context, "adding a workflow trigger")
        import cloudpickle

        try:
            rule = cloudpickle.loads(request.rule_pickle)  # an authenticated peer's bytes only
        except Exception as exc:
            raise InvalidInput(f"cannot read the trigger's rule: {exc}") from None
        return self.functions["AddWorkflowTrigger"](rule, request.workflow_name,
                                                    request.namespace)

    def register_artifact(self, request: pb.RegisterArtifactRequest) -> Any:
        """The client's file, written under its own name into a temporary directory, registered
        as a local file is; the directory goes once the blob manager holds the bytes."""
        from aiflow_lite.blob import plain_file_name, temporary_directory

        file_name = plain_file_name(request.path.file_name)  # a plain name, nothing else
        content = request.path.content
        request.ClearField("path")  # the other fields are read as any request's are
        values = read(request)
        with temporary_directory() as tmp:
            path = os.path.join(tmp, file_name)
            with open(path, "wb") as fh:
                fh.write(content)
            return self.functions["RegisterArtifact"](values["name"], path,
                                                      values["description"],
                                                      values["namespace"])

    def download_artifact(self, request: pb.DownloadArtifactRequest) -> Any:
        """The version's record and bytes (checked against its sha256 here, and again by the
        client), when they fit in one reply; `dest` is the client's business."""
        from aiflow_lite.blob import temporary_directory
        from aiflow_lite.errors import Busy
        from aiflow_lite.ops.artifact_ops import _blob_manager, fetch_artifact
        from aiflow_lite.ops.backend import stores
        from aiflow_lite.rpc.codec import to_message

        values = read(request)
        with stores() as s:
            artifact = s.artifacts.require(values["name"], values["version"],
                                           values["namespace"])
        limit = self.max_message_bytes
        too_big = Busy(f"artifact {artifact.name!r} version {artifact.version} is "
                       f"{artifact.size} bytes, over the {limit >> 20} MiB this server sends "
                       "in one message (rpc_max_message_mb); download it on the server's host "
                       "or raise rpc_max_message_mb")
        if artifact.size >= limit:
            raise too_big
        with temporary_directory() as tmp:
            local = fetch_artifact(artifact, tmp, _blob_manager())
            with open(local, "rb") as fh:
                content = fh.read()
        reply = pb.DownloadArtifactReply(
            artifact=to_message(artifact, pb.DESCRIPTOR.message_types_by_name["ArtifactMeta"]),
            content=content)
        if reply.ByteSize() > limit:
            raise too_big
        return reply

    def server_info(self) -> pb.ServerInfoReply:
        from aiflow_lite.ops.backend import scheduler_pid

        reply = pb.ServerInfoReply(version=__version__, home=self.settings.home)
        pid = scheduler_pid()
        if pid is not None:
            reply.scheduler_pid = pid
        return reply

    def handler(self) -> grpc.GenericRpcHandler:
        methods: Dict[str, grpc.RpcMethodHandler] = {}
        for method in pb.DESCRIPTOR.services_by_name["OpsService"].methods:
            if method.name not in self.functions and method.name != "ServerInfo":
                raise AssertionError(f"OpsService.{method.name} names no ops function")

            def handle(request: Any, context: Any, method: Any = method) -> Any:
                return self.call(method, request, context)

            methods[method.name] = grpc.unary_unary_rpc_method_handler(
                self.guard.unary(handle),
                request_deserializer=getattr(pb, method.input_type.name).FromString,
                response_serializer=getattr(pb, method.output_type.name).SerializeToString)
        return grpc.method_handlers_generic_handler(SERVICE, methods)


def _check_expanded_size(archive: str, limit: int) -> None:
    with zipfile.ZipFile(archive) as zf:
        total = sum(info.file_size for info in zf.infolist())
    if total > limit:
        raise InvalidInput(f"the uploaded snapshot expands to {total} bytes, over the "
                           f"{limit}-byte limit (16 x rpc_max_message_mb)")
