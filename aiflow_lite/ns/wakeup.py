"""Post-commit wake-up between processes: each listener binds a Unix datagram socket in the home's
wake directory; a sender, after its commit, sends one byte to every socket there. An idle listener
sleeps in `poll()` and costs nothing; a slow periodic re-read of the log is the safety net for a
lost or unsent datagram.

The directory sits beside the database (``<db>-wake``, resolved through symlinks so every process
agrees), or under the temp dir when that path is too long for a socket address (108 bytes).
A wake-up never fails a send: the event is committed before any of this runs.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import select
import socket
import tempfile
import time
import uuid
from typing import Optional

from aiflow_lite.errors import HomeError

log = logging.getLogger(__name__)

_MAX_SOCKET_PATH = 107
# Directory mtimes come from the kernel's coarse clock (a few ms a tick): a listing taken this
# long after the last change is known to be complete; a fresher one is re-read on the next notify.
# Filesystems with whole-second timestamps get a longer settle time.
_MTIME_SETTLE_NS = 50_000_000
_COARSE_MTIME_SETTLE_NS = 2_100_000_000
_RESCAN_EVERY_S = 2.0


def wake_dir_for(db_path: str) -> str:
    real = os.path.realpath(db_path)
    beside = real + "-wake"
    if len(beside) + 48 <= _MAX_SOCKET_PATH:
        return beside
    digest = hashlib.sha1(real.encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"aiflow-lite-{os.getuid()}", digest)


def _settle_ns(mtime_ns: int) -> int:
    return _COARSE_MTIME_SETTLE_NS if mtime_ns % 1_000_000_000 == 0 else _MTIME_SETTLE_NS


class Waker:
    """The sending side: `notify()` after a commit wakes every listener of the database."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._targets: list = []
        self._mtime_ns = -1
        self._scanned_ns = 0
        self._scanned_at = 0.0

    def notify(self) -> None:
        """Best effort by design: a failure here is logged, never raised."""
        try:
            self._notify()
        except OSError as exc:
            log.debug("wake-up of listeners in %s failed: %s", self.directory, exc)

    def _notify(self) -> None:
        try:
            mtime_ns = os.stat(self.directory).st_mtime_ns
        except FileNotFoundError:
            return  # nobody has ever listened here
        now = time.monotonic()
        if (
            mtime_ns != self._mtime_ns
            or self._scanned_ns - mtime_ns < _settle_ns(mtime_ns)
            or now - self._scanned_at > _RESCAN_EVERY_S
        ):
            self._scan(mtime_ns, now)
        for path in list(self._targets):  # a copy: stale sockets are dropped on the way
            try:
                self._sock.sendto(b"\x01", path)
            except BlockingIOError:
                pass  # its queue is full: a wake-up is already pending there
            except (ConnectionRefusedError, FileNotFoundError):
                self._drop_stale(path)
            except OSError:
                pass

    def _scan(self, mtime_ns: int, now: float) -> None:
        self._scanned_ns = time.time_ns()
        self._scanned_at = now
        self._mtime_ns = mtime_ns
        self._targets = [os.path.join(self.directory, n) for n in os.listdir(self.directory)
                         if n.endswith(".sock")]

    def _drop_stale(self, path: str) -> None:
        """Nobody is bound to it: its listener died without cleaning up."""
        with contextlib.suppress(OSError):
            os.unlink(path)
        with contextlib.suppress(ValueError):
            self._targets.remove(path)

    def close(self) -> None:
        self._sock.close()


def _make_wake_dir(directory: str) -> None:
    parent = os.path.dirname(directory)
    if os.path.basename(parent).startswith("aiflow-lite-"):
        os.makedirs(parent, mode=0o700, exist_ok=True)
        if os.stat(parent).st_uid != os.getuid():
            raise HomeError(f"wake-up directory {parent} belongs to another user; remove it")
    os.makedirs(directory, mode=0o700, exist_ok=True)


class WakeSocket:
    """The listening side. Bind it before the first read of the log, so no commit is missed."""

    def __init__(self, directory: str) -> None:
        try:
            _make_wake_dir(directory)
            self.path = os.path.join(directory, f"{os.getpid()}-{uuid.uuid4().hex[:12]}.sock")
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.bind(self.path)
        except OSError as exc:
            raise HomeError(f"cannot listen in {directory}: {exc.strerror or exc}") from exc
        self._sock.setblocking(False)
        self._poll = select.poll()
        self._poll.register(self._sock.fileno(), select.POLLIN)
        self._watched: Optional[int] = None
        # A process that exits without closing its listeners still removes their sockets.
        atexit.register(self._unlink)

    def wait(self, timeout_s: float) -> bool:
        """Sleep until a wake-up or the timeout; True when woken. Drains queued wake-ups."""
        woken = bool(self._poll.poll(max(0.0, timeout_s) * 1000))
        if woken:
            with contextlib.suppress(BlockingIOError):
                while True:
                    self._sock.recv(64)
        return woken

    def watch(self, fd: Optional[int]) -> None:
        """Also wake when `fd` is readable (None: no other fd). Its reader must drain it, and
        must stop watching it at end of file, or `wait` returns at once."""
        if fd == self._watched:
            return
        if self._watched is not None:
            self._poll.unregister(self._watched)
        if fd is not None:
            self._poll.register(fd, select.POLLIN)
        self._watched = fd

    def interrupt(self) -> None:
        """Wake the thread blocked in `wait()`; never blocks (a full queue is a pending wake)."""
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.setblocking(False)
            s.sendto(b"\x00", self.path)

    def _unlink(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def close(self) -> None:
        self._sock.close()
        self._unlink()
        atexit.unregister(self._unlink)
