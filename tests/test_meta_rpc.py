"""The meta service over gRPC: datasets, models and their versions, metrics, artifacts and task
outputs through a client home that only names the server, read back equal to what the server's
home holds, with the same one-line errors as locally. One server serves the whole module."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Callable, Tuple

import pytest
from rpc_helpers import ServerProcess, client_home

from aiflow_lite import ops
from aiflow_lite.errors import AiflowError, Busy, InvalidInput, NotFound
from aiflow_lite.status import ModelVersionStage as Stage

#: Small, so that the size limits are tried with small files.
LIMIT_MB = 1


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("meta_rpc")
    server = ServerProcess(root / "server_home", "aiflow", rpc_max_message_mb=LIMIT_MB).start()
    yield server
    server.stop()


class Homes:
    """Switches AIFLOW_HOME between the client's home (every `ops` call goes to the server)
    and the server's home (the same calls, run locally on its database)."""

    def __init__(self, server: ServerProcess, client: Path, monkeypatch: Any) -> None:
        self.server_home = server.home
        self.client_home = client
        self.monkeypatch = monkeypatch
        self.client()

    def client(self) -> None:
        self.monkeypatch.setenv("AIFLOW_HOME", str(self.client_home))

    def server(self) -> None:
        self.monkeypatch.setenv("AIFLOW_HOME", str(self.server_home))

    def both(self, call: Callable[[], Any]) -> Tuple[Any, Any]:
        """(`call()` over gRPC, `call()` on the server's home)."""
        self.client()
        try:
            remote = call()
        finally:
            self.server()
        try:
            return remote, call()
        finally:
            self.client()

    def both_fail(self, call: Callable[[], Any], kind: type) -> AiflowError:
        """`call` fails remotely exactly as it does locally: same class, same one line."""
        errors = []
        for switch in (self.client, self.server):
            switch()
            with pytest.raises(AiflowError) as failure:
                call()
            errors.append(failure.value)
        self.client()
        remote, local = errors
        assert type(remote) is type(local) and isinstance(remote, kind), (remote, local)
        assert str(remote) == str(local) and "\n" not in str(remote)
        return remote


@pytest.fixture
def homes(server, tmp_path, monkeypatch) -> Homes:
    for name in ("NOTIFICATION_HOME", "AIFLOW_SERVER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    homes = Homes(server, client_home(tmp_path, server.address), monkeypatch)
    yield homes
    # Every call went to the server: nothing was written on the client's side.
    assert sorted(p.name for p in homes.client_home.iterdir()) == ["aiflow_client.yaml"]


def test_the_model_lifecycle_over_grpc(homes):
    model = ops.register_model("clf", "a classifier", {"owner": "ml", "tags": ["a"]})
    assert model.latest_version is None and model.properties == {"owner": "ml", "tags": ["a"]}
    bare = ops.register_model("bare")
    assert (bare.description, bare.properties, bare.latest_version) == (None, {}, None)
    ops.register_dataset("clf_train", "file:///data/train.csv")
    v1 = ops.register_model_version("clf", "file:///models/1", datasets=["clf_train"])
    assert (v1.version, v1.stage, v1.description, v1.properties, v1.datasets, v1.lineage) == \
        (1, "GENERATED", None, {}, ["clf_train"], {})
    assert ops.update_model_version("clf", 1, Stage.VALIDATED).stage == "VALIDATED"
    assert ops.update_model_version("clf", 1, "deployed").stage == "DEPLOYED"  # a str works too
    v2 = ops.register_model_version("clf", "file:///models/2", stage=Stage.DEPLOYED,
                                    description="second", properties={"auc": 0.9},
                                    datasets="clf_train")  # one name, not its letters
    assert (v2.version, v2.stage, v2.datasets, v2.properties) == \
        (2, "DEPLOYED", ["clf_train"], {"auc": 0.9})
    assert ops.get_model_version("clf", 1).stage == "DEPRECATED"
    assert ops.get_latest_model_version("clf", Stage.DEPLOYED).version == 2
    assert [v.version for v in ops.list_model_versions("clf", stage="DEPRECATED")] == [1]
    assert ops.get_model("clf").latest_version == 2
    assert ops.get_model("missing") is None and ops.get_model_version("clf", 9) is None
    assert ops.get_latest_model_version("bare") is None

    reads = [
        lambda: ops.get_model("clf"),
        lambda: ops.get_model("bare"),
        lambda: ops.list_models(),
        lambda: ops.list_models(limit=1, offset=1),
        lambda: ops.get_model_version("clf", 1),
        lambda: ops.get_model_version("clf", 2),
        lambda: ops.get_latest_model_version("clf"),
        lambda: ops.list_model_versions("clf"),
        lambda: ops.list_model_versions("clf", Stage.DEPLOYED, limit=5),
        lambda: ops.get_dataset("clf_train"),
    ]
    for read in reads:
        remote, local = homes.both(read)
        assert remote == local

    deleted = ops.delete_model_version("clf", 1)
    assert deleted.stage == "DELETED"
    assert [v.version for v in ops.list_model_versions("clf")] == [2]
    assert ops.list_model_versions("clf", "DELETED") == [deleted]
    ops.delete_model("bare")
    assert ops.get_model("bare") is None


def test_metrics_over_grpc(homes):
    ops.register_model("scorer")
    ops.register_model_version("scorer", "file:///scorer/1")
    ops.register_dataset("scorer_eval", "file:///eval")
    point = ops.log_metric("acc", 0.5, step=1, model_name="scorer", model_version=1)
    assert (point.key, point.value, point.step, point.model_name, point.model_version,
            point.dataset_name, point.workflow_execution_id, point.task_execution_id) == \
        ("acc", 0.5, 1, "scorer", 1, None, None, None)
    plain = ops.log_metric("loss", 3)
    assert (plain.value, plain.step, plain.model_name, plain.model_version) == (3.0, 0, None,
                                                                                None)
    assert ops.log_metrics({"loss": 0.25, "f1": 0.75}, step=2, dataset_name="scorer_eval") == 2
    for step in range(3, 40):
        ops.log_metric("loss", 1 / step, step=step)
    history = ops.get_metric_history("loss")
    assert history.steps[:3] == [0, 2, 3] and history.values[-1] == 1 / 39  # every dataset's
    assert len(history) == 39 and list(history)[2] == (3, 1 / 3, history.timestamps[2])
    assert ops.get_metric_history("loss", dataset_name="scorer_eval").values == [0.25]
    assert ops.get_metric_history("never_logged").steps == []
    latest = ops.list_metrics(key="loss")
    assert {(m.value, m.dataset_name) for m in latest} == {(1 / 39, None), (0.25, "scorer_eval")}

    reads = [
        lambda: ops.list_metrics(),
        lambda: ops.list_metrics(model_name="scorer", model_version=1),
        lambda: ops.list_metrics(dataset_name="scorer_eval", limit=1),
        lambda: ops.get_metric_history("loss"),
        lambda: ops.get_metric_history("acc", model_name="scorer"),
        lambda: ops.get_metric_history("never_logged"),
    ]
    for read in reads:
        remote, local = homes.both(read)
        assert remote == local
    homes.both_fail(lambda: ops.log_metric("acc", float("nan")), InvalidInput)
    homes.both_fail(lambda: ops.log_metrics({}), InvalidInput)
    homes.both_fail(lambda: ops.log_metric("acc", 1.0, model_name="scorer"), InvalidInput)
    homes.both_fail(lambda: ops.list_metrics(model_name="scorer", model_version=7), NotFound)


def test_datasets_over_grpc(homes):
    made = ops.register_dataset("users", "s3://bucket/users", "parquet", "the users",
                                {"id": "int64", "name": "string"}, {"rows": 10})
    assert (made.data_format, made.schema, made.properties, made.lineage) == \
        ("parquet", {"id": "int64", "name": "string"}, {"rows": 10}, {})
    bare = ops.register_dataset("bare_ds", "file:///x")
    assert (bare.data_format, bare.description, bare.schema, bare.properties) == \
        (None, None, {}, {})
    changed = ops.update_dataset("users", description="all users", properties={})
    assert (changed.description, changed.properties, changed.schema, changed.uri) == \
        ("all users", {}, made.schema, made.uri)  # None kept a field, {} replaced one
    assert ops.update_dataset("users", schema={}).schema == {}
    for read in (lambda: ops.get_dataset("users"), lambda: ops.get_dataset("bare_ds"),
                 lambda: ops.list_datasets(), lambda: ops.list_datasets(limit=1, offset=1)):
        remote, local = homes.both(read)
        assert remote == local
    ops.delete_dataset("bare_ds")
    assert ops.get_dataset("bare_ds") is None
    homes.both_fail(lambda: ops.delete_dataset("bare_ds"), NotFound)
    homes.both_fail(lambda: ops.register_dataset("users", "file:///again"), InvalidInput)
    homes.both_fail(lambda: ops.update_dataset("users", schema={"id": 3}), InvalidInput)
    homes.both_fail(lambda: ops.list_datasets(namespace="no_such_ns"), NotFound)


def test_artifacts_travel_as_bytes_and_land_in_the_clients_directory(homes, server, tmp_path,
                                                                    monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    data = os.urandom(300_000)
    source = work / "weights.bin"
    source.write_bytes(data)
    first = ops.register_artifact("weights", str(source), "the weights")
    assert (first.version, first.file_name, first.size, first.content_hash, first.description,
            first.lineage) == (1, "weights.bin", len(data), hashlib.sha256(data).hexdigest(),
                               "the weights", {})
    empty = work / "empty.txt"
    empty.write_bytes(b"")
    second = ops.register_artifact("weights", str(empty))
    assert (second.version, second.size, second.description) == (2, 0, None)
    for read in (lambda: ops.get_artifact("weights"), lambda: ops.get_artifact("weights", 1),
                 lambda: ops.list_artifacts(), lambda: ops.list_artifacts("weights")):
        remote, local = homes.both(read)
        assert remote == local
    assert ops.get_artifact("weights", 5) is None

    # A relative `dest` is the client's: the server's working directory never sees it.
    monkeypatch.chdir(work)
    target = ops.download_artifact("weights", "downloads", version=1)
    assert target == str(work / "downloads" / "weights.bin")
    assert Path(target).read_bytes() == data
    assert os.listdir(work / "downloads") == ["weights.bin"]  # no temporary file left
    Path(target).write_bytes(b"mine")
    with pytest.raises(InvalidInput, match="already exists"):  # kept unless told
        ops.download_artifact("weights", "downloads", version=1)
    assert Path(target).read_bytes() == b"mine"
    ops.download_artifact("weights", "downloads", version=1, overwrite=True)
    assert Path(target).read_bytes() == data
    server_cwd = os.readlink(f"/proc/{server.proc.pid}/cwd")
    assert not os.path.exists(os.path.join(server_cwd, "downloads"))
    latest = ops.download_artifact("weights", str(tmp_path / "latest"))
    assert Path(latest).name == "empty.txt" and Path(latest).read_bytes() == b""

    homes.both_fail(lambda: ops.download_artifact("weights", str(work), version=9), NotFound)
    homes.both_fail(lambda: ops.register_artifact("../evil", str(source)), InvalidInput)
    homes.both_fail(lambda: ops.register_artifact("w", str(work)), InvalidInput)
    homes.both_fail(lambda: ops.register_artifact("w", str(work / "absent")), InvalidInput)


def test_artifacts_over_the_message_limit_are_refused_in_one_line(homes, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom((LIMIT_MB << 20) + 1000))
    with pytest.raises(Busy, match="rpc_max_message_mb") as failure:
        ops.register_artifact("big", str(big))
    assert "\n" not in str(failure.value)
    homes.server()
    stored = ops.register_artifact("big_local", str(big))  # on the server's host, no limit
    homes.client()
    dest = tmp_path / "dest"
    with pytest.raises(Busy, match=rf"artifact 'big_local' version 1 is {stored.size} bytes, "
                                   r"over the 1 MiB .*rpc_max_message_mb"):
        ops.download_artifact("big_local", str(dest))
    assert not dest.exists() or os.listdir(dest) == []
    assert ops.get_artifact("big") is None


def test_errors_arrive_as_the_same_one_line_errors_as_locally(homes):
    ops.register_model("errs")
    ops.register_model_version("errs", "file:///errs/1")
    assert homes.both(lambda: ops.get_model_version("errs", 9)) == (None, None)
    homes.both_fail(lambda: ops.get_model_version("no_such_model", 1), NotFound)
    homes.both_fail(lambda: ops.get_latest_model_version("no_such_model"), NotFound)
    homes.both_fail(lambda: ops.update_model_version("no_such_model", 1, "VALIDATED"), NotFound)
    homes.both_fail(lambda: ops.register_model_version("no_such_model", "u"), NotFound)
    homes.both_fail(lambda: ops.list_model_versions("no_such_model"), NotFound)
    homes.both_fail(lambda: ops.update_model_version("errs", 1, "BOGUS"), InvalidInput)
    homes.both_fail(lambda: ops.list_model_versions("errs", stage="nope"), InvalidInput)
    homes.both_fail(lambda: ops.update_model_version("errs", 7, Stage.VALIDATED), NotFound)
    homes.both_fail(lambda: ops.register_model("errs"), InvalidInput)
    homes.both_fail(lambda: ops.register_model("bad name"), InvalidInput)
    homes.both_fail(lambda: ops.register_model_version("errs", "u", datasets=["no_ds"]),
                    NotFound)
    homes.both_fail(lambda: ops.get_task_outputs(987654), NotFound)
    # Refused on the client as they are locally (not sent as 1.0, or as the object's str()).
    with pytest.raises(InvalidInput, match="not a bool"):
        ops.log_metric("acc", True)
    with pytest.raises(InvalidInput, match="only JSON values"):
        ops.register_model("odd", properties={"when": object()})
    assert ops.get_model("odd") is None
    assert ops.log_metric("acc", "0.5").value == 0.5  # what float() takes, as locally


def test_a_raw_request_with_a_bad_file_name_is_refused(homes, server, tmp_path):
    from aiflow_lite.config import ClientSettings
    from aiflow_lite.rpc import aiflow_pb2 as pb
    from aiflow_lite.rpc.channel import Connection

    connection = Connection(server.address, ClientSettings("", server.address, None, None, 10))
    try:
        for bad in ("../escape.txt", "a/b.txt", "/abs.txt", "a\\b.txt", "", ".", "..",
                    "nul\x00.txt"):
            request = pb.RegisterArtifactRequest(
                name="raw", path=pb.ArtifactFile(file_name=bad, content=b"x"))
            with pytest.raises(InvalidInput, match="plain file name"):
                connection.call("OpsService", "RegisterArtifact", request, pb.ArtifactReply)
        ok = pb.RegisterArtifactRequest(name="raw", path=pb.ArtifactFile(file_name="ok.txt",
                                                                         content=b"fine"))
        reply = connection.call("OpsService", "RegisterArtifact", ok, pb.ArtifactReply)
        assert (reply.result.file_name, reply.result.size) == ("ok.txt", 4)
    finally:
        connection.close()
    assert [a.file_name for a in ops.list_artifacts("raw")] == ["ok.txt"]
    assert not (tmp_path.parent / "escape.txt").exists()


def test_every_meta_record_survives_the_codec_with_none_empty_and_lists_kept():
    from aiflow_lite import meta
    from aiflow_lite.rpc import aiflow_pb2 as pb
    from aiflow_lite.rpc.codec import from_message, to_message

    lineage = {"workflow": "default.w", "snapshot_id": 3, "workflow_execution_id": 4,
               "task_execution_id": 5, "task_name": "train"}
    version = meta.ModelVersionMeta("default", "m", 2, "file:///m", "DEPLOYED", None, {}, 1, 2,
                                    [], lineage)
    records = [
        meta.DatasetMeta("default", "d", "file:///d", None, None, {}, {}, 1, 2, {}),
        meta.DatasetMeta("ns", "d", "u", "csv", "", {"a": "int64"}, {"k": [1, None]}, 1, 2,
                         lineage),
        meta.ModelMeta("default", "m", None, {}, 1, 2),
        meta.ModelMeta("default", "m", "d", {"x": {"y": 1}}, 1, 2, 0),
        version,
        meta.ModelVersionMeta("default", "m", 1, "u", "GENERATED", "", {"p": 1.5}, 1, 2,
                              ["a", "b"], {}),
        meta.MetricMeta(1, "default", "acc", 0.1, -3, 5),
        meta.MetricMeta(2, "default", "acc", 0.0, 0, 5, "m", 0, "d", 0, 7),
        meta.MetricHistory("default", "acc", [], [], []),
        meta.MetricHistory("default", "acc", [0, 1, -2], [0.5, 1e300, -0.0], [5, 6, 7]),
        meta.ArtifactMeta("default", "a", 1, "file:///b", "f.bin", "ab" * 32, 0, None, 1, {}),
        meta.TaskOutputs(5, [], [], [], []),
        meta.TaskOutputs(5, [version], [meta.DatasetMeta("n", "d", "u", None, None, {}, {}, 1,
                                                         2, lineage)],
                         [meta.ArtifactMeta("n", "a", 2, "u", "f", "h", 3, "x", 1, lineage)],
                         [meta.MetricMeta(1, "n", "k", 2.0, 0, 1, task_execution_id=5)]),
    ]
    for record in records:
        message_type = pb.DESCRIPTOR.message_types_by_name[type(record).__name__]
        message = to_message(record, message_type)
        again = from_message(type(message).FromString(message.SerializeToString()))
        assert again == record and type(again) is type(record)
        for name, value in vars(record).items():  # None stays None, {} and [] stay empty
            assert type(getattr(again, name)) is type(value), (record, name)


def test_a_download_is_checked_before_a_byte_lands_in_dest(tmp_path):
    """What the client does with a reply: a corrupt body or an unsafe file name (a server
    that misbehaves) writes nothing."""
    from aiflow_lite.errors import HomeError
    from aiflow_lite.meta import ArtifactMeta
    from aiflow_lite.rpc.client import write_artifact

    data = b"payload"
    digest = hashlib.sha256(data).hexdigest()

    def record(file_name: str, content_hash: str = digest) -> ArtifactMeta:
        return ArtifactMeta("default", "a", 1, "u", file_name, content_hash, len(data), None, 1,
                            {})

    dest = tmp_path / "dest"
    with pytest.raises(HomeError, match="do not match its sha256"):
        write_artifact(record("a.bin", "0" * 64), data, str(dest))
    for bad in ("../a.bin", "x/a.bin", "..", "", "a\\b"):
        with pytest.raises(InvalidInput, match="plain file name"):
            write_artifact(record(bad), data, str(dest))
    assert not dest.exists() and not (tmp_path / "a.bin").exists()
    assert write_artifact(record("a.bin"), data, str(dest)) == str(dest / "a.bin")
    assert os.listdir(dest) == ["a.bin"] and (dest / "a.bin").read_bytes() == data
