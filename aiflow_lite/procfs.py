"""What aiflow_lite reads of `/proc` (Linux only, as the package classifiers say): a process's
start time (with its pid it names one process, reuse or not), whether it still runs, its
command line, its threads and children, and this process's open file descriptors. Bytes are
read, not text: a worker calls these before any codec is imported."""

from __future__ import annotations

import os
from typing import List, Optional, Set


def _stat_fields(pid: int) -> Optional[List[bytes]]:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_start_time(pid: int) -> Optional[str]:
    """The kernel's start time of `pid`; None if there is no such process, or only its corpse
    (a zombie has ended)."""
    fields = _stat_fields(pid)
    if fields is None or len(fields) < 20 or fields[0] in (b"Z", b"X"):
        return None
    return fields[19].decode()


def is_running(pid: int) -> bool:
    """There is such a process and it has not ended (a zombie, not yet reaped, has)."""
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] not in (b"Z", b"X")


def command_line(pid: int) -> bytes:
    """Its argv joined by NULs (b"" when it is gone, or a zombie)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def threads_and_children(pid: int) -> Optional[tuple]:
    """(thread ids, whether any thread has a child process), or None when /proc says nothing."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
        children = False
        for thread in threads:
            with open(f"/proc/{pid}/task/{thread}/children", "rb") as fh:
                children = children or bool(fh.read().split())
    except OSError:
        return None
    return threads, children


def children_of(pid: int) -> List[int]:
    """The child processes of `pid`'s main thread."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", "rb") as fh:
            return [int(child) for child in fh.read().split()]
    except OSError:
        return []


def descendants_of(pid: int) -> List[int]:
    """Every process below `pid` (children of any of its threads, theirs, and so on)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            threads = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for thread in threads:
            try:
                with open(f"/proc/{parent}/task/{thread}/children", "rb") as fh:
                    children = [int(child) for child in fh.read().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def open_fds() -> Set[int]:
    """This process's open file descriptors (not the one the listing used: it is closed)."""
    try:
        listed = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return set()
    open_now = set()
    for fd in listed:
        try:
            os.fstat(fd)
        except OSError:
            continue
        open_now.add(fd)
    return open_now
