"""The scheduler as a real process (`aiflow server start -d`) running real workers: one
scheduler per home, and crashes (kill -9) that lose and repeat nothing. (The spec's samples under
a server: test_spec_samples.py.)"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from conftest import wait_for
from server_helpers import (
    EXAMPLES,
    aiflow,
    configure,
    scheduler_pid,
    start_execution,
    tasks,
    wait_execution,
)

pytestmark = pytest.mark.slow  # real servers, schedulers and kill -9


def test_one_scheduler_per_home(home, server):
    pid = server()
    second = aiflow("server", "start", "-d", check=False)
    assert second.returncode == 1 and f"pid {pid}" in second.stderr
    assert aiflow("server", "stop").stdout.startswith("AIFlow server stopped")
    assert scheduler_pid(home) is None
    assert "No AIFlow server runs" in aiflow("server", "stop").stdout


def test_commands_without_a_scheduler_say_how_to_start_one(home):
    aiflow("workflow", "upload", str(EXAMPLES / "quickstart" / "quickstart.py"))
    proc = aiflow("workflow-execution", "start", "quickstart")
    assert "Workflow execution: 1, started." in proc.stdout
    assert "aiflow server start -d" in proc.stderr


FAN_OUT = """
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
with Workflow(name='fan') as w:
    for i in range({n}):
        BashOperator(name=f't{{i}}', bash_command=f'sleep {sleep}; echo t{{i}} >> {runs}')
"""


def test_kill_9_the_scheduler_during_a_fan_out_loses_and_repeats_nothing(home, server,
                                                                        tmp_path):
    runs = tmp_path / "runs.txt"
    wf = tmp_path / "fan.py"
    wf.write_text(FAN_OUT.format(n=30, sleep=0.3, runs=runs))
    (home).mkdir(exist_ok=True)
    configure(home, "local_executor_parallelism: 4\n")
    aiflow("workflow", "upload", str(wf))
    execution = start_execution("fan")
    for kill_after in (2, 9, 17, 25):
        pid = server()
        wait_for(lambda n=kill_after: runs.exists() and len(runs.read_text().split()) >= n,
                 timeout=60, interval=0.02, message=f"{kill_after} tasks run")
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: scheduler_pid(home) is None, timeout=10)
    server()
    assert wait_execution(execution, timeout=120) == "SUCCESS"
    ran = runs.read_text().split()
    assert sorted(ran) == sorted(f"t{i}" for i in range(30))  # each exactly once
    assert all(r["status"] == "SUCCESS" and r["sequence_number"] == 1
               for r in tasks(execution).values())


def test_running_tasks_are_adopted_after_a_scheduler_crash(home, server, tmp_path):
    wf = tmp_path / "adopt.py"
    wf.write_text("""
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
with Workflow(name='adopt') as w:
    BashOperator(name='ok', bash_command='sleep 2')
    BashOperator(name='bad', bash_command='sleep 2; exit 3')
""")
    aiflow("workflow", "upload", str(wf))
    pid = server()
    execution = start_execution("adopt")
    wait_for(lambda: all(r["status"] == "RUNNING" for r in tasks(execution).values())
             and len(tasks(execution)) == 2, timeout=30, interval=0.05)
    os.kill(pid, signal.SIGKILL)
    server()
    assert wait_execution(execution) == "FAILED"
    t = tasks(execution)
    assert (t["ok"]["status"], t["bad"]["status"]) == ("SUCCESS", "FAILED")
    assert "exited with code 3" in t["bad"]["stop_reason"]


STREAM = """
from ai_flow.model.action import TaskAction
from ai_flow.model.condition import Condition
from ai_flow.model.state import ValueStateDescriptor
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator


class NumCondition(Condition):
    def is_met(self, event, context):
        state = context.get_state(ValueStateDescriptor(name='num_state'))
        num = 0 if state.value() is None else int(state.value())
        num += int(event.value)
        if num >= 100:
            return True
        state.update(num)
        return False


with Workflow(name='stream') as w:
    BashOperator(name='idle', bash_command='sleep 600')
    consumer = BashOperator(name='consumer', bash_command='echo got 100')
    consumer.action_on_condition(action=TaskAction.START,
                                 condition=NumCondition(expect_event_keys=['num_event']))
"""


def test_kill_9_during_a_stateful_condition_stream_keeps_the_state_exact(home, server,
                                                                         tmp_path):
    import random

    from aiflow_lite.ns.client import NotificationClient

    wf = tmp_path / "stream.py"
    wf.write_text(STREAM)
    aiflow("workflow", "upload", str(wf))
    pid = server()
    execution = start_execution("stream")
    wait_for(lambda: "idle" in tasks(execution), timeout=30)
    rng = random.Random(7)
    sent = []
    with NotificationClient() as client:
        for i in range(25):  # 25 x 4: the sum reaches 100 exactly at the 25th event
            sent.append(client.send_event("num_event", "4").offset)
            if i % 4 == 3:
                time.sleep(rng.uniform(0, 0.03))  # kill at a different point of its work
                os.kill(pid, signal.SIGKILL)
                wait_for(lambda: scheduler_pid(home) is None, timeout=10)
                pid = server()
    wait_for(lambda: tasks(execution).get("consumer", {}).get("status") == "SUCCESS",
             timeout=60, interval=0.1, message="the consumer")
    rows = json.loads(aiflow("task-execution", "list", str(execution), "-o", "json").stdout)
    consumers = [r for r in rows if r["task_name"] == "consumer"]
    assert len(consumers) == 1  # started once...
    assert f"offset {sent[-1]}" in consumers[0]["reason"]  # ...by the 25th event, not earlier
    aiflow("workflow-execution", "stop", str(execution))
    assert wait_execution(execution) == "STOPPED"


@pytest.mark.slow
def test_a_hundred_fan_outs_in_a_row_never_hang(home, server, tmp_path):
    wf = tmp_path / "fan.py"
    wf.write_text("""
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
with Workflow(name='fan') as w:
    root = BashOperator(name='root', bash_command='true')
    for i in range(3):
        BashOperator(name=f'leaf{i}', bash_command='true').start_after(root)
""")
    aiflow("workflow", "upload", str(wf))
    server()
    from aiflow_lite import ops

    for _ in range(100):
        execution = ops.start_workflow_execution("fan")
        wait_for(lambda e=execution: ops.get_workflow_execution(e).status == "SUCCESS",
                 timeout=30, interval=0.01, message=f"fan-out {execution}")
    assert len(ops.list_workflow_executions("fan")) == 100


def test_stopping_a_forked_python_task_leaves_the_database_intact(home, server, tmp_path):
    """Regression: the fork server's signal wake-up fd leaked into workers, where its number was
    reused by the WAL: a STOP's SIGTERM wrote a byte over the WAL header."""
    import shutil

    import apsw

    wf = tmp_path / "sleepy.py"
    wf.write_text("import time\n"
                  "from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.python import PythonOperator\n"
                  "def nap():\n    time.sleep(60)\n"
                  "with Workflow(name='sleepy'):\n"
                  "    PythonOperator(name='t', python_callable=nap)\n")
    aiflow("workflow", "upload", str(wf))
    server()
    execution = start_execution("sleepy")
    wait_for(lambda: tasks(execution).get("t", {}).get("status") == "RUNNING", timeout=30)
    aiflow("task-execution", "stop", str(execution), "t")
    wait_for(lambda: tasks(execution)["t"]["status"] == "STOPPED", timeout=30)
    with open(home / "aiflow.db-wal", "rb") as fh:
        assert fh.read(4) in (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")
    copy = tmp_path / "copy"
    copy.mkdir()
    for suffix in ("", "-wal"):
        shutil.copy(home / f"aiflow.db{suffix}", copy / f"aiflow.db{suffix}")
    db = apsw.Connection(str(copy / "aiflow.db"))  # recovers the WAL, as after a crash
    try:
        assert db.execute("SELECT count(*) FROM event").fetchall()[0][0] > 0
        assert db.execute("SELECT count(*) FROM workflow_execution").fetchall()[0][0] == 1
    finally:
        db.close()


def test_a_worker_that_dies_before_claiming_fails_its_task_once(home, server, tmp_path):
    wf = tmp_path / "wf2.py"
    wf.write_text("from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.bash import BashOperator\n"
                  "with Workflow(name='wf2'):\n    BashOperator(name='t', bash_command='true')\n")
    aiflow("workflow", "upload", str(wf))
    (home / "logs" / "default" / "wf2" / "1" / "t-1.log").mkdir(parents=True)  # unopenable
    server()
    execution = start_execution("wf2")
    assert wait_execution(execution) == "FAILED"
    from aiflow_lite.ns.client import NotificationClient

    with NotificationClient() as client:
        results = client.count_events("__aiflow.task_result")
    assert results <= 3  # reported, not relaunched in a loop


def test_a_worker_that_keeps_beating_outlives_the_heartbeat_timeout(home, server, tmp_path):
    """The other side of the test below: a task running for 2.5 timeouts is left alone
    because its worker's heartbeat thread keeps beating (ten beats a timeout: a loaded machine
    may delay a few)."""
    wf = tmp_path / "steady.py"
    wf.write_text("import time\n"
                  "from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.python import PythonOperator\n"
                  "with Workflow(name='steady'):\n"
                  "    PythonOperator(name='t', python_callable=lambda: time.sleep(5))\n")
    home.mkdir(exist_ok=True)
    configure(home, "task_heartbeat_interval: 0.2\ntask_heartbeat_timeout: 2\n"
                    "task_executor_heartbeat_check_interval: 0.2\n")
    aiflow("workflow", "upload", str(wf))
    server()
    execution = start_execution("steady")
    assert wait_execution(execution, timeout=30) == "SUCCESS"


def test_a_worker_without_heartbeats_is_killed_and_failed(home, server, tmp_path):
    wf = tmp_path / "frozen.py"
    wf.write_text("import os, signal\n"
                  "from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.python import PythonOperator\n"
                  "def freeze():\n    os.kill(os.getpid(), signal.SIGSTOP)\n"
                  "with Workflow(name='frozen'):\n"
                  "    PythonOperator(name='t', python_callable=freeze)\n")
    home.mkdir(exist_ok=True)
    configure(home, "task_heartbeat_interval: 0.2\ntask_heartbeat_timeout: 1\n"
                    "task_executor_heartbeat_check_interval: 0.2\n")
    aiflow("workflow", "upload", str(wf))
    server()
    execution = start_execution("frozen")
    assert wait_execution(execution, timeout=30) == "FAILED"
    assert "no heartbeat" in tasks(execution)["t"]["stop_reason"]
