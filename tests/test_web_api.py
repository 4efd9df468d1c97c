"""The web REST API (/api/v1) on a real home: every GET answers what the matching CLI command
prints with `-o json`, lists page, mistakes are a status code with one line, POSTs need the
CSRF token (or the bearer token) and are refused read-only, values are JSON never HTML, a log
outside the home is refused, and the live stream delivers an event sent after connecting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Optional

import httpx
import pytest
from cli_runner import invoke
from starlette.testclient import TestClient

from aiflow_lite.cli.aiflow import cli
from aiflow_lite.cli.notification import cli as notification_cli
from aiflow_lite.conditions import SingleEventCondition, WorkflowRule

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "examples" / "quickstart" / "quickstart.py"
XSS = "<script>alert(1)</script>"
try:  # Starlette parses forms with it; it is not among the project's dependencies
    import multipart  # noqa: F401

    HAS_MULTIPART = True
except ImportError:
    HAS_MULTIPART = False


def cli_json(*args: str, notification: bool = False) -> Any:
    result = invoke(notification_cli if notification else cli, *args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def make_client(read_only: bool = False, token: Optional[str] = None, **kwargs: Any) -> TestClient:
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.web.app import create_app
    from aiflow_lite.web.context import WebContext

    app = create_app(WebContext(load_aiflow_settings(), read_only=read_only, token=token))
    return TestClient(app, **kwargs)


def run_quickstart(home: Path) -> None:
    subprocess.run([sys.executable, "-c", "from aiflow_lite.cli.aiflow import main; main()",
                    "run", str(QUICKSTART), "--home", str(home)], check=True, cwd=ROOT,
                   capture_output=True, timeout=120, env={**os.environ, "AIFLOW_HOME": str(home)})


def fill_meta(tmp: Path) -> None:
    from aiflow_lite import ops

    ops.register_dataset("clicks", "/data/clicks.csv", "csv", "raw clicks", {"id": "int64"})
    ops.register_model("churn", "who leaves", {"framework": "sklearn"})
    ops.register_model_version("churn", "/models/churn/1", datasets=["clicks"])
    ops.register_model_version("churn", "/models/churn/2", "DEPLOYED", "retrained")
    for step, value in enumerate((0.5, 0.7, 0.9)):
        ops.log_metric("auc", value, step, "churn", 2)
    ops.log_metric("rows", 100.0, dataset_name="clicks")
    vocab = tmp / "vocab.txt"
    vocab.write_text("a\nb\nc\n")
    ops.register_artifact("vocab", str(vocab), "tokenizer vocabulary")
    vocab.write_text("a\nb\nc\nd\n")
    ops.register_artifact("vocab", str(vocab), "v2")
    ops.add_workflow_schedule("interval@0 1 0 0", "quickstart")
    ops.add_workflow_trigger(WorkflowRule(SingleEventCondition("go")), "quickstart")
    with _client_events() as client:
        client.send_event("greeting", XSS)


def _client_events() -> Any:
    from aiflow_lite.ns.client import NotificationClient

    return NotificationClient()


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One home for the read-only tests: the quickstart run to its end, and the meta service
    filled (a dataset, a model with two versions and metrics, an artifact in two versions)."""
    tmp = tmp_path_factory.mktemp("web")
    home = tmp / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIFLOW_HOME", str(home))
        for name in ("NOTIFICATION_HOME", "AIFLOW_DEBUG", "NO_COLOR"):
            mp.delenv(name, raising=False)
        run_quickstart(home)
        fill_meta(tmp)
        yield home


@pytest.fixture(scope="module")
def api(filled: Path) -> Iterator[TestClient]:
    with make_client() as client:
        yield client


def get(client: TestClient, path: str, expect: int = 200, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == expect, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


# -- every GET is the CLI's `-o json` ------------------------------------------------------------

SAME_AS_CLI = [
    ("/api/v1/namespaces", {}, ("namespace", "list")),
    ("/api/v1/workflows", {}, ("workflow", "list")),
    ("/api/v1/workflows/quickstart", {}, ("workflow", "show", "quickstart")),
    ("/api/v1/workflow-executions", {"workflow": "quickstart"},
     ("workflow-execution", "list", "quickstart")),
    ("/api/v1/workflow-executions/1", {}, ("workflow-execution", "show", "1")),
    ("/api/v1/task-executions", {"workflow_execution_id": 1}, ("task-execution", "list", "1")),
    ("/api/v1/task-executions/1", {}, ("task-execution", "show", "1")),
    ("/api/v1/workflow-schedules", {"workflow": "quickstart"},
     ("workflow-schedule", "list", "quickstart")),
    ("/api/v1/workflow-triggers", {"workflow": "quickstart"},
     ("workflow-trigger", "list", "quickstart")),
    ("/api/v1/models", {}, ("model", "list")),
    ("/api/v1/models/churn", {}, ("model", "show", "churn")),
    ("/api/v1/models/churn/versions", {}, ("model-version", "list", "churn")),
    ("/api/v1/models/churn/versions", {"stage": "deployed"},
     ("model-version", "list", "churn", "--stage", "DEPLOYED")),
    ("/api/v1/models/churn/versions/2", {}, ("model-version", "show", "churn", "2")),
    ("/api/v1/datasets", {}, ("dataset", "list")),
    ("/api/v1/datasets/clicks", {}, ("dataset", "show", "clicks")),
    ("/api/v1/metrics", {}, ("metric", "list")),
    ("/api/v1/metrics", {"model": "churn", "version": 2},
     ("metric", "list", "--model", "churn", "--version", "2")),
    ("/api/v1/metrics", {"dataset": "clicks"}, ("metric", "list", "--dataset", "clicks")),
    ("/api/v1/metrics/auc/history", {"model": "churn", "version": 2},
     ("metric", "history", "auc", "--model", "churn", "--version", "2")),
    ("/api/v1/artifacts", {}, ("artifact", "list")),
    ("/api/v1/artifacts", {"name": "vocab"}, ("artifact", "list", "vocab")),
    ("/api/v1/artifacts/vocab", {}, ("artifact", "show", "vocab")),
    ("/api/v1/artifacts/vocab", {"version": 1}, ("artifact", "show", "vocab", "--version", "1")),
]


@pytest.mark.parametrize("path,params,command", SAME_AS_CLI,
                         ids=[f"{p}?{q}" if q else p for p, q, _ in SAME_AS_CLI])
def test_every_get_answers_what_the_cli_prints_in_json(api, path, params, command):
    expected = cli_json(*command)
    assert expected not in ([], {}), "the home should have something to show"
    assert get(api, path, **params) == expected


def test_events_are_the_cli_list_and_hide_internal_ones_unless_asked(api):
    everything = cli_json("event", "list", "*", notification=True)
    assert get(api, "/api/v1/events", internal=1, limit=1000) == everything
    shown = get(api, "/api/v1/events", limit=1000)
    assert shown == [e for e in everything if not e["key"].startswith("__aiflow.")]
    assert any(e["key"] == "model_ready" for e in shown)
    assert get(api, "/api/v1/events", key="greeting") == cli_json(
        "event", "list", "greeting", notification=True)
    after = shown[1]["offset"]
    assert get(api, "/api/v1/events", begin_offset=after, limit=2) == [
        e for e in shown if e["offset"] > after][:2]
    assert get(api, "/api/v1/events", namespace="nowhere") == []


def test_an_event_value_with_markup_comes_back_as_json(api):
    response = api.get("/api/v1/events", params={"key": "greeting"})
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()[0]["value"] == XSS
    assert "<script>" in response.text  # a JSON string, inert as application/json


def test_lists_page_with_limit_and_offset(api):
    everything = cli_json("task-execution", "list", "1")
    assert len(everything) == 4
    first = get(api, "/api/v1/task-executions", workflow_execution_id=1, limit=2)
    rest = get(api, "/api/v1/task-executions", workflow_execution_id=1, limit=2, offset=2)
    assert first + rest == everything
    assert get(api, "/api/v1/artifacts", name="vocab", limit=1, offset=1) == \
        cli_json("artifact", "list", "vocab")[1:]
    assert get(api, "/api/v1/workflow-executions", workflow="quickstart", offset=5) == []
    assert get(api, "/api/v1/workflow-executions", workflow="quickstart",
               status="SUCCESS") == cli_json("workflow-execution", "list", "quickstart")
    assert get(api, "/api/v1/workflow-executions", workflow="quickstart", status="FAILED") == []


@pytest.mark.parametrize("path,params,status,words", [
    ("/api/v1/workflows/nope", {}, 404, "nope"),
    ("/api/v1/workflows", {"namespace": "nowhere"}, 404, "nowhere"),
    ("/api/v1/workflow-executions/999", {}, 404, "999"),
    ("/api/v1/workflow-executions/abc", {}, 400, "whole number"),
    ("/api/v1/workflow-executions/99999999999999999999", {}, 400, "too large"),
    ("/api/v1/workflow-executions", {}, 400, "workflow"),
    ("/api/v1/task-executions/999", {}, 404, "999"),
    ("/api/v1/task-executions/999/log", {}, 404, "999"),
    ("/api/v1/models/nope", {}, 404, "nope"),
    ("/api/v1/models/churn/versions/9", {}, 404, "no version 9"),
    ("/api/v1/models/churn/versions", {"stage": "GREAT"}, 400, "stage"),
    ("/api/v1/datasets/nope", {}, 404, "nope"),
    ("/api/v1/artifacts/nope", {}, 404, "nope"),
    ("/api/v1/artifacts/vocab/download", {"version": 7}, 404, "version 7"),
    ("/api/v1/metrics", {"version": 2}, 400, "model"),
    ("/api/v1/namespaces", {"limit": "ten"}, 400, "limit"),
    ("/api/v1/namespaces", {"limit": "0"}, 400, "limit"),
    ("/api/v1/namespaces", {"limit": "100000"}, 400, "limit"),
    ("/api/v1/namespaces", {"offset": "-1"}, 400, "offset"),
    ("/api/v1/events", {"begin_offset": "x"}, 400, "begin_offset"),
    ("/api/v1/task-executions", {"workflow_execution_id": 1, "offset": 2 ** 64}, 400,
     "offset"),
    ("/api/v1/nothing-here", {}, 404, "not found"),
])
def test_mistakes_are_a_status_code_and_one_line(api, path, params, status, words):
    body = get(api, path, status, **params)
    assert list(body) == ["error"]
    assert "\n" not in body["error"] and words.lower() in body["error"].lower()


def test_the_log_of_a_task_and_its_tail(api):
    task = get(api, "/api/v1/task-executions/1")
    result = invoke(cli, "task-execution", "logs", "1")
    assert result.exit_code == 0, result.stderr
    response = api.get("/api/v1/task-executions/1/log")
    assert response.status_code == 200 and response.text == result.stdout
    assert response.headers["content-type"].startswith("text/plain")
    tail = invoke(cli, "task-execution", "logs", str(task["id"]), "--tail", "1").stdout
    assert api.get("/api/v1/task-executions/1/log", params={"tail": 1}).text == tail
    assert api.get("/api/v1/task-executions/1/log", params={"tail": "x"}).status_code == 400


def test_a_log_path_outside_the_home_is_refused(home, tmp_path):
    from aiflow_lite import ops
    from aiflow_lite.ops.backend import home_stores

    ops.upload_workflows(str(QUICKSTART))
    workflow = ops.get_workflow("quickstart")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for you\n")
    store = home_stores().executions
    with store.db.transaction():
        eid = store.create_execution(workflow.id, workflow.snapshot_id, "MANUAL", "test")
        tid = store.create_task_execution(eid, "fetch", "MANUAL", "test", 1).id
    ids = []
    for i, path in enumerate((str(secret), f"{home}/../secret.txt", "/etc/passwd")):
        if i:
            with store.db.transaction():
                tid = store.create_task_execution(eid, "fetch", "MANUAL", "test", i + 1).id
        store.db.execute("UPDATE task_execution SET log_path = ? WHERE id = ?", (path, tid))
        ids.append(tid)
    os.symlink(secret, home / "link.log")
    with store.db.transaction():
        tid = store.create_task_execution(eid, "clean", "MANUAL", "test", 9).id
    store.db.execute("UPDATE task_execution SET log_path = ? WHERE id = ?",
                     (str(home / "link.log"), tid))
    ids.append(tid)
    with make_client() as client:
        for task_id in ids:
            response = client.get(f"/api/v1/task-executions/{task_id}/log")
            assert response.status_code == 403, (task_id, response.text)
            assert "outside the home" in response.json()["error"]
            assert "not for you" not in response.text


def test_an_artifact_downloads_from_its_record(api):
    response = api.get("/api/v1/artifacts/vocab/download")
    assert response.status_code == 200
    assert response.content == b"a\nb\nc\nd\n"
    assert response.headers["content-disposition"].startswith("attachment")
    assert "vocab.txt" in response.headers["content-disposition"]
    old = api.get("/api/v1/artifacts/vocab/download", params={"version": 1})
    assert old.content == b"a\nb\nc\n"


def test_reads_say_their_server_time(api):
    response = api.get("/api/v1/workflow-executions", params={"workflow": "quickstart"})
    assert response.headers["server-timing"].startswith("app;dur=")


# -- actions -------------------------------------------------------------------------------------


@pytest.fixture
def uploaded(home):
    from aiflow_lite import ops

    ops.upload_workflows(str(QUICKSTART))
    schedule = ops.add_workflow_schedule("interval@0 1 0 0", "quickstart")
    ops.add_workflow_trigger(WorkflowRule(SingleEventCondition("go")), "quickstart")
    return schedule.id


def csrf_of(client: TestClient) -> dict:
    return {"x-csrf-token": get(client, "/api/v1/csrf")["csrf_token"]}


def test_a_post_needs_the_csrf_token_of_its_cookie(uploaded):
    with make_client() as client:
        refused = client.post("/api/v1/workflows/quickstart/executions")
        assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
        headers = csrf_of(client)
        started = client.post("/api/v1/workflows/quickstart/executions", headers=headers)
        assert started.status_code == 201, started.text
        execution = started.json()
        assert execution == cli_json("workflow-execution", "show", str(execution["id"]))
        assert execution["status"] == "INIT"
        stop = client.post(f"/api/v1/workflow-executions/{execution['id']}/stop",
                           headers=headers)
        assert stop.status_code == 200, stop.text
        if HAS_MULTIPART:  # a form post carries the token as a field
            paused = client.post(f"/api/v1/workflow-schedules/{uploaded}/pause",
                                 data={"csrf_token": headers["x-csrf-token"]})
        else:
            paused = client.post(f"/api/v1/workflow-schedules/{uploaded}/pause",
                                 headers=headers)
        assert paused.status_code == 200 and paused.json()["is_paused"] is True
        assert paused.json() == cli_json("workflow-schedule", "show", str(uploaded))
        resumed = client.post(f"/api/v1/workflow-schedules/{uploaded}/resume", headers=headers)
        assert resumed.json()["is_paused"] is False
        disabled = client.post("/api/v1/workflows/quickstart/disable", headers=headers)
        assert disabled.json()["is_enabled"] is False
        assert [disabled.json()] == cli_json("workflow", "list")
        refused = client.post("/api/v1/workflows/quickstart/executions", headers=headers)
        assert refused.status_code == 400 and "disabled" in refused.json()["error"]
        assert client.post("/api/v1/workflows/quickstart/enable",
                           headers=headers).json()["is_enabled"] is True
        # A task command on an execution that has not started is refused in one line.
        task = client.post(f"/api/v1/workflow-executions/{execution['id']}/tasks/fetch/start",
                           headers=headers)
        assert task.status_code == 400 and "\n" not in task.json()["error"]
        missing = client.post("/api/v1/workflow-executions/999/tasks/fetch/stop",
                              headers=headers)
        assert missing.status_code == 404
        trigger = client.post("/api/v1/workflow-triggers/1/pause", headers=headers)
        assert trigger.json() == {**cli_json("workflow-trigger", "show", "1"), "is_paused": True}
        assert client.post("/api/v1/workflow-triggers/5/pause", headers=headers).status_code \
            == 404
    with make_client() as other:  # another browser's token is not this one's
        assert other.post("/api/v1/workflows/quickstart/executions",
                          headers=headers).status_code == 403


def test_read_only_refuses_every_action(uploaded):
    with make_client(read_only=True) as client:
        headers = csrf_of(client)
        for path in ("/api/v1/workflows/quickstart/executions",
                     "/api/v1/workflows/quickstart/disable",
                     "/api/v1/workflow-executions/1/stop",
                     "/api/v1/workflow-executions/1/tasks/fetch/start",
                     f"/api/v1/workflow-schedules/{uploaded}/pause",
                     "/api/v1/workflow-triggers/1/resume"):
            response = client.post(path, headers=headers)
            assert response.status_code == 403, path
            assert "read-only" in response.json()["error"]
        assert get(client, "/api/v1/server")["read_only"] is True
        assert cli_json("workflow-execution", "list", "quickstart") == []


def test_a_server_token_guards_reads_and_lets_a_bearer_post_without_csrf(uploaded):
    with make_client(token="s3cret") as client:
        refused = client.get("/api/v1/workflows")
        assert refused.status_code == 401 and "token" in refused.json()["error"]
        assert client.get("/api/v1/workflows",
                          headers={"Authorization": "Bearer wrong"}).status_code == 401
        bearer = {"Authorization": "Bearer s3cret"}
        assert get_with(client, "/api/v1/workflows", bearer) == cli_json("workflow", "list")
        started = client.post("/api/v1/workflows/quickstart/executions", headers=bearer)
        assert started.status_code == 201, started.text
        assert client.post("/api/v1/workflows/quickstart/executions").status_code == 401


def get_with(client: TestClient, path: str, headers: dict) -> Any:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# -- the live stream -----------------------------------------------------------------------------


def test_the_stream_delivers_an_event_sent_after_connecting(home, processes):
    from aiflow_lite import ops
    from aiflow_lite.ns.client import NotificationClient

    ops.list_namespace()  # the home exists before the server starts
    proc = processes.start([sys.executable, "-m", "aiflow_lite.web.serve", "--port", "0"],
                           cwd=str(ROOT))
    address_file = home / "webserver.addr"
    deadline = time.monotonic() + 30
    while not address_file.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the webserver did not start"
        time.sleep(0.05)
    base = f"http://{address_file.read_text().strip()}"
    with httpx.stream("GET", f"{base}/api/v1/stream", params={"key": "hello"},
                      timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        with NotificationClient() as client:
            client.send_event("other", "skipped")
            sent = client.send_event("hello", XSS)
        message = []
        for line in lines:
            if not line:
                if message:
                    break
                continue
            message.append(line)
    assert message[0] == f"id: {sent.offset}"
    data = json.loads(message[-1].removeprefix("data: "))
    assert (data["key"], data["value"], data["offset"]) == ("hello", XSS, sent.offset)
    proc.terminate()
    proc.wait(timeout=10)
    assert not address_file.exists()
