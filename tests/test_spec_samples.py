"""The spec's code samples, run unmodified: read from `../shared/spec/docs.txt` at test time
(spec_docs.py), uploaded, shown, run under a server, over gRPC and in run-once mode. Without the
spec beside the checkout this module is skipped (CI sets AIFLOW_REQUIRE_SPEC=1: then it fails)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spec_docs

spec_docs.require_spec()

pytestmark = pytest.mark.slow  # each sample runs under real servers or `aiflow run`

from cli_runner import invoke  # noqa: E402 - after the module-level skip
from conftest import wait_for  # noqa: E402
from rpc_helpers import NOTIFICATION, cli, client_home, port_free  # noqa: E402
from server_helpers import aiflow, start_execution, tasks, wait_execution  # noqa: E402

from aiflow_lite.cli.aiflow import cli as aiflow_cli  # noqa: E402

TESTS = Path(__file__).parent
AIFLOW_RUN = [sys.executable, "-c", "from aiflow_lite.cli.aiflow import main; main()", "run"]


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> Path:
    """The directory where every sample of spec_docs.MARKERS is written as <name>.py."""
    directory = tmp_path_factory.mktemp("spec_samples")
    spec_docs.write_samples(directory)
    return directory


def ok(*args: str):
    result = invoke(aiflow_cli, *args)
    assert result.exit_code == 0, result.stderr
    return result


def aiflow_run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*AIFLOW_RUN, *args], capture_output=True, text=True, timeout=timeout)


def test_every_named_sample_is_in_the_spec(samples):
    for name in spec_docs.MARKERS:
        source = (samples / f"{name}.py").read_text()
        compile(source, name, "exec")  # whole: a cut sample would not compile
        assert "with Workflow(" in source


# -- uploaded and shown -----------------------------------------------------------------------

def _rules(task: dict) -> list:
    """A rule as (action, kind, what): ('START', 'event', 'key'), ('START', 'after',
    'task1=SUCCESS,task2=SUCCESS'), ('START', 'NumCondition', 'num_event')."""
    out = []
    for rule in task["rules"]:
        cond = rule["condition"]
        if cond["type"] == "event":
            out.append((rule["action"], "event", ",".join(cond["event_keys"])))
        elif cond["type"] == "task_status":
            out.append((rule["action"], "after",
                        ",".join(f"{k}={v}" for k, v in cond["upstream"].items())))
        else:
            out.append((rule["action"], cond["type"], ",".join(cond["event_keys"])))
    return out


# sample file → {workflow: {task: [rules]}}; tasks with no START rule start with the execution.
SPEC_SAMPLES = {
    "quickstart": {"quickstart_workflow": {
        "task1": [], "task2": [], "task3": [("START", "after", "task1=SUCCESS,task2=SUCCESS")],
        "task4": [("START", "event", "key")]}},
    "declaring_workflows": {"workflow_name": {
        "task_1": [], "task_2": [("START", "after", "task_1=SUCCESS")]}},
    "periodic_task": {"periodic_task_example": {
        "task_1": [], "task_2": [], "task_3": [("START", "after", "task_1=SUCCESS")]}},
    "task_status_stop": {"my_workflow": {
        "task_1": [], "task_2": [],
        "task_3": [("STOP", "after", "task_1=SUCCESS,task_2=SUCCESS")]}},
    "single_event": {"quickstart_workflow": {
        "task1": [], "task2": [("START", "event", "key")]}},
    "custom_condition": {"condition_workflow": {
        "producer": [], "consumer": [("START", "NumCondition", "num_event")]}},
    "events": {"workflow": {"task1": [], "task2": [("START", "event", "key")]}},
    "event_trigger": {"event_trigger_workflow_1": {"event_task": []},
                      "event_trigger_workflow_2": {"task1": []}},
    "tutorial": {"online_machine_learning": {
        "pre_processing": [], "training": [("START", "event", "data_prepared")],
        "validating": [("START", "after", "training=SUCCESS")],
        "deploying": [("START", "event", "model_validated")], "predicting": []}},
}


@pytest.mark.parametrize("sample", sorted(SPEC_SAMPLES))
def test_every_spec_sample_uploads_unmodified_and_shows_its_tasks_and_rules(home, samples,
                                                                           sample):
    if sample == "tutorial":
        pytest.importorskip("sklearn", reason="the tutorial imports scikit-learn")
    expected = SPEC_SAMPLES[sample]
    out = ok("workflow", "upload", str(samples / f"{sample}.py")).stdout
    assert out.splitlines() == [f"Workflow: default.{name}, submitted." for name in expected]
    for name, task_rules in expected.items():
        shown = json.loads(ok("workflow", "show", name, "-o", "json").stdout)
        got = {t["name"]: _rules(t) for t in shown["structure"]["tasks"]}
        assert got == task_rules
        starting = [t["name"] for t in shown["structure"]["tasks"] if t["starts_with_execution"]]
        assert starting == [t for t, rules in task_rules.items()
                            if not any(r[0] == "START" for r in rules)]
        tree = ok("workflow", "show", name).stdout
        for task in task_rules:
            assert task in tree


def test_periodic_sample_keeps_its_expressions(home, samples):
    ok("workflow", "upload", str(samples / "periodic_task.py"))
    tasks = json.loads(ok("workflow", "show", "periodic_task_example", "-o", "json").stdout)[
        "structure"]["tasks"]
    assert [t["periodic_expression"] for t in tasks] == [
        "cron@*/1 * * * *", "interval@0 0 1 0", None]
    assert "runs on cron@*/1 * * * *" in ok("workflow", "show", "periodic_task_example").stdout



# -- under a server -----------------------------------------------------------------------

def test_quickstart_runs_as_the_spec_describes(home, server, samples):
    server()
    aiflow("workflow", "upload", str(samples / "quickstart.py"))
    execution = start_execution("quickstart_workflow")
    wait_for(lambda: {n: r["status"] for n, r in tasks(execution).items()} == dict.fromkeys(
        ["task1", "task2", "task3", "task4"], "SUCCESS"), timeout=60, interval=0.2,
        message="the quickstart's four tasks")
    t = tasks(execution)
    # Every task ran, and the execution listens on for 'key' (DESIGN.md §4), saying so.
    shown = wait_for(lambda: json.loads(aiflow("workflow-execution", "show", str(execution),
                                               "-o", "json").stdout)["waiting_for"])
    assert shown == "waiting for 'key' to start 'task4'"
    table = aiflow("workflow-execution", "list", "quickstart_workflow").stdout
    assert "RUNNING, idle: waiting for 'key' to start 'task4'" in table
    aiflow("workflow-execution", "stop", str(execution))
    assert wait_execution(execution) == "STOPPED"
    # task3 after task1 and task2; task4 on task3's event.
    assert t["task3"]["begin_time"] >= max(t["task1"]["end_time"], t["task2"]["end_time"])
    assert t["task4"]["begin_time"] >= t["task3"]["begin_time"] + 5000
    assert "event 'key'" in t["task4"]["reason"]
    log = aiflow("task-execution", "logs", str(t["task1"]["id"])).stdout
    assert "I am the 1st task." in log
    assert "Sending event with key: key" in aiflow("task-execution", "logs",
                                                   str(t["task3"]["id"])).stdout


def test_task_status_stop_sample(home, server, samples, tmp_path):
    source = (samples / "task_status_stop.py").read_text()
    quick = tmp_path / "stop.py"  # the sample with shorter sleeps: same rules
    quick.write_text(source.replace("sleep 10", "sleep 1").replace("sleep 20", "sleep 2"))
    server()
    aiflow("workflow", "upload", str(quick))
    execution = start_execution("my_workflow")
    assert wait_execution(execution) == "SUCCESS"
    t = tasks(execution)
    assert [t[n]["status"] for n in ("task_1", "task_2", "task_3")] == [
        "SUCCESS", "SUCCESS", "STOPPED"]
    assert t["task_3"]["end_time"] - t["task_3"]["begin_time"] < 30_000
    assert "task_status" in t["task_3"]["stop_reason"]


def test_event_trigger_sample_runs_its_main_block(home, server, samples):
    server()
    proc = subprocess.run([sys.executable, str(samples / "event_trigger.py")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr

    def second_ran():
        runs = json.loads(aiflow("workflow-execution", "list", "event_trigger_workflow_2", "-o",
                                 "json").stdout)
        return runs and runs[0]["status"] == "SUCCESS" and runs[0]

    run = wait_for(second_ran, timeout=60, interval=0.2, message="the triggered workflow")
    assert run["execution_type"] == "EVENT" and "trigger_workflow" in run["reason"]


@pytest.mark.slow
def test_custom_condition_sample_fires_at_100(home, server, samples):
    server()
    aiflow("workflow", "upload", str(samples / "custom_condition.py"))
    execution = start_execution("condition_workflow")
    wait_for(lambda: tasks(execution).get("consumer", {}).get("status") == "SUCCESS",
             timeout=180, interval=0.5, message="the consumer")
    from aiflow_lite.ns.client import NotificationClient

    with NotificationClient() as client:
        sent = client.list_events("num_event")
    rows = json.loads(aiflow("task-execution", "list", str(execution), "-o", "json").stdout)
    # The sample's condition keeps firing after 100 (it never resets): look at the first run.
    consumer = next(r for r in rows if r["task_name"] == "consumer"
                    and r["sequence_number"] == 1)
    fired_at = int(consumer["reason"].rsplit("offset ", 1)[1])
    total = sum(int(e.value) for e in sent if e.offset <= fired_at)
    assert total >= 100 and total - int(next(e.value for e in sent
                                             if e.offset == fired_at)) < 100
    assert "Got 100 records." in aiflow("task-execution", "logs", str(consumer["id"])).stdout
    aiflow("workflow-execution", "stop", str(execution))
    assert wait_execution(execution) == "STOPPED"


@pytest.mark.slow
def test_periodic_sample_and_its_follower(home, server, samples):
    server()
    aiflow("workflow", "upload", str(samples / "periodic_task.py"))
    execution = start_execution("periodic_task_example")

    def sequences():
        rows = json.loads(aiflow("task-execution", "list", str(execution), "-o", "json").stdout)
        done = [r for r in rows if r["status"] == "SUCCESS"]
        return {name: len([r for r in done if r["task_name"] == name])
                for name in ("task_1", "task_2", "task_3")}

    # task_1 runs at the start and on every minute; task_3 follows each of its successes.
    wait_for(lambda: sequences()["task_1"] >= 2 and sequences()["task_3"] >= 2, timeout=150,
             interval=1.0, message="a second periodic run")
    rows = json.loads(aiflow("task-execution", "list", str(execution), "-o", "json").stdout)
    assert any("periodic cron@*/1 * * * *" in (r["reason"] or "") for r in rows)
    # interval@0 0 1 0 is <days> <hours> <minutes> <seconds>: task_2 runs every minute too.
    # (One snapshot of the rows for both: a run started between two reads once failed this.)
    task_2 = [r for r in rows if r["task_name"] == "task_2"]
    assert any(r["status"] == "SUCCESS" for r in task_2)
    assert len(task_2) == 1 or any("periodic interval@0 0 1 0" in (r["reason"] or "")
                                   for r in task_2)
    aiflow("workflow-execution", "stop", str(execution))
    assert wait_execution(execution) == "STOPPED"



# -- over gRPC ---------------------------------------------------------------------------

def test_the_spec_event_trigger_sample_runs_unmodified_against_a_remote_server(tmp_path,
                                                                              servers, samples):
    """Its `__main__` uploads, adds a trigger (a pickled rule: the token makes it acceptable)
    and starts an execution, all through `ops` on a home that only names the server; its task
    sends to 'localhost:50052', which inside a task means the task's own home."""
    server = servers(tmp_path / "server_home", "aiflow", server_token="s3cret")
    home = client_home(tmp_path, server.address, "s3cret")
    sample = samples / "event_trigger.py"
    env = {**os.environ, "AIFLOW_HOME": str(home)}
    env.pop("AIFLOW_SERVER_TOKEN", None)
    subprocess.run([sys.executable, str(sample)], check=True, env=env, timeout=60,
                   capture_output=True, text=True, cwd=tmp_path)

    def second_workflow_done():
        rows = json.loads(cli("workflow-execution", "list", "event_trigger_workflow_2",
                              "-o", "json", home=home).stdout)
        return rows and rows[0]["status"] == "SUCCESS"

    wait_for(second_workflow_done, timeout=60, interval=0.2)
    assert sorted(p.name for p in home.iterdir()) == ["aiflow_client.yaml"]


@pytest.mark.skipif(not (port_free(50051) and port_free(50052)),
                    reason="something else listens on 50051/50052")
def test_the_spec_default_ports_serve_a_client_that_knows_only_localhost(tmp_path, servers,
                                                                       samples):
    """The spec's deployment: `aiflow server` on 50051 and `notification server` on 50052; the
    client's aiflow_client.yaml says `server_address: localhost:50051`, and events go to
    `localhost:50052`, as in the spec's samples."""
    server_home = tmp_path / "server_home"
    servers(server_home, "aiflow", rpc_port=50051, server_token="s3cret")
    servers(server_home, "notification", server_port=50052, server_token="s3cret")
    home = client_home(tmp_path, "localhost:50051", "s3cret")
    cli("workflow", "upload", str(samples / "events.py"), home=home)
    cli("workflow-execution", "start", "workflow", home=home)
    env = {**os.environ, "AIFLOW_HOME": str(home), "AIFLOW_SERVER_TOKEN": "s3cret"}
    sent = subprocess.run([*NOTIFICATION, "event", "send", "-s", "localhost:50052", "key",
                           "value"], capture_output=True, text=True, timeout=60, env=env)
    assert sent.returncode == 0, sent.stderr
    listed = subprocess.run([*NOTIFICATION, "event", "list", "-s", "localhost:50052", "key",
                             "-o", "json"], capture_output=True, text=True, timeout=60, env=env)
    # Both events on the server's log: task1's (sent inside the task, to its own home) and ours.
    assert {e["value"] for e in json.loads(listed.stdout)} >= {"This is a custom message.",
                                                               "value"}

    def task2_ran():
        rows = json.loads(cli("task-execution", "list", "1", "-o", "json", home=home).stdout)
        return any(r["task_name"] == "task2" and r["status"] == "SUCCESS" for r in rows)

    wait_for(task2_ran, timeout=60, interval=0.2)



# -- run-once -----------------------------------------------------------------------------

@pytest.mark.slow
def test_the_tutorial_trains_deploys_and_predicts_under_a_timeout(home, samples, tmp_path):
    pytest.importorskip("sklearn", reason="the tutorial uses scikit-learn")
    tutorial = tmp_path / "tutorial"
    tutorial.mkdir()
    shutil.copy(samples / "tutorial.py", tutorial / "tutorial.py")
    subprocess.run([sys.executable, str(TESTS / "tutorial_dataset.py"), str(tutorial / "dataset")],
                   check=True, capture_output=True, timeout=120)
    run_home = tmp_path / "home"
    proc = aiflow_run(str(tutorial / "tutorial.py"), "-f", str(tutorial / "dataset"), "--timeout",
               "30", "--home", str(run_home), "-o", "json", timeout=300)
    assert proc.returncode == 2, proc.stderr  # two tasks stream until the timeout
    statuses = {}
    for t in json.loads(proc.stdout)["tasks"]:
        statuses.setdefault(t["task_name"], set()).add(t["status"])
    assert statuses["pre_processing"] == {"STOPPED"} and statuses["predicting"] == {"STOPPED"}
    for name in ("training", "validating", "deploying"):
        assert "SUCCESS" in statuses[name]
    predictions = list(run_home.glob("working_dir/*/tmp/predict_result"))
    assert predictions and "predict result: [" in predictions[0].read_text()
