"""Scheduling semantics, driven one `step(now)` at a time with a fake clock; tasks run through
the real executor with its in-process launcher (`launch.inline`: launch, claim, GO, result file,
reap, report, without a process start)."""

from __future__ import annotations

import dataclasses
import json
import os
import textwrap
from typing import Optional

import pytest

from aiflow_lite import ops
from aiflow_lite.conditions import SingleEventCondition, WorkflowRule
from aiflow_lite.config import load_aiflow_settings
from aiflow_lite.engine.executions import ExecutionStore
from aiflow_lite.engine.executor import LocalExecutor
from aiflow_lite.engine.launch.inline import InlineLauncher
from aiflow_lite.engine.scheduler import Scheduler
from aiflow_lite.events import InternalKey, local_time
from aiflow_lite.home import open_database
from aiflow_lite.ns.event_log import EventLog
from aiflow_lite.procfs import process_start_time
from aiflow_lite.status import TaskStatus

T0 = 1_800_000_000_000  # the fake clock's start (ms)
HEADER = """
from ai_flow.model.action import TaskAction
from ai_flow.model.status import TaskStatus
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
from ai_flow.model.condition import Condition
from ai_flow.model.state import ValueStateDescriptor
"""


class Harness:
    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.settings = load_aiflow_settings()
        self.db = open_database(self.settings)
        self.scheduler = Scheduler(self.db)
        self.store = ExecutionStore(self.db)
        self.log = EventLog(self.db)
        self.now = T0
        self.stopped: list = []
        self._executor()

    def _executor(self) -> None:
        """An executor whose workers run in this process. It never judges heartbeats: those of
        the fake clock are not real time."""
        settings = dataclasses.replace(self.settings, values={**self.settings.values,
                                                               "task_heartbeat_timeout": 1e9})
        self.launcher = InlineLauncher(self.settings.home)
        self.executor = LocalExecutor(settings, self.store, self.log, launcher=self.launcher)

    def upload(self, body: str, name: str = "wf.py") -> None:
        path = self.tmp_path / name
        path.write_text(HEADER + textwrap.dedent(body))
        ops.upload_workflows(str(path))

    def restart(self) -> None:
        """A new scheduler on a new connection: what a restarted process has."""
        self.db.close()
        now = self.now
        self.db = open_database(self.settings)
        self.scheduler = Scheduler(self.db)
        self.store = ExecutionStore(self.db)
        self.log = EventLog(self.db)
        self.now = now
        self._executor()

    def settle(self, advance_ms: int = 0) -> None:
        self.now += advance_ms
        for _ in range(50):
            result = self.scheduler.step(self.now)
            self.stopped += result.to_stop
            if result.events == 0:
                return
        raise AssertionError("the scheduler did not settle")

    def latest(self, execution_id: int) -> dict:
        return {n: m.status for n, m in self.store.latest_task_executions(execution_id).items()}

    def task(self, execution_id: int, name: str):
        return self.store.latest_task_executions(execution_id)[name]

    def run(self, execution_id: int, name: str, result: str = "SUCCESS") -> None:
        """Launch the task (it alone), let it end with `result`, reap and report; settle."""
        meta = self.task(execution_id, name)
        self.launcher.will(meta.id, TaskStatus(result),
                           None if result == "SUCCESS" else "it broke")
        assert meta.id in self.executor.launch_queued()
        self.executor.reap()
        self.settle()

    def claim(self, execution_id: int, name: str):
        """Launch the task (it alone) and leave it running: it is claimed, RUNNING (its status
        event is not applied)."""
        meta = self.task(execution_id, name)
        self.launcher.hold(meta.id)
        assert meta.id in self.executor.launch_queued()
        return meta

    def report(self, task_execution_id: int, result: str, try_number: int = 1) -> None:
        self.log.append(InternalKey.TASK_RESULT.value, result, "default", "worker",
                        {"task_execution_id": task_execution_id, "try_number": try_number,
                         "message": None if result == "SUCCESS" else "it broke"},
                        internal=True)
        self.settle()

    def send(self, key: str, value: str = "", namespace: str = "default",
             execution_id: Optional[int] = None) -> None:
        context = None if execution_id is None else {"workflow_execution_id": execution_id}
        self.log.append(key, value, namespace, "test", context)
        self.settle()

    def execution(self, execution_id: int):
        return self.store.get_execution(execution_id)


@pytest.fixture
def h(home, tmp_path):
    harness = Harness(tmp_path)
    yield harness
    harness.db.close()


QUICKSTART = """
with Workflow(name='w') as w:
    t1 = BashOperator(name='t1', bash_command='echo 1')
    t2 = BashOperator(name='t2', bash_command='echo 2')
    t3 = BashOperator(name='t3', bash_command='echo 3')
    t4 = BashOperator(name='t4', bash_command='echo 4')
    t3.start_after([t1, t2])
    t4.action_on_event_received(action=TaskAction.START, event_key='key')
"""


def test_start_after_and_task_scoped_events(h):
    h.upload(QUICKSTART)
    e1 = ops.start_workflow_execution("w")
    e2 = ops.start_workflow_execution("w")
    h.settle()
    assert h.latest(e1) == {"t1": "QUEUED", "t2": "QUEUED"}
    assert h.execution(e1).status == "RUNNING"
    h.run(e1, "t1")
    assert "t3" not in h.latest(e1)  # t2 has not succeeded yet
    h.run(e1, "t2")
    assert h.latest(e1)["t3"] == "QUEUED"
    assert "task_status" in h.task(e1, "t3").reason
    h.send("key", execution_id=e2)  # sent from a task of e2: only e2 reacts
    assert "t4" not in h.latest(e1) and h.latest(e2)["t4"] == "QUEUED"
    h.send("key", execution_id=e1)
    for name in ("t3", "t4"):
        h.run(e1, name)
    assert h.latest(e1) == dict.fromkeys(["t1", "t2", "t3", "t4"], "SUCCESS")
    # Every task ran, but 'key' may start t4 again: the execution listens on (DESIGN.md §4).
    assert h.execution(e1).status == "RUNNING" and h.execution(e2).status == "RUNNING"
    assert h.execution(e1).waiting_for == "waiting for 'key' to start 't4'"
    reason = h.task(e1, "t4").reason
    assert "event 'key'" in reason and "rule 1" in reason  # why it started


def test_each_task_is_told_what_started_it(h):
    """The order a worker gets names the event whose rule started the task (the status event
    of an upstream, an external event), or that it started with its execution; a retry is
    started by what started its first try."""
    h.upload(QUICKSTART.replace("t4 = BashOperator(name='t4', bash_command='echo 4')",
                                "t4 = BashOperator(name='t4', bash_command='echo 4', "
                                "max_retries=1)"))
    e1 = ops.start_workflow_execution("w")
    h.settle()
    h.run(e1, "t1")
    h.run(e1, "t2")
    h.log.append("key", "v7", "default", "trainer", {"version": 7})
    h.settle()
    h.run(e1, "t3")
    h.run(e1, "t4", "FAILED")
    h.settle(advance_ms=60_000)
    h.run(e1, "t4")
    orders = {}
    for order in h.launcher.started:
        orders.setdefault(order.task_name, []).append(order)
    assert [o.started_by for o in orders["t1"]] == ["execution"] and orders["t1"][0].trigger is None
    status_event = orders["t3"][0].trigger
    assert orders["t3"][0].started_by == "event" and status_event["key"].endswith("t2")
    first, retry = orders["t4"]
    assert (first.try_number, retry.try_number) == (1, 2)
    for order in (first, retry):
        assert order.started_by == "event"
        assert {k: order.trigger[k] for k in ("key", "value", "namespace", "sender")} == \
            {"key": "key", "value": "v7", "namespace": "default", "sender": "trainer"}
        assert json.loads(order.trigger["context"]) == {"version": 7}
        assert order.trigger["offset"] > 0 and order.trigger["create_time"] > 0


def test_events_from_outside_reach_every_running_execution_of_their_namespace(h):
    h.upload(QUICKSTART)
    e1, e2 = ops.start_workflow_execution("w"), ops.start_workflow_execution("w")
    h.settle()
    h.send("key", namespace="elsewhere")
    assert "t4" not in h.latest(e1) and "t4" not in h.latest(e2)
    h.send("key")
    assert h.latest(e1)["t4"] == h.latest(e2)["t4"] == "QUEUED"


def test_start_stop_restart_semantics(h):
    h.upload("""
    with Workflow(name='w') as w:
        t = BashOperator(name='t', bash_command='sleep 100')
        t.action_on_event_received(action=TaskAction.START, event_key='start')
        t.action_on_event_received(action=TaskAction.STOP, event_key='stop')
        t.action_on_event_received(action=TaskAction.RESTART, event_key='restart')
    """)
    e = ops.start_workflow_execution("w")
    h.settle()
    assert h.latest(e) == {}  # its only rules are START rules: it waits
    h.send("stop")
    assert h.latest(e) == {}  # STOP on a task that is not running does nothing
    h.send("start")
    first = h.task(e, "t")
    h.send("start")  # START on an active task does nothing
    assert h.task(e, "t").id == first.id
    meta = h.task(e, "t")
    with h.db.transaction():
        h.store.claim(meta.id, os.getpid(), process_start_time(os.getpid()), h.now)
    h.send("restart")
    tasks = h.store.list_task_executions(e)
    assert [(t.sequence_number, t.status) for t in tasks] == [(1, "STOPPING"), (2, "QUEUED")]
    assert h.stopped == [first.id]
    h.report(first.id, "FAILED")  # what a killed worker reports: it was stopping, so STOPPED
    tasks = h.store.list_task_executions(e)
    assert [(t.sequence_number, t.status) for t in tasks] == [(1, "STOPPED"), (2, "QUEUED")]
    assert "restart" in tasks[0].stop_reason
    h.send("stop")  # stops the queued one before any worker took it
    assert h.task(e, "t").status == "STOPPED"


def test_retries_wait_their_delay_then_fail_for_good(h):
    h.upload("""
    with Workflow(name='w') as w:
        BashOperator(name='t', bash_command='exit 1', max_retries=1, retry_delay=10)
    """)
    e = ops.start_workflow_execution("w")
    h.settle()
    h.run(e, "t", "FAILED")
    assert h.latest(e) == {"t": "RETRYING"} and h.execution(e).status == "RUNNING"
    h.settle(5_000)
    assert h.latest(e) == {"t": "RETRYING"}
    h.settle(6_000)
    meta = h.task(e, "t")
    assert (meta.status, meta.try_number) == ("QUEUED", 2)
    assert [t.id for t in h.store.task_executions_in(("QUEUED",))] == [meta.id]  # once
    h.run(e, "t", "FAILED")
    assert h.latest(e) == {"t": "FAILED"} and h.execution(e).status == "FAILED"
    assert h.task(e, "t").stop_reason == "it broke"


NUM_CONDITION = """
class NumCondition(Condition):
    def is_met(self, event, context):
        state = context.get_state(ValueStateDescriptor(name='num_state'))
        num = 0 if state.value() is None else int(state.value())
        num += int(event.value)
        if num >= 100:
            return True
        state.update(num)
        return False

with Workflow(name='w') as w:
    c = BashOperator(name='consumer', bash_command='echo 100')
    c.action_on_condition(action=TaskAction.START,
                          condition=NumCondition(expect_event_keys=['num_event']))
"""


def test_condition_state_persists_across_a_scheduler_restart(h):
    h.upload(NUM_CONDITION)
    e = ops.start_workflow_execution("w")
    h.settle()
    for _ in range(9):
        h.send("num_event", "10")
    h.restart()
    assert h.latest(e) == {}
    h.send("num_event", "9")
    assert h.latest(e) == {}  # 99
    h.send("num_event", "1")
    assert h.latest(e) == {"consumer": "QUEUED"}


def test_periodic_task_fires_on_time_once_and_catches_up_once_after_a_restart(h):
    h.upload("""
    with Workflow(name='w') as w:
        p = BashOperator(name='p', bash_command='echo', periodic_expression='interval@0 0 0 10')
        f = BashOperator(name='f', bash_command='echo')
        f.start_after(p)
    """)
    e = ops.start_workflow_execution("w")
    h.settle()
    h.run(e, "p")
    h.run(e, "f")  # the periodic upstream's success re-triggers its follower
    assert h.execution(e).status == "RUNNING"  # a periodic task keeps it running
    h.settle(9_000)
    assert h.task(e, "p").sequence_number == 1
    h.settle(1_000)
    assert (h.task(e, "p").sequence_number, h.task(e, "p").status) == (2, "QUEUED")
    # Said with the local time it was due, not raw epoch milliseconds.
    assert h.task(e, "p").reason == f"periodic interval@0 0 0 10, due at {local_time(h.now)}"
    h.settle(0)
    assert h.task(e, "p").sequence_number == 2  # no double fire
    h.run(e, "p")
    assert (h.task(e, "f").sequence_number, h.task(e, "f").status) == (2, "QUEUED")
    h.restart()
    h.settle(25_000)  # two due times passed while "down": one catch-up run, not two
    assert h.task(e, "p").sequence_number == 3
    h.run(e, "p")
    h.settle(4_000)
    assert h.task(e, "p").sequence_number == 3
    h.settle(1_000)
    assert h.task(e, "p").sequence_number == 4


def test_schedules_triggers_and_disabled_workflows(h):
    h.upload(QUICKSTART)
    schedule = ops.add_workflow_schedule("interval@0 0 0 5", "w")
    ops.add_workflow_trigger(WorkflowRule(SingleEventCondition("go")), "w")
    h.now = schedule.next_fire_time - 1
    h.settle()
    assert ops.list_workflow_executions("w") == []
    h.settle(1)
    runs = ops.list_workflow_executions("w")
    assert [(r.execution_type, r.status) for r in runs] == [("PERIODIC", "RUNNING")]
    h.send("go")
    runs = ops.list_workflow_executions("w")
    assert [r.execution_type for r in runs] == ["PERIODIC", "EVENT"]
    assert runs[0].reason == f"schedule 1 (interval@0 0 0 5), due at " \
        f"{local_time(schedule.next_fire_time)}"
    assert "trigger 1 fired by event 'go'" in runs[1].reason
    ops.disable_workflow("w")
    h.send("go")
    h.settle(5_000)
    h.send("key")  # rules of running executions of a disabled workflow start nothing either
    assert len(ops.list_workflow_executions("w")) == 2
    assert all("t4" not in h.latest(r.id) for r in runs)
    ops.pause_workflow_trigger(1)
    ops.enable_workflow("w")
    h.send("go")  # the trigger is paused: nothing; the schedule due meanwhile runs once
    runs = ops.list_workflow_executions("w")
    assert [r.execution_type for r in runs] == ["PERIODIC", "EVENT", "PERIODIC"]


def test_an_execution_keeps_its_own_snapshot(h):
    h.upload(QUICKSTART)
    e = ops.start_workflow_execution("w")
    h.settle()
    h.upload(QUICKSTART.replace("event_key='key'", "event_key='other'"))
    h.send("key")
    assert h.latest(e)["t4"] == "QUEUED"  # the rules it started with


def test_stopping_an_execution(h):
    h.upload(QUICKSTART)
    e = ops.start_workflow_execution("w")
    h.settle()
    t1 = h.task(e, "t1")
    with h.db.transaction():
        h.store.claim(t1.id, os.getpid(), process_start_time(os.getpid()), h.now)
    ops.stop_workflow_execution(e)
    h.settle()
    assert h.latest(e) == {"t1": "STOPPING", "t2": "STOPPED"}
    assert h.execution(e).status == "STOPPED" and h.stopped == [t1.id]
    h.report(t1.id, "STOPPED")
    assert h.latest(e) == {"t1": "STOPPED", "t2": "STOPPED"}
    assert h.execution(e).status == "STOPPED"
    h.report(t1.id, "SUCCESS")  # a late, repeated report changes nothing
    assert h.latest(e)["t1"] == "STOPPED"


def test_manual_task_commands(h):
    h.upload(QUICKSTART)
    e = ops.start_workflow_execution("w")
    h.settle()
    ops.start_task_execution(e, "t4")
    h.settle()
    assert h.latest(e)["t4"] == "QUEUED" and h.task(e, "t4").reason == "started by a user"
    ops.stop_task_execution(e, "t4")
    h.settle()
    assert h.latest(e)["t4"] == "STOPPED"


def test_a_rule_on_failure_runs_before_the_execution_is_finished(h):
    h.upload("""
    with Workflow(name='w') as w:
        flaky = BashOperator(name='flaky', bash_command='exit 1')
        cleanup = BashOperator(name='cleanup', bash_command='echo cleanup')
        cleanup.action_on_task_status(TaskAction.START, {flaky: TaskStatus.FAILED})
    """)
    e = ops.start_workflow_execution("w")
    h.settle()
    h.run(e, "flaky", "FAILED")
    assert h.latest(e) == {"flaky": "FAILED", "cleanup": "QUEUED"}
    assert h.execution(e).status == "RUNNING"
    h.run(e, "cleanup")
    assert h.execution(e).status == "FAILED"
    assert "task flaky becoming FAILED" in h.task(e, "cleanup").reason


def test_a_step_with_nothing_due_takes_no_write_lock(h):
    """Every commit wakes the scheduler; a wake-up with nothing to do must not hold the lock
    workers claim and report under. A due timer still gets its step."""
    from aiflow_lite.sqlite import Database

    h.upload("""
        with Workflow(name='wf'):
            BashOperator(name='tick', bash_command='true', periodic_expression='interval@0 0 0 5')
    """)
    execution_id = ops.start_workflow_execution("wf")
    h.settle()
    impatient = Database(h.settings.db_path, busy_timeout_ms=100)
    scheduler = Scheduler(impatient)
    blocker = Database(h.settings.db_path, busy_timeout_ms=0)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        assert scheduler.step(h.now + 1).events == 0  # nothing due: no BusyError either
        with pytest.raises(Exception, match="locked"):
            scheduler.step(h.now + 5_000)  # the timer is due: this step needs the lock
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        impatient.close()
    h.settle(5_000)
    assert h.store.latest_task_executions(execution_id)["tick"].sequence_number >= 1
