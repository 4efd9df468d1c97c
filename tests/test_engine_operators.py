"""Flink and Spark operators without a JVM: the command lines they build for every parameter,
their definition-time errors, and start/await/stop driven against fake `flink`, `spark-submit`
and `yarn` commands (small bash scripts that record their arguments: real processes)."""

from __future__ import annotations

import importlib
import os
import pickle
import stat
import time
from pathlib import Path
from typing import List

import cloudpickle
import pytest
from conftest import wait_for

from aiflow_lite.errors import InvalidInput
from aiflow_lite.operators.base import TaskFailed
from aiflow_lite.operators.flink import FlinkOperator
from aiflow_lite.operators.spark import SparkSqlOperator, SparkSubmitOperator
from aiflow_lite.workflow import Workflow

FLINK = "/opt/flink/bin/flink"
SUBMIT = "/opt/spark/bin/spark-submit"
SQL = "/opt/spark/bin/spark-sql"
JOB_ID = "0123456789abcdef0123456789abcdef"
DRIVER = "driver-20240101000000-0001"


def flink(**kwargs) -> FlinkOperator:
    kwargs.setdefault("executable_path", FLINK)
    with Workflow(name="w"):
        return FlinkOperator(name=kwargs.pop("name", "f"),
                             application=kwargs.pop("application", "job.py"), **kwargs)


def submit(**kwargs) -> SparkSubmitOperator:
    kwargs.setdefault("executable_path", SUBMIT)
    with Workflow(name="w"):
        return SparkSubmitOperator(name=kwargs.pop("name", "s"),
                                   application=kwargs.pop("application", "app.py"), **kwargs)


def sql(**kwargs) -> SparkSqlOperator:
    kwargs.setdefault("executable_path", SQL)
    with Workflow(name="w"):
        return SparkSqlOperator(name=kwargs.pop("name", "q"), sql=kwargs.pop("sql", "SELECT 1"),
                                **kwargs)


# -- Flink command lines ----------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, ["run", "-py", "job.py"]),
    ({"application": "job.jar"}, ["run", "job.jar"]),
    ({"target": "local"}, ["run", "-t", "local", "-py", "job.py"]),
    ({"target": "remote", "application_args": ["--rows", 5]},
     ["run", "-t", "remote", "-py", "job.py", "--rows", "5"]),
    ({"target": "yarn-per-job"}, ["run", "-t", "yarn-per-job", "-py", "job.py"]),
    ({"target": "yarn-session", "command_options": "-Dyarn.application.id=application_1_2"},
     ["run", "-t", "yarn-session", "-Dyarn.application.id=application_1_2", "-py", "job.py"]),
    ({"target": "kubernetes-session", "kubernetes_cluster_id": "c1", "application": "a.jar"},
     ["run", "-t", "kubernetes-session", "-Dkubernetes.cluster-id=c1", "a.jar"]),
    ({"application_mode": True, "target": "yarn-application", "application": "a.jar"},
     ["run-application", "-t", "yarn-application", "a.jar"]),
    ({"application_mode": True, "target": "kubernetes-application",
      "kubernetes_cluster_id": "c1", "application": "local:///opt/a.jar"},
     ["run-application", "-t", "kubernetes-application", "-Dkubernetes.cluster-id=c1",
      "-Dexecution.shutdown-on-application-finish=false", "local:///opt/a.jar"]),
    ({"command_options": "-d -Dparallelism.default=2 -c 'org.example.Main Job'",
      "application": "a.jar", "application_args": ["x"]},
     ["run", "-d", "-Dparallelism.default=2", "-c", "org.example.Main Job", "a.jar", "x"]),
    ({"stop_with_savepoint": True, "jobs_info_poll_interval": 3}, ["run", "-py", "job.py"]),
])
def test_flink_run_command(kwargs, expected):
    assert flink(**kwargs).run_command() == [FLINK, *expected]


@pytest.mark.parametrize(("kwargs", "yarn_app", "expected"), [
    ({}, None, ["cancel", JOB_ID]),
    ({"target": "remote", "command_options": "-m jm:8081 -Dx=1 -d"}, None,
     ["cancel", "-t", "remote", "-m", "jm:8081", "-Dx=1", JOB_ID]),
    ({"target": "remote", "stop_with_savepoint": True}, None,
     ["stop", "-t", "remote", JOB_ID]),
    ({"target": "local", "command_options": "-Drest.port=8082"}, None,
     ["cancel", "-Drest.port=8082", JOB_ID]),
    ({"target": "local", "command_options": "-D rest.port=8082 -Dstate.savepoints.dir=file:///sp",
      "stop_with_savepoint": True}, None,
     ["stop", "-D", "rest.port=8082", "-Dstate.savepoints.dir=file:///sp", JOB_ID]),
    ({"target": "yarn-per-job"}, "application_17_3",
     ["cancel", "-t", "yarn-per-job", "-Dyarn.application.id=application_17_3", JOB_ID]),
    ({"target": "kubernetes-session", "kubernetes_cluster_id": "c1",
      "stop_with_savepoint": True}, None,
     ["stop", "-t", "kubernetes-session", "-Dkubernetes.cluster-id=c1", JOB_ID]),
    ({"application_mode": True, "target": "yarn-application"}, "application_17_3",
     ["cancel", "-t", "yarn-application", "-Dyarn.application.id=application_17_3", JOB_ID]),
])
def test_flink_cancel_command(kwargs, yarn_app, expected):
    op = flink(**kwargs)
    op.yarn_application_id = yarn_app
    assert op.cancel_command(JOB_ID) == [FLINK, *expected]


def test_flink_local_job_without_a_rest_port_is_ended_by_its_client_alone(tmp_path,
                                                                            monkeypatch):
    assert flink(target="local").cancel_command(JOB_ID) is None
    monkeypatch.chdir(tmp_path)
    op = flink(target="local", command_options="-Drest.port=8082", stop_with_savepoint=True)
    assert op.cancel_command(JOB_ID) == [
        FLINK, "stop", "--savepointPath", f"file://{tmp_path}/savepoints", "-Drest.port=8082",
        JOB_ID]


def test_flink_list_command_reaches_the_application_cluster():
    op = flink(application_mode=True, target="kubernetes-application",
               kubernetes_cluster_id="c1")
    assert op.list_command() == [FLINK, "list", "-a", "-t", "kubernetes-application",
                                 "-Dkubernetes.cluster-id=c1"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"application": ""}, "application must be the path"),
    ({"target": "yarn"}, "unknown target 'yarn'"),
    ({"target": "yarn-application"}, "pass application_mode=True"),
    ({"application_mode": True}, "application_mode needs target="),
    ({"application_mode": True, "target": "remote"}, "application_mode needs target="),
    ({"target": "kubernetes-session"}, "needs kubernetes_cluster_id="),
    ({"kubernetes_cluster_id": "c1"}, "only used with a kubernetes-session"),
    ({"application_args": "--rows 5"}, "application_args must be a list"),
    ({"command_options": "-c 'unbalanced"}, "balance its quotes"),
    ({"command_options": ["-d"]}, "one string of options"),
    ({"jobs_info_poll_interval": 0}, "jobs_info_poll_interval must be"),
    ({"executable_path": ""}, "executable_path must be"),
])
def test_flink_definition_errors(kwargs, message):
    with pytest.raises(InvalidInput, match=message) as raised:
        flink(**kwargs)
    assert "\n" not in str(raised.value)


def test_flink_found_through_flink_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("FLINK_HOME", raising=False)
    op = flink(executable_path=None)
    with pytest.raises(TaskFailed, match="install-engines"):
        op.run_command()
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "flink").write_text("")
    monkeypatch.setenv("FLINK_HOME", str(tmp_path))
    assert op.run_command()[0] == str(tmp_path / "bin" / "flink")


# -- Spark command lines ----------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, ["--master", "yarn", "--deploy-mode", "client", "--name", "s", "app.py"]),
    ({"master": "local[1]", "application_name": "etl", "application_args": ["in", 2]},
     ["--master", "local[1]", "--deploy-mode", "client", "--name", "etl", "app.py", "in", "2"]),
    ({"master": "local[*]", "env_vars": {"A": 1}},  # client mode: the process's environment
     ["--master", "local[*]", "--deploy-mode", "client", "--name", "s", "app.py"]),
    ({"deploy_mode": "cluster", "env_vars": {"A": 1},
      "submit_options": "--conf 'spark.driver.extraJavaOptions=-Da=b -Dc=d' --class Main"},
     ["--master", "yarn", "--deploy-mode", "cluster", "--name", "s",
      "--conf", "spark.yarn.appMasterEnv.A=1",
      "--conf", "spark.driver.extraJavaOptions=-Da=b -Dc=d", "--class", "Main", "app.py"]),
    ({"master": "k8s://https://k:6443", "deploy_mode": "cluster", "k8s_namespace": "ml",
      "env_vars": {"A": "x"}},
     ["--master", "k8s://https://k:6443", "--deploy-mode", "cluster", "--name", "s",
      "--conf", "spark.kubernetes.driverEnv.A=x", "--conf", "spark.kubernetes.namespace=ml",
      "app.py"]),
    ({"master": "spark://h:7077", "deploy_mode": "cluster", "application": "a.jar"},
     ["--master", "spark://h:7077", "--deploy-mode", "cluster", "--name", "s", "a.jar"]),
    ({"master": "mesos://h:5050"},
     ["--master", "mesos://h:5050", "--deploy-mode", "client", "--name", "s", "app.py"]),
])
def test_spark_submit_command(kwargs, expected):
    assert submit(**kwargs).submit_command() == [SUBMIT, *expected]


@pytest.mark.parametrize(("kwargs", "ids", "status", "kill"), [
    ({"deploy_mode": "cluster"}, {"yarn_application_id": "application_1_2"},
     ["yarn", "application", "-status", "application_1_2"],
     ["yarn", "application", "-kill", "application_1_2"]),
    ({}, {"yarn_application_id": "application_1_2"},  # client mode on YARN: kill it there too
     ["yarn", "application", "-status", "application_1_2"],
     ["yarn", "application", "-kill", "application_1_2"]),
    ({"master": "spark://h:7077", "deploy_mode": "cluster"}, {"driver_id": DRIVER},
     [SUBMIT, "--master", "spark://h:7077", "--status", DRIVER],
     [SUBMIT, "--master", "spark://h:7077", "--kill", DRIVER]),
    ({"master": "k8s://https://k:6443", "deploy_mode": "cluster", "k8s_namespace": "ml"},
     {"k8s_driver_pod": "app-1a2b-driver"},
     [SUBMIT, "--master", "k8s://https://k:6443", "--status", "ml:app-1a2b-driver"],
     [SUBMIT, "--master", "k8s://https://k:6443", "--kill", "ml:app-1a2b-driver"]),
    ({"master": "spark://h:7077"}, {}, None, None),  # client mode: the driver is the command
])
def test_spark_status_and_kill_commands(kwargs, ids, status, kill):
    op = submit(**kwargs)
    for name, value in ids.items():
        setattr(op, name, value)
    assert op.status_command() == status
    assert op.kill_command() == kill


def test_spark_output_is_scanned_for_the_ids_to_follow():
    yarn = submit(deploy_mode="cluster")
    yarn._scan("INFO Client: Submitted application application_1700000000000_0042")
    assert yarn.yarn_application_id == "application_1700000000000_0042"
    standalone = submit(master="spark://h:7077", deploy_mode="cluster")
    standalone._scan(f'  "submissionId" : "{DRIVER}",')
    assert standalone.driver_id == DRIVER
    k8s = submit(master="k8s://https://k:6443", deploy_mode="cluster", k8s_namespace="ml")
    k8s._scan("\t pod name: spark-pi-9c1f-driver")
    k8s._scan("\t exit code: 1")
    assert (k8s.k8s_driver_pod, k8s.k8s_exit_code) == ("spark-pi-9c1f-driver", 1)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, ["--master", "yarn", "--name", "q", "-e", "SELECT 1"]),
    ({"master": "local[1]", "application_name": "report", "sql": " queries/daily.sql "},
     ["--master", "local[1]", "--name", "report", "-f", "queries/daily.sql"]),
    ({"sql": "etl.hql"}, ["--master", "yarn", "--name", "q", "-f", "etl.hql"]),
])
def test_spark_sql_command(kwargs, expected):
    assert sql(**kwargs).sql_command() == [SQL, *expected]


@pytest.mark.parametrize(("make", "kwargs", "message"), [
    (submit, {"application": " "}, "application must be the path"),
    (submit, {"master": "local"}, None),
    (submit, {"master": "localhost"}, "master must be local"),
    (submit, {"deploy_mode": "remote"}, "deploy_mode must be 'client' or 'cluster'"),
    (submit, {"master": "local[2]", "deploy_mode": "cluster"}, "use deploy_mode='client'"),
    (submit, {"master": "k8s://https://k:6443"}, "needs k8s_namespace="),
    (submit, {"k8s_namespace": "ml"}, "only used with a k8s:// master"),
    (submit, {"env_vars": ["A=1"]}, "env_vars must be a dict"),
    (submit, {"master": "spark://h:7077", "deploy_mode": "cluster", "env_vars": {"A": 1}},
     "pass them with --conf"),
    (submit, {"submit_options": "--conf 'x"}, "balance its quotes"),
    (submit, {"application_args": "a b"}, "application_args must be a list"),
    (submit, {"status_poll_interval": -1}, "status_poll_interval must be"),
    (submit, {"application_name": ""}, "application_name must be"),
    (sql, {"sql": ""}, "sql must be a statement"),
    (sql, {"master": "yarn-cluster-please"}, "master must be local"),
])
def test_spark_definition_errors(make, kwargs, message):
    if message is None:
        make(**kwargs)
        return
    with pytest.raises(InvalidInput, match=message) as raised:
        make(**kwargs)
    assert "\n" not in str(raised.value)


def test_spark_found_through_spark_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("SPARK_HOME", raising=False)
    op = sql(executable_path=None)
    with pytest.raises(TaskFailed, match="install-engines"):
        op.sql_command()
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "spark-sql").write_text("")
    monkeypatch.setenv("SPARK_HOME", str(tmp_path))
    assert op.sql_command()[0] == str(tmp_path / "bin" / "spark-sql")


# -- driven against fake commands -------------------------------------------------------------

def fake(bin_dir: Path, name: str, body: str) -> str:
    """A command `name` that appends its arguments to calls.log, then runs `body` (bash)."""
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text(f'#!/usr/bin/env bash\necho "{name} $*" >> "{bin_dir}/calls.log"\n{body}\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def calls(bin_dir: Path) -> List[str]:
    log = bin_dir / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def gone(pgid: int) -> None:
    """Every process of the group ends (a killed child's exit lands a moment after the signal)."""
    wait_for(lambda: group_members(pgid) == [], timeout=5, message=f"group {pgid} gone")


def group_members(pgid: int) -> List[int]:
    """Live processes in process group `pgid` (from /proc: no psutil needed)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry))
    return members


FAKE_FLINK = f"""
case "$1" in
  run|run-application)
    echo "Job has been submitted with JobID {JOB_ID}"
    [[ " $* " == *" -d "* || $1 == run-application ]] && exit 0
    [ -n "$FAKE_FAIL" ] && {{ echo "Caused by: boom, the job failed" >&2; exit 3; }}
    sleep 300 & wait ;;
  list)
    polls="$(dirname "$0")/polls"; n=$(cat "$polls" 2>/dev/null || echo 0)
    echo $((n + 1)) > "$polls"
    state=RUNNING; [ "$n" -ge 1 ] && state="${{FAKE_END:-FINISHED}}"
    echo "------------------ Running/Restarting Jobs -------------------"
    echo "01.01.2024 00:00:00 : {JOB_ID} : insert-into_sink ($state)" ;;
esac
"""


def test_flink_attached_run_succeeds_with_its_job_id(tmp_path, capfd):
    op = flink(executable_path=fake(tmp_path / "bin", "flink", FAKE_FLINK.replace(
        "sleep 300 & wait", "exit 0")), target="local")
    op.start(None)
    op.await_termination(None)
    assert op.job_id == JOB_ID
    assert f"Job has been submitted with JobID {JOB_ID}" in capfd.readouterr().out


def test_flink_failure_reports_the_exit_code_and_logs_the_error(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("FAKE_FAIL", "1")
    op = flink(executable_path=fake(tmp_path / "bin", "flink", FAKE_FLINK))
    op.start(None)
    with pytest.raises(TaskFailed, match="flink run exited with code 3"):
        op.await_termination(None)
    assert "Caused by: boom, the job failed" in capfd.readouterr().out  # the task log


@pytest.mark.parametrize(("savepoint", "verb"), [(False, "cancel"), (True, "stop")])
def test_flink_stop_cancels_the_parsed_job_then_kills_the_client_group(tmp_path, savepoint,
                                                                      verb):
    bin_dir = tmp_path / "bin"
    op = flink(executable_path=fake(bin_dir, "flink", FAKE_FLINK), target="remote",
               stop_with_savepoint=savepoint)
    op.start(None)
    wait_for(lambda: op.job_id, message="the job id")
    pgid = op._client.process.pid
    wait_for(lambda: len(group_members(pgid)) == 2, message="the client and its child")
    op.stop(None)
    assert calls(bin_dir)[-1] == f"flink {verb} -t remote {JOB_ID}"
    gone(pgid)


def test_flink_stop_before_the_job_id_is_printed_waits_for_it(tmp_path):
    bin_dir = tmp_path / "bin"
    op = flink(executable_path=fake(bin_dir, "flink", FAKE_FLINK.replace(
        'echo "Job has been', 'sleep 0.5; echo "Job has been')), target="remote")
    op.start(None)
    op.stop(None)  # the job may already run on the cluster: it must not be left there
    assert calls(bin_dir)[-1] == f"flink cancel -t remote {JOB_ID}"


def test_flink_stop_of_a_local_job_without_rest_port_only_kills_the_client(tmp_path):
    bin_dir = tmp_path / "bin"
    op = flink(executable_path=fake(bin_dir, "flink", FAKE_FLINK), target="local")
    op.start(None)
    wait_for(lambda: op.job_id, message="the job id")
    pgid = op._client.process.pid
    op.stop(None)
    assert [c.split()[1] for c in calls(bin_dir)] == ["run"]
    gone(pgid)


@pytest.mark.parametrize(("end", "error"), [("FINISHED", None), ("CANCELED", "ended CANCELED")])
def test_flink_detached_run_is_polled_until_the_job_ends(tmp_path, monkeypatch, end, error):
    monkeypatch.setenv("FAKE_END", end)
    bin_dir = tmp_path / "bin"
    op = flink(executable_path=fake(bin_dir, "flink", FAKE_FLINK), target="remote",
               command_options="-d", jobs_info_poll_interval=0.01)
    op.start(None)
    if error:
        with pytest.raises(TaskFailed, match=error):
            op.await_termination(None)
    else:
        op.await_termination(None)
    assert calls(bin_dir)[1:] == ["flink list -a -t remote"] * 2


def test_flink_kubernetes_application_finds_its_job_and_deletes_its_deployment(tmp_path,
                                                                              monkeypatch):
    bin_dir = tmp_path / "bin"
    fake(bin_dir, "kubectl", "")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    op = flink(executable_path=fake(bin_dir, "flink", FAKE_FLINK.replace(
        'echo "Job has been submitted with JobID', 'echo "Deployed: no job id printed')),
        application_mode=True, target="kubernetes-application", kubernetes_cluster_id="c1",
        jobs_info_poll_interval=0.01)
    op.start(None)
    op.await_termination(None)
    assert op.job_id == JOB_ID
    assert calls(bin_dir)[-1] == "kubectl delete deployment/c1"


def test_flink_stop_in_yarn_application_mode_finds_the_job_through_flink_list(tmp_path):
    bin_dir = tmp_path / "bin"
    op = flink(executable_path=fake(bin_dir, "flink", FAKE_FLINK.replace(
        'echo "Job has been submitted with JobID', 'echo "Submitted application_17_3; no id')),
        application_mode=True, target="yarn-application", application="a.jar")
    op.start(None)
    wait_for(lambda: op.yarn_application_id, message="the YARN application id")
    op.stop(None)
    cluster = "-t yarn-application -Dyarn.application.id=application_17_3"
    assert calls(bin_dir)[-2:] == [f"flink list -a {cluster}", f"flink cancel {cluster} {JOB_ID}"]


def test_flink_yarn_application_is_followed_through_yarn(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    fake(bin_dir, "yarn", 'echo "Final-State : FAILED"')
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    op = flink(executable_path=fake(bin_dir, "flink", "echo 'Submitted application "
                                    "application_1700000000000_0007'"),
               application_mode=True, target="yarn-application", application="a.jar")
    op.start(None)
    with pytest.raises(TaskFailed, match="application_1700000000000_0007 ended FAILED"):
        op.await_termination(None)
    assert calls(bin_dir)[-1] == "yarn application -status application_1700000000000_0007"


FAKE_SUBMIT = f"""
case "$*" in
  *--status*)
    polls="$(dirname "$0")/polls"; n=$(cat "$polls" 2>/dev/null || echo 0)
    echo $((n + 1)) > "$polls"
    state=RUNNING; [ "$n" -ge 1 ] && state="${{FAKE_END:-FINISHED}}"
    echo '  "driverState" : "'$state'",' >&2 ;;
  *--kill*) echo killed ;;
  *--deploy-mode\\ cluster*)
    echo '  "submissionId" : "{DRIVER}",' >&2 ;;
  *)
    echo "GREETING=$GREETING"
    [ -n "$FAKE_FAIL" ] && {{ echo "AnalysisException: Table not found: nope" >&2; exit 1; }}
    sleep 300 & wait ;;
esac
"""


def test_spark_client_mode_failure_fails_the_task_with_the_error_logged(tmp_path, monkeypatch,
                                                                       capfd):
    monkeypatch.setenv("FAKE_FAIL", "1")
    op = submit(executable_path=fake(tmp_path / "bin", "spark-submit", FAKE_SUBMIT),
                master="local[1]", env_vars={"GREETING": "hi"})
    op.start(None)
    with pytest.raises(TaskFailed, match="spark-submit exited with code 1"):
        op.await_termination(None)
    out = capfd.readouterr().out
    assert "GREETING=hi" in out and "Table not found: nope" in out


def test_spark_client_mode_stop_kills_the_driver_group(tmp_path):
    bin_dir = tmp_path / "bin"
    op = submit(executable_path=fake(bin_dir, "spark-submit", FAKE_SUBMIT), master="local[1]")
    op.start(None)
    pgid = op._client.process.pid
    wait_for(lambda: len(group_members(pgid)) == 2, message="the driver and its child")
    op.stop(None)
    gone(pgid)
    assert len(calls(bin_dir)) == 1  # nothing to kill elsewhere


@pytest.mark.parametrize(("end", "error"), [("FINISHED", None), ("FAILED", "ended FAILED")])
def test_spark_standalone_cluster_driver_is_polled(tmp_path, monkeypatch, end, error):
    monkeypatch.setenv("FAKE_END", end)
    bin_dir = tmp_path / "bin"
    exe = fake(bin_dir, "spark-submit", FAKE_SUBMIT)
    op = submit(executable_path=exe, master="spark://h:7077", deploy_mode="cluster",
                status_poll_interval=0.01)
    op.start(None)
    if error:
        with pytest.raises(TaskFailed, match=f"{DRIVER} {error}"):
            op.await_termination(None)
    else:
        op.await_termination(None)
    assert calls(bin_dir)[1:] == [f"spark-submit --master spark://h:7077 --status {DRIVER}"] * 2
    op.stop(None)
    assert calls(bin_dir)[-1] == f"spark-submit --master spark://h:7077 --kill {DRIVER}"


def test_spark_yarn_cluster_final_state_and_kill(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    fake(bin_dir, "yarn", 'echo "Final-State : SUCCEEDED"')
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    op = submit(executable_path=fake(bin_dir, "spark-submit",
                                     "echo 'Submitted application application_1_2'; sleep 0.2"),
                deploy_mode="cluster")
    op.start(None)
    op.await_termination(None)
    assert calls(bin_dir)[-1] == "yarn application -status application_1_2"
    op.stop(None)
    assert calls(bin_dir)[-1] == "yarn application -kill application_1_2"


def test_spark_sql_runs_and_stops(tmp_path):
    bin_dir = tmp_path / "bin"
    op = sql(executable_path=fake(bin_dir, "spark-sql", "echo 2; sleep 300 & wait"),
             master="local[1]")
    op.start(None)
    pgid = op._client.process.pid
    wait_for(lambda: len(group_members(pgid)) == 2, message="spark-sql and its child")
    started = time.monotonic()
    op.stop(None)
    gone(pgid)
    assert time.monotonic() - started < 4
    assert calls(bin_dir) == ["spark-sql --master local[1] --name q -e SELECT 1"]


# -- definitions travel, running state does not -----------------------------------------------

@pytest.mark.parametrize("dumps", [pickle.dumps, cloudpickle.dumps])
def test_operators_pickle_without_their_running_client(tmp_path, dumps):
    bin_dir = tmp_path / "bin"
    op = flink(executable_path=fake(bin_dir, "flink", FAKE_FLINK), target="remote",
               stop_with_savepoint=True, command_options="-Dx=1")
    op.start(None)
    wait_for(lambda: op.job_id, message="the job id")
    try:
        copy = pickle.loads(dumps(op))
    finally:
        op.stop(None)
    assert copy._client is None and copy.job_id is None
    assert copy.describe_config() == op.describe_config()
    assert copy.cancel_command(JOB_ID) == op.cancel_command(JOB_ID)
    spark = submit(master="spark://h:7077", deploy_mode="cluster")
    spark.driver_id = DRIVER
    spark_copy = pickle.loads(dumps(spark))
    assert spark_copy.driver_id is None and spark_copy.submit_command() == spark.submit_command()
    assert pickle.loads(dumps(sql())).sql_command() == sql().sql_command()


def test_describe_config_names_every_parameter():
    assert set(flink().describe_config()) >= {
        "application", "target", "application_args", "executable_path", "application_mode",
        "stop_with_savepoint", "kubernetes_cluster_id", "command_options",
        "jobs_info_poll_interval"}
    assert set(submit().describe_config()) >= {
        "application", "application_args", "executable_path", "master", "deploy_mode",
        "application_name", "submit_options", "k8s_namespace", "env_vars"}
    assert set(sql().describe_config()) >= {"sql", "master", "application_name",
                                            "executable_path"}


@pytest.mark.parametrize(("module", "name"), [
    ("ai_flow.operators.flink.flink_operator", "FlinkOperator"),
    ("ai_flow.operators.flink", "FlinkOperator"),
    ("ai_flow.operators.spark.spark_submit", "SparkSubmitOperator"),
    ("ai_flow.operators.spark.spark_sql", "SparkSqlOperator"),
    ("aiflow_lite.operators", "SparkSqlOperator"),
])
def test_spec_import_paths(module, name):
    obj = getattr(importlib.import_module(module), name)
    assert obj.__module__ in ("aiflow_lite.operators.flink", "aiflow_lite.operators.spark")
