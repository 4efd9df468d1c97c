"""The `aiflow` admin commands on a real home: namespaces, workflow upload and management, and
every sample workflow of the spec uploaded unmodified."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Optional

import pytest
import yaml
from cli_runner import invoke

from aiflow_lite.cli.aiflow import cli

SAMPLES = Path(__file__).parent / "spec_samples"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
STATUS = "__aiflow.task_status."


def ok(*args: str, input: Optional[str] = None):
    result = invoke(cli, *args, input=input)
    assert result.exit_code == 0, result.stderr
    return result


def fail(*args: str, input: Optional[str] = None):
    result = invoke(cli, *args, input=input)
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    return result.stderr


def _rules(task: dict) -> list:
    """A rule as (action, kind, what): ('START', 'event', 'key'), ('START', 'after',
    'task1=SUCCESS,task2=SUCCESS'), ('START', 'NumCondition', 'num_event')."""
    out = []
    for rule in task["rules"]:
        cond = rule["condition"]
        if cond["type"] == "event":
            out.append((rule["action"], "event", ",".join(cond["event_keys"])))
        elif cond["type"] == "task_status":
            out.append((rule["action"], "after",
                        ",".join(f"{k}={v}" for k, v in cond["upstream"].items())))
        else:
            out.append((rule["action"], cond["type"], ",".join(cond["event_keys"])))
    return out


# sample file → {workflow: {task: [rules]}}; tasks with no START rule start with the execution.
SPEC_SAMPLES = {
    "quickstart": {"quickstart_workflow": {
        "task1": [], "task2": [], "task3": [("START", "after", "task1=SUCCESS,task2=SUCCESS")],
        "task4": [("START", "event", "key")]}},
    "declaring_workflows": {"workflow_name": {
        "task_1": [], "task_2": [("START", "after", "task_1=SUCCESS")]}},
    "periodic_task": {"periodic_task_example": {
        "task_1": [], "task_2": [], "task_3": [("START", "after", "task_1=SUCCESS")]}},
    "task_status_stop": {"my_workflow": {
        "task_1": [], "task_2": [],
        "task_3": [("STOP", "after", "task_1=SUCCESS,task_2=SUCCESS")]}},
    "single_event": {"quickstart_workflow": {
        "task1": [], "task2": [("START", "event", "key")]}},
    "custom_condition": {"condition_workflow": {
        "producer": [], "consumer": [("START", "NumCondition", "num_event")]}},
    "events": {"workflow": {"task1": [], "task2": [("START", "event", "key")]}},
    "event_trigger": {"event_trigger_workflow_1": {"event_task": []},
                      "event_trigger_workflow_2": {"task1": []}},
    "tutorial": {"online_machine_learning": {
        "pre_processing": [], "training": [("START", "event", "data_prepared")],
        "validating": [("START", "after", "training=SUCCESS")],
        "deploying": [("START", "event", "model_validated")], "predicting": []}},
}


@pytest.mark.parametrize("sample", sorted(SPEC_SAMPLES))
def test_every_spec_sample_uploads_unmodified_and_shows_its_tasks_and_rules(home, sample):
    if sample == "tutorial":
        pytest.importorskip("sklearn", reason="the tutorial imports scikit-learn")
    expected = SPEC_SAMPLES[sample]
    out = ok("workflow", "upload", str(SAMPLES / f"{sample}.py")).stdout
    assert out.splitlines() == [f"Workflow: default.{name}, submitted." for name in expected]
    for name, tasks in expected.items():
        shown = json.loads(ok("workflow", "show", name, "-o", "json").stdout)
        got = {t["name"]: _rules(t) for t in shown["structure"]["tasks"]}
        assert got == tasks
        starting = [t["name"] for t in shown["structure"]["tasks"] if t["starts_with_execution"]]
        assert starting == [t for t, rules in tasks.items()
                            if not any(r[0] == "START" for r in rules)]
        tree = ok("workflow", "show", name).stdout
        for task in tasks:
            assert task in tree


def test_periodic_sample_keeps_its_expressions(home):
    ok("workflow", "upload", str(SAMPLES / "periodic_task.py"))
    tasks = json.loads(ok("workflow", "show", "periodic_task_example", "-o", "json").stdout)[
        "structure"]["tasks"]
    assert [t["periodic_expression"] for t in tasks] == [
        "cron@*/1 * * * *", "interval@0 0 1 0", None]
    assert "runs on cron@*/1 * * * *" in ok("workflow", "show", "periodic_task_example").stdout


def test_upload_with_files_stores_one_snapshot_per_changed_content(home, tmp_path):
    src = tmp_path / "proj"
    src.mkdir()
    shutil.copy(SAMPLES / "quickstart.py", src / "wf.py")
    (src / "data.csv").write_text("1\n")
    ok("workflow", "upload", str(src / "wf.py"), "-f", str(src / "data.csv"))
    ok("workflow", "upload", str(src / "wf.py"), "--files", str(src / "data.csv"))  # unchanged
    listed = json.loads(ok("workflow", "list", "-o", "json").stdout)
    assert [(w["name"], w["snapshot_id"]) for w in listed] == [("quickstart_workflow", 1)]
    (src / "data.csv").write_text("2\n")
    ok("workflow", "upload", str(src / "wf.py"), "-f", str(src / "data.csv"))
    listed = json.loads(ok("workflow", "list", "-o", "json").stdout)
    assert listed[0]["snapshot_id"] == 2
    blobs = list((home / "blob").rglob("*.zip"))
    assert len(blobs) == 2


def test_workflow_list_formats_and_lifecycle(home):
    ok("workflow", "upload", str(SAMPLES / "event_trigger.py"))
    rows = json.loads(ok("workflow", "list", "-o", "json").stdout)
    assert [r["name"] for r in rows] == ["event_trigger_workflow_1", "event_trigger_workflow_2"]
    assert yaml.safe_load(ok("workflow", "list", "-o", "yaml").stdout) == rows
    plain = ok("workflow", "list", "-o", "plain").stdout.splitlines()
    assert [line.split("\t")[2] for line in plain] == [r["name"] for r in rows]
    assert "event_trigger_workflow_2" in ok("workflow", "list").stdout
    ok("workflow", "disable", "event_trigger_workflow_2")
    rows = json.loads(ok("workflow", "list", "-o", "json").stdout)
    assert [r["is_enabled"] for r in rows] == [True, False]
    ok("workflow", "enable", "event_trigger_workflow_2")
    assert all(r["is_enabled"] for r in json.loads(ok("workflow", "list", "-o", "json").stdout))
    assert invoke(cli, "workflow", "delete", "event_trigger_workflow_1", input="n\n").exit_code == 1
    ok("workflow", "delete", "event_trigger_workflow_1", "-y")
    rows = json.loads(ok("workflow", "list", "-o", "json").stdout)
    assert [r["name"] for r in rows] == ["event_trigger_workflow_2"]


def test_namespaces(home, tmp_path):
    names = [n["name"] for n in json.loads(ok("namespace", "list", "-o", "json").stdout)]
    assert names == ["default"]
    ok("namespace", "add", "team", "--properties", '{"owner": "ml"}')
    listed = json.loads(ok("namespace", "list", "-o", "json").stdout)
    assert [(n["name"], n["properties"]) for n in listed] == [("default", {}), ("team",
                                                                                {"owner": "ml"})]
    wf = tmp_path / "team_wf.py"
    wf.write_text("from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.bash import BashOperator\n"
                  "with Workflow(name='w', namespace='team'):\n"
                  "    BashOperator(name='t', bash_command='echo')\n")
    ok("workflow", "upload", str(wf))
    assert "still has 1 workflow" in fail("namespace", "delete", "team", "-y")
    ok("workflow", "delete", "w", "-n", "team", "-y")
    ok("namespace", "delete", "team", "-y")
    assert [n["name"] for n in json.loads(ok("namespace", "list", "-o", "json").stdout)] == [
        "default"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["namespace", "add", "bad name"], "invalid namespace 'bad name'"),
        (["namespace", "add", "x", "--properties", "{nope"], "--properties must be a JSON"),
        (["namespace", "add", "x", "--properties", "[1]"], "must be a JSON object"),
        (["namespace", "add", "default"], "namespace 'default' already exists"),
        (["namespace", "delete", "default", "-y"], "cannot be deleted"),
        (["namespace", "delete", "ghost", "-y"], "no namespace named 'ghost'"),
        (["workflow", "show", "ghost"], "no workflow default.ghost"),
        (["workflow", "disable", "ghost"], "no workflow default.ghost"),
        (["workflow", "delete", "ghost", "-y"], "no workflow default.ghost"),
        (["workflow", "upload", "/no/such/file.py"], "no such workflow file"),
    ],
)
def test_bad_admin_input_is_one_line(home, args, message):
    assert message in fail(*args)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = (\n", "SyntaxError"),
        ("raise RuntimeError('no GPU here')\n", "line 1: RuntimeError: no GPU here"),
        ("x = 1\n", "no Workflow found"),
        ("from ai_flow.model.workflow import Workflow\n"
         "from ai_flow.operators.bash import BashOperator\n"
         "with Workflow(name='w', namespace='nowhere'):\n"
         "    BashOperator(name='t', bash_command='echo')\n",
         "namespace 'nowhere' does not exist"),
        ("from ai_flow.model.workflow import Workflow\n"
         "from ai_flow.operators.bash import BashOperator\n"
         "with Workflow(name='w'):\n"
         "    BashOperator(name='t', bash_command='echo', periodic_expression='cron@bad')\n",
         "line 4: InvalidInput: invalid cron expression 'bad'"),
    ],
)
def test_a_bad_workflow_file_is_one_line_and_writes_nothing(home, tmp_path, source, message):
    wf = tmp_path / "bad.py"
    wf.write_text(source)
    assert message in fail("workflow", "upload", str(wf))
    assert json.loads(ok("workflow", "list", "-o", "json").stdout) == []
    assert not (home / "blob").exists()


def test_upload_refuses_files_that_are_missing(home, tmp_path):
    shutil.copy(SAMPLES / "events.py", tmp_path / "wf.py")
    assert "no such file or directory" in fail("workflow", "upload", str(tmp_path / "wf.py"),
                                               "-f", str(tmp_path / "missing.csv"))
    assert json.loads(ok("workflow", "list", "-o", "json").stdout) == []


def test_schedule_and_trigger_lists(home):
    from aiflow_lite import ops
    from aiflow_lite.conditions import SingleEventCondition, WorkflowRule

    ok("workflow", "upload", str(SAMPLES / "quickstart.py"))
    for noun in ("schedule", "trigger"):
        assert json.loads(ok(f"workflow-{noun}", "list", "quickstart_workflow", "-o",
                             "json").stdout) == []
        assert "(none)" in ok(f"workflow-{noun}", "list", "quickstart_workflow").stdout
    added = ok("workflow-schedule", "add", "quickstart_workflow", "cron@0 * * * *")
    # task4 listens for 'key': every scheduled run would stay RUNNING, and the user is told.
    assert "listens for 'key', so each scheduled execution stays RUNNING" in added.stderr
    ops.add_workflow_trigger(WorkflowRule(SingleEventCondition("go")), "quickstart_workflow")
    schedules = json.loads(ok("workflow-schedule", "list", "quickstart_workflow", "-o",
                              "json").stdout)
    assert [s["expression"] for s in schedules] == ["cron@0 * * * *"]
    triggers = yaml.safe_load(ok("workflow-trigger", "list", "quickstart_workflow", "-o",
                                 "yaml").stdout)
    assert [t["description"]["condition"]["event_keys"] for t in triggers] == [["go"]]
    assert "cron@0 * * * *" in ok("workflow-schedule", "list", "quickstart_workflow").stdout
    assert "not_there" in fail("workflow-trigger", "list", "not_there")
    ok("workflow", "upload", str(EXAMPLES / "retry_and_cleanup" / "workflow.py"))
    assert ok("workflow-schedule", "add", "retry_and_cleanup", "cron@0 * * * *").stderr == ""


def test_disable_takes_the_spec_output_option_and_both_commands_say_their_version(home):
    import aiflow_lite
    from aiflow_lite.cli.notification import cli as notification_cli

    ok("workflow", "upload", str(SAMPLES / "quickstart.py"))
    shown = json.loads(ok("workflow", "disable", "quickstart_workflow", "-o", "json").stdout)
    assert [(w["name"], w["is_enabled"]) for w in shown] == [("quickstart_workflow", False)]
    assert "enabled." in ok("workflow", "enable", "quickstart_workflow", "-o", "plain").stdout
    assert ok("--version").stdout.strip() == aiflow_lite.__version__
    assert invoke(notification_cli, "--version").stdout.strip() == aiflow_lite.__version__
