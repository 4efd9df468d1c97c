"""The meta service through `ops` on a local home: stages and the one-DEPLOYED rule, exactly one
event per change committed with it, bad input writing nothing, metrics, artifacts, lineage."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from aiflow_lite import ModelVersionStage, ops
from aiflow_lite.errors import HomeError, InvalidInput, NotFound
from aiflow_lite.ns.client import NotificationClient


def _events(prefix: str = "") -> list:
    with NotificationClient() as client:
        return [e for e in client.list_events("*") if e.key.startswith(prefix)]


def _count() -> int:
    with NotificationClient() as client:
        return client.count_events("*")


def test_deploying_a_version_deprecates_the_one_deployed_before_with_one_event_each(home):
    ops.register_model("churn", description="who leaves")
    assert ops.register_model_version("churn", "file:///v1").stage == "GENERATED"
    ops.update_model_version("churn", 1, stage=ModelVersionStage.VALIDATED)
    ops.update_model_version("churn", 1, stage="deployed")  # names are case-insensitive
    v2 = ops.register_model_version("churn", "file:///v2", stage="DEPLOYED")
    assert (v2.version, v2.stage) == (2, "DEPLOYED")
    assert [(v.version, v.stage) for v in ops.list_model_versions("churn")] == [
        (1, "DEPRECATED"), (2, "DEPLOYED")]
    changes = [(e.value, json.loads(e.context)["version"], json.loads(e.context)["previous_stage"])
               for e in _events("model_version.churn")]
    assert changes == [("GENERATED", 1, None), ("VALIDATED", 1, "GENERATED"),
                       ("DEPLOYED", 1, "VALIDATED"), ("DEPRECATED", 1, "DEPLOYED"),
                       ("DEPLOYED", 2, None)]
    assert {e.sender for e in _events("model")} == {"aiflow.meta"}
    assert [e.value for e in _events("model.churn")] == ["REGISTERED"]
    assert ops.get_latest_model_version("churn", "DEPLOYED").version == 2
    assert ops.get_latest_model_version("churn", "VALIDATED") is None
    assert ops.get_model("churn").latest_version == 2


def test_the_database_itself_refuses_a_second_deployed_version(home):
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.home import open_database

    ops.register_model("m")
    ops.register_model_version("m", "u1", stage="DEPLOYED")
    ops.register_model_version("m", "u2")
    with open_database(load_aiflow_settings()) as db, pytest.raises(Exception, match="UNIQUE"):
        db.execute("UPDATE model_version SET stage = 'DEPLOYED' WHERE version = 2")


def test_version_numbers_are_never_reused_and_deleted_versions_keep_their_record(home):
    ops.register_model("m")
    for uri in ("u1", "u2", "u3"):
        ops.register_model_version("m", uri)
    deleted = ops.delete_model_version("m", 3)
    assert deleted.stage == "DELETED"
    assert ops.register_model_version("m", "u4").version == 4
    assert [v.version for v in ops.list_model_versions("m")] == [1, 2, 4]
    assert [v.version for v in ops.list_model_versions("m", stage="DELETED")] == [3]
    assert ops.get_model_version("m", 3).uri == "u3"
    assert [v.version for v in ops.list_model_versions("m", limit=2, offset=1)] == [2, 4]
    with pytest.raises(InvalidInput, match="already DELETED"):
        ops.delete_model_version("m", 3)
    with pytest.raises(InvalidInput, match="DELETED"):
        ops.update_model_version("m", 3, stage="VALIDATED")


@pytest.mark.parametrize("mistake, error, match", [
    (lambda: ops.register_model_version("nope", "u"), NotFound, "no model 'nope'"),
    (lambda: ops.update_model_version("m", 1, stage="SHIPPED"), InvalidInput,
     "invalid model version stage 'SHIPPED'"),
    (lambda: ops.update_model_version("m", 9, stage="VALIDATED"), NotFound, "no version 9"),
    (lambda: ops.register_model("m"), InvalidInput, "already exists"),
    (lambda: ops.register_model("bad/name"), InvalidInput, "invalid model name"),
    (lambda: ops.register_model_version("m", "u", datasets=["missing"]), NotFound,
     "no dataset 'missing'"),
    (lambda: ops.register_model_version("m", "u", properties=["not", "a", "dict"]), InvalidInput,
     "must be a mapping"),
    (lambda: ops.register_model_version("m", "u", properties={"x": float("nan")}), InvalidInput,
     "JSON values"),
    (lambda: ops.register_model_version("m", ""), InvalidInput, "non-empty"),
    (lambda: ops.register_dataset("d", "u", schema={"col": 3}), InvalidInput, "type name"),
    (lambda: ops.get_model_version("typo", 1), NotFound, "no model 'typo'"),
    (lambda: ops.log_metric("loss", float("inf")), InvalidInput, "finite"),
    (lambda: ops.log_metric("loss", 1.0, model_name="m"), InvalidInput, "both"),
    (lambda: ops.log_metrics({"ok": 1.0, "bad": "x"}), InvalidInput, "must be a number"),
    (lambda: ops.register_model("m2", namespace="nowhere"), NotFound, "namespace 'nowhere'"),
], ids=["unknown model", "unknown stage", "unknown version", "duplicate", "bad name",
        "unknown input dataset", "properties not a mapping", "NaN property", "empty uri",
        "bad schema", "version of an unknown model", "infinite metric",
        "model without version", "one bad metric of many", "unknown namespace"])
def test_a_mistake_is_one_clear_error_and_writes_nothing(home, mistake, error, match):
    ops.register_model("m")
    ops.register_model_version("m", "u")
    before = _count()
    with pytest.raises(error, match=match):
        mistake()
    assert _count() == before
    assert ops.get_model("m").latest_version == 1  # no version number was used up
    assert ops.list_metrics() == []


def test_an_artifact_name_cannot_escape_and_nothing_is_stored(home, tmp_path):
    source = tmp_path / "report.txt"
    source.write_text("hello")
    for name in ("../escape", "a/b", "..", ""):
        with pytest.raises(InvalidInput, match="invalid artifact name"):
            ops.register_artifact(name, str(source))
    assert _count() == 0
    assert not (home / "blob").exists() or not any((home / "blob").rglob("report.txt"))
    with pytest.raises(InvalidInput, match="not a regular file"):
        ops.register_artifact("dir", str(tmp_path))


def test_datasets_register_update_delete_each_with_its_event(home):
    d = ops.register_dataset("clicks", "s3://b/clicks", data_format="parquet",
                             schema={"user": "int64"}, properties={"owner": "ml"})
    assert (d.schema, d.properties, d.lineage) == ({"user": "int64"}, {"owner": "ml"}, {})
    with pytest.raises(InvalidInput, match="already exists"):
        ops.register_dataset("clicks", "elsewhere")
    with pytest.raises(InvalidInput, match="non-empty"):
        ops.update_dataset("clicks", uri=" ")
    updated = ops.update_dataset("clicks", uri="s3://b/clicks/v2", description="daily")
    ops.update_dataset("clicks", uri="s3://b/clicks/v2", properties={"owner": "ml"})  # no change
    assert (updated.uri, updated.description, updated.data_format) == (
        "s3://b/clicks/v2", "daily", "parquet")
    assert [d.name for d in ops.list_datasets()] == ["clicks"]
    ops.delete_dataset("clicks")
    assert ops.get_dataset("clicks") is None
    assert [e.value for e in _events("dataset.clicks")] == ["REGISTERED", "UPDATED", "DELETED"]


def test_metrics_attach_to_versions_and_datasets_and_read_back_as_histories(home):
    ops.register_model("m")
    ops.register_model_version("m", "u1")
    ops.register_model_version("m", "u2")
    ops.register_dataset("eval", "u")
    for step in range(5):
        ops.log_metric("loss", 1.0 / (step + 1), step=step, model_name="m", model_version=1)
    ops.log_metric("loss", 0.1, model_name="m", model_version=2)
    assert ops.log_metrics({"precision": 0.8, "recall": 0.7}, step=3, dataset_name="eval") == 2
    history = ops.get_metric_history("loss", model_name="m", model_version=1)
    assert history.steps == [0, 1, 2, 3, 4] and history.values[-1] == pytest.approx(0.2)
    assert [p.step for p in history] == history.steps and len(history) == 5
    assert len(ops.get_metric_history("loss", model_name="m")) == 6  # every version
    assert len(ops.get_metric_history("loss")) == 6
    latest = {(m.key, m.model_version): m.value for m in ops.list_metrics()}
    assert latest == {("loss", 1): pytest.approx(0.2), ("loss", 2): 0.1,
                      ("precision", None): 0.8, ("recall", None): 0.7}
    assert {m.key for m in ops.list_metrics(dataset_name="eval")} == {"precision", "recall"}
    assert [e.value for e in _events("metric.recall")] == ["0.7"]
    assert len(_events("metric.")) == 8  # one event per point, batched or not
    ops.delete_model("m")  # a model's versions take their metrics with them
    assert {m.key for m in ops.list_metrics()} == {"precision", "recall"}


def test_artifacts_are_versioned_hashed_and_downloaded_intact(home, tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(b"v1" * 1000)
    first = ops.register_artifact("weights", str(source), description="first")
    source.write_bytes(b"v2" * 1000)
    second = ops.register_artifact("weights", str(source))
    assert (first.version, second.version) == (1, 2)
    assert second.content_hash == hashlib.sha256(b"v2" * 1000).hexdigest()
    assert second.size == 2000 and second.file_name == "weights.bin"
    assert [a.version for a in ops.list_artifacts()] == [2]
    assert [a.version for a in ops.list_artifacts("weights")] == [1, 2]
    path = ops.download_artifact("weights", str(tmp_path / "out"), version=1)
    assert path == str(tmp_path / "out" / "weights.bin")
    assert Path(path).read_bytes() == b"v1" * 1000
    with pytest.raises(InvalidInput, match="already exists"):  # a file there is kept...
        ops.download_artifact("weights", str(tmp_path / "out"))
    assert Path(path).read_bytes() == b"v1" * 1000 and os.listdir(tmp_path / "out") == [
        "weights.bin"]
    ops.download_artifact("weights", str(tmp_path / "out"), overwrite=True)  # ...unless asked
    assert Path(path).read_bytes() == b"v2" * 1000
    assert [e.value for e in _events("artifact.weights")] == ["1", "2"]
    # Bytes changed behind the home's back are refused, and nothing lands in dest.
    with open(first.uri, "wb") as fh:
        fh.write(b"tampered")
    with pytest.raises(HomeError, match="no longer match"):
        ops.download_artifact("weights", str(tmp_path / "again"), version=1)
    assert os.listdir(tmp_path / "again") == []
    with pytest.raises(NotFound, match="no artifact 'weights' version 7"):
        ops.download_artifact("weights", str(tmp_path / "x"), version=7)


def test_a_namespace_holding_meta_data_is_not_deleted(home):
    ops.add_namespace("team")
    ops.register_model("m", namespace="team")
    with pytest.raises(InvalidInput, match="still has 1 model"):
        ops.delete_namespace("team")
    ops.delete_model("m", namespace="team")
    ops.delete_namespace("team")


def test_a_rule_on_a_model_version_matches_its_stage_or_any():
    from aiflow_lite.conditions import ModelVersionCondition
    from aiflow_lite.events import Event

    def meta(value: str, **kwargs) -> Event:
        return Event("model_version.churn", value, sender="aiflow.meta", **kwargs)

    validated = ModelVersionCondition("churn", "validated")
    assert validated.expect_event_keys == ["model_version.churn"]
    assert validated.is_met(meta("VALIDATED"), None)
    assert not validated.is_met(meta("GENERATED"), None)
    assert ModelVersionCondition("churn").is_met(meta("DELETED"), None)
    # Anyone can send the key; only the meta service's events count.
    assert not validated.is_met(Event("model_version.churn", "VALIDATED", sender="me"), None)
    # A version already VALIDATED whose description changed has not reached VALIDATED again.
    edited = meta("VALIDATED", context='{"previous_stage":"VALIDATED"}')
    assert not validated.is_met(edited, None)
    assert ModelVersionCondition("churn").is_met(edited, None)
    with pytest.raises(InvalidInput, match="stage"):
        ModelVersionCondition("churn", "SHIPPED")


def test_the_thread_connection_is_reopened_when_the_home_file_is_replaced(home):
    import shutil

    ops.register_model("before")
    shutil.rmtree(home)  # as `db reset` replaces the file under a long-lived process
    assert ops.get_model("before") is None
    ops.register_model("after")
    assert [m.name for m in ops.list_models()] == ["after"]


def test_a_home_at_schema_4_upgrades_to_the_meta_service_and_back(home):
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.errors import SchemaError
    from aiflow_lite.home import open_database
    from aiflow_lite.schema import MIGRATIONS
    from aiflow_lite.sqlite import migrate

    ops.add_namespace("team")
    ops.register_model("m", namespace="team")
    with open_database(load_aiflow_settings()) as db:
        migrate(db, MIGRATIONS, 4)  # what `aiflow db downgrade` runs: the meta tables go
        assert "model" not in db.table_names() and "namespace" in db.table_names()
    # The thread's kept connection notices, and says what to run.
    with pytest.raises(SchemaError, match="run `aiflow db upgrade`"):
        ops.list_models(namespace="team")
    with open_database(load_aiflow_settings(), check_schema=False) as db:
        migrate(db, MIGRATIONS)
    assert ops.get_namespace("team") is not None and ops.list_models(namespace="team") == []
    ops.register_model("m", namespace="team")
    assert ops.get_model("m", namespace="team").latest_version is None


def test_a_forked_child_opens_its_own_connection_and_the_parent_keeps_its(home):
    from aiflow_lite.ops.backend import home_stores

    ops.register_model("m")
    parent = home_stores()
    pid = os.fork()
    if pid == 0:  # the child: never the parent's connection
        code = 0 if home_stores().db is not parent.db and ops.register_model_version(
            "m", "from the child").version == 1 else 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert home_stores() is parent  # still this thread's, still working
    assert ops.get_model_version("m", 1).uri == "from the child"


def test_a_change_that_changes_nothing_appends_no_event(home):
    ops.register_model("m")
    ops.register_model_version("m", "u", stage="DEPLOYED", description="first")
    before = _count()
    ops.update_model_version("m", 1, stage="DEPLOYED", description="first")
    assert _count() == before
    ops.update_model_version("m", 1, description="second")  # a change, in the same stage
    [event] = _events("model_version.m")[-1:]
    assert (event.value, json.loads(event.context)["previous_stage"]) == ("DEPLOYED",
                                                                          "DEPLOYED")


def test_deleting_a_model_announces_each_of_its_versions_deleted(home):
    ops.register_model("m")
    for stage in ("DEPLOYED", "GENERATED", "VALIDATED"):
        ops.register_model_version("m", "u", stage=stage)
    ops.delete_model_version("m", 2)
    before = len(_events("model_version.m"))
    ops.delete_model("m")
    gone = _events("model_version.m")[before:]
    assert [(json.loads(e.context)["version"], e.value, json.loads(e.context)["previous_stage"])
            for e in gone] == [(1, "DELETED", "DEPLOYED"), (3, "DELETED", "VALIDATED")]
    assert [e.value for e in _events("model.m")] == ["REGISTERED", "DELETED"]


def test_an_artifact_for_an_unknown_namespace_stores_no_bytes(home, tmp_path):
    source = tmp_path / "f.txt"
    source.write_text("x")
    with pytest.raises(NotFound, match="namespace 'nope'"):
        ops.register_artifact("a", str(source), namespace="nope")
    assert list(home.rglob("f.txt")) == []
