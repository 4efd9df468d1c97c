"""The executor and its launchers: a worker runs only on GO, never on DROP, and one whose
executor died before the word runs only if its claim committed; the executor says GO only to
the workers it claimed for, reports how each ended, and works the same through every
`Launcher` (the inline one here, fast; the real ones, which start processes, marked slow)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import apsw
import pytest
from test_scheduler import QUICKSTART, Harness

from aiflow_lite import ops
from aiflow_lite.engine.executor import LocalExecutor
from aiflow_lite.engine.launch.inline import InlineLauncher
from aiflow_lite.engine.launch.launcher import Launch
from aiflow_lite.engine.launch.protocol import (
    Drop,
    Exit,
    Go,
    Lost,
    NoPid,
    Order,
    Pid,
    ProtocolError,
    Ready,
    Run,
    Unsafe,
    decode,
)
from aiflow_lite.engine.launch.results import read_result, result_path, results_dir, write_result
from aiflow_lite.engine.launch.spawn import SpawnLauncher
from aiflow_lite.engine.launch.worker import NEVER_STARTED, receive
from aiflow_lite.events import InternalKey
from aiflow_lite.status import TaskStatus


@pytest.fixture
def h(home, tmp_path):
    harness = Harness(tmp_path)
    yield harness
    harness.db.close()


# -- the protocol -------------------------------------------------------------------------------

ORDER = Order(7, 2, 3, "t", 5, "default", "w", 4, "file:///s.zip", "w.py", "/tmp/t 1\n.log")


@pytest.mark.parametrize("message", [
    ORDER, Run.of(ORDER, 9), Pid(7, 123, 9), NoPid(7, 9), Go(7, 123), Go(7), Drop(7, 123),
    Exit(7, 123, -9), Lost(7, 123), Ready(), Unsafe("its load started a thread")],
    ids=lambda m: type(m).__name__)
def test_every_message_is_one_line_that_decodes_to_itself(message):
    line = message.encode()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line) == message


def test_a_run_carries_its_order_untouched_and_its_snapshot():
    run = decode(Run.of(ORDER, 1).encode())
    assert run.snapshot_id == ORDER.snapshot_id and decode(run.order) == ORDER


@pytest.mark.parametrize("line", [
    b"", b"HELLO 1", b"PID 1 2", b"GO x 1", b"READY now", b"ORDER {}", b"RUN 1 2",
    b"GO +1 2", b"GO 1_0 2", b"GO \t3 2",  # only plain decimals
    b"PID 7 1 3", b"PID 7 -1 3",  # no worker is pid 1 or below: kill(-1) signals everyone
    b"RUN 1 2 3 GO 1 5",  # a cut RUN glued to the next word is no RUN
    b"ORDER " + b"[" * 100_000,  # nested beyond the parser's depth
])
def test_a_line_that_is_no_message_is_refused(line):
    with pytest.raises(ProtocolError):
        decode(line)


def test_a_long_line_is_written_whole_when_the_kernel_takes_it_in_pieces(monkeypatch):
    """A pipe write interrupted by a signal returns a short count: the rest must follow."""
    from aiflow_lite.engine.launch import protocol

    written = bytearray()

    def short_write(fd: int, data) -> int:  # what an interrupted write does
        piece = bytes(data[:1000])
        written.extend(piece)
        return len(piece)

    monkeypatch.setattr(protocol.os, "write", short_write)
    data = b"RUN 1 2 3 ORDER {" + b"x" * 300_000 + b"}\n"
    protocol.write_all(99, data)
    assert bytes(written) == data


# -- a worker's word -----------------------------------------------------------------------

def _order_for(h, meta) -> Order:
    execution = h.execution(meta.workflow_execution_id)
    return Order(meta.id, meta.try_number, meta.sequence_number, meta.task_name, execution.id,
                 execution.namespace, execution.workflow_name, execution.snapshot_id, "", "",
                 str(h.tmp_path / "t.log"))


def _receive(h, *lines: bytes):
    """What a waiting worker decides when its pipe carries `lines` and then closes."""
    read, write = os.pipe()
    os.write(write, b"".join(line + b"\n" for line in lines))
    os.close(write)
    try:
        return receive(read, h.settings)
    finally:
        os.close(read)


def test_a_worker_runs_on_go_and_never_on_drop(h):
    h.upload(QUICKSTART)
    execution = ops.start_workflow_execution("w")
    h.settle()
    order = _order_for(h, h.task(execution, "t1"))
    line = order.encode().rstrip(b"\n")
    assert _receive(h, line, Go(order.task_execution_id, os.getpid()).encode()[:-1]) == order
    assert _receive(h, line, Drop(order.task_execution_id, os.getpid()).encode()[:-1]) is None
    assert _receive(h) is None  # a spare never given a task


def test_a_dropped_worker_says_it_never_started_so_a_committed_claim_is_queued_again(h):
    """A DROP can follow a claim that did commit (the executor failed after its COMMIT):
    the worker leaves a "never started" result, which turns the claim back into QUEUED."""
    from aiflow_lite.engine.launch.results import read_result, result_path
    from aiflow_lite.engine.launch.worker import NEVER_STARTED

    h.upload(QUICKSTART)
    execution = ops.start_workflow_execution("w")
    h.settle()
    order = _order_for(h, h.task(execution, "t1"))
    line = order.encode().rstrip(b"\n")
    for second in (Drop(order.task_execution_id, os.getpid()).encode()[:-1], b"GARBLED 1"):
        assert _receive(h, line, second) is None
        path = result_path(h.settings.home, order.task_execution_id, order.try_number,
                           os.getpid())
        assert read_result(path) == (TaskStatus.QUEUED, NEVER_STARTED)
        os.unlink(path)


def test_a_worker_whose_executor_died_before_go_runs_only_if_claimed_for_it(h):
    """The executor's claim committed, then it died before saying GO: the worker finds its
    claim in the database and runs (a restarted scheduler adopts it). Had the claim not
    committed, the task is still QUEUED and will be launched again: this one must not run."""
    h.upload(QUICKSTART)
    execution = ops.start_workflow_execution("w")
    h.settle()
    meta = h.task(execution, "t1")
    line = _order_for(h, meta).encode().rstrip(b"\n")
    assert _receive(h, line) is None  # still QUEUED: it says it never started the task
    marker = result_path(h.settings.home, meta.id, meta.try_number, os.getpid())
    assert read_result(marker) == (TaskStatus.QUEUED, NEVER_STARTED)
    with h.db.transaction():
        assert h.store.claim(meta.id, os.getpid() + 1, "x", h.now)  # another process's claim
    assert _receive(h, line) is None
    h.db.execute("UPDATE task_execution SET pid = ? WHERE id = ?", (os.getpid(), meta.id))
    assert _receive(h, line) == _order_for(h, meta)


def test_ids_of_deleted_rows_are_never_reused(h):
    """A new execution must not inherit a deleted one's id: the scheduler (and the fork server)
    key what they cache by it, and would apply the old execution's workflow to the new one."""
    h.upload("with Workflow(name='a'):\n    BashOperator(name='x', bash_command='true')\n",
             "a.py")
    h.upload(QUICKSTART, "w.py")
    first = ops.start_workflow_execution("a")
    h.settle()
    h.run(first, "x")
    deleted_task = h.task(first, "x").id
    ops.delete_workflow_execution(first)
    second = ops.start_workflow_execution("w")
    assert second > first
    h.settle()
    assert min(m.id for m in h.store.latest_task_executions(second).values()) > deleted_task
    h.run(second, "t1")
    h.run(second, "t2")
    assert h.latest(second)["t3"] == "QUEUED"  # the rules of w, not of a, were applied
    with pytest.raises(apsw.ConstraintError, match="never reused"):
        h.db.execute("INSERT INTO workflow_execution (workflow_id, snapshot_id, execution_type, "
                     "status) VALUES (1, 1, 'MANUAL', 'INIT')")


def test_a_claimed_task_whose_worker_never_started_it_is_queued_again(h):
    """The executor committed the claim but died before GO, and the worker, finding no claim
    yet, left unrun (saying so): after the restart the task is QUEUED again, not FAILED. Only
    the claimed process is believed: the same words from another one change nothing."""
    h.upload(QUICKSTART)
    execution = ops.start_workflow_execution("w")
    h.settle()
    claimed = {}
    for name in ("t1", "t2"):
        meta = h.task(execution, name)
        claimed[name] = _dead_pid()
        with h.db.transaction():
            assert h.store.claim(meta.id, claimed[name], "x", h.now)
        writer = claimed[name] if name == "t1" else _dead_pid()  # t2: some other process
        write_result(result_path(h.settings.home, meta.id, meta.try_number, writer),
                     TaskStatus.QUEUED, NEVER_STARTED)
    executor = LocalExecutor(h.settings, h.store, h.log, launcher=InlineLauncher(h.settings.home))
    try:
        executor.recover(60)
    finally:
        executor.shutdown()
    assert h.task(execution, "t1").status == "QUEUED" and h.task(execution, "t1").pid is None
    assert not os.listdir(results_dir(h.settings.home))  # nothing is left to read
    h.settle()
    assert h.task(execution, "t2").status == "FAILED"
    assert "gone" in h.task(execution, "t2").stop_reason


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


# -- the executor, through the inline launcher ------------------------------------------------

ONE = """
with Workflow(name='one') as w:
    BashOperator(name='a', bash_command='true')
    BashOperator(name='b', bash_command='true')
"""


def _results(h) -> dict:
    """task execution id → (status, message, sender) of the results reported so far."""
    events = h.log.read_after(0, keys=InternalKey.TASK_RESULT.value)
    return {e.context_dict()["task_execution_id"]: (e.value, e.context_dict()["message"],
                                                    e.sender) for e in events}


def _queued(h, body: str = ONE, name: str = "one"):
    h.upload(body)
    execution = ops.start_workflow_execution(name)
    h.settle()
    return execution, {n: h.task(execution, n) for n in h.latest(execution)}


class _ClaimLost(InlineLauncher):
    """Between the start and the claim, task `lost` stops being QUEUED (a stop came)."""

    def __init__(self, h, lost: int) -> None:
        super().__init__(h.settings.home, default=(TaskStatus.SUCCESS, None))
        self.h, self.lost = h, lost

    def start(self, orders):
        launch = super().start(orders)
        self.h.db.execute("UPDATE task_execution SET status = 'STOPPED' WHERE id = ?",
                          (self.lost,))
        return launch


def test_go_goes_only_to_the_claimed_workers_and_drop_to_the_others(h):
    _, tasks = _queued(h)
    launcher = _ClaimLost(h, tasks["b"].id)
    executor = LocalExecutor(h.settings, h.store, h.log, launcher=launcher)
    assert executor.launch_queued() == [tasks["a"].id]
    assert sorted(launcher.words) == [(tasks["a"].id, os.getpid(), True),
                                      (tasks["b"].id, os.getpid(), False)]
    assert executor.reap() == 2
    results = _results(h)
    assert results == {tasks["a"].id: ("SUCCESS", None, "worker")}  # b's exit is no news


def test_an_order_a_launcher_did_not_start_stays_queued_and_one_it_failed_fails(h):
    _, tasks = _queued(h)

    class Picky(InlineLauncher):
        def start(self, orders):
            launch = super().start([o for o in orders if o.task_name == "a"])
            return Launch(launch.pids, {tasks["b"].id: "no room"})

    executor = LocalExecutor(h.settings, h.store, h.log, launcher=Picky(h.settings.home))
    h.launcher = executor.launcher
    h.launcher.hold(tasks["a"].id)
    assert executor.launch_queued() == [tasks["a"].id]
    assert _results(h) == {tasks["b"].id: ("FAILED", "no room", "executor")}

    class Shy(InlineLauncher):
        def start(self, orders):
            return Launch({}, {})

    executor = LocalExecutor(h.settings, h.store, h.log, launcher=Shy(h.settings.home))
    h.db.execute("UPDATE task_execution SET status = 'QUEUED' WHERE id = ?", (tasks["b"].id,))
    assert executor.launch_queued() == []
    assert h.store.get_task_execution(tasks["b"].id).status == "QUEUED"


def test_a_worker_killed_without_a_result_is_failed_and_a_stopped_one_is_stopped(h):
    _, tasks = _queued(h)
    launcher = InlineLauncher(h.settings.home)
    executor = LocalExecutor(h.settings, h.store, h.log, launcher=launcher)
    for meta in tasks.values():
        launcher.hold(meta.id)
    assert executor.launch_queued() == sorted(m.id for m in tasks.values())
    launcher.signal(tasks["a"].id, os.getpid(), signal.SIGKILL)  # what kill -9 leaves
    executor.stop(tasks["b"].id)
    assert launcher.signals == [(tasks["a"].id, signal.SIGKILL), (tasks["b"].id, signal.SIGTERM)]
    assert executor.reap() == 2 and executor.active() == 0
    results = _results(h)
    assert results[tasks["a"].id][:2] == (
        "FAILED", "the worker ended (signal 9) without reporting a result")
    assert results[tasks["b"].id] == ("STOPPED", "stopped", "worker")
    assert not os.listdir(results_dir(h.settings.home))  # reported: the files are gone


# -- the real launchers (they start processes) -------------------------------------------------

def _wait_exit(launcher, task_execution_id: int, pid: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        launcher.poll()
        code = launcher.exit_code(task_execution_id, pid)
        if code is not None:
            return code
        time.sleep(0.01)
    raise AssertionError("the worker did not exit")


@pytest.mark.slow
def test_a_spawned_worker_runs_on_go_and_exits_unrun_on_drop(home, tmp_path):
    home.mkdir(parents=True, exist_ok=True)
    os.makedirs(results_dir(str(home)), exist_ok=True)
    launcher = SpawnLauncher(lambda: {**os.environ, "AIFLOW_HOME": str(home)})
    orders = [Order(i, 1, 1, "t", 1, "default", "wf", 1, "file:///nowhere.zip", "wf.py",
                    str(tmp_path / f"{i}.log")) for i in (1, 2)]
    try:
        pids = launcher.start(orders).pids
        assert sorted(pids) == [1, 2] and launcher.watching(1, pids[1])
        launcher.hand([(1, pids[1], True), (2, pids[2], False)])
        assert _wait_exit(launcher, 1, pids[1]) == 0
        assert _wait_exit(launcher, 2, pids[2]) == 0
        status, message = read_result(result_path(str(home), 1, 1, pids[1]))
        assert status == TaskStatus.FAILED and "nowhere.zip" in message  # it ran
        assert read_result(result_path(str(home), 2, 1, pids[2])) == (  # it did not
            TaskStatus.QUEUED, NEVER_STARTED)
    finally:
        launcher.close()


def test_a_stop_landing_as_the_worker_finishes_still_leaves_a_result(home, monkeypatch):
    """A SIGTERM that trips just before the handler becomes SIG_IGN (here, on a task that is
    not in its snapshot) ends as STOPPED, with a result file: it once escaped run()'s cleanup
    and the worker exited without reporting anything."""
    from types import SimpleNamespace

    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.launch import worker

    real, calls = worker.set_handler, []

    def stop_lands_first(signum, handler):
        if handler == signal.SIG_IGN and not calls:
            calls.append(signum)
            os.kill(os.getpid(), signal.SIGTERM)  # trips the worker's Python handler
        real(signum, handler)

    monkeypatch.setattr(worker, "set_handler", stop_lands_first)
    settings = load_aiflow_settings()
    order = Order(7, 1, 1, "missing", 1, "default", "wf", 1, "", "wf.py", os.devnull)
    pid = os.fork()
    if pid == 0:  # the worker's signal handlers must not touch pytest's process
        code = 3
        try:
            code = worker.run(order, settings, SimpleNamespace(workflows=[], path="wf.py"))
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert read_result(result_path(settings.home, 7, 1, pid)) == (TaskStatus.STOPPED, "stopped")


def test_a_heartbeat_counts_only_for_the_claimed_try(h):
    """Keyed by the claim's pid and the try: a Ray try is claimed with pid 0 before any process
    runs it, and an old try's worker that still runs must not keep its retry's row alive."""
    h.upload(QUICKSTART)
    execution = ops.start_workflow_execution("w")
    h.settle()
    meta = h.task(execution, "t1")
    with h.db.transaction():
        assert h.store.claim(meta.id, 0, "ray:owner", h.now, beating=False)
    assert h.store.get_task_execution(meta.id).heartbeat_time is None  # not due yet
    assert not h.store.heartbeat(meta.id, 0, meta.try_number + 1, h.now + 5)  # another try
    assert not h.store.heartbeat(meta.id, os.getpid(), meta.try_number, h.now + 5)
    assert h.store.get_task_execution(meta.id).heartbeat_time is None
    assert h.store.heartbeat(meta.id, 0, meta.try_number, h.now + 5)
    assert h.store.get_task_execution(meta.id).heartbeat_time == h.now + 5


def test_the_local_executor_will_not_take_over_tries_that_run_on_ray(h):
    """Reporting them lost would start their retries beside them: one line, nothing written."""
    from aiflow_lite.errors import AiflowError

    h.upload(QUICKSTART)
    execution = ops.start_workflow_execution("w")
    h.settle()
    meta = h.task(execution, "t1")
    with h.db.transaction():
        assert h.store.claim(meta.id, 0, "ray:0123abcd", h.now, beating=False)
    with pytest.raises(AiflowError, match=r"1 task execution.* still run on Ray"):
        h.executor.recover(60)
    assert h.store.get_task_execution(meta.id).status == TaskStatus.RUNNING.value
