"""`aiflow webserver start [-d] | stop` as real processes: the port answers before `start -d`
returns, a second start refuses, off-loopback needs a token, and every request then shows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from aiflow_lite.procfs import is_running

pytestmark = pytest.mark.slow  # real webserver processes


AIFLOW = [sys.executable, "-c", "from aiflow_lite.cli.aiflow import main; main()"]


def aiflow(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*AIFLOW, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def webserver(home):
    """Starts `aiflow webserver start -d --port 0`; always stopped at the end."""
    started = []

    def start(*options: str) -> str:
        proc = aiflow("webserver", "start", "-d", "--port", "0", *options)
        assert proc.returncode == 0, proc.stderr
        started.append(True)
        return (home / "webserver.addr").read_text().strip()

    yield start
    if started:
        aiflow("webserver", "stop")


def get(address: str, path: str, token: str = "") -> tuple:
    request = urllib.request.Request(f"http://{address}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_start_answers_refuses_a_second_and_stop_removes_its_files(home, webserver):
    address = webserver()
    status, body = get(address, "/api/v1/server")
    assert status == 200 and json.loads(body)["home"] == str(home)
    pid = int((home / "webserver.pid").read_text())
    again = aiflow("webserver", "start", "-d")
    assert again.returncode == 1
    assert again.stderr.strip() == (f"Error: a webserver already runs for {home} (pid {pid}); "
                                    "stop it with `aiflow webserver stop`")
    stop = aiflow("webserver", "stop")
    assert stop.returncode == 0 and f"stopped (pid {pid})" in stop.stdout
    assert not (home / "webserver.pid").exists() and not (home / "webserver.addr").exists()
    assert not is_running(pid)
    assert "No webserver runs" in aiflow("webserver", "stop").stdout


def test_off_loopback_without_a_token_refuses_in_one_line_and_writes_nothing(home):
    proc = aiflow("webserver", "start", "-d", "--host", "0.0.0.0", "--port", "0")
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: refusing to serve the web UI on 0.0.0.0 without a "
                                  "server_token") and len(proc.stderr.splitlines()) == 1
    assert not (home / "webserver.pid").exists() and not (home / "logs").exists()


def test_with_a_token_every_request_must_show_it(home, webserver):
    home.mkdir(parents=True, exist_ok=True)
    (home / "aiflow_server.yaml").write_text("server_token: s3cret\n")
    address = webserver()
    assert get(address, "/api/v1/workflows")[0] == 401
    status, body = get(address, "/api/v1/server", token="s3cret")
    assert status == 200 and json.loads(body)["read_only"] is False
    assert get(address, "/api/v1/server", token="wrong")[0] == 401
    status, body = get(address, "/")  # a person is sent to the login form
    assert status == 200 and 'name="token"' in body


def test_a_port_in_use_is_one_line(home, webserver):
    address = webserver()
    port = address.rsplit(":", 1)[1]
    other = home.parent / "other"
    env = {**os.environ, "AIFLOW_HOME": str(other)}
    proc = subprocess.run([*AIFLOW, "webserver", "start", "-d", "--port", port],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert f"cannot serve the web UI on 127.0.0.1:{port}" in proc.stderr
    assert not (other / "webserver.pid").exists()
