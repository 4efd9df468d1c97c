"""`aiflow status`: the data it collects and the view it renders, read as text."""

from __future__ import annotations

import io
import json

import yaml
from cli_runner import invoke
from conftest import wait_for
from rich.console import Console

from aiflow_lite import ops
from aiflow_lite.cli.aiflow import cli
from aiflow_lite.cli.output import format_time_ms
from aiflow_lite.cli.status import FINISHED_LIMIT, collect, render
from aiflow_lite.config import load_aiflow_settings
from aiflow_lite.engine.scheduler import Scheduler
from aiflow_lite.events import now_ms
from aiflow_lite.home import open_database
from aiflow_lite.ns.client import NotificationClient


def _text(renderable) -> str:
    console = Console(record=True, width=200, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


def test_status_shows_executions_events_and_schedules(home, tmp_path):
    wf = tmp_path / "wf.py"
    wf.write_text("from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.bash import BashOperator\n"
                  "with Workflow(name='w'):\n"
                  "    BashOperator(name='long_task', bash_command='sleep 100')\n")
    ops.upload_workflows(str(wf))
    execution = ops.start_workflow_execution("w")
    ops.add_workflow_schedule("cron@0 * * * *", "w")
    with open_database(load_aiflow_settings()) as db:
        Scheduler(db).step(now_ms())  # the execution starts: its task is QUEUED
    with NotificationClient() as client:
        client.send_event("model_validated", "v7")
    snapshot = collect(load_aiflow_settings())
    assert snapshot.scheduler_pid is None and snapshot.lag == 1
    text = _text(render(snapshot))
    assert "no scheduler runs for this home" in text
    assert "default.w" in text and "long_task" in text and "QUEUED" in text
    assert str(execution) in text
    assert "model_validated" in text and "v7" in text
    assert "cron@0 * * * *" in text
    assert collect(load_aiflow_settings(), workflow="other").executions == []
    assert len(collect(load_aiflow_settings(), workflow="w").executions) == 1


def _step() -> None:
    """One scheduler step: what was asked (starts, stops) is applied; no task is launched."""
    with open_database(load_aiflow_settings()) as db:
        Scheduler(db).step(now_ms())


def _start_one_step(tmp_path, body: str) -> int:
    """Upload a workflow 'w' made of `body`, start it, and apply one scheduler step."""
    wf = tmp_path / "wf.py"
    wf.write_text("from ai_flow.model.action import TaskAction\n"
                  "from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.bash import BashOperator\n"
                  "with Workflow(name='w'):\n" + body)
    ops.upload_workflows(str(wf))
    execution = ops.start_workflow_execution("w")
    _step()
    return execution


def test_status_says_what_an_idle_execution_waits_for(home, tmp_path):
    # Started: no task to run until data_ready comes.
    _start_one_step(tmp_path, "    BashOperator(name='b', bash_command='true')"
                              ".action_on_event_received(TaskAction.START, 'data_ready')\n")
    text = _text(render(collect(load_aiflow_settings())))
    assert "RUNNING, idle: waiting for 'data_ready' to start 'b'" in text


def test_status_shows_user_events_unless_asked_for_internal_ones(home, tmp_path):
    with NotificationClient() as client:
        client.send_event("data_ready", "hour-7")
    # 30 QUEUED status events after the user's one.
    _start_one_step(tmp_path, "    for i in range(30):\n"
                              "        BashOperator(name=f't{i}', bash_command='true')\n")
    shown = collect(load_aiflow_settings())
    assert [e.key for e in shown.events] == ["data_ready"]
    everything = collect(load_aiflow_settings(), internal=True)
    assert len(everything.events) == 10
    assert all(e.key.startswith("__aiflow.") for e in everything.events)


def test_finished_executions_stay_listed_for_a_while_with_their_final_status(home, tmp_path):
    execution = _start_one_step(tmp_path, "    BashOperator(name='queued', bash_command='true')\n")
    ops.stop_workflow_execution(execution)
    _step()  # STOPPED, and so is its task
    snapshot = collect(load_aiflow_settings())
    assert snapshot.executions == []  # no longer running...
    [(ended, tasks)] = snapshot.finished  # ...but still in view
    assert (ended.id, ended.status) == (execution, "STOPPED") and ended.end_time
    assert [(t.task_name, t.status) for t in tasks] == [("queued", "STOPPED")]
    text = _text(render(snapshot))
    assert "finished in the last 10 min" in text
    row = next(line for line in text.splitlines() if "default.w" in line)
    assert "STOPPED" in row and format_time_ms(ended.end_time) in row
    assert "1 STOPPED (queued)" in row  # its tasks, the ones that did not succeed by name
    # Filters apply; --recent 0 shows running executions only.
    assert collect(load_aiflow_settings(), workflow="other").finished == []
    assert collect(load_aiflow_settings(), recent_minutes=0).finished == []
    assert "default.w" not in _text(render(collect(load_aiflow_settings(), recent_minutes=0)))
    # Once its window has passed, it leaves the view (here a window of 60 ms).
    wait_for(lambda: collect(load_aiflow_settings(), recent_minutes=0.001).finished == [],
             timeout=5, message="the execution to leave a 60 ms window")


def test_a_finished_execution_summarises_its_tasks_naming_those_that_did_not_succeed():
    from types import SimpleNamespace

    from aiflow_lite.cli.status import task_summary

    tasks = [SimpleNamespace(task_name=n, status=s) for n, s in
             [("train", "FAILED"), ("fetch", "SUCCESS"), ("clean", "SUCCESS"),
              ("evaluate", "STOPPED"), ("report", "FAILED")]]
    assert task_summary(tasks) == "2 SUCCESS, 2 FAILED (report, train), 1 STOPPED (evaluate)"
    assert task_summary([]) == "no tasks ran"


def test_only_the_latest_finished_executions_are_listed(home, tmp_path):
    first = _start_one_step(tmp_path, "    BashOperator(name='queued', bash_command='true')\n")
    started = [first] + [ops.start_workflow_execution("w") for _ in range(FINISHED_LIMIT + 2)]
    _step()
    assert ops.stop_workflow_executions("w") == len(started)
    _step()
    finished = collect(load_aiflow_settings()).finished
    assert [e.id for e, _ in finished] == sorted(started, reverse=True)[:FINISHED_LIMIT]


_THREE_WORKFLOWS = """\
from ai_flow.model.action import TaskAction
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator

with Workflow(name='busy'):
    BashOperator(name='queued', bash_command='true')
with Workflow(name='idle'):
    BashOperator(name='b', bash_command='true').action_on_event_received(TaskAction.START, 'go')
with Workflow(name='done'):
    BashOperator(name='queued', bash_command='true')
"""


def test_status_once_json_is_one_snapshot_for_scripts(home, tmp_path):
    wf = tmp_path / "three.py"
    wf.write_text(_THREE_WORKFLOWS)
    ops.upload_workflows(str(wf))
    ids = {name: ops.start_workflow_execution(name) for name in ("busy", "idle", "done")}
    _step()
    ops.stop_workflow_execution(ids["done"])
    _step()
    with NotificationClient() as client:
        client.send_event("data_ready", "hour-7")

    result = invoke(cli, "status", "--once", "-o", "json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["scheduler"]["alive"] is False and shown["scheduler"]["pid"] is None
    assert [e["key"] for e in shown["events"]] == ["data_ready"]  # user events only
    executions = {e["workflow_name"]: e for e in shown["executions"]}
    assert {name: e["id"] for name, e in executions.items()} == ids
    busy, idle, done = executions["busy"], executions["idle"], executions["done"]
    assert (busy["status"], busy["waiting_for"], busy["end_time"]) == ("RUNNING", None, None)
    [queued] = busy["tasks"]
    assert (queued["task_name"], queued["status"], queued["try_number"]) == ("queued", "QUEUED", 1)
    assert queued["duration_s"] >= 0  # so far
    assert idle["status"] == "RUNNING" and idle["tasks"] == []
    assert idle["waiting_for"] == "waiting for 'go' to start 'b'"
    assert done["status"] == "STOPPED" and done["end_time"] >= done["begin_time"]
    assert [(t["status"], t["end_time"] is not None) for t in done["tasks"]] == [
        ("STOPPED", True)]
    assert done["duration_s"] == round((done["end_time"] - done["begin_time"]) / 1000, 3)
    # yaml is the same snapshot; --once alone keeps its tables.
    as_yaml = yaml.safe_load(invoke(cli, "status", "--once", "-o", "yaml").stdout)
    assert as_yaml.keys() == shown.keys() and len(as_yaml["executions"]) == 3
    table = invoke(cli, "status", "--once")
    assert table.exit_code == 0 and "running executions" in table.stdout
    assert "finished in the last 10 min" in table.stdout and "STOPPED" in table.stdout


def test_user_text_in_the_view_is_never_read_as_markup(home):
    with NotificationClient() as client:
        client.send_event("[bold]key", "[/]")  # rich would raise on a stray closing tag
    text = _text(render(collect(load_aiflow_settings())))
    assert "[bold]key" in text and "[/]" in text


def test_status_on_an_empty_home(home):
    text = _text(render(collect(load_aiflow_settings())))
    assert "running executions" in text and "latest events" in text


def test_the_run_progress_table_renders_each_task_and_why_it_started():
    from aiflow_lite.cli.run_report import Progress
    from aiflow_lite.meta import TaskExecutionMeta

    progress = Progress(quiet=True)
    progress.title = "default.w execution 1"
    rows = [TaskExecutionMeta(1, 1, "extract", 1, "MANUAL", "SUCCESS", 1, 0, 5, None, None,
                              "the execution started"),
            TaskExecutionMeta(2, 1, "train", 1, "EVENT", "RUNNING", 1, 5, None, None, None,
                              "rule 1 (START on event) fired by event 'data_ready' at offset 7")]
    progress.update(rows)
    text = _text(progress._table())
    assert "default.w execution 1" in text
    assert "extract" in text and "SUCCESS" in text
    assert "train" in text and "RUNNING" in text and "data_ready" in text


def test_status_shows_each_models_latest_and_deployed_version(home):
    for name in ("churn", "ranker", "fresh"):
        ops.register_model(name)
    ops.register_model_version("churn", "/m/1", stage="DEPLOYED")
    ops.register_model_version("churn", "/m/2", stage="VALIDATED")
    ops.register_model_version("ranker", "/r/1")
    ops.register_model_version("ranker", "/r/2", stage="DEPLOYED")
    ops.register_model_version("ranker", "/r/3")
    ops.delete_model_version("ranker", 3)  # a DELETED version is nobody's latest
    ops.add_namespace("other")
    ops.register_model("elsewhere", namespace="other")

    shown = json.loads(invoke(cli, "status", "--once", "-o", "json").stdout)
    assert shown["models"] == [
        {"namespace": "default", "name": "churn", "latest_version": 2,
         "latest_stage": "VALIDATED", "deployed_version": 1},
        {"namespace": "default", "name": "fresh", "latest_version": None,
         "latest_stage": None, "deployed_version": None},
        {"namespace": "default", "name": "ranker", "latest_version": 2,
         "latest_stage": "DEPLOYED", "deployed_version": 2},
        {"namespace": "other", "name": "elsewhere", "latest_version": None,
         "latest_stage": None, "deployed_version": None}]
    text = _text(render(collect(load_aiflow_settings())))
    assert "models" in text
    churn = next(line for line in text.splitlines() if "default.churn" in line)
    assert [cell.strip() for cell in churn.split("│")[1:5]] == [
        "default.churn", "2", "VALIDATED", "1"]
    assert [m[1] for m in collect(load_aiflow_settings(), namespace="other").models] == [
        "elsewhere"]
    table = invoke(cli, "status", "--once")
    assert table.exit_code == 0 and "default.ranker" in table.stdout
