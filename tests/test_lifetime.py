"""Execution lifetime (DESIGN.md §4) with a real scheduler process: an execution listens while a
rule on an event can still start a task, a user's stop keeps it open, stateful workflow
triggers fire exactly once per met condition, and all of it holds across kill -9. (Slow: each
starts a scheduler process; tests/test_lifetime_rules.py holds the same rules in-process.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from conftest import wait_for
from server_helpers import aiflow, scheduler_pid, start_execution, wait_execution

pytestmark = pytest.mark.slow

CONSUMER = """
from ai_flow.model.action import TaskAction
from ai_flow.model.condition import Condition
from ai_flow.model.state import ValueStateDescriptor
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator


class EveryHundred(Condition):
    def is_met(self, event, context):
        state = context.get_state(ValueStateDescriptor(name='sum'))
        total = (state.value() or 0) + int(event.value)
        if total >= 100:
            state.update(0)
            return True
        state.update(total)
        return False


with Workflow(name='consume') as w:
    consumer = BashOperator(name='consumer', bash_command='echo fired')
    consumer.action_on_condition(action=TaskAction.START,
                                 condition=EveryHundred(expect_event_keys=['num']))
"""


def _runs(execution: int, task: str) -> list:
    rows = json.loads(aiflow("task-execution", "list", str(execution), "-o", "json").stdout)
    return [r for r in rows if r["task_name"] == task]


def _show(execution: int) -> dict:
    return json.loads(aiflow("workflow-execution", "show", str(execution), "-o", "json").stdout)


def _send(key: str, value: str = "") -> int:
    """Send an event from outside (as `notification event send` does); returns its offset."""
    from aiflow_lite.ns.client import NotificationClient

    with NotificationClient() as client:
        return client.send_event(key, value).offset


def _kill(pid: int, home) -> None:
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: scheduler_pid(home) is None, timeout=10, message="the scheduler gone")


def _applied(offset: int) -> bool:
    """Whether the scheduler has committed its work on the event at `offset`."""
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.home import open_database
    from aiflow_lite.ns.event_log import EventLog

    with open_database(load_aiflow_settings()) as db:
        return (EventLog(db, wake=False).cursor("scheduler") or 0) >= offset


@pytest.mark.parametrize("kill", [False, True], ids=["steady", "kill-9-after-28th"])
def test_a_consumer_fires_every_hundred_for_as_long_as_events_come(home, server, tmp_path,
                                                                   kill):
    wf = tmp_path / "consume.py"
    wf.write_text(CONSUMER)
    aiflow("workflow", "upload", str(wf))
    pid = server()
    execution = start_execution("consume")
    idle = wait_for(lambda: _show(execution)["waiting_for"], timeout=30, interval=0.1)
    assert idle == "waiting for 'num' (EveryHundred) to start 'consumer'"
    assert "RUNNING, idle: waiting for 'num' (EveryHundred)" in aiflow(
        "workflow-execution", "list", "consume").stdout
    offsets = []
    for i in range(1, 61):
        offsets.append(_send("num", "5"))
        if kill and i == 28:
            _kill(pid, home)  # mid-stream: the sum is 40 in the committed state
        if kill and i == 41:
            pid = server()  # 29..41 wait in the log; the 40th fires once applied
        fires = i // 20
        if (i % 20 == 0 and not (kill and 28 < i < 41)) or (kill and i == 41):
            # A START on an active consumer does nothing: let each run end before the next.
            wait_for(lambda n=fires: len(_runs(execution, "consumer")) == n and all(
                r["status"] == "SUCCESS" for r in _runs(execution, "consumer")),
                timeout=60, interval=0.05, message=f"consumer run {fires}")
    wait_for(lambda: _applied(offsets[-1]), timeout=30, message="every event applied")
    runs = _runs(execution, "consumer")
    assert len(runs) == 3, runs  # 60 x 5 = 300: at the 20th, 40th and 60th event, exactly
    assert [f"offset {offsets[n - 1]}" in r["reason"] for n, r in zip((20, 40, 60), runs,
                                                                      strict=True)] == [True] * 3
    shown = _show(execution)
    assert shown["status"] == "RUNNING" and "'num'" in shown["waiting_for"]
    aiflow("workflow-execution", "stop", str(execution))
    assert wait_execution(execution) == "STOPPED"


SLEEPER = """
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
with Workflow(name='sleepy') as w:
    BashOperator(name='sleeper', bash_command='sleep 600')
"""


def test_a_task_stopped_by_a_user_can_be_started_again(home, server, tmp_path):
    wf = tmp_path / "sleepy.py"
    wf.write_text(SLEEPER)
    aiflow("workflow", "upload", str(wf))
    server()
    execution = start_execution("sleepy")
    wait_for(lambda: [r["status"] for r in _runs(execution, "sleeper")] == ["RUNNING"],
             timeout=30, interval=0.05)
    aiflow("task-execution", "stop", str(execution), "sleeper")
    held = wait_for(lambda: _show(execution)["waiting_for"], timeout=30, interval=0.05)
    assert "'sleeper' stopped by a user" in held and "task-execution start" in held
    assert _show(execution)["status"] == "RUNNING"
    first = _runs(execution, "sleeper")[0]
    assert first["status"] == "STOPPED" and "stopped by a user" in first["stop_reason"]
    aiflow("task-execution", "start", str(execution), "sleeper")
    wait_for(lambda: [r["status"] for r in _runs(execution, "sleeper")] == [
        "STOPPED", "RUNNING"], timeout=30, interval=0.05)
    assert _show(execution)["waiting_for"] is None  # a task is active: not idle
    aiflow("workflow-execution", "stop", str(execution))
    assert wait_execution(execution) == "STOPPED"
    # On a finished execution both commands say so in one line, fail, and change nothing.
    before = _runs(execution, "sleeper")
    for command in (("task-execution", "start", str(execution), "sleeper"),
                    ("task-execution", "stop", str(execution), "sleeper"),
                    ("workflow-execution", "stop", str(execution))):
        proc = aiflow(*command, check=False)
        assert proc.returncode != 0 and proc.stdout == "", command
        assert proc.stderr.count("\n") == 1 and "already STOPPED" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.home import open_database
    from aiflow_lite.ns.event_log import EventLog

    with open_database(load_aiflow_settings()) as db:
        end = EventLog(db, wake=False).latest_offset()
    wait_for(lambda: _applied(end), timeout=30)
    assert _runs(execution, "sleeper") == before and _show(execution)["status"] == "STOPPED"


TRIGGERED = """
from ai_flow import ops
from ai_flow.model.condition import Condition
from ai_flow.model.rule import WorkflowRule
from ai_flow.model.state import ValueStateDescriptor
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator


class BothReady(Condition):
    '''Met once features_ready and labels_ready have both arrived; then starts over.'''

    def is_met(self, event, context):
        state = context.get_state(ValueStateDescriptor(name='seen'))
        seen = set(state.value() or []) | {event.key}
        if seen == {'features_ready', 'labels_ready'}:
            state.update([])
            return True
        state.update(sorted(seen))
        return False


with Workflow(name='train') as w:
    BashOperator(name='fit', bash_command='echo fit')


if __name__ == '__main__':
    ops.upload_workflows(__file__)
    ops.add_workflow_trigger(
        rule=WorkflowRule(BothReady(expect_event_keys=['features_ready', 'labels_ready'])),
        workflow_name='train')
"""


def _add_trigger(tmp_path) -> None:
    """Upload `train` and add its trigger, as the spec's samples do: by running the file."""
    wf = tmp_path / "train.py"
    wf.write_text(TRIGGERED)
    proc = subprocess.run([sys.executable, str(wf)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr


def _train_runs() -> list:
    return json.loads(aiflow("workflow-execution", "list", "train", "-o", "json").stdout)


def test_a_stateful_trigger_fires_once_per_pair_across_kill_9(home, server, tmp_path):
    _add_trigger(tmp_path)
    pid = server()
    first = _send("features_ready")
    wait_for(lambda: _applied(first), timeout=30, message="features_ready applied")
    assert _train_runs() == []  # one key of two: nothing yet
    second = _send("labels_ready")
    wait_for(lambda: _applied(second), timeout=30)
    runs = wait_for(_train_runs, timeout=30)
    assert len(runs) == 1 and runs[0]["execution_type"] == "EVENT"
    assert f"at offset {second}" in runs[0]["reason"]
    # The second pair, with the scheduler killed between its two events (the first one's
    # state committed) and restarted before the second is sent.
    third = _send("labels_ready")
    wait_for(lambda: _applied(third), timeout=30)
    _kill(pid, home)
    assert len(_train_runs()) == 1
    server()
    fourth = _send("features_ready")
    wait_for(lambda: _applied(fourth), timeout=30)
    runs = _train_runs()
    assert len(runs) == 2 and f"at offset {fourth}" in runs[1]["reason"]
    wait_for(lambda: all(r["status"] == "SUCCESS" for r in _train_runs()), timeout=60,
             interval=0.1, message="both runs of train")


def test_kill_9_at_random_points_of_a_trigger_stream_repeats_and_loses_nothing(
        home, server, tmp_path):
    """kill -9 at random points while pairs stream in: every pair starts exactly one run."""
    import random
    import time

    _add_trigger(tmp_path)
    pid = server()
    rng = random.Random(3)
    last = 0
    for _ in range(6):
        _send("features_ready")
        last = _send("labels_ready")
        time.sleep(rng.uniform(0, 0.02))  # kill at a different point of the scheduler's work
        _kill(pid, home)
        pid = server()
    wait_for(lambda: _applied(last), timeout=30)
    assert len(_train_runs()) == 6
