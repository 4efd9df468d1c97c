"""Execution lifetime and stateful workflow triggers, one `step(now)` at a time (the scheduler
harness of test_scheduler.py): which executions listen, which end, what triggers remember."""

from __future__ import annotations

import pytest
from test_scheduler import Harness

from aiflow_lite import ops
from aiflow_lite.conditions import (
    Condition,
    MeetAllCondition,
    MeetAnyCondition,
    SingleEventCondition,
    WorkflowRule,
)
from aiflow_lite.errors import InvalidInput
from aiflow_lite.state import ValueStateDescriptor
from aiflow_lite.status import TaskStatus

ONE_TASK = """
with Workflow(name='w') as w:
    BashOperator(name='t', bash_command='true')
"""


@pytest.fixture
def h(home, tmp_path):
    harness = Harness(tmp_path)
    yield harness
    harness.db.close()


def _runs(name: str = "w") -> list:
    return ops.list_workflow_executions(name)


def test_a_meet_all_trigger_remembers_across_events_and_restarts(h):
    h.upload(ONE_TASK)
    ops.add_workflow_trigger(WorkflowRule(MeetAllCondition(
        [SingleEventCondition("a"), SingleEventCondition("b")])), "w")
    h.send("a")
    h.send("a")  # met twice, still one half
    assert _runs() == []
    h.restart()  # a new scheduler process: the half it saw is in the database
    h.send("b")
    assert len(_runs()) == 1 and "'b'" in _runs()[0].reason
    h.send("b")  # the condition started over: b alone is half again
    assert len(_runs()) == 1
    h.send("a")
    assert len(_runs()) == 2


def test_a_meet_any_trigger_fires_on_either(h):
    h.upload(ONE_TASK)
    ops.add_workflow_trigger(WorkflowRule(MeetAnyCondition(
        [SingleEventCondition("a"), SingleEventCondition("b")])), "w")
    h.send("b")
    h.send("a")
    h.send("c")
    assert [r.reason.split("event ")[1].split(" ")[0] for r in _runs()] == ["'b'", "'a'"]


class NotWhileRunning(Condition):
    """Inside a trigger, get_task_status reads the newest execution of the trigger's workflow."""

    def is_met(self, event, context):
        return context.get_task_status("t") not in (TaskStatus.QUEUED, TaskStatus.RUNNING)


def test_get_task_status_in_a_trigger_sees_the_newest_execution(h):
    h.upload(ONE_TASK)
    ops.add_workflow_trigger(WorkflowRule(NotWhileRunning(["go"])), "w")
    h.send("go")  # no execution yet: the status is None, so it fires
    first = _runs()[0].id
    assert h.latest(first) == {"t": "QUEUED"}
    h.send("go")  # the newest execution's t is QUEUED: not met
    assert len(_runs()) == 1
    h.run(first, "t")
    h.send("go")
    assert len(_runs()) == 2


class Broken(Condition):
    def is_met(self, event, context):
        context.get_state(ValueStateDescriptor("n")).update(1)
        raise RuntimeError("bug in a user's condition")


class Counts(Condition):
    def is_met(self, event, context):
        state = context.get_state(ValueStateDescriptor("n"))
        state.update((state.value() or 0) + 1)
        return state.value() == 2


def test_a_raising_trigger_is_not_met_and_keeps_no_state(h):
    h.upload(ONE_TASK)
    broken = ops.add_workflow_trigger(WorkflowRule(Broken(["go"])), "w")
    ops.add_workflow_trigger(WorkflowRule(Counts(["go"])), "w")  # its neighbour goes on
    h.send("go")
    h.send("go")
    assert len(_runs()) == 1
    assert h.scheduler.schedules.trigger_states(broken.id) == {}


def test_trigger_ids_are_never_reused_so_no_cached_rule_is_stale(h):
    h.upload(ONE_TASK)
    first = ops.add_workflow_trigger(WorkflowRule(Counts(["x"])), "w")
    h.send("x")  # the scheduler caches trigger 1's rule, and it keeps state
    ops.delete_workflow_trigger(first.id)
    second = ops.add_workflow_trigger(WorkflowRule(SingleEventCondition("y")), "w")
    assert second.id != first.id
    h.send("y")
    assert len(_runs()) == 1 and h.scheduler.schedules.trigger_states(first.id) == {}


def test_a_status_only_workflow_ends_even_if_a_task_never_runs(h):
    h.upload("""
with Workflow(name='w') as w:
    work = BashOperator(name='work', bash_command='true')
    cleanup = BashOperator(name='cleanup', bash_command='true')
    cleanup.action_on_task_status(TaskAction.START, {work: TaskStatus.FAILED})
""")
    e = ops.start_workflow_execution("w")
    h.settle()
    h.run(e, "work")  # cleanup waits for a FAILED that can no longer come
    assert h.execution(e).status == "SUCCESS" and "cleanup" not in h.latest(e)


def test_a_listening_execution_stays_open_and_says_for_what(h):
    h.upload("""
with Workflow(name='w') as w:
    once = BashOperator(name='once', bash_command='true')
    again = BashOperator(name='again', bash_command='true')
    again.action_on_event_received(action=TaskAction.RESTART, event_key='go')
    stopper = BashOperator(name='stopper', bash_command='true')
    stopper.start_after(once)
    # A STOP rule starts nothing: it keeps nothing open.
    stopper.action_on_event_received(action=TaskAction.STOP, event_key='halt')
""")
    e = ops.start_workflow_execution("w")
    h.settle()
    for name in ("once", "again"):
        h.run(e, name)
    h.run(e, "stopper")
    assert h.execution(e).status == "RUNNING"
    assert ops.get_workflow_execution(e).waiting_for == "waiting for 'go' to restart 'again'"
    h.send("go")
    assert ops.get_workflow_execution(e).waiting_for is None  # again is QUEUED: not idle
    h.run(e, "again", "FAILED")  # a failure does not end a listening execution
    assert h.execution(e).status == "RUNNING"
    # Run-once's close: the status its tasks earned, and what it still listened for.
    assert h.scheduler.close_execution(e, h.now) == "waiting for 'go' to restart 'again'"
    assert h.execution(e).status == "FAILED"


def test_a_task_stopped_by_a_user_holds_the_execution_open(h):
    h.upload(ONE_TASK)
    e = ops.start_workflow_execution("w")
    h.settle()
    ops.stop_task_execution(e, "t")
    h.settle()
    assert h.latest(e) == {"t": "STOPPED"} and h.execution(e).status == "RUNNING"
    assert "stopped by a user" in h.task(e, "t").stop_reason
    assert "'t' stopped by a user" in ops.get_workflow_execution(e).waiting_for
    ops.start_task_execution(e, "t")
    h.settle()
    assert h.latest(e) == {"t": "QUEUED"}
    h.run(e, "t")  # run to the end, nothing is held any more: the execution ends
    assert h.execution(e).status == "SUCCESS"
    with pytest.raises(InvalidInput, match="already SUCCESS"):
        ops.start_task_execution(e, "t")
    with pytest.raises(InvalidInput, match="already SUCCESS; nothing to stop"):
        ops.stop_workflow_execution(e)


def test_a_stop_then_an_immediate_start_queues_the_task_after_the_stop(h):
    h.upload(ONE_TASK)
    e = ops.start_workflow_execution("w")
    h.settle()
    h.claim(e, "t")
    ops.stop_task_execution(e, "t")
    ops.start_task_execution(e, "t")  # both applied in one step, the first still STOPPING
    h.settle()
    first, second = h.store.list_task_executions(e)
    assert (first.status, second.status) == ("STOPPING", "QUEUED")
    ops.stop_task_execution(e, "t")  # stopping the stopping one again changes nothing
    h.settle()
    assert h.store.get_task_execution(first.id).status == "STOPPING"
    h.report(first.id, "STOPPED")
    assert h.store.get_task_execution(first.id).status == "STOPPED"


def test_an_execution_whose_next_task_a_disable_dropped_ends_stopped(h):
    h.upload("""
with Workflow(name='w') as w:
    a = BashOperator(name='a', bash_command='true')
    BashOperator(name='b', bash_command='true').start_after(a)
""")
    e = ops.start_workflow_execution("w")
    h.settle()
    ops.disable_workflow("w")
    h.run(e, "a")  # b would start now: the disabled workflow starts nothing
    run = ops.get_workflow_execution(e)
    assert run.status == "STOPPED" and "b" not in h.latest(e)
    assert run.reason.endswith("stopped: its workflow was disabled")


def test_an_execution_started_after_its_workflow_was_disabled_ends_at_once(h):
    h.upload(ONE_TASK)
    e = ops.start_workflow_execution("w")  # the command is in the log, not applied yet
    ops.disable_workflow("w")
    h.settle()
    assert ops.get_workflow_execution(e).status == "STOPPED" and h.latest(e) == {}


def test_at_start_up_an_idle_execution_left_running_by_older_rules_ends(h):
    h.upload(ONE_TASK)
    e = ops.start_workflow_execution("w")
    h.settle()
    h.run(e, "t")
    assert h.execution(e).status == "SUCCESS"
    with h.db.transaction():  # what a version with other lifetime rules left behind
        h.db.execute("UPDATE workflow_execution SET status = 'RUNNING', end_time = NULL")
    h.restart()
    h.scheduler.recheck_idle(h.now)
    assert h.execution(e).status == "SUCCESS"


def test_a_trigger_that_no_longer_unpickles_is_skipped_not_jamming_the_log(h, caplog):
    h.upload(ONE_TASK)
    ops.add_workflow_trigger(WorkflowRule(SingleEventCondition("go")), "w")
    ops.add_workflow_trigger(WorkflowRule(SingleEventCondition("go")), "w")
    with h.db.transaction():  # its condition's module was changed or removed since
        h.db.execute("UPDATE workflow_trigger SET rule = x'80' WHERE id = 1")
    h.restart()
    h.send("go")
    h.send("go")
    assert [r.reason.split(" fired")[0] for r in _runs()] == ["trigger 2", "trigger 2"]
    assert h.scheduler.lag() == 0
    assert sum("workflow trigger 1 can no longer be loaded" in r.message
               for r in caplog.records) == 1


def test_a_home_at_schema_3_with_data_upgrades_and_goes_on(h):
    from aiflow_lite.schema import MIGRATIONS
    from aiflow_lite.sqlite import migrate

    h.upload(ONE_TASK)
    ops.add_workflow_trigger(WorkflowRule(SingleEventCondition("go")), "w")
    e = ops.start_workflow_execution("w")
    h.settle()
    h.run(e, "t")
    with h.db.transaction():  # version 3's rules kept it RUNNING
        h.db.execute("UPDATE workflow_execution SET status = 'RUNNING', end_time = NULL")
    migrate(h.db, MIGRATIONS, 3)
    assert "trigger_state" not in h.db.table_names()
    migrate(h.db, MIGRATIONS)
    h.restart()
    h.scheduler.recheck_idle(h.now)
    assert h.execution(e).status == "SUCCESS" and h.latest(e) == {"t": "SUCCESS"}
    assert ops.add_workflow_trigger(WorkflowRule(SingleEventCondition("other")), "w").id == 2
    h.send("go")  # the trigger of version 3 still fires
    assert [r.reason.split(" fired")[0] for r in _runs()[1:]] == ["trigger 1"]
