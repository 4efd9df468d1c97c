"""Driving a home's scheduler as a real process (`aiflow server start -d`) from tests: the
`server` fixture (in conftest.py) and the commands tests run against it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import wait_for

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
AIFLOW = [sys.executable, "-c", "from aiflow_lite.cli.aiflow import main; main()"]


def aiflow(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([*AIFLOW, *args], capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def scheduler_pid(home: Path):
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.lock import running_scheduler_pid

    return running_scheduler_pid(load_aiflow_settings())


def configure(home: Path, text: str) -> None:
    """Add options to the home's aiflow_server.yaml."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "aiflow_server.yaml", "a", encoding="utf-8") as fh:
        fh.write(text)


def kill_workers(home: Path) -> None:
    """Workers outlive a killed scheduler on purpose; a test must not leave any behind."""
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.executions import ExecutionStore
    from aiflow_lite.home import open_database

    with open_database(load_aiflow_settings()) as db:
        for meta in ExecutionStore(db).task_executions_in(("RUNNING", "STOPPING", "QUEUED")):
            if meta.pid:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(meta.pid, signal.SIGKILL)


def tasks(execution_id: int) -> dict:
    rows = json.loads(aiflow("task-execution", "list", str(execution_id), "-o", "json").stdout)
    return {r["task_name"]: r for r in rows}


def wait_execution(execution_id: int, timeout: float = 60.0) -> str:
    def finished():
        status = json.loads(aiflow("workflow-execution", "show", str(execution_id), "-o",
                                   "json").stdout)["status"]
        return status if status in ("SUCCESS", "FAILED", "STOPPED") else None

    return wait_for(finished, timeout=timeout, interval=0.2, message=f"execution {execution_id}")


def start_execution(name: str) -> int:
    out = aiflow("workflow-execution", "start", name).stdout
    return int(out.split(":")[1].split(",")[0])
