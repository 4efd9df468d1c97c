"""A stop that lands while an operator starts its child process is held until the child is
recorded, so the operator's stop() still reaches it (aiflow_lite.stopping)."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from aiflow_lite.engine.launch.worker import TaskStopped
from aiflow_lite.operators.bash import BashOperator
from aiflow_lite.stopping import defer_stop
from aiflow_lite.workflow import Workflow


@pytest.fixture
def worker_stop_handler():
    """SIGTERM as the worker handles it while a task runs."""

    def stop(signum, frame):
        if not defer_stop():
            raise TaskStopped()

    previous = signal.signal(signal.SIGTERM, stop)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_a_stop_during_the_start_of_a_bash_child_still_reaches_it(worker_stop_handler,
                                                                   monkeypatch):
    real_popen = subprocess.Popen

    def popen_then_stop(*args, **kwargs):
        child = real_popen(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # the stop lands before the child is recorded
        return child

    with Workflow(name="w"):
        op = BashOperator(name="t", bash_command="sleep 60")
    monkeypatch.setattr(subprocess, "Popen", popen_then_stop)
    with pytest.raises(TaskStopped):
        op.start(None)
    monkeypatch.undo()
    assert op._process is not None  # recorded before the stop was delivered
    op.stop(None)
    assert op._process.poll() is not None


def test_outside_a_deferred_block_a_stop_is_immediate(worker_stop_handler):
    with pytest.raises(TaskStopped):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs at the next bytecode boundary
            pass
