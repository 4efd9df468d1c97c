"""`aiflow status`: the data it collects and the view it renders, read as text."""

from __future__ import annotations

import io

from rich.console import Console

from aiflow_lite import ops
from aiflow_lite.cli.status import collect, render
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


def _start_one_step(tmp_path, body: str) -> None:
    """Upload a workflow 'w' made of `body`, start it, and apply one scheduler step."""
    wf = tmp_path / "wf.py"
    wf.write_text("from ai_flow.model.action import TaskAction\n"
                  "from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.bash import BashOperator\n"
                  "with Workflow(name='w'):\n" + body)
    ops.upload_workflows(str(wf))
    ops.start_workflow_execution("w")
    with open_database(load_aiflow_settings()) as db:
        Scheduler(db).step(now_ms())


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
