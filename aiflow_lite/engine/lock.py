"""One scheduler per home: an exclusive flock on `<home>/scheduler.lock`, which holds the pid.
Kept apart from the scheduler so that commands asking "does one run?" import almost nothing."""

from __future__ import annotations

import fcntl
import os
from typing import Optional

from aiflow_lite.config import Settings

LOCK_FILE = "scheduler.lock"


def lock_path(settings: Settings) -> str:
    return os.path.join(settings.home, LOCK_FILE)


def running_scheduler_pid(settings: Settings) -> Optional[int]:
    """The pid of the scheduler holding this home's lock, or None when none runs."""
    path = lock_path(settings)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
