"""One process per role and home: an exclusive flock on a lock file that holds the holder's pid
(`scheduler.lock` for the scheduler, `notification_server.lock` for a notification server).
Kept apart so that commands asking "does one run?" import almost nothing."""

from __future__ import annotations

import fcntl
import os
from typing import Optional

from aiflow_lite.config import Settings

LOCK_FILE = "scheduler.lock"
NOTIFICATION_LOCK_FILE = "notification_server.lock"


def lock_path(settings: Settings) -> str:
    return os.path.join(settings.home, LOCK_FILE)


def running_scheduler_pid(settings: Settings) -> Optional[int]:
    """The pid of the scheduler holding this home's lock, or None when none runs."""
    return pid_holding(lock_path(settings))


def notification_lock_path(settings: Settings) -> str:
    return os.path.join(settings.home, NOTIFICATION_LOCK_FILE)


def running_notification_server_pid(settings: Settings) -> Optional[int]:
    """The pid of the notification server holding this home's lock, or None."""
    return pid_holding(notification_lock_path(settings))


def pid_holding(path: str) -> Optional[int]:
    """The pid of the process holding the lock file `path`, or None when none does."""
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


def acquire(path: str) -> Optional[int]:
    """Take the lock file `path` and write our pid into it; returns its descriptor (keep it open
    as long as the role is held), or None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd
