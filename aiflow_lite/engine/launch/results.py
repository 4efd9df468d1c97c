"""A worker's result, handed to its executor through a file.

A worker never opens the database (connecting and two transactions were ~40% of a no-op task's
CPU): it writes its result here, atomically (a temp file renamed into place), and exits. Its
executor reports the result in the event log when it sees the exit, and only then removes the
file; a scheduler that died meanwhile finds the file after its restart. So a result is never
lost, and a duplicate report is harmless (the scheduler keeps the first report of a try).
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Optional, Tuple

from aiflow_lite.engine.launch.protocol import write_all
from aiflow_lite.status import TaskStatus

Result = Tuple[TaskStatus, Optional[str]]


def results_dir(home: str) -> str:
    return os.path.join(home, "results")


def result_path(home: str, task_execution_id: int, try_number: int, pid: int) -> str:
    """One file per try and process: a retry's worker never meets the previous try's result,
    nor the claimed worker another's."""
    return os.path.join(results_dir(home), f"{task_execution_id}.{try_number}.{pid}")


def write_result(path: str, status: TaskStatus, message: Optional[str]) -> None:
    staging = f"{path}.tmp"
    data = json.dumps({"status": status.value, "message": message}).encode()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    try:  # os-level, not open(): a forked worker builds no text and buffer objects for it
        fd = os.open(staging, flags, 0o644)
    except FileNotFoundError:  # its executor makes the folder; it may have been removed since
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(staging, flags, 0o644)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)
    os.replace(staging, path)


def read_result(path: str) -> Optional[Result]:
    """The result a worker left, or None if it left none (or nothing readable)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return TaskStatus(data["status"]), data.get("message")
    except (OSError, ValueError, KeyError, TypeError):
        return None


def discard_result(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def find_result(home: str, task_execution_id: int, try_number: int) -> Optional[Result]:
    """The result some process of the try left (one that ran it, not a "never started"), or
    None: for an executor that does not know which process ran it."""
    import glob

    for path in sorted(glob.glob(os.path.join(results_dir(home),
                                              f"{task_execution_id}.{try_number}.*"))):
        found = None if path.endswith(".tmp") else read_result(path)
        if found is not None and found[0] != TaskStatus.QUEUED:
            return found
    return None


def discard_results(home: str, task_execution_id: int, try_number: int) -> None:
    """Every file of the try (the claimed worker's, and any other process's)."""
    import glob

    for path in glob.glob(os.path.join(results_dir(home), f"{task_execution_id}.{try_number}.*")):
        discard_result(path)
