"""The meta service driving real workflows: tasks that react to each other's model versions
only, lineage recorded without user effort, and a kill -9 in the middle of registering."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import wait_for

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AIFLOW = [sys.executable, "-c", "from aiflow_lite.cli.aiflow import main; main()"]


def _run(workflow: Path, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*AIFLOW, "run", str(workflow), "--home", str(home)],
                          capture_output=True, text=True, timeout=120)


def _use(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("AIFLOW_HOME", str(home))


def test_the_model_lifecycle_example_trains_validates_and_deploys(home, tmp_path, monkeypatch):
    kept = tmp_path / "kept"
    proc = _run(EXAMPLES / "model_lifecycle" / "workflow.py", kept)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "default.model_lifecycle: SUCCESS" in proc.stdout
    assert "fired by event 'model_version.churn'" in proc.stdout  # validate and deploy
    _use(kept, monkeypatch)
    from aiflow_lite import ops

    [version] = ops.list_model_versions("churn")
    assert version.stage == "DEPLOYED"
    assert version.lineage["task_name"] == "train"
    assert version.lineage["workflow"] == "default.model_lifecycle"
    [accuracy] = ops.list_metrics(key="accuracy", model_name="churn", model_version=1)
    assert accuracy.value >= 0.7
    assert len(ops.get_metric_history("train_loss")) == 20


_CHAIN = '''
from aiflow_lite import ModelVersionStage, PythonOperator, TaskAction, Workflow, ops


def produce():
    ops.register_dataset("raw", "file:///raw", schema={"x": "float"})
    ops.register_model("m")
    ops.register_model_version("m", "file:///m1", datasets=["raw"])
    ops.log_metric("rows", 100)


def promote():
    latest = ops.get_latest_model_version("m", ModelVersionStage.GENERATED)
    ops.update_model_version("m", latest.version, stage="VALIDATED")


def second():
    ops.register_model_version("m", "file:///m2", stage="DEPLOYED")


def record(path):
    with open(path, "w") as fh:
        fh.write("done")
    ops.register_artifact("report", path)


with Workflow(name="chain") as workflow:
    PythonOperator(name="produce", python_callable=produce)
    PythonOperator(name="promote", python_callable=promote).action_on_model_version(
        TaskAction.START, "m", ModelVersionStage.GENERATED)
    PythonOperator(name="second", python_callable=second).action_on_model_version(
        TaskAction.START, "m", "VALIDATED")
    PythonOperator(name="report", python_callable=record,
                   op_args=[REPORT]).action_on_model_version(TaskAction.START, "m", "DEPLOYED")
'''


def test_tasks_chained_only_by_model_versions_run_to_success_with_lineage(home, tmp_path,
                                                                          monkeypatch):
    workflow = tmp_path / "chain.py"
    workflow.write_text(_CHAIN.replace("REPORT", repr(str(tmp_path / "report.txt"))))
    kept = tmp_path / "kept"
    proc = _run(workflow, kept)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _use(kept, monkeypatch)
    from aiflow_lite import ops

    tasks = {t.task_name: t for t in ops.list_task_executions(1)}
    assert {name: t.status for name, t in tasks.items()} == dict.fromkeys(
        ["produce", "promote", "second", "report"], "SUCCESS")
    v1, v2 = ops.list_model_versions("m")
    assert (v1.stage, v2.stage) == ("VALIDATED", "DEPLOYED")  # v1 never was deployed
    assert v1.datasets == ["raw"]
    assert v1.lineage == {"workflow": "default.chain", "snapshot_id": 1,
                          "workflow_execution_id": 1, "task_name": "produce",
                          "task_execution_id": tasks["produce"].id}
    assert v2.lineage["task_name"] == "second"
    assert ops.get_dataset("raw").lineage["task_name"] == "produce"
    assert ops.get_artifact("report").lineage["task_name"] == "report"
    outputs = ops.get_task_outputs(tasks["produce"].id)
    assert [v.version for v in outputs.model_versions] == [1]
    assert [d.name for d in outputs.datasets] == ["raw"]
    assert [(m.key, m.value, m.task_execution_id) for m in outputs.metrics] == [
        ("rows", 100.0, tasks["produce"].id)]
    assert ops.get_task_outputs(tasks["promote"].id).model_versions == []  # it changed one
    # The events carry the producer in their lineage, not as an execution scope.
    from aiflow_lite.ns.client import NotificationClient

    with NotificationClient() as client:
        [generated] = [e for e in client.list_events("model_version.m")
                       if e.value == "GENERATED"]
    context = json.loads(generated.context)
    assert "workflow_execution_id" not in context
    assert context["lineage"]["task_name"] == "produce"


_REGISTER_FOREVER = textwrap.dedent('''
    import sys
    from aiflow_lite import ops
    ops.register_model("m")
    print("ready", flush=True)
    while True:
        ops.register_model_version("m", "file:///x")
''')


def test_kill_9_while_registering_leaves_each_version_with_its_event_or_neither(
        home, processes, monkeypatch):
    from aiflow_lite import ops
    from aiflow_lite.ns.client import NotificationClient

    for round_ in range(3):
        monkeypatch.setenv("AIFLOW_HOME", str(home / str(round_)))
        proc = processes.start([sys.executable, "-c", _REGISTER_FOREVER])
        assert proc.stdout.readline().strip() == "ready"
        enough = 50 + 40 * round_
        wait_for(lambda: (ops.get_model("m").latest_version or 0) >= enough,  # noqa: B023
                 timeout=30, message="versions to be registered")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        versions = [v.version for v in ops.list_model_versions("m")]
        with NotificationClient() as client:
            announced = [json.loads(e.context)["version"]
                         for e in client.list_events("model_version.m")]
        assert versions == announced == list(range(1, len(versions) + 1))
        assert ops.get_model("m").latest_version == len(versions)  # no number lost either
