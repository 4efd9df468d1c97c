"""The Ray executor's bookkeeping, against a fake Ray and owner (fast; the real cluster is in
test_ray_executor.py): an owner that does not answer is asked again, never given up while it
may live; one certainly gone loses its tries; a key a forgotten try holds is sent again once
free; a lost Ray task whose worker left its result reports that result; and what a Ray node
does before its try's guard runs (the stop relay, the load probe), in this process."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import threading

import pytest
from test_scheduler import Harness

from aiflow_lite import ops
from aiflow_lite.engine.launch.results import result_path, write_result
from aiflow_lite.status import TaskStatus

ray = pytest.importorskip("ray")
ray_executor = pytest.importorskip("aiflow_lite.engine.ray_executor")
ONE_TASK = """
with Workflow(name='w') as w:
    BashOperator(name='t', bash_command='true', max_retries=1)
"""


class _Id:
    def __init__(self, value: str) -> None:
        self.value = value

    def hex(self) -> str:
        return self.value


class _Method:
    """`owner.method.remote(...)` gives a thunk the fake `ray.get` calls."""

    def __init__(self, owner: FakeOwner, name: str) -> None:
        self.owner, self.name = owner, name

    def remote(self, *args):
        return lambda: getattr(self.owner, self.name)(*args)


class FakeOwner:
    """Takes orders (or fails to, as told by `failures`), answers `state`, remembers signals."""

    def __init__(self, actor_id: str = "a1") -> None:
        self._actor_id = _Id(actor_id)
        self.failures: list = []  # exceptions the next submits raise, in turn
        self.busy: set = set()  # keys a forgotten try still holds
        self.taken: list = []  # keys submitted, in order
        self.signals: list = []
        self.forgotten: list = []

    def __getattr__(self, name):
        if name in ("submit", "state", "signal", "forget", "changes"):
            return _Method(self, "_" + name)
        raise AttributeError(name)

    def _submit(self, batch):
        if self.failures:
            raise self.failures.pop(0)
        busy = [key for key, _, _ in batch if key in self.busy]
        self.taken += [key for key, _, _ in batch if key not in busy and key not in self.taken]
        return busy

    def _state(self):
        return 0, {}

    def _signal(self, key, signum):
        self.signals.append((key, signum))
        return True

    def _forget(self, keys):
        self.forgotten += keys


class FakeRay:
    exceptions = ray.exceptions

    def __init__(self, owner: FakeOwner) -> None:
        self.named: object = owner  # what a lookup of the owner's name finds (None: nothing)
        self.lookups_fail = False

    def get(self, thunk, timeout=None):
        return thunk()

    def get_actor(self, name, namespace=None):
        if self.lookups_fail:
            raise ray.exceptions.GetTimeoutError("the GCS is slow")
        if self.named is None:
            raise ValueError(f"Failed to look up actor with name '{name}'")
        return self.named

    def kill(self, actor):
        pass

    def shutdown(self):
        pass


class Cluster:
    """A RayExecutor on the harness's home, its Ray and owners fake; `owners` in the order
    `get_owner` made them."""

    def __init__(self, h, monkeypatch) -> None:
        self.h = h
        self.owners = [FakeOwner("a1")]
        self.fail_get_owner = False
        self.fake = FakeRay(self.owners[0])

        def get_owner(_ray, _home):  # the one of that name, or a new one
            if self.fail_get_owner:
                raise ray.exceptions.RaySystemError("the GCS is down")
            if self.fake.named is None:
                self.owners.append(FakeOwner(f"a{len(self.owners) + 1}"))
                self.fake.named = self.owners[-1]
            return self.fake.named

        monkeypatch.setattr(ray_executor, "connect", lambda settings: self.fake)
        monkeypatch.setattr(ray_executor, "get_owner", get_owner)
        monkeypatch.setattr(ray_executor.RayExecutor, "_start_listener", lambda self: None)
        settings = dataclasses.replace(h.settings, values={**h.settings.values,
                                                           "task_heartbeat_timeout": 1e9})
        self.executor = ray_executor.RayExecutor(settings, h.store, h.log)

    def start(self) -> tuple:
        """One execution of ONE_TASK, its task claimed and handed to Ray: (execution, meta)."""
        self.h.upload(ONE_TASK)
        execution = ops.start_workflow_execution("w")
        self.h.settle()
        meta = self.h.task(execution, "t")
        assert self.executor.launch_queued() == [meta.id]
        return execution, meta

    def tell(self, meta, outcome: tuple) -> None:
        """What the listener hears from the owner: `meta`'s try ended so."""
        with self.executor._lock:
            self.executor._news[f"{meta.id}.{meta.try_number}"] = outcome

    def round(self) -> None:
        self.executor.reap()
        self.h.settle()


@pytest.fixture
def rc(home, tmp_path, monkeypatch):
    h = Harness(tmp_path)
    cluster = Cluster(h, monkeypatch)
    yield cluster
    cluster.executor.shutdown()
    h.db.close()


def _never_waits(executor) -> None:
    executor._next_send = 0.0  # the next round asks again (rather than 0.5 s later)


@pytest.mark.parametrize("failure", [
    ray.exceptions.ActorUnavailableError("restarting", b"\0" * 16),
    ray.exceptions.GetTimeoutError("no answer in time"),
], ids=["unavailable", "slow"])
def test_an_owner_that_does_not_answer_is_asked_again_and_given_the_try_once(rc, failure):
    owner = rc.owners[0]
    owner.failures = [failure, failure, failure]
    rc.fake.lookups_fail = True  # the GCS cannot say either: that is no loss
    execution, meta = rc.start()
    for _ in range(3):
        _never_waits(rc.executor)
        rc.round()
        assert rc.h.task(execution, "t").status == TaskStatus.RUNNING.value
    assert owner.taken == [f"{meta.id}.1"] and len(rc.owners) == 1
    rc.tell(meta, ("SUCCESS", None, False))
    rc.round()
    assert (rc.h.task(execution, "t").status, rc.h.task(execution, "t").try_number) == \
        (TaskStatus.SUCCESS.value, 1)


def test_an_owner_gone_by_name_loses_its_tries_and_a_new_one_takes_the_retry(rc):
    rc.owners[0].failures = [ray.exceptions.ActorUnavailableError("gone?", b"\0" * 16)]
    rc.fake.named = None  # no actor has the owner's name any more
    execution, meta = rc.start()
    rc.round()
    first = rc.h.task(execution, "t")
    assert first.try_number == 2 and len(rc.owners) == 2  # try 1 lost, its retry queued
    assert rc.executor.launch_queued() == [meta.id]
    assert rc.owners[1].taken == [f"{meta.id}.2"] and rc.owners[0].taken == []


def test_an_owner_that_cannot_be_renewed_is_renewed_a_round_later(rc):
    rc.owners[0].failures = [ray.exceptions.ActorDiedError()]
    rc.fail_get_owner = True
    rc.fake.named = None
    execution, meta = rc.start()
    rc.round()  # try 1 lost; no new owner yet: nothing is claimed for it
    assert rc.executor.owner is None and rc.executor.launch_queued() == []
    assert rc.h.task(execution, "t").status == TaskStatus.QUEUED.value
    rc.fail_get_owner = False
    rc.round()
    assert rc.executor.launch_queued() == [meta.id] and rc.owners[-1].taken == [f"{meta.id}.2"]


def test_a_key_a_forgotten_try_holds_is_sent_again_once_it_is_free(rc):
    """A reset home's try 1 of task execution 1 may still be ending under the owner."""
    rc.h.upload(ONE_TASK)
    execution = ops.start_workflow_execution("w")
    rc.h.settle()
    meta = rc.h.task(execution, "t")
    owner = rc.owners[0]
    owner.busy = {f"{meta.id}.1"}
    assert rc.executor.launch_queued() == [meta.id]
    _never_waits(rc.executor)
    rc.round()
    assert owner.taken == [] and f"{meta.id}.1" in rc.executor._unsent
    owner.busy = set()  # it ended, and was dropped
    _never_waits(rc.executor)
    rc.round()
    assert owner.taken == [f"{meta.id}.1"] and not rc.executor._unsent


def test_a_try_stopped_before_the_owner_took_it_is_stopped_and_never_sent(rc):
    rc.h.upload(ONE_TASK)
    execution = ops.start_workflow_execution("w")
    rc.h.settle()
    meta = rc.h.task(execution, "t")
    rc.owners[0].busy = {f"{meta.id}.1"}
    rc.executor.launch_queued()
    ops.stop_task_execution(execution, "t")
    rc.h.settle()
    for task_execution_id in rc.h.stopped:
        rc.executor.stop(task_execution_id)
    rc.owners[0].busy = set()
    _never_waits(rc.executor)
    rc.round()
    assert rc.h.task(execution, "t").status == TaskStatus.STOPPED.value
    assert rc.owners[0].taken == [] and rc.owners[0].signals == []


def test_a_lost_ray_task_whose_worker_left_its_result_reports_that_result(rc):
    """The Ray worker died after the try's worker wrote its result (but before the Ray task
    returned it): the try succeeded, and is not run again."""
    execution, meta = rc.start()
    path = result_path(rc.h.settings.home, meta.id, 1, 4242)
    write_result(path, TaskStatus.SUCCESS, None)
    rc.tell(meta, ("FAILED", "its Ray task was lost (NodeDiedError: ...)", True))
    rc.round()
    row = rc.h.task(execution, "t")
    assert (row.status, row.try_number) == (TaskStatus.SUCCESS.value, 1)
    assert not os.path.exists(path)  # committed: the file is gone


def test_a_try_its_worker_never_started_is_a_failed_attempt_not_queued_again(rc):
    """Its key is the owner's already: queued again under it, it would never run."""
    execution, meta = rc.start()
    rc.tell(meta, ("QUEUED", "it never started", False))
    rc.round()
    row = rc.h.task(execution, "t")
    assert row.try_number == 2 and row.status == TaskStatus.QUEUED.value


def test_the_owner_reports_the_keys_a_forgotten_try_still_holds():
    from aiflow_lite.engine.ray.owner import TaskOwner, _Try

    owner = TaskOwner("/nonexistent")
    owner.tries["1.1"] = _Try(forgotten=True)
    owner.tries["2.1"] = _Try()
    busy = asyncio.run(owner.submit([("1.1", b"", {}), ("2.1", b"", {})]))
    assert busy == ["1.1"] and set(owner.tries) == {"1.1", "2.1"}


# -- on the node, before the guard ------------------------------------------------------------

def test_the_relay_holds_a_stop_until_the_worker_runs_then_hands_it_to_its_group(tmp_path):
    from aiflow_lite.engine.ray.node_task import _Relay

    signals = tmp_path / "1.1.signals"
    signals.write_bytes(b"%d\n" % signal.SIGTERM)
    relay = _Relay(str(signals))
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    worker = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            worker.wait(0.3)  # the load is under way: the stop waits
        relay.procs = (worker.pid, worker.pid)
        assert worker.wait(10) == -signal.SIGTERM
    finally:
        relay.ended.set()
        worker.kill()
        worker.wait()
        thread.join(5)


def test_a_kill_relayed_while_the_file_loads_ends_the_ray_worker(tmp_path):
    """Nothing is forked yet: the Ray worker itself goes (its loss ends the try)."""
    signals = tmp_path / "1.1.signals"
    code = ("import threading, time\n"
            "from aiflow_lite.engine.ray.node_task import _Relay\n"
            f"relay = _Relay({str(signals)!r})\n"
            "threading.Thread(target=relay.run, daemon=True).start()\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)  # a load that hangs\n")
    loading = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert loading.stdout.readline() == b"ready\n"
        signals.write_bytes(b"%d\n" % signal.SIGKILL)
        assert loading.wait(10) == -signal.SIGKILL
    finally:
        loading.kill()
        loading.wait()
        loading.stdout.close()


@pytest.mark.parametrize("harm,harmless", [
    ("threading.Thread(target=time.sleep, args=(30,), daemon=True).start()", False),
    ("os.dup(2)", False),
    ("None", True),
], ids=["thread", "open-file", "plain"])
def test_a_workflow_file_is_loaded_first_in_a_throwaway_child(monkeypatch, tmp_path, harm,
                                                             harmless):
    """What a harmful load leaves stays in that child, never in the long-lived Ray worker."""
    from aiflow_lite.engine.launch import worker
    from aiflow_lite.engine.ray import node_task

    def load(settings, order):
        import threading
        import time

        exec(harm, {"threading": threading, "time": time, "os": os})
        return object()

    monkeypatch.setattr(worker, "preload", load)
    before = threading.active_count(), len(os.listdir("/proc/self/fd"))
    assert node_task._harmless_in_a_fork(None, None) is harmless
    assert (threading.active_count(), len(os.listdir("/proc/self/fd"))) == before
