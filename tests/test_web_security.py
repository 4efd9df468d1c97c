"""The web app's own rules, each found by a review: a wrong bearer does not stand in for the
CSRF token, the login form works without extra parsers, a bug on the API is one JSON line,
only `/login` itself is open, and a reconnecting stream misses nothing however far behind."""

from __future__ import annotations

import asyncio
import os

from test_web_api import QUICKSTART, make_client

from aiflow_lite import ops


def test_a_wrong_bearer_beside_a_valid_cookie_still_needs_the_csrf_token(home):
    ops.upload_workflows(str(QUICKSTART))
    with make_client(token="s3cret") as client:
        login = client.post("/login", data={"token": "s3cret", "next": "/"},
                            follow_redirects=False)
        assert login.status_code == 303 and login.headers["location"] == "/"
        # Logged in by cookie now; a wrong bearer header must not switch off the CSRF check.
        forged = client.post("/api/v1/workflows/quickstart/executions",
                             headers={"Authorization": "Bearer wrong"})
        assert forged.status_code == 403 and "CSRF" in forged.json()["error"]
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        started = client.post("/api/v1/workflows/quickstart/executions",
                              headers={"x-csrf-token": token})
        assert started.status_code == 201, started.text


def test_a_wrong_token_in_the_login_form_is_refused_and_sets_no_cookie(home):
    with make_client(token="s3cret") as client:
        wrong = client.post("/login", data={"token": "nope"}, follow_redirects=False)
        assert wrong.status_code == 401 and "That is not the token" in wrong.text
        assert "aiflow_token" not in client.cookies
        assert client.get("/api/v1/server").status_code == 401


def test_only_the_login_page_itself_is_open(home):
    with make_client(token="s3cret") as client:
        assert client.get("/login").status_code == 200
        closed = client.get("/login-and-more", follow_redirects=False)  # not open by prefix
        assert closed.status_code == 303 and closed.headers["location"].startswith("/login?")
        assert client.get("/static/app.css").status_code == 200


def test_a_bug_on_the_api_is_one_json_line(home, monkeypatch):
    from aiflow_lite.web import api

    def broken(request):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(api, "server_info", broken)
    with make_client(raise_server_exceptions=False) as client:
        reply = client.get("/api/v1/server")
    assert reply.status_code == 500
    assert reply.json() == {"error": "internal error (RuntimeError); see the webserver's log"}


def test_a_stream_resumed_far_behind_sends_every_event_after_its_offset(home):
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.events import Event
    from aiflow_lite.ns.client import NotificationClient
    from aiflow_lite.web.live import READ_BATCH, LiveHub, Subscriber

    with NotificationClient() as client:
        client.send_events([Event("k", str(i)) for i in range(READ_BATCH * 2 + 5)])
    hub = LiveHub(load_aiflow_settings())

    async def collect() -> list:
        offsets = []
        subscriber = Subscriber()
        stream = hub.stream(subscriber, since=3)
        async for message in stream:
            if message.startswith("id: "):
                offsets.append(int(message.split("\n", 1)[0][4:]))
            if len(offsets) == READ_BATCH * 2 + 2:
                break
        await stream.aclose()
        return offsets

    offsets = asyncio.run(collect())
    assert offsets == list(range(4, READ_BATCH * 2 + 6))


def _crafted_log(home, task_log: str) -> int:
    """A task execution whose stored log path is `task_log` (as a tampered row would say)."""
    import subprocess
    import sys

    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.home import open_database

    proc = subprocess.run([sys.executable, "-c", "from aiflow_lite.cli.aiflow import main; main()",
                           "run", str(QUICKSTART), "--home", str(home)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with open_database(load_aiflow_settings()) as db, db.transaction():
        db.execute("UPDATE task_execution SET log_path = ? WHERE id = 1", (task_log,))
    return 1


def test_the_task_page_shows_no_file_outside_the_home(home):
    task = _crafted_log(home, "/etc/passwd")
    with make_client() as client:
        page = client.get(f"/task-executions/{task}")
        api = client.get(f"/api/v1/task-executions/{task}/log")
    assert page.status_code == api.status_code == 403
    assert "root:" not in page.text and "outside the home" in page.text


def test_a_fifo_planted_as_a_log_does_not_hang_a_reader(home):
    fifo = home / "logs" / "planted.fifo"
    task = _crafted_log(home, str(fifo))
    os.mkfifo(fifo)
    with make_client() as client:
        page = client.get(f"/task-executions/{task}")  # would block for ever on open()
        api = client.get(f"/api/v1/task-executions/{task}/log")
    assert page.status_code == 200 and api.status_code == 404
    assert "not a regular file" in api.json()["error"]


def test_on_loopback_only_a_loopback_host_is_answered(home):
    from starlette.testclient import TestClient

    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.web.app import create_app
    from aiflow_lite.web.context import WebContext

    app = create_app(WebContext(load_aiflow_settings(), loopback_only=True))
    with TestClient(app, base_url="http://attacker.example") as rebound:
        assert rebound.get("/api/v1/csrf").status_code == 421  # DNS rebinding
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        assert local.get("/api/v1/server").status_code == 200
    with TestClient(app, base_url="http://[::1]:8000") as local6:
        assert local6.get("/api/v1/server").status_code == 200


def test_a_post_from_another_origin_is_refused_whatever_its_token(home):
    ops.upload_workflows(str(QUICKSTART))
    with make_client() as client:
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        refused = client.post("/api/v1/workflows/quickstart/executions",
                              headers={"x-csrf-token": token,
                                       "origin": "http://attacker.example"})
        assert refused.status_code == 403 and "another site" in refused.json()["error"]
        assert refused.headers["content-security-policy"].startswith("default-src 'self'")
        same = client.post("/api/v1/workflows/quickstart/executions",
                           headers={"x-csrf-token": token, "origin": "http://testserver"})
        assert same.status_code == 201


def test_odd_ids_and_pages_are_404_or_clamped_never_500(home):
    with make_client(raise_server_exceptions=False) as client:
        for path in ("/executions/%C2%B2", "/task-executions/%C2%B2",
                     "/executions/99999999999999999999", "/task-executions/99999999999999999999"):
            assert client.get(path).status_code == 404, path
        assert client.get("/executions?page=9223372036854775807").status_code == 200


def test_a_second_webserver_of_the_same_home_cannot_start(home, processes):
    import subprocess
    import sys

    from conftest import wait_for

    first = processes.start([sys.executable, "-m", "aiflow_lite.web.serve", "--port", "0"])
    wait_for(lambda: (home / "webserver.addr").exists(), timeout=30, message="the first")
    second = subprocess.run([sys.executable, "-m", "aiflow_lite.web.serve", "--port", "0"],
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 1
    assert second.stderr.strip() == (f"Error: a webserver already runs for {home} (pid "
                                     f"{first.pid}); stop it with `aiflow webserver stop`")
    assert (home / "webserver.pid").read_text().strip() == str(first.pid)  # left alone


def test_a_symlink_in_the_blob_store_does_not_lead_out_of_it(tmp_path):
    import pytest

    from aiflow_lite.blob import LocalBlobManager
    from aiflow_lite.errors import InvalidInput

    root = tmp_path / "blob"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    (root / "evil.lnk").symlink_to(secret)
    with pytest.raises(InvalidInput, match="would escape"):
        LocalBlobManager({"root_directory": str(root)}).download(str(root / "evil.lnk"),
                                                                 str(tmp_path / "out"))
