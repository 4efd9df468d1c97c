"""`aiflow run`: run-once mode for CI, as a real command in a real process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import wait_for

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AIFLOW = [sys.executable, "-c", "from aiflow_lite.cli.aiflow import main; main()"]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*AIFLOW, "run", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_quickstart_succeeds_with_a_summary(home):
    proc = run(str(EXAMPLES / "quickstart" / "quickstart.py"))
    assert proc.returncode == 0, proc.stderr
    assert "default.quickstart: SUCCESS" in proc.stdout
    for task in ("fetch", "clean", "train", "evaluate"):
        assert task in proc.stdout
    assert "fired by event 'model_ready'" in proc.stdout  # why evaluate started
    assert not home.exists()  # a temporary home was used and removed


@pytest.mark.slow
def test_a_failing_task_exits_1_with_its_log_tail_and_junit(home, tmp_path):
    report = tmp_path / "report.xml"
    proc = run(str(EXAMPLES / "retry_and_cleanup" / "workflow.py"), "--junit-xml", str(report))
    assert proc.returncode == 1, proc.stderr
    assert "--- flaky #1 failed: TaskFailed: bash command exited with code 1" in proc.stdout
    assert proc.stdout.count("trying") >= 2  # the log tail shows both tries
    suite = ET.parse(report).getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"flaky#1", "cleanup#1"}
    assert cases["flaky#1"].find("failure") is not None
    assert cases["cleanup#1"].find("failure") is None
    assert suite.get("failures") == "1" and suite.get("tests") == "2"


@pytest.mark.slow
def test_timeout_stops_streaming_tasks_and_exits_2(home):
    proc = run(str(EXAMPLES / "streaming" / "workflow.py"), "--timeout", "2", "-o", "json")
    assert proc.returncode == 2, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["timed_out"] and summary["result"] == "TIMED OUT"
    statuses = {t["task_name"]: t["status"] for t in summary["tasks"]}
    assert statuses["producer"] == "STOPPED"
    assert any(t["task_name"] == "consumer" and t["status"] == "SUCCESS"
               for t in summary["tasks"])


@pytest.mark.slow
def test_strict_fails_when_a_task_never_triggered(home, tmp_path):
    wf = tmp_path / "wf.py"
    wf.write_text("from ai_flow.model.action import TaskAction\n"
                  "from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.bash import BashOperator\n"
                  "with Workflow(name='w'):\n"
                  "    BashOperator(name='a', bash_command='true')\n"
                  "    BashOperator(name='b', bash_command='true').action_on_event_received("
                  "TaskAction.START, 'never')\n")
    relaxed = run(str(wf))
    assert relaxed.returncode == 0 and "Never triggered: b" in relaxed.stdout
    # In a server the execution would listen for 'never'; the run closes it and says so.
    assert "Still listening when the run ended: waiting for 'never' to start 'b'" in \
        relaxed.stdout
    assert "default.w: SUCCESS" in relaxed.stdout
    assert run(str(wf), "--strict").returncode == 1
    summary = json.loads(run(str(wf), "-o", "json").stdout)
    assert summary["status"] == "SUCCESS" and summary["exit_code"] == 0
    assert summary["listening"] == ["waiting for 'never' to start 'b'"]


@pytest.mark.slow
def test_several_workflows_need_a_choice_and_a_kept_home_stays(home, tmp_path):
    sample = EXAMPLES / "event_trigger" / "workflow.py"
    proc = run(str(sample))
    assert proc.returncode == 1 and "pick one with --workflow" in proc.stderr
    kept = tmp_path / "kept"
    proc = run(str(sample), "--workflow", "train_on_new_data", "--home", str(kept))
    assert proc.returncode == 0, proc.stderr
    assert (kept / "aiflow.db").exists()


@pytest.mark.slow
def test_custom_condition_example_ends_by_itself(home):
    proc = run(str(EXAMPLES / "custom_condition" / "workflow.py"), "-o", "json")
    assert proc.returncode == 0, proc.stderr
    tasks = json.loads(proc.stdout)["tasks"]
    assert [(t["task_name"], t["status"]) for t in tasks if t["task_name"] == "retrain"] == [
        ("retrain", "SUCCESS")]


@pytest.mark.slow
def test_periodic_example_runs_its_task_and_follower_each_period(home):
    proc = run(str(EXAMPLES / "periodic" / "workflow.py"), "--timeout", "5", "-o", "json")
    assert proc.returncode == 2, proc.stderr
    tasks = json.loads(proc.stdout)["tasks"]
    collects = [t for t in tasks if t["task_name"] == "collect" and t["status"] == "SUCCESS"]
    reports = [t for t in tasks if t["task_name"] == "report" and t["status"] == "SUCCESS"]
    assert len(collects) >= 2 and len(reports) >= 2
    assert any("periodic interval@0 0 0 2" in (t["reason"] or "") for t in collects)


def test_on_a_terminal_the_run_shows_a_live_table(home, tmp_path):
    import os
    import pty
    import select

    wf = tmp_path / "wf.py"
    wf.write_text("from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.bash import BashOperator\n"
                  "with Workflow(name='w'):\n"
                  "    BashOperator(name='first_step', bash_command='true')\n")
    master, slave = pty.openpty()
    proc = subprocess.Popen([*AIFLOW, "run", str(wf)], stdin=slave, stdout=slave, stderr=slave,
                            env={**os.environ, "TERM": "xterm", "COLUMNS": "160"})
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        code = proc.wait(timeout=60)
    screen = b"".join(chunks).decode(errors="replace")
    assert code == 0
    assert "default.w execution 1" in screen  # the live table's title
    assert "first_step" in screen and "SUCCESS" in screen
    assert "elapsed" in screen  # its column, and the run's time under it


_NAP = """\
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
with Workflow(name='w'):
    nap = BashOperator(name='nap', bash_command='sleep 1')
    BashOperator(name='after_nap', bash_command='true').start_after(nap)
"""


@pytest.mark.slow
def test_the_summary_shows_each_task_execution_s_time_and_the_run_s(home, tmp_path):
    from aiflow_lite import ops
    from aiflow_lite.cli.output import format_duration
    from aiflow_lite.cli.run_report import task_seconds

    wf = tmp_path / "wf.py"
    wf.write_text(_NAP)
    kept = tmp_path / "kept"
    proc = run(str(wf), "--home", str(kept))
    assert proc.returncode == 0, proc.stderr
    os.environ["AIFLOW_HOME"] = str(kept)  # the home fixture restores it
    tasks = {t.task_name: t for t in ops.list_task_executions(1)}
    assert task_seconds(tasks["nap"]) >= 1.0  # it slept a second: not less
    for name, task in tasks.items():  # the summary row says what the home recorded
        row = next(line.split() for line in proc.stdout.splitlines()
                   if line.startswith(name + " "))
        assert row[:4] == [name, "1", "SUCCESS", format_duration(task_seconds(task))]
    # Progress lines (not a terminal) say how long a finished task took.
    assert f"nap #1 SUCCESS after {format_duration(task_seconds(tasks['nap']))}" in proc.stdout
    last = proc.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"default\.w: SUCCESS in (\d+ms|\d+\.\ds|\d+m\d\ds) \(exit 0\)", last)

    summary = json.loads(run(str(wf), "-o", "json").stdout)
    assert summary["duration_s"] >= 1.0 and summary["duration_s"] == summary["seconds"]
    for task in summary["tasks"]:
        assert task["duration_s"] == round((task["end_time"] - task["begin_time"]) / 1000, 3)
    nap = next(t for t in summary["tasks"] if t["task_name"] == "nap")
    assert nap["duration_s"] >= 1.0
    assert summary["duration_s"] >= sum(t["duration_s"] for t in summary["tasks"])


def test_the_live_table_ticks_the_time_of_running_tasks_and_of_the_run(monkeypatch):
    import io

    from rich.console import Console

    from aiflow_lite.cli.run_report import Progress
    from aiflow_lite.meta import TaskExecutionMeta

    def text(renderable) -> str:
        console = Console(record=True, width=200, file=io.StringIO(), color_system=None)
        console.print(renderable)
        return console.export_text()

    progress = Progress(quiet=True)
    progress.begin("default", "w", 1)
    start = progress.started_ms
    progress.update([
        TaskExecutionMeta(1, 1, "extract", 1, "MANUAL", "SUCCESS", 1, start, start + 1_234,
                          None, None, "the execution started"),
        TaskExecutionMeta(2, 1, "train", 1, "EVENT", "RUNNING", 1, start + 1_234, None, None,
                          None, "rule 1 (START on event) fired by event 'data_ready'"),
    ])
    early, late = text(progress._table(start + 5_000)), text(progress._table(start + 124_000))
    assert re.search(r"extract .* SUCCESS .* 1\.2s ", early)  # a finished task: its time
    assert re.search(r"extract .* SUCCESS .* 1\.2s ", late)
    assert re.search(r"train .* RUNNING .* 3\.8s ", early)  # a running one: so far
    assert re.search(r"train .* RUNNING .* 2m03s ", late)
    assert "5.0s elapsed" in early and "2m04s elapsed" in late  # the run's


@pytest.mark.slow
def test_the_event_trigger_example_follows_the_triggered_workflow(home):
    proc = run(str(EXAMPLES / "event_trigger" / "workflow.py"), "--workflow",
               "ingest", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    ran = {(t["workflow_execution_id"], t["task_name"], t["status"]) for t in summary["tasks"]}
    assert ran == {(1, "publish", "SUCCESS"), (2, "train", "SUCCESS")}


def _descendants(pid: int) -> set:
    """Every process whose parent chain leads to `pid` (workers run in sessions of their own,
    but are still its descendants until it exits)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_every_task_of_the_run_reports_and_exits_2(home, signum):
    proc = subprocess.Popen([*AIFLOW, "run", str(EXAMPLES / "streaming" / "workflow.py")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:  # timestamped progress lines: not a terminal
            if "producer #1 RUNNING" in line:
                break
        workers = _descendants(proc.pid)
        assert workers  # the fork server and the producer at least
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2, err
    assert "INTERRUPTED" in out and "producer  1     STOPPED" in out
    assert "Traceback" not in err and "Aborted" not in err
    wait_for(lambda: not any(_alive(p) for p in workers), timeout=10,
             message="every process of the run gone")


_SLOW_TO_STOP = """
import pathlib, time
from ai_flow.model.workflow import Workflow
from aiflow_lite.operators.base import AIFlowOperator

class SlowToStop(AIFlowOperator):
    def start(self, context):
        while True:
            time.sleep(0.05)

    def stop(self, context):
        time.sleep(1.5)  # a cluster being asked to cancel a job
        pathlib.Path({marker!r}).write_text("wound down")

with Workflow(name="slow_stop"):
    SlowToStop(name="job"{timeout})
"""


@pytest.mark.slow
@pytest.mark.parametrize("stop_timeout, winds_down", [(None, True), (0.3, False)],
                         ids=["default", "short"])
def test_a_stopped_task_is_killed_only_after_its_own_stop_timeout(home, tmp_path,
                                                                   stop_timeout, winds_down):
    marker = tmp_path / "wound_down"
    wf = tmp_path / "wf.py"
    timeout = "" if stop_timeout is None else f", stop_timeout={stop_timeout}"
    wf.write_text(_SLOW_TO_STOP.format(marker=str(marker), timeout=timeout))
    proc = run(str(wf), "--timeout", "1")
    assert proc.returncode == 2, proc.stderr
    assert "STOPPED" in proc.stdout
    assert marker.exists() == winds_down


SEES_ITS_EVENT = """
import json
import aiflow_lite
from aiflow_lite import AIFlowOperator, PythonOperator, TaskAction, Workflow
from aiflow_lite.ns.client import AIFlowNotificationClient

OUT = {out!r}

def produce():
    AIFlowNotificationClient().send_event('data_ready', 'hour 7')

def consume():
    with open(OUT + '.consume', 'w') as fh:
        json.dump(aiflow_lite.task_context(), fh)

class Seen(AIFlowOperator):
    def start(self, context):
        event = context.event
        with open(OUT + '.' + self.name, 'w') as fh:
            json.dump([context.started_by, None if event is None else event.value], fh)

with Workflow(name='sees') as w:
    first = PythonOperator(name='produce', python_callable=produce)
    Seen(name='plain')
    PythonOperator(name='consume', python_callable=consume).action_on_event_received(
        action=TaskAction.START, event_key='data_ready')
    Seen(name='seen').action_on_event_received(action=TaskAction.START, event_key='data_ready')
"""


def test_a_task_sees_the_event_that_started_it(home, tmp_path):
    out = tmp_path / "out"
    wf = tmp_path / "sees.py"
    wf.write_text(SEES_ITS_EVENT.format(out=str(out)))
    proc = run(str(wf), "--home", str(home))
    assert proc.returncode == 0, proc.stderr
    context = json.loads((tmp_path / "out.consume").read_text())
    assert context["started_by"] == "event" and context["task_name"] == "consume"
    event = context["event"]
    assert (event["key"], event["value"], event["namespace"], event["sender"]) == (
        "data_ready", "hour 7", "default", "produce")
    assert json.loads(event["context"])["workflow_execution_id"] == context[
        "workflow_execution_id"]  # sent from a task of this execution
    assert event["offset"] > 0
    assert json.loads((tmp_path / "out.seen").read_text()) == ["event", "hour 7"]
    assert json.loads((tmp_path / "out.plain").read_text()) == ["execution", None]


BIG_EVENT = """
from aiflow_lite import BashOperator, PythonOperator, TaskAction, Workflow
from aiflow_lite.ns.client import AIFlowNotificationClient

def produce():
    AIFlowNotificationClient().send_event('big', 'x' * 200_000)

with Workflow(name='big') as w:
    PythonOperator(name='produce', python_callable=produce)
    BashOperator(name='shell', bash_command={command!r}).action_on_event_received(
        action=TaskAction.START, event_key='big')
"""
READ_CONTEXT = """
import aiflow_lite
print(len(aiflow_lite.task_context()["event"]["value"]))
"""


def test_a_task_started_by_an_event_too_big_for_the_environment_still_sees_it(home, tmp_path):
    """Linux caps one environment string at 128 KiB, an event's value at 1 MiB here: the
    context goes in a file the variable names, which the task's children read too."""
    out, reader = tmp_path / "out", tmp_path / "reader.py"
    reader.write_text(READ_CONTEXT)
    wf = tmp_path / "big.py"
    wf.write_text(BIG_EVENT.format(command=f"{sys.executable} {reader} > {out}"))
    proc = run(str(wf), "--home", str(home))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.read_text().strip() == "200000"
