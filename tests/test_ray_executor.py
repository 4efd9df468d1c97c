"""`task_executor: ray` on a real local Ray cluster (a head and an extra node on loopback, started
and stopped here): fan-out, stop, kill -9 of the scheduler mid fan-out, kill -9 of a worker
node mid task, adoption after a restart, logs, and Python tasks. Skipped without Ray; failing
under AIFLOW_REQUIRE_RAY=1 (CI)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import wait_for
from ray_cluster import RayCluster, cluster_config, require_ray
from server_helpers import (
    EXAMPLES,
    aiflow,
    configure,
    scheduler_pid,
    start_execution,
    tasks,
    wait_execution,
)

pytestmark = [pytest.mark.slow, pytest.mark.ray]


@pytest.fixture(scope="module")
def cluster():
    """A head with one CPU and an extra node with two: tasks run on both."""
    require_ray()
    ray_cluster = RayCluster(head_cpus=1)
    try:
        ray_cluster.add_node(num_cpus=2)
        yield ray_cluster
    finally:
        ray_cluster.stop()


FAN_OUT = """
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
with Workflow(name='fan') as w:
    first = BashOperator(name='first', bash_command='echo first >> {runs}')
    for i in range({n}):
        BashOperator(name=f't{{i}}', bash_command=f'sleep {sleep}; echo t{{i}} >> {runs}'
                     ).start_after(first)
"""


def _ran(path) -> list:
    return path.read_text().split() if path.exists() else []


def test_kill_9_the_scheduler_mid_fan_out_loses_and_repeats_nothing(home, server, tmp_path,
                                                                   cluster):
    runs = tmp_path / "runs.txt"
    wf = tmp_path / "fan.py"
    wf.write_text(FAN_OUT.format(n=30, sleep=0.3, runs=runs))
    configure(home, cluster_config(cluster, "ray_executor_parallelism: 4\n"))
    aiflow("workflow", "upload", str(wf))
    execution = start_execution("fan")
    for kill_after in (3, 10, 18, 26):
        pid = server()
        wait_for(lambda n=kill_after: len(_ran(runs)) >= n, timeout=90, interval=0.02,
                 message=f"{kill_after} tasks run")
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: scheduler_pid(home) is None, timeout=10)
    server()
    assert wait_execution(execution, timeout=180) == "SUCCESS"
    assert sorted(_ran(runs)) == sorted(["first", *(f"t{i}" for i in range(30))])  # once each
    rows = tasks(execution)
    assert len(rows) == 31
    assert all(r["status"] == "SUCCESS" and r["sequence_number"] == 1 and r["try_number"] == 1
               for r in rows.values())


def test_a_stopped_task_and_its_children_die(home, server, tmp_path, cluster):
    pids = tmp_path / "pids"
    wf = tmp_path / "long.py"
    wf.write_text(f"""
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
with Workflow(name='long') as w:
    BashOperator(name='long', bash_command='sleep 600 & echo $$ $! > {pids}; wait')
""")
    configure(home, cluster_config(cluster))
    aiflow("workflow", "upload", str(wf))
    server()
    execution = start_execution("long")
    wait_for(lambda: pids.exists() and len(pids.read_text().split()) == 2, timeout=60,
             message="the task's shell and its child")
    shell, child = (int(p) for p in pids.read_text().split())
    assert all(_alive(p) for p in (shell, child))
    aiflow("workflow-execution", "stop", str(execution))
    assert wait_execution(execution, timeout=60) == "STOPPED"
    wait_for(lambda: not _alive(shell) and not _alive(child), timeout=20,
             message="the task's processes gone")
    assert tasks(execution)["long"]["status"] == "STOPPED"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_running_tries_are_adopted_after_a_scheduler_crash(home, server, tmp_path, cluster):
    wf = tmp_path / "adopt.py"
    runs = tmp_path / "runs"
    wf.write_text(f"""
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
with Workflow(name='adopt') as w:
    BashOperator(name='ok', bash_command='echo ok >> {runs}; sleep 3')
    BashOperator(name='bad', bash_command='echo bad >> {runs}; sleep 3; exit 3')
""")
    configure(home, cluster_config(cluster))
    aiflow("workflow", "upload", str(wf))
    pid = server()
    execution = start_execution("adopt")
    wait_for(lambda: len(_ran(runs)) == 2, timeout=60, message="both tasks running")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: scheduler_pid(home) is None, timeout=10)
    stale = home / "ray" / "999.1.begun"  # a try of an owner long gone (or of a reset home)
    stale.write_text("cancelled")
    server()
    wait_for(lambda: not stale.exists(), timeout=30,  # else a try 999.1 would never start
             message="the stale meeting file swept")
    assert wait_execution(execution, timeout=60) == "FAILED"
    rows = tasks(execution)
    assert (rows["ok"]["status"], rows["bad"]["status"]) == ("SUCCESS", "FAILED")
    assert "exited with code 3" in rows["bad"]["stop_reason"]
    assert sorted(_ran(runs)) == ["bad", "ok"]  # adopted, not run again


def test_logs_and_python_tasks_come_back(home, server, tmp_path, cluster):
    wf = tmp_path / "py.py"
    wf.write_text("""
import os
from ai_flow.model.workflow import Workflow
from ai_flow.operators.python import PythonOperator

def hello():
    print('hello from pid', os.getpid(), flush=True)

with Workflow(name='py') as w:
    PythonOperator(name='hello', python_callable=hello)
""")
    configure(home, cluster_config(cluster))
    aiflow("workflow", "upload", str(wf))
    server()
    execution = start_execution("py")
    assert wait_execution(execution, timeout=60) == "SUCCESS"
    row = tasks(execution)["hello"]
    log = aiflow("task-execution", "logs", str(row["id"])).stdout
    assert "hello from pid" in log and "result: SUCCESS" in log


def test_quickstart_runs_to_the_end_on_ray(home, cluster):
    proc = aiflow("run", str(EXAMPLES / "quickstart" / "quickstart.py"), "--executor", "ray",
                  "--ray-address", cluster.address, "-o", "json", check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["status"] == "SUCCESS"
    assert _owners(cluster) == []  # the run's temporary home leaves no actor on the cluster


def _owners(cluster: RayCluster) -> list:
    """The names of aiflow_lite's actors alive on `cluster` (from a driver of its own)."""
    code = (f"import json, ray; ray.init(address={cluster.address!r}, logging_level='ERROR'); "
            "print(json.dumps([a['name'] for a in ray.util.list_named_actors("
            "all_namespaces=True) if a['namespace'] == 'aiflow_lite']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_the_model_lifecycle_runs_to_the_end_on_ray(home, cluster, tmp_path, monkeypatch):
    """Each task acts on the model version whose event started it, its event carried to a Ray
    node with its order."""
    kept = tmp_path / "kept"
    proc = aiflow("run", str(EXAMPLES / "model_lifecycle" / "workflow.py"), "--executor", "ray",
                  "--ray-address", cluster.address, "--home", str(kept), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "default.model_lifecycle: SUCCESS" in proc.stdout
    monkeypatch.setenv("AIFLOW_HOME", str(kept))
    from aiflow_lite import ops

    [version] = ops.list_model_versions("churn")
    assert version.stage == "DEPLOYED" and version.lineage["task_name"] == "train"
    [accuracy] = ops.list_metrics(key="accuracy", model_name="churn", model_version=1)
    assert accuracy.value >= 0.7
    logs = {t.task_name: t for t in ops.list_task_executions(version.lineage[
        "workflow_execution_id"])}
    assert {"train", "validate", "deploy"} <= set(logs)
    assert all(t.status == "SUCCESS" for t in logs.values())


#: A Bash task whose first try hangs (60 s) and whose second is quick; each marks its shell's
#: pid in {marks}, and writes "done" to {marks}.done when it got to its end.
FIRST_TRY_HANGS = ("echo $$ >> {marks}; if [ $(wc -l < {marks}) -eq 1 ]; then sleep 60; "
                   "else sleep 1; fi; echo done >> {marks}.done")


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])


class HangingFirstTry:
    """A workflow of one FIRST_TRY_HANGS task (max_retries=1), started: `shell` is its first
    try's shell, once running; `retried_alone()` checks the end (the second try ran, and the
    first never got to its end)."""

    def __init__(self, home, server, tmp_path, cluster_of_it: RayCluster) -> None:
        self.marks = tmp_path / "marks"
        wf = tmp_path / "hangs.py"
        wf.write_text(f"""
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
with Workflow(name='hangs') as w:
    BashOperator(name='slow', bash_command={FIRST_TRY_HANGS.format(marks=self.marks)!r},
                 max_retries=1)
""")
        configure(home, cluster_config(cluster_of_it))
        aiflow("workflow", "upload", str(wf))
        server()
        self.execution = start_execution("hangs")
        wait_for(lambda: len(_ran(self.marks)) == 1, timeout=90,
                 message="the first try running")
        self.shell = int(_ran(self.marks)[0])

    def retried_alone(self) -> None:
        assert wait_execution(self.execution, timeout=120) == "SUCCESS"
        row = tasks(self.execution)["slow"]
        assert (row["try_number"], len(_ran(self.marks))) == (2, 2)
        assert _ran(Path(f"{self.marks}.done")) == ["done"]  # the first never got that far


def test_a_killed_ray_worker_takes_its_task_with_it_and_is_retried(home, server, tmp_path,
                                                                   cluster):
    """kill -9 of the Ray worker running a try: the task's shell (its own session) dies too,
    the try is a failed attempt, its retry runs alone."""
    run = HangingFirstTry(home, server, tmp_path, cluster)
    ray_worker = _parent(_parent(_parent(run.shell)))  # shell < worker < guard < Ray worker
    assert b"ray::" in Path(f"/proc/{ray_worker}/cmdline").read_bytes()
    os.kill(ray_worker, signal.SIGKILL)
    wait_for(lambda: not _alive(run.shell), timeout=10, message="the killed try's shell gone")
    run.retried_alone()


def test_a_killed_owner_actor_loses_its_tries_and_a_new_one_retries_them(home, server,
                                                                       tmp_path, cluster):
    """The owner holds the home's tries; killed, they die with it (Ray kills a task whose
    owner died), are failed attempts, and run again under a new owner, once each."""
    from aiflow_lite.engine.ray_executor import RAY_NAMESPACE, owner_name

    run = HangingFirstTry(home, server, tmp_path, cluster)
    code = (f"import ray; ray.init(address={cluster.address!r}, logging_level='ERROR'); "
            f"ray.kill(ray.get_actor({owner_name(str(home))!r}, namespace={RAY_NAMESPACE!r}))")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, capture_output=True)
    wait_for(lambda: not _alive(run.shell), timeout=20, message="the lost try's shell gone")
    run.retried_alone()


def test_a_try_outliving_the_heartbeat_timeout_keeps_beating(home, server, tmp_path, cluster):
    """A Ray try is claimed before its process exists (pid 0): its worker's heartbeats match
    that claim, so a try longer than task_heartbeat_timeout is not taken for dead."""
    wf = tmp_path / "beat.py"
    wf.write_text("""
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
with Workflow(name='beat') as w:
    BashOperator(name='long', bash_command='sleep 7')
""")
    configure(home, cluster_config(cluster, "task_heartbeat_timeout: 3\n"
                                   "task_heartbeat_interval: 0.5\n"
                                   "task_executor_heartbeat_check_interval: 0.5\n"))
    aiflow("workflow", "upload", str(wf))
    server()
    execution = start_execution("beat")
    assert wait_execution(execution, timeout=60) == "SUCCESS"
    assert tasks(execution)["long"]["try_number"] == 1


def test_a_try_waiting_for_a_ray_cpu_stops_at_once(home, server, tmp_path, cluster):
    """Two tries that each need the only node with 2 CPUs: the second waits in Ray's queue,
    and a stop cancels it there instead of waiting for the first to end."""
    wf = tmp_path / "queue.py"
    started = tmp_path / "started"
    wf.write_text(f"""
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
with Workflow(name='queue') as w:
    for name in ('a', 'b'):
        BashOperator(name=name, bash_command='echo $$ >> {started}; sleep 120')
""")
    configure(home, cluster_config(cluster, "ray_task_num_cpus: 2\n"))
    aiflow("workflow", "upload", str(wf))
    server()
    execution = start_execution("queue")
    wait_for(lambda: len(_ran(started)) == 1, timeout=60, message="one try running")
    assert {r["status"] for r in tasks(execution).values()} == {"RUNNING"}  # both claimed
    aiflow("workflow-execution", "stop", str(execution))
    assert wait_execution(execution, timeout=30) == "STOPPED"
    assert {r["status"] for r in tasks(execution).values()} == {"STOPPED"}
    assert len(_ran(started)) == 1, tasks(execution)  # the queued one never started


def test_switching_executors_with_tries_in_flight_is_refused(home, server, tmp_path, cluster):
    """A local worker outlives its killed scheduler on purpose; a scheduler on Ray would report
    it lost and run its retry beside it: it refuses to start, in one line."""
    wf = tmp_path / "local.py"
    wf.write_text("""
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator
with Workflow(name='local') as w:
    BashOperator(name='long', bash_command='sleep 120')
""")
    aiflow("workflow", "upload", str(wf))
    pid = server()
    execution = start_execution("local")
    wait_for(lambda: tasks(execution)["long"]["status"] == "RUNNING", timeout=30)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: scheduler_pid(home) is None, timeout=10)
    configure(home, cluster_config(cluster))
    proc = aiflow("server", "start", "-d", check=False)
    assert proc.returncode != 0
    assert "still run on this machine's local executor" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert tasks(execution)["long"]["status"] == "RUNNING"  # nothing written


def test_a_lost_worker_node_is_a_failed_attempt_and_retried(home, server, tmp_path):
    """A head with no CPU (it holds the owner, runs no task) and one worker node, killed -9
    mid task: the try is reported lost and retried on a node that joins afterwards."""
    require_ray()
    lonely = RayCluster(head_cpus=0)
    try:
        first = lonely.add_node(num_cpus=1)
        run = HangingFirstTry(home, server, tmp_path, lonely)
        first.kill(signal.SIGKILL)  # the whole node: raylet, its workers
        wait_for(lambda: not _alive(run.shell), timeout=15, message="the lost node's task gone")
        wait_for(lambda: tasks(run.execution)["slow"]["try_number"] == 2, timeout=60,
                 message="the second try")
        lonely.add_node(num_cpus=1)
        run.retried_alone()
    finally:
        aiflow("server", "stop", check=False)
        lonely.stop()


def test_an_unreachable_cluster_is_one_line(home, tmp_path):
    require_ray()
    from ray_cluster import free_port

    proc = aiflow("run", str(EXAMPLES / "quickstart" / "quickstart.py"), "--executor", "ray",
                  "--ray-address", f"127.0.0.1:{free_port()}", check=False)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert lines and "cannot reach the Ray cluster" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_port_that_is_not_ray_is_one_line(home, tmp_path):
    """Something listens there, but not a Ray head: ray.init would wait for good."""
    require_ray()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        proc = aiflow("run", str(EXAMPLES / "quickstart" / "quickstart.py"), "--executor",
                      "ray", "--ray-address", f"127.0.0.1:{port}", check=False)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert lines and "cannot reach the Ray cluster" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
