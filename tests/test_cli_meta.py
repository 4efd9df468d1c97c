"""The meta service's commands (`aiflow dataset|model|model-version|metric|artifact`) on a real
home: the model lifecycle with one event per change, lineage and metrics of a version, what a
task produced, bad input that writes nothing, every `-o json`, and artifacts round trip."""

from __future__ import annotations

import json
from typing import Optional

import pytest
import yaml
from cli_runner import invoke

from aiflow_lite.cli.aiflow import cli
from aiflow_lite.cli.notification import cli as notification_cli
from aiflow_lite.task_context import TASK_CONTEXT_ENV


def ok(*args: str, input: Optional[str] = None):
    result = invoke(cli, *args, input=input)
    assert result.exit_code == 0, result.stderr
    return result


def js(*args: str):
    """The command's `-o json` output, parsed."""
    return json.loads(ok(*args, "-o", "json").stdout)


def fail(*args: str, input: Optional[str] = None) -> str:
    """A mistake: non-zero exit, one `Error:` line, no traceback, nothing on stdout."""
    result = invoke(cli, *args, input=input)
    assert result.exit_code != 0, result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    return errors[0]


def events(key: str) -> list:
    listed = invoke(notification_cli, "event", "list", key, "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    return json.loads(listed.stdout)


def event_count() -> int:
    counted = invoke(notification_cli, "event", "count", "*")
    assert counted.exit_code == 0, counted.stderr
    return int(counted.stdout)


def _stages(model: str) -> dict:
    return {v["version"]: v["stage"] for v in js("model-version", "list", model)}


def test_the_model_lifecycle_with_one_event_per_change(home):
    ok("model", "register", "churn", "--description", "who leaves", "--properties",
       '{"framework": "sklearn"}')
    assert [e["value"] for e in events("model.churn")] == ["REGISTERED"]
    assert ok("model-version", "register", "churn", "/models/churn/1").stdout == (
        "Model default.churn: version 1, GENERATED.\n")
    assert _stages("churn") == {1: "GENERATED"}
    ok("model-version", "update", "churn", "1", "--stage", "validated")  # any case
    assert _stages("churn") == {1: "VALIDATED"}
    ok("model-version", "update", "churn", "1", "--stage", "DEPLOYED")
    assert _stages("churn") == {1: "DEPLOYED"}
    registered = js("model-version", "register", "churn", "/models/churn/2", "--stage",
                    "DEPLOYED", "--description", "retrained")
    assert (registered["version"], registered["stage"]) == (2, "DEPLOYED")
    assert _stages("churn") == {1: "DEPRECATED", 2: "DEPLOYED"}
    changes = [(e["value"], json.loads(e["context"])["version"], e["sender"])
               for e in events("model_version.churn")]
    assert changes == [("GENERATED", 1, "aiflow.meta"), ("VALIDATED", 1, "aiflow.meta"),
                       ("DEPLOYED", 1, "aiflow.meta"), ("DEPRECATED", 1, "aiflow.meta"),
                       ("DEPLOYED", 2, "aiflow.meta")]
    assert js("model-version", "list", "churn", "--stage", "deprecated")[0]["version"] == 1
    # `model show`: the model with its latest version per stage.
    shown = js("model", "show", "churn")
    assert (shown["name"], shown["latest_version"]) == ("churn", 2)
    assert shown["properties"] == {"framework": "sklearn"}
    latest = {stage: v and v["version"] for stage, v in shown["latest_versions"].items()}
    assert latest == {"GENERATED": None, "VALIDATED": None, "DEPLOYED": 2, "DEPRECATED": 1,
                      "DELETED": None}
    table = ok("model", "show", "churn").stdout
    assert "latest versions" in table and "DEPRECATED" in table
    assert [m["name"] for m in js("model", "list")] == ["churn"]
    # Deleting a version marks it DELETED: listed only when asked for; its number stays used.
    assert invoke(cli, "model-version", "delete", "churn", "1", input="n\n").exit_code == 1
    assert _stages("churn")[1] == "DEPRECATED"
    ok("model-version", "delete", "churn", "1", "-y")
    assert _stages("churn") == {2: "DEPLOYED"}
    assert js("model-version", "list", "churn", "--stage", "DELETED")[0]["version"] == 1
    assert js("model-version", "register", "churn", "/m/3")["version"] == 3
    assert [e["value"] for e in events("model_version.churn")][5:] == ["DELETED", "GENERATED"]
    # Deleting the model asks first, then removes it.
    assert invoke(cli, "model", "delete", "churn", input="n\n").exit_code == 1
    assert js("model", "list") != []
    ok("model", "delete", "churn", "-y")
    assert js("model", "list") == []
    assert [e["value"] for e in events("model.churn")] == ["REGISTERED", "DELETED"]


def test_a_version_shows_its_lineage_and_metrics_and_a_task_what_it_produced(home, tmp_path,
                                                                              monkeypatch):
    from aiflow_lite import ops
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.scheduler import Scheduler
    from aiflow_lite.events import now_ms
    from aiflow_lite.home import open_database

    wf = tmp_path / "wf.py"
    wf.write_text("from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.bash import BashOperator\n"
                  "with Workflow(name='trainer'):\n"
                  "    BashOperator(name='train', bash_command='true')\n")
    ops.upload_workflows(str(wf))
    execution = ops.start_workflow_execution("trainer")
    with open_database(load_aiflow_settings()) as db:
        Scheduler(db).step(now_ms())  # its task execution is made (QUEUED)
    [task] = ops.list_task_executions(execution)
    ok("dataset", "register", "clicks", "/data/clicks.csv")
    ok("model", "register", "churn")
    before = js("task-execution", "show", str(task.id))
    assert before["outputs"] == {"model_versions": [], "datasets": [], "artifacts": [],
                                 "metrics": []}
    # What the task's own commands register (the worker sets its context) carries its lineage.
    monkeypatch.setenv(TASK_CONTEXT_ENV, json.dumps({
        "namespace": "default", "workflow_execution_id": execution,
        "task_execution_id": task.id, "task_name": "train"}))
    ok("model-version", "register", "churn", "/models/churn/1", "--dataset", "clicks")
    ok("dataset", "register", "features", "/data/features.parquet", "--format", "parquet")
    ok("metric", "log", "auc", "0.8", "--model", "churn", "--version", "1")
    ok("metric", "log", "auc", "0.9", "--step", "1", "--model", "churn", "--version", "1")
    ok("metric", "log", "loss", "0.3", "--model", "churn", "--version", "1")
    monkeypatch.delenv(TASK_CONTEXT_ENV)
    ok("metric", "log", "auc", "0.5")  # of no model version: not among the version's metrics

    shown = js("model-version", "show", "churn", "1")
    assert shown["lineage"] == {"workflow": "default.trainer", "snapshot_id": 1,
                                "workflow_execution_id": execution,
                                "task_execution_id": task.id, "task_name": "train"}
    assert shown["datasets"] == ["clicks"]
    assert [(m["key"], m["value"], m["step"]) for m in shown["metrics"]] == [
        ("auc", 0.9, 1), ("loss", 0.3, 0)]
    table = ok("model-version", "show", "churn", "1").stdout
    assert "workflow: default.trainer" in table and "task name: train" in table
    assert f"workflow execution id: {execution}" in table
    assert "input datasets: clicks" in table and "loss" in table
    assert yaml.safe_load(ok("model-version", "show", "churn", "1", "-o", "yaml").stdout) == shown

    # task-execution show: its keys as before, plus what it produced.
    after = js("task-execution", "show", str(task.id))
    assert {k: v for k, v in after.items() if k != "outputs"} == {
        k: v for k, v in before.items() if k != "outputs"}
    produced = after["outputs"]
    assert [(v["model_name"], v["version"]) for v in produced["model_versions"]] == [
        ("churn", 1)]
    assert [d["name"] for d in produced["datasets"]] == ["features"]
    assert sorted((m["key"], m["value"]) for m in produced["metrics"]) == [
        ("auc", 0.9), ("loss", 0.3)]
    text = ok("task-execution", "show", str(task.id)).stdout
    assert "produced:" in text and "churn v1 (GENERATED)" in text and "features" in text
    plain = ok("task-execution", "show", str(task.id), "-o", "plain").stdout.splitlines()
    assert "produced\tdataset\tfeatures" in plain
    assert js("metric", "list", "--task-execution", str(task.id)) == produced["metrics"]


def test_metrics_list_and_history(home):
    ok("dataset", "register", "clicks", "/data/clicks.csv")
    for step, value in enumerate([0.9, 0.5, 0.25]):
        ok("metric", "log", "loss", str(value), "--step", str(step), "--dataset", "clicks")
    ok("metric", "log", "loss", "7")
    history = js("metric", "history", "loss", "--dataset", "clicks")
    assert (history["key"], history["steps"], history["values"]) == (
        "loss", [0, 1, 2], [0.9, 0.5, 0.25])
    assert len(history["timestamps"]) == 3
    table = ok("metric", "history", "loss", "--dataset", "clicks").stdout.splitlines()
    assert table[0].split() == ["STEP", "VALUE", "TIME"] and table[3].split()[:2] == ["2", "0.25"]
    assert len(js("metric", "history", "loss")["values"]) == 4
    latest = js("metric", "list", "--key", "loss")
    assert sorted((m["dataset_name"] or "", m["value"]) for m in latest) == [
        ("", 7.0), ("clicks", 0.25)]
    assert [m["value"] for m in js("metric", "list", "--dataset", "clicks")] == [0.25]
    logged = js("metric", "log", "acc", "1")
    assert (logged["key"], logged["value"], logged["step"]) == ("acc", 1.0, 0)
    assert len(events("metric.loss")) == 4


def test_datasets_register_update_show_delete(home):
    ok("dataset", "register", "clicks", "/data/clicks.csv", "--format", "csv", "--description",
       "raw clicks", "--schema", '{"user_id": "int64"}', "--properties", '{"owner": "ml"}')
    shown = js("dataset", "show", "clicks")
    assert (shown["uri"], shown["data_format"], shown["schema"], shown["properties"]) == (
        "/data/clicks.csv", "csv", {"user_id": "int64"}, {"owner": "ml"})
    updated = js("dataset", "update", "clicks", "--uri", "/data/v2.csv", "--properties", "{}")
    assert (updated["uri"], updated["properties"], updated["data_format"]) == (
        "/data/v2.csv", {}, "csv")
    assert [d["name"] for d in js("dataset", "list")] == ["clicks"]
    assert "clicks" in ok("dataset", "list").stdout
    assert invoke(cli, "dataset", "delete", "clicks", input="n\n").exit_code == 1
    assert js("dataset", "list") != []
    ok("dataset", "delete", "clicks", input="y\n")
    assert js("dataset", "list") == []
    assert [e["value"] for e in events("dataset.clicks")] == ["REGISTERED", "UPDATED", "DELETED"]


def test_artifacts_upload_and_download_round_trip(home, tmp_path):
    source = tmp_path / "vocab.txt"
    source.write_bytes(b"the\nquick\nbrown\n")
    first = js("artifact", "upload", "vocab", str(source), "--description", "v1")
    assert (first["version"], first["size"], first["file_name"]) == (1, 16, "vocab.txt")
    source.write_bytes(b"fox\n")
    assert "version 2" in ok("artifact", "upload", "vocab", str(source)).stdout
    assert [a["version"] for a in js("artifact", "list")] == [2]
    assert [a["version"] for a in js("artifact", "list", "vocab")] == [1, 2]
    assert js("artifact", "show", "vocab", "--version", "1")["description"] == "v1"
    assert js("artifact", "show", "vocab")["version"] == 2
    dest = tmp_path / "out"
    path = ok("artifact", "download", "vocab", str(dest), "--version", "1").stdout.strip()
    assert path == str(dest / "vocab.txt")
    assert (dest / "vocab.txt").read_bytes() == b"the\nquick\nbrown\n"
    refused = invoke(cli, "artifact", "download", "vocab", str(dest))
    assert refused.exit_code == 1 and "already exists" in refused.stderr
    assert (dest / "vocab.txt").read_bytes() == b"the\nquick\nbrown\n"  # kept
    ok("artifact", "download", "vocab", str(dest), "--overwrite")
    assert (dest / "vocab.txt").read_bytes() == b"fox\n"
    assert [e["value"] for e in events("artifact.vocab")] == ["1", "2"]


@pytest.mark.parametrize("args", [
    ("dataset", "register", "d", "/u", "--schema", "{not json"),
    ("dataset", "register", "d", "/u", "--properties", "[1, 2]"),
    ("dataset", "register", "d", "/u", "--schema", '{"col": 3}'),
    ("dataset", "register", "taken", "/u"),  # a duplicate name
    ("dataset", "register", "bad name", "/u"),
    ("dataset", "update", "taken", "--schema", "nope"),
    ("dataset", "update", "missing", "--uri", "/u"),
    ("dataset", "delete", "missing", "-y"),
    ("dataset", "list", "-n", "no_such_namespace"),
    ("model", "register", "known"),  # a duplicate name
    ("model", "register", "m2", "--properties", "{oops"),
    ("model", "delete", "missing", "-y"),
    ("model", "show", "missing"),
    ("model-version", "register", "unknown_model", "/u"),
    ("model-version", "register", "known", "/u", "--stage", "SHIPPED"),
    ("model-version", "register", "known", "/u", "--stage", "DELETED"),
    ("model-version", "register", "known", "/u", "--properties", "1"),
    ("model-version", "register", "known", "/u", "--dataset", "missing"),
    ("model-version", "update", "known", "1", "--stage", "LIVE"),
    ("model-version", "update", "known", "9", "--stage", "DEPLOYED"),
    ("model-version", "update", "unknown_model", "1", "--stage", "DEPLOYED"),
    ("model-version", "show", "known", "9"),
    ("model-version", "show", "unknown_model", "1"),
    ("model-version", "delete", "known", "9", "-y"),
    ("model-version", "list", "unknown_model"),
    ("metric", "log", "auc", "nan"),
    ("metric", "log", "auc", "high"),
    ("metric", "log", "auc", "1", "--version", "1"),
    ("metric", "log", "auc", "1", "--model", "known"),
    ("metric", "log", "auc", "1", "--model", "unknown_model", "--version", "1"),
    ("metric", "log", "auc", "1", "--dataset", "missing"),
    ("metric", "log", "bad key", "1"),
    ("metric", "list", "--version", "1"),
    ("metric", "history", "auc", "--model", "known", "--version", "9"),
    ("artifact", "upload", "../escape", "FILE"),  # a path-traversal name
    ("artifact", "upload", "a/b", "FILE"),
    ("artifact", "upload", "art", "MISSING"),
    ("artifact", "show", "missing"),
    ("artifact", "download", "missing", "OUT"),
    ("task-execution", "show", "99"),
], ids=lambda a: "-".join(a).replace("/", "_"))
def test_a_bad_input_is_one_line_and_writes_nothing(home, tmp_path, args):
    ok("dataset", "register", "taken", "/data/taken")
    ok("model", "register", "known")
    ok("model-version", "register", "known", "/m/1")
    (tmp_path / "file.txt").write_text("x")
    paths = {"FILE": str(tmp_path / "file.txt"), "MISSING": str(tmp_path / "missing.txt"),
             "OUT": str(tmp_path / "out")}
    before = event_count()
    listed = [js(*noun) for noun in (("dataset", "list"), ("model", "list"),
                                     ("model-version", "list", "known"), ("metric", "list"),
                                     ("artifact", "list"))]
    fail(*[paths.get(a, a) for a in args])
    assert event_count() == before
    assert [js(*noun) for noun in (("dataset", "list"), ("model", "list"),
                                   ("model-version", "list", "known"), ("metric", "list"),
                                   ("artifact", "list"))] == listed
    assert not (home / "blob" / "artifacts").exists() and not (tmp_path / "out").exists()


def test_every_meta_command_with_an_output_option_prints_json_and_yaml(home, tmp_path):
    (tmp_path / "f.txt").write_text("x")
    ok("dataset", "register", "d", "/u")
    ok("model", "register", "m")
    ok("model-version", "register", "m", "/m/1")
    ok("metric", "log", "k", "1", "--model", "m", "--version", "1")
    ok("artifact", "upload", "a", str(tmp_path / "f.txt"))
    runs = [
        ("dataset", "register", "d2", "/u"), ("dataset", "list"), ("dataset", "show", "d"),
        ("dataset", "update", "d", "--description", "x"),
        ("model", "register", "m2"), ("model", "list"), ("model", "show", "m"),
        ("model-version", "register", "m", "/m/2"), ("model-version", "list", "m"),
        ("model-version", "show", "m", "1"), ("model-version", "update", "m", "1"),
        ("metric", "log", "k", "2"), ("metric", "list"), ("metric", "history", "k"),
        ("artifact", "upload", "a", str(tmp_path / "f.txt")), ("artifact", "list"),
        ("artifact", "show", "a"),
    ]
    from aiflow_lite.cli.options import OUTPUT_FORMATS

    for args in runs:
        command = cli
        for word in args[:2]:
            command = command.get_command(None, word)
        assert "--output" in [o for p in command.params for o in p.opts], args
        as_json = json.loads(ok(*args, "-o", "json").stdout)
        renamed = [{"d2": "d3", "m2": "m3"}.get(a, a) for a in args]  # no duplicate names
        as_yaml = yaml.safe_load(ok(*renamed, "-o", "yaml").stdout)
        if args[1] in ("register", "upload", "log", "update"):  # a change: a new record
            assert type(as_yaml) is type(as_json), args
        else:
            assert as_yaml == as_json, args
            for fmt in OUTPUT_FORMATS:
                assert ok(*args, "-o", fmt).stdout, (args, fmt)
        if args[1] in ("list",):
            assert isinstance(as_json, list), args
        else:
            assert isinstance(as_json, dict), args
