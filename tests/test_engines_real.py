"""The Flink and Spark operators on the real engines, through `aiflow run` (a real subprocess).

The engines come from `.ci/install-engines` (Java 17, pyflink and pyspark in their own venv under
$AIFLOW_ENGINES_DIR, default ~/.cache/aiflow_lite/engines). Without them these tests skip, unless
AIFLOW_REQUIRE_ENGINES=1 (CI sets it): then they fail. Jobs run in-process engines: Flink with
`-t local` (a MiniCluster inside the client), Spark with `--master local[1]`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import List

import pytest
from conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.engines]

ROOT = Path(__file__).resolve().parents[1]
AIFLOW = [sys.executable, "-c", "from aiflow_lite.cli.aiflow import main; main()"]
ENGINES = Path(os.environ.get("AIFLOW_ENGINES_DIR", "~/.cache/aiflow_lite/engines")).expanduser()
#: JVM flags for jobs of a few seconds: the quick (C1) JIT only and one GC thread. Every engine
#: JVM here starts, runs a tiny job and exits; full JIT compilation cost them ~40 % more CPU
#: (99 -> 60 s for this module on 2 cores) and bought nothing. A value set outside wins.
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


def engine(name: str) -> str:
    """The path of an installed engine command; skip (or fail, under AIFLOW_REQUIRE_ENGINES=1)
    when it is not there."""
    path = ENGINES / "bin" / name
    missing = None if shutil.which("java") else "java is not installed"
    if missing is None and not os.access(path, os.X_OK):
        missing = f"{path} is not installed"
    if missing:
        reason = f"{missing}: run .ci/install-engines to install the real engines"
        if os.environ.get("AIFLOW_REQUIRE_ENGINES") == "1":
            pytest.fail(reason + " (AIFLOW_REQUIRE_ENGINES=1)")
        pytest.skip(reason)
    return str(path)


def marked_processes(marker: str) -> List[str]:
    """`pid cmdline` of every live process started under this test's marker (found in its
    environment: the scheduler, workers and engines all inherit it)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if f"AIFLOW_TEST_MARKER={marker}".encode() in environ and state != "Z":
            found.append(f"{entry} {cmdline.decode(errors='replace')[:200]}")
    return found


@pytest.fixture
def aiflow_run(tmp_path):
    """Runs `aiflow run` in a kept home; whatever it started is killed when the test ends."""
    marker = uuid.uuid4().hex
    run_home = tmp_path / "run_home"

    def run(workflow: Path, *args: str, timeout: float = 240) -> tuple:
        env = {"JAVA_TOOL_OPTIONS": QUICK_JVM, **os.environ, "AIFLOW_TEST_MARKER": marker}
        proc = subprocess.run([*AIFLOW, "run", str(workflow), "--home", str(run_home), "-o",
                               "json", "--timeout", str(timeout), *args], capture_output=True,
                              text=True, timeout=timeout + 60, env=env)
        assert proc.stdout.strip(), proc.stderr
        summary = json.loads(proc.stdout)
        return proc, summary, run_home

    run.marker = marker
    yield run
    for line in marked_processes(marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)


def statuses(summary: dict) -> dict:
    return {t["task_name"]: t["status"] for t in summary["tasks"]}


def log_of(summary: dict, task: str) -> str:
    path = next(t["log_path"] for t in summary["tasks"] if t["task_name"] == task)
    return Path(path).read_text(errors="replace")


def test_example_flink_train_spark_succeeds_with_its_outputs(aiflow_run):
    engine("flink"), engine("spark-submit")
    example = ROOT / "examples" / "engines"
    proc, summary, home = aiflow_run(example / "workflow.py", "-f", str(example / "jobs"))
    assert proc.returncode == 0, proc.stderr + proc.stdout[-3000:]
    assert statuses(summary) == {"make_data": "SUCCESS", "train": "SUCCESS", "score": "SUCCESS"}
    data = next(home.glob("working_dir/*/data"))
    points = [line for part in data.glob("points/**/part-*")
              for line in part.read_text().splitlines()]
    assert len(points) == 100 and "1.0,5.0" in points  # written by the PyFlink job
    model = json.loads((data / "model.json").read_text())
    assert (round(model["a"], 6), round(model["b"], 6)) == (3.0, 2.0)
    report = json.loads(next(data.glob("report/part-*.json")).read_text())  # by PySpark
    assert report == {"count": 100, "mean_abs_error": 0.0}
    assert "Job has been submitted with JobID" in log_of(summary, "make_data")


STREAM_JOB = """
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(1)
t_env = StreamTableEnvironment.create(env)
t_env.execute_sql("CREATE TABLE ticks (n INT) WITH ('connector' = 'datagen', "
                  "'rows-per-second' = '5')")
t_env.execute_sql("CREATE TABLE sink (n INT) WITH ('connector' = 'blackhole')")
t_env.execute_sql("INSERT INTO sink SELECT n FROM ticks").wait()  # never ends by itself
"""

STREAM_WORKFLOW = """
import json, time, urllib.request

from ai_flow.model.action import TaskAction
from ai_flow.model.workflow import Workflow
from ai_flow.notification.notification_client import AIFlowNotificationClient
from ai_flow.operators.flink.flink_operator import FlinkOperator
from ai_flow.operators.python import PythonOperator

PORT = {port}


def stop_once_running():
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            url = f"http://127.0.0.1:{{PORT}}/jobs/overview"
            with urllib.request.urlopen(url, timeout=2) as response:
                jobs = json.load(response)["jobs"]
            if any(j["state"] == "RUNNING" and j["duration"] > 1000 for j in jobs):
                break
        except OSError:
            pass
        time.sleep(0.5)
    else:
        raise RuntimeError("the flink job never ran")
    print("the flink job runs: sending stop_flink", flush=True)
    AIFlowNotificationClient("localhost:50052").send_event(key="stop_flink", value="")


with Workflow(name="streaming_flink"):
    job = FlinkOperator(name="stream", application="stream_job.py", target="local",
                        executable_path={flink!r}, command_options=f"-Drest.port={{PORT}}")
    job.action_on_event_received(TaskAction.STOP, "stop_flink")
    PythonOperator(name="stopper", python_callable=stop_once_running)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_streaming_flink_job_is_cancelled_by_a_stop_rule_leaving_no_jvm(aiflow_run, tmp_path):
    flink = engine("flink")
    (tmp_path / "stream_job.py").write_text(STREAM_JOB)
    workflow = tmp_path / "workflow.py"
    workflow.write_text(STREAM_WORKFLOW.format(port=_free_port(), flink=flink))
    proc, summary, _ = aiflow_run(workflow, "-f", str(tmp_path / "stream_job.py"))
    assert statuses(summary) == {"stream": "STOPPED", "stopper": "SUCCESS"}, proc.stdout[-3000:]
    log = log_of(summary, "stream")
    job_id = log.split("Job has been submitted with JobID ", 1)[1].split()[0]
    assert "flink cancel -Drest.port=" in log and f"Cancelled job {job_id}." in log, log[-3000:]
    wait_for(lambda: not [p for p in marked_processes(aiflow_run.marker)
                          if "java" in p or "stream_job" in p],
             timeout=10, message="no JVM (nor PyFlink client) left behind")


BAD_SPARK_JOB = """
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
spark.sql("SELECT * FROM no_such_table").show()
"""

SPARK_WORKFLOW = """
from ai_flow.model.workflow import Workflow
from ai_flow.operators.spark.spark_sql import SparkSqlOperator
from ai_flow.operators.spark.spark_submit import SparkSubmitOperator

with Workflow(name="spark_jobs"):
    SparkSqlOperator(name="report", master="local[1]", executable_path={sql!r},
                     sql="INSERT OVERWRITE DIRECTORY '{out}' USING csv "
                         "SELECT id * 2 AS n FROM range(3)")
    SparkSubmitOperator(name="bad", application="bad_job.py", master="local[1]",
                        submit_options="--conf spark.ui.enabled=false",
                        executable_path={submit!r})
"""


def test_spark_sql_succeeds_and_a_failing_spark_job_fails_with_its_error_logged(aiflow_run,
                                                                                tmp_path):
    sql, submit = engine("spark-sql"), engine("spark-submit")
    out = tmp_path / "sql_out"
    (tmp_path / "bad_job.py").write_text(BAD_SPARK_JOB)
    workflow = tmp_path / "workflow.py"
    workflow.write_text(SPARK_WORKFLOW.format(sql=sql, submit=submit, out=out))
    proc, summary, _ = aiflow_run(workflow, "-f", str(tmp_path / "bad_job.py"))
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert statuses(summary) == {"report": "SUCCESS", "bad": "FAILED"}
    bad = next(t for t in summary["tasks"] if t["task_name"] == "bad")
    assert "spark-submit exited with code 1" in bad["stop_reason"]
    log = log_of(summary, "bad")
    assert "TABLE_OR_VIEW_NOT_FOUND" in log and "no_such_table" in log
    rows = sorted(line for part in out.glob("part-*") for line in part.read_text().split())
    assert rows == ["0", "2", "4"]
