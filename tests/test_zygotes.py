"""Zygotes: a snapshot's later tasks fork from a process that executed its workflow file once,
unless that is unsafe (threads, a notification client) or turned off; and a zygote that dies
under a running task costs it nothing. (The tests that run `aiflow run` or a server start real
processes: slow. The fork server's bookkeeping of its zygotes, at the end, is not.)"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import wait_for
from server_helpers import aiflow, configure, start_execution, wait_execution

from aiflow_lite.engine.launch.protocol import Exit, Lost, Pid, Run
from aiflow_lite.engine.launch.zygotes import Zygote, Zygotes

AIFLOW = [sys.executable, "-c", "from aiflow_lite.cli.aiflow import main; main()"]

CHAIN = """import os, time
from ai_flow.model.workflow import Workflow
from ai_flow.operators.python import PythonOperator
{preamble}
with open({marks!r}, 'a') as f:
    f.write(f'load {{os.getpid()}}\\n')

def work(i):
    with open({marks!r}, 'a') as f:
        f.write(f'task {{os.getppid()}} {{os.getpid()}}\\n')
    time.sleep({sleep})

with Workflow(name='chain'):
    tasks = [PythonOperator(name=f't{{i}}', python_callable=work, op_args=[i])
             for i in range({tasks})]
    for prev, task in zip(tasks, tasks[1:]):
        task.start_after(prev)
"""


def _workflow(tmp_path: Path, tasks: int = 6, sleep: float = 0.05, preamble: str = "") -> Path:
    path = tmp_path / "chain.py"
    path.write_text(CHAIN.format(preamble=preamble, marks=str(tmp_path / "marks.txt"),
                                 tasks=tasks, sleep=sleep))
    return path


def _marks(tmp_path: Path) -> tuple:
    """(pids that executed the file, the uploading command's included; [(parent pid, pid)] of
    each task run)."""
    lines = [line.split() for line in (tmp_path / "marks.txt").read_text().splitlines()]
    loads = {int(parts[1]) for parts in lines if parts[0] == "load"}
    runs = [(int(parts[1]), int(parts[2])) for parts in lines if parts[0] == "task"]
    return loads, runs


def _run(path: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*AIFLOW, "run", str(path), "--home", str(home), *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_later_tasks_fork_from_a_zygote_that_loaded_the_file_once(tmp_path):
    proc = _run(_workflow(tmp_path), tmp_path / "home")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    loads, runs = _marks(tmp_path)
    assert len(runs) == 6
    zygote_children = [pid for parent, pid in runs if parent in loads]
    assert zygote_children, "no task was forked from a zygote"
    assert not set(zygote_children) & loads  # they did not execute the file again
    assert len(loads) < len(runs)
    assert not os.listdir(tmp_path / "home" / "results")  # every result was read and removed


@pytest.mark.slow
def test_a_forked_task_reads_an_empty_stdin(tmp_path):
    """Not the fork server's protocol pipe: sys.stdin reads /dev/null, in a zygote's child too."""
    marks = tmp_path / "stdin.txt"
    path = tmp_path / "reads.py"
    path.write_text("import os, sys\n"
                    "from ai_flow.model.workflow import Workflow\n"
                    "from ai_flow.operators.python import PythonOperator\n"
                    "def read():\n"
                    f"    with open({str(marks)!r}, 'a') as f:\n"
                    "        fd0 = os.readlink('/proc/self/fd/0')\n"
                    "        f.write(f'{sys.stdin.read()!r} {fd0}\\n')\n"
                    "with Workflow(name='reads'):\n"
                    "    tasks = [PythonOperator(name=f't{i}', python_callable=read)\n"
                    "             for i in range(4)]\n"
                    "    for prev, task in zip(tasks, tasks[1:]):\n"
                    "        task.start_after(prev)\n")
    proc = _run(path, tmp_path / "home")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert marks.read_text().splitlines() == ["'' /dev/null"] * 4


UNSAFE_TO_FORK = {  # what a file's top level may do that makes forking its tasks unsafe
    "a thread": "import threading\n"
                "threading.Thread(target=threading.Event().wait, daemon=True).start()",
    "a process": "import subprocess\nhelper = subprocess.Popen(['sleep', '0.5'])",
    "an open file": "kept = open(__file__)",
    # a client made at load time must be the task's own (its events carry the execution)
    "a client": "from ai_flow.notification.notification_client import "
                "AIFlowNotificationClient\nclient = AIFlowNotificationClient()",
}


@pytest.mark.slow
@pytest.mark.parametrize("what", sorted(UNSAFE_TO_FORK))
def test_a_file_that_leaves_something_forking_would_share_is_loaded_by_each_task(tmp_path,
                                                                                  what):
    proc = _run(_workflow(tmp_path, preamble=UNSAFE_TO_FORK[what]), tmp_path / "home")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    loads, runs = _marks(tmp_path)
    assert len(runs) == 6
    assert all(pid in loads for _, pid in runs)  # each task executed the file itself
    assert not any(parent in loads for parent, _ in runs)


@pytest.mark.slow
def test_an_old_zygote_is_replaced(tmp_path):
    """Its file's top level is executed anew: what it read or computed never gets too old."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "aiflow_server.yaml").write_text("executor_zygote_max_age_seconds: 0.5\n")
    proc = _run(_workflow(tmp_path, tasks=8, sleep=0.25), home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    loads, runs = _marks(tmp_path)
    assert len({parent for parent, _ in runs if parent in loads}) >= 2


@pytest.mark.slow
def test_zygotes_can_be_turned_off(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "aiflow_server.yaml").write_text("executor_zygotes: 0\n")
    proc = _run(_workflow(tmp_path), home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    loads, runs = _marks(tmp_path)
    assert len(runs) == 6 and {pid for _, pid in runs} <= loads
    assert len(loads) == len(runs) + 1  # and the upload, by `aiflow run` itself


@pytest.mark.slow
def test_a_zygote_killed_under_a_running_task_leaves_it_its_result(tmp_path, processes):
    """The task outlives its zygote; the executor watches it by pid and reads its result."""
    path = _workflow(tmp_path, tasks=3, sleep=1.0)
    run = processes.start([*AIFLOW, "run", str(path), "--home", str(tmp_path / "home")])

    def a_zygote_child():
        if not (tmp_path / "marks.txt").exists():
            return None
        loads, runs = _marks(tmp_path)
        return next((parent for parent, _ in runs if parent in loads), None)

    zygote = wait_for(a_zygote_child, timeout=60, interval=0.02, message="a zygote's child")
    os.kill(zygote, signal.SIGKILL)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, out + err
    assert "default.chain: SUCCESS" in out
    assert len(_marks(tmp_path)[1]) == 3


@pytest.mark.slow
def test_an_idle_zygote_exits(home, tmp_path, server):
    configure(home, "executor_zygote_idle_seconds: 0.5\n")
    aiflow("workflow", "upload", str(_workflow(tmp_path, tasks=4, sleep=0.2)))
    server()
    assert wait_execution(start_execution("chain")) == "SUCCESS"
    loads, runs = _marks(tmp_path)
    zygotes = {parent for parent, _ in runs if parent in loads}
    assert zygotes, "no task was forked from a zygote"
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in zygotes), timeout=10,
             message="the idle zygote to exit")


# -- the fork server's bookkeeping of its zygotes, driven with real pipes and a fake forker --

class _FakeForker:
    def __init__(self) -> None:
        self.said, self.ran, self.spares, self.waiting = [], [], [], {}

    def say(self, message) -> None:
        self.said.append(message)

    def run(self, run: Run) -> None:
        self.ran.append((run.task_execution_id, run.request))

    def inherited(self) -> list:
        return []


@contextlib.contextmanager
def _zygotes():
    """A `Zygotes` with one ready zygote for snapshot 1: (manager, zygote, its commands'
    reading end, the writing end of its output)."""
    manager = Zygotes(SimpleNamespace(executor_zygotes=4, executor_zygote_idle_seconds=60.0,
                                      executor_zygote_max_age_seconds=300.0), _FakeForker())
    commands_r, commands_w = os.pipe()
    output_r, output_w = os.pipe()
    os.set_blocking(output_r, False)
    zygote = manager.by_snapshot[1] = Zygote(1, 2**22 + 1, commands_w, output_r)
    zygote.ready = True
    try:
        yield manager, zygote, commands_r, output_w
    finally:
        ours = [commands_r, output_w, *([] if zygote.ended else [zygote.output]),
                *([] if zygote.commands is None else [zygote.commands])]
        for fd in ours:
            os.close(fd)


def _says(manager, zygote, output_w, *messages) -> None:
    os.write(output_w, b"".join(m.encode() for m in messages))
    manager.read(zygote)


def _a_run(task_execution_id: int, request: int) -> Run:
    return Run(task_execution_id, request, 1, b'ORDER {"snapshot_id": 1}')


def test_a_word_for_another_child_of_the_task_is_not_the_zygotes():
    with _zygotes() as (manager, zygote, _, output_w):
        assert manager.route(_a_run(5, 1))
        _says(manager, zygote, output_w, Pid(5, 100, 1))
        assert not manager.hand(5, True, 999)  # a plain child of the task: not the zygote's
        assert manager.hand(5, True, 100)


def test_a_retiring_zygote_whose_last_task_was_dropped_before_its_pid_exits():
    with _zygotes() as (manager, zygote, _, output_w):
        assert manager.route(_a_run(7, 1))
        manager._retire(zygote)  # too old: it takes no new task, and goes once idle
        assert zygote.commands is not None
        assert manager.hand(7, False, 0)  # the executor gave up on request 1
        assert zygote.commands is None and not zygote.owned
        _says(manager, zygote, output_w, Pid(7, 200, 1), Exit(7, 200, 0))  # a late answer
        assert not zygote.owned and 7 not in manager.owner
        assert manager.forker.ran == []  # and nothing is replayed


def test_the_exit_of_an_older_child_keeps_the_newer_one():
    with _zygotes() as (manager, zygote, _, output_w):
        assert manager.route(_a_run(3, 1))
        _says(manager, zygote, output_w, Pid(3, 300, 1))
        manager.hand(3, False, 300)
        assert manager.route(_a_run(3, 2))  # launched again
        _says(manager, zygote, output_w, Pid(3, 301, 2), Exit(3, 300, 0))
        assert zygote.owned[3] == (2, 301) and manager.owner[3] is zygote


def test_a_reaped_zygote_is_cleaned_up_even_if_its_output_never_ends():
    """A process its file started may hold its output open: its exit is what counts. Its
    running children are reported LOST, and a RUN it never answered is run plainly."""
    with _zygotes() as (manager, zygote, _, output_w):
        assert manager.route(_a_run(1, 1)) and manager.route(_a_run(2, 2))
        os.write(output_w, Pid(1, 400, 1).encode())  # its last words, not yet read
        manager.reaped(zygote.pid)
        assert Pid(1, 400, 1) in manager.forker.said and Lost(1, 400) in manager.forker.said
        assert manager.forker.ran == [(2, 2)]
        assert zygote.ended and 1 not in manager.by_snapshot and not manager.owner
        assert 1 in manager.plain  # it died: its snapshot forks plainly from now on
