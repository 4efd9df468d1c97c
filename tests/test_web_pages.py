"""The web UI's pages over a real home (the quickstart run by `aiflow run`, a task whose log
holds markup, models, metrics, datasets, artifacts, events), through Starlette's TestClient:
each page answers 200 with its content, an unknown id is a 404 page, nothing a user wrote is
served unescaped, and a read-only webserver shows no action button."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AIFLOW = [sys.executable, "-c", "from aiflow_lite.cli.aiflow import main; main()"]
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

MARKUP_WORKFLOW = """
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator

with Workflow(name="markup") as workflow:
    BashOperator(name="shout", bash_command="echo 'before <script>alert(1)</script> after'")
"""


FAILING_WORKFLOW = """
from ai_flow.model.workflow import Workflow
from ai_flow.operators.bash import BashOperator

with Workflow(name="broken") as workflow:
    BashOperator(name="crash", bash_command="echo 'about to fail'; exit 3")
"""


def run_workflow(home: Path, path: Path, succeeds: bool = True) -> None:
    proc = subprocess.run([*AIFLOW, "run", str(path), "--home", str(home)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "AIFLOW_HOME": str(home)})
    assert (proc.returncode == 0) == succeeds, proc.stdout + proc.stderr


def fill(home: Path) -> dict:
    """Everything the pages show, made the way a user makes it."""
    from aiflow_lite import ops
    from aiflow_lite.config import load_notification_settings
    from aiflow_lite.ns.client import NotificationClient

    run_workflow(home, ROOT / "examples" / "quickstart" / "quickstart.py")
    markup = home.parent / "markup_workflow.py"
    markup.write_text(MARKUP_WORKFLOW, encoding="utf-8")
    run_workflow(home, markup)
    broken = home.parent / "broken_workflow.py"
    broken.write_text(FAILING_WORKFLOW, encoding="utf-8")
    run_workflow(home, broken, succeeds=False)
    ops.register_dataset("iris", "file:///data/iris.csv", data_format="csv",
                         schema={"sepal": "float"}, description="flowers")
    ops.register_model("ranker", description="ranks things")
    ops.register_model_version("ranker", "file:///models/ranker/1", datasets=["iris"])
    ops.register_model_version("ranker", "file:///models/ranker/2", stage="VALIDATED")
    for step, loss in enumerate((0.9, 0.5, 0.3, 0.2)):
        ops.log_metric("loss", loss, step=step, model_name="ranker", model_version=1)
        ops.log_metric("loss", loss / 2, step=step, model_name="ranker", model_version=2)
    blob = home.parent / "report.txt"
    blob.write_text("the report\n", encoding="utf-8")
    ops.register_artifact("report", str(blob), description="a report")
    client = NotificationClient(settings=load_notification_settings())
    try:
        client.send_event("greeting", SCRIPT)
        client.send_event("plain_key", "plain value")
    finally:
        client.close()
    shout = next(t for t in ops.list_task_executions(
        ops.list_workflow_executions("markup")[0].id) if t.task_name == "shout")
    return {"quickstart_execution": ops.list_workflow_executions("quickstart")[0].id,
            "shout": shout.id}


@pytest.fixture(scope="module")
def filled_template(tmp_path_factory):
    """One filled home per module (two real `aiflow run`s take seconds); each test copies it."""
    base = tmp_path_factory.mktemp("web")
    template = base / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIFLOW_HOME", str(template))
        for name in ("NOTIFICATION_HOME", "AIFLOW_DEBUG", "NO_COLOR"):
            mp.delenv(name, raising=False)
        ids = fill(template)
    return template, ids


@pytest.fixture
def site(home, filled_template):
    """The `home` fixture's home, holding a copy of the filled one, its task log paths moved
    to the copy (the UI refuses a log outside its home)."""
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.home import open_database

    template, ids = filled_template
    shutil.copytree(template, home)
    with open_database(load_aiflow_settings()) as db, db.transaction():
        db.execute("UPDATE task_execution SET log_path = replace(log_path, ?, ?)",
                   (str(template), str(home)))
    return ids


pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


def client_for(read_only: bool = False):
    from starlette.testclient import TestClient

    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.web.app import create_app
    from aiflow_lite.web.context import WebContext

    return TestClient(create_app(WebContext(load_aiflow_settings(), read_only=read_only)))


@pytest.fixture
def web(site):
    with client_for() as client:
        yield client


def page(web, path: str, status: int = 200) -> str:
    reply = web.get(path)
    assert reply.status_code == status, (path, reply.status_code, reply.text[:500])
    assert reply.headers["content-type"].startswith("text/html")
    return reply.text


def test_every_page_renders_with_its_content(web, site):
    execution = site["quickstart_execution"]
    html = page(web, "/")
    assert "Overview" in html and "Events in the last minute" in html
    assert "no scheduler running" in html and "Recent failures" in html
    failures = html.split('id="recent-failures"')[1]
    assert "default.broken" in failures and "task crash #1" in failures
    html = page(web, "/workflows")
    assert "default.quickstart" in html and 'href="/workflows/default/quickstart"' in html
    html = page(web, "/workflows/default/quickstart")
    for text in ("workflow-structure", 'id="workflow-graph"', "fetch", "train", "evaluate",
                 "model_ready", "Snapshots", "Schedules", "Triggers",
                 f'href="/executions/{execution}"'):
        assert text in html, text
    assert '"starts_with_execution": true' in html  # the graph's data, as JSON
    html = page(web, "/executions")
    assert f'href="/executions/{execution}"' in html and "SUCCESS" in html
    html = page(web, "/executions?workflow=quickstart&status=SUCCESS")
    assert "default.quickstart" in html and "default.markup" not in html
    html = page(web, "/executions?status=FAILED")
    assert "default.broken" in html and "default.quickstart" not in html
    assert "No execution matches" in page(web, "/executions?status=STOPPED")
    html = page(web, f"/executions/{execution}")
    for text in ('id="timeline"', "timeline-data", "fired by event", "the execution started",
                 "task-executions", "evaluate", '"try_number": 1'):
        assert text in html, text
    tasks = re.findall(r'href="/task-executions/(\d+)"', html)
    assert len(tasks) == 4
    html = page(web, f"/task-executions/{tasks[0]}")
    assert 'id="task-log"' in html and "SUCCESS" in html
    html = page(web, "/events")
    assert "greeting" in html and "plain value" in html
    assert "__aiflow.task_status" not in html  # hidden unless asked for
    assert "__aiflow.task_status" in page(web, "/events?internal=1")
    html = page(web, "/events?key=plain_key")
    assert "plain value" in html and "greeting" not in html.split("<tbody")[1]
    html = page(web, "/models")
    assert 'href="/models/ranker?namespace=default"' in html
    html = page(web, "/models/ranker")
    for text in ("VALIDATED", "GENERATED", "iris", "metric-data", "loss", '"label": "v2"'):
        assert text in html, text
    html = page(web, "/datasets")
    assert "iris" in html and "file:///data/iris.csv" in html and "sepal: float" in html
    html = page(web, "/artifacts")
    assert "report.txt" in html and "/api/v1/artifacts/report/download?version=1" in html


def test_every_page_has_a_nav_entry_and_the_static_assets_load(web, site):
    html = page(web, "/")
    for path in ("/workflows", "/executions", "/events", "/models", "/datasets", "/artifacts"):
        assert f'href="{path}"' in html
    assert '<meta name="csrf-token" content="' in html
    for asset in ("/static/app.js", "/static/app.css"):
        assert web.get(asset).status_code == 200


def test_no_inline_script_or_style_for_the_csp(web, site):
    execution = site["quickstart_execution"]
    for path in ("/", "/workflows/default/quickstart", f"/executions/{execution}", "/events",
                 "/models/ranker", f"/task-executions/{site['shout']}"):
        html = page(web, path)
        assert " style=" not in html and not re.search(r"\son[a-z]+=", html), path
        for script in re.findall(r"<script([^>]*)>", html):
            assert 'src="/static/' in script or 'type="application/json"' in script, path


@pytest.mark.parametrize("path", ["/executions/999", "/task-executions/999",
                                  "/workflows/default/nope", "/models/nope", "/no-such-page",
                                  "/executions/abc"])
def test_an_unknown_record_is_a_404_page(web, site, path):
    html = page(web, path, status=404)
    assert "Error 404" in html


def test_what_users_wrote_is_served_escaped(web, site):
    html = page(web, "/events")
    assert ESCAPED in html and SCRIPT not in html
    html = page(web, f"/task-executions/{site['shout']}")
    assert "before " + ESCAPED + " after" in html and SCRIPT not in html
    # The workflow's own structure carries it too (in its bash command), inside a JSON block.
    html = page(web, "/workflows/default/markup")
    assert SCRIPT not in html and "\\u003cscript\\u003e" in html


def test_action_buttons_show_unless_read_only(site):
    from aiflow_lite import ops

    running = ops.start_workflow_execution("quickstart")  # INIT: no scheduler to start it
    paths = ["/workflows/default/quickstart", f"/executions/{running}"]
    with client_for() as client:
        for path in paths:
            assert "data-action=" in page(client, path), path
        html = page(client, f"/executions/{running}")
        assert f'data-action="/api/v1/workflow-executions/{running}/stop"' in html
    with client_for(read_only=True) as client:
        for path in [*paths, "/", "/executions", f"/task-executions/{site['shout']}",
                     "/events", "/models/ranker", "/artifacts"]:
            html = page(client, path)
            assert "data-action=" not in html and "<button type=\"button\"" not in html, path
            assert 'data-read-only="true"' in html


def test_bad_filters_are_a_400_page(web, site):
    assert "Error 400" in page(web, "/executions?status=SLEEPING", status=400)
    assert "Error 400" in page(web, "/executions?page=-1", status=400)
