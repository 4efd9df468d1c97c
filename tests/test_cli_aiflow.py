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

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
QUICKSTART = EXAMPLES / "quickstart" / "quickstart.py"
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


def test_upload_with_files_stores_one_snapshot_per_changed_content(home, tmp_path):
    src = tmp_path / "proj"
    src.mkdir()
    shutil.copy(QUICKSTART, src / "wf.py")
    (src / "data.csv").write_text("1\n")
    ok("workflow", "upload", str(src / "wf.py"), "-f", str(src / "data.csv"))
    ok("workflow", "upload", str(src / "wf.py"), "--files", str(src / "data.csv"))  # unchanged
    listed = json.loads(ok("workflow", "list", "-o", "json").stdout)
    assert [(w["name"], w["snapshot_id"]) for w in listed] == [("quickstart", 1)]
    (src / "data.csv").write_text("2\n")
    ok("workflow", "upload", str(src / "wf.py"), "-f", str(src / "data.csv"))
    listed = json.loads(ok("workflow", "list", "-o", "json").stdout)
    assert listed[0]["snapshot_id"] == 2
    blobs = list((home / "blob").rglob("*.zip"))
    assert len(blobs) == 2


def test_workflow_list_formats_and_lifecycle(home):
    ok("workflow", "upload", str(EXAMPLES / "event_trigger" / "workflow.py"))
    rows = json.loads(ok("workflow", "list", "-o", "json").stdout)
    assert [r["name"] for r in rows] == ["ingest", "train_on_new_data"]
    assert yaml.safe_load(ok("workflow", "list", "-o", "yaml").stdout) == rows
    plain = ok("workflow", "list", "-o", "plain").stdout.splitlines()
    assert [line.split("\t")[2] for line in plain] == [r["name"] for r in rows]
    assert "train_on_new_data" in ok("workflow", "list").stdout
    ok("workflow", "disable", "train_on_new_data")
    rows = json.loads(ok("workflow", "list", "-o", "json").stdout)
    assert [r["is_enabled"] for r in rows] == [True, False]
    ok("workflow", "enable", "train_on_new_data")
    assert all(r["is_enabled"] for r in json.loads(ok("workflow", "list", "-o", "json").stdout))
    assert invoke(cli, "workflow", "delete", "ingest", input="n\n").exit_code == 1
    ok("workflow", "delete", "ingest", "-y")
    rows = json.loads(ok("workflow", "list", "-o", "json").stdout)
    assert [r["name"] for r in rows] == ["train_on_new_data"]


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
    shutil.copy(QUICKSTART, tmp_path / "wf.py")
    assert "no such file or directory" in fail("workflow", "upload", str(tmp_path / "wf.py"),
                                               "-f", str(tmp_path / "missing.csv"))
    assert json.loads(ok("workflow", "list", "-o", "json").stdout) == []


def test_schedule_and_trigger_lists(home):
    from aiflow_lite import ops
    from aiflow_lite.conditions import SingleEventCondition, WorkflowRule

    ok("workflow", "upload", str(QUICKSTART))
    for noun in ("schedule", "trigger"):
        assert json.loads(ok(f"workflow-{noun}", "list", "quickstart", "-o",
                             "json").stdout) == []
        assert "(none)" in ok(f"workflow-{noun}", "list", "quickstart").stdout
    added = ok("workflow-schedule", "add", "quickstart", "cron@0 * * * *")
    # task4 listens for 'key': every scheduled run would stay RUNNING, and the user is told.
    assert "listens for 'model_ready', so each scheduled execution stays RUNNING" in added.stderr
    ops.add_workflow_trigger(WorkflowRule(SingleEventCondition("go")), "quickstart")
    schedules = json.loads(ok("workflow-schedule", "list", "quickstart", "-o",
                              "json").stdout)
    assert [s["expression"] for s in schedules] == ["cron@0 * * * *"]
    triggers = yaml.safe_load(ok("workflow-trigger", "list", "quickstart", "-o",
                                 "yaml").stdout)
    assert [t["description"]["condition"]["event_keys"] for t in triggers] == [["go"]]
    assert "cron@0 * * * *" in ok("workflow-schedule", "list", "quickstart").stdout
    assert "not_there" in fail("workflow-trigger", "list", "not_there")
    ok("workflow", "upload", str(EXAMPLES / "retry_and_cleanup" / "workflow.py"))
    assert ok("workflow-schedule", "add", "retry_and_cleanup", "cron@0 * * * *").stderr == ""


def test_disable_takes_the_spec_output_option_and_both_commands_say_their_version(home):
    import aiflow_lite
    from aiflow_lite.cli.notification import cli as notification_cli

    ok("workflow", "upload", str(QUICKSTART))
    shown = json.loads(ok("workflow", "disable", "quickstart", "-o", "json").stdout)
    assert [(w["name"], w["is_enabled"]) for w in shown] == [("quickstart", False)]
    assert "enabled." in ok("workflow", "enable", "quickstart", "-o", "plain").stdout
    assert ok("--version").stdout.strip() == aiflow_lite.__version__
    assert invoke(notification_cli, "--version").stdout.strip() == aiflow_lite.__version__
