"""Mistakes a new user makes first, each answered with one line, a non-zero exit and nothing
written: a home that cannot be one, a port that is taken."""

from __future__ import annotations

import socket
import subprocess
import sys

from cli_runner import invoke

from aiflow_lite.cli.aiflow import cli

AIFLOW = [sys.executable, "-c", "from aiflow_lite.cli.aiflow import main; main()"]


def _one_line_error(stderr: str) -> str:
    assert stderr.startswith("Error: ") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr and stderr.count("Error:") == 1
    return stderr


def test_a_home_that_is_a_file_is_one_line(tmp_path, monkeypatch):
    file = tmp_path / "not_a_dir"
    file.write_text("")
    monkeypatch.setenv("AIFLOW_HOME", str(file))
    result = invoke(cli, "workflow", "list")
    assert result.exit_code == 1
    assert f"{file} is a file, not a directory" in _one_line_error(result.stderr)
    monkeypatch.setenv("AIFLOW_HOME", str(file / "home"))
    result = invoke(cli, "workflow", "list")
    assert "is a file, so no directory can be made inside it" in _one_line_error(result.stderr)


def test_run_with_a_home_inside_a_file_is_one_line(tmp_path, home):
    file = tmp_path / "not_a_dir"
    file.write_text("")
    wf = tmp_path / "wf.py"
    wf.write_text("from ai_flow.model.workflow import Workflow\n"
                  "from ai_flow.operators.bash import BashOperator\n"
                  "with Workflow(name='w'):\n    BashOperator(name='t', bash_command='true')\n")
    proc = subprocess.run([*AIFLOW, "run", str(wf), "--home", str(file / "h")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "--home" in _one_line_error(proc.stderr)


def test_a_server_whose_port_is_taken_says_so_once(home, tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        home.mkdir(parents=True)
        (home / "aiflow_server.yaml").write_text(f"rpc_port: {taken.getsockname()[1]}\n")
        proc = subprocess.run([*AIFLOW, "server", "start", "-d"], capture_output=True,
                              text=True, timeout=60)
    finally:
        taken.close()
    assert proc.returncode == 1
    assert "the port is in use" in _one_line_error(proc.stderr)
