"""A signal the kernel hands to another thread still wakes the sleeping main thread at once."""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from aiflow_lite.signal_wakeup import SignalWakeup


def test_a_signal_on_another_thread_wakes_the_main_thread_and_its_handler_has_run():
    seen: list = []
    previous = signal.signal(signal.SIGUSR1, lambda *_: seen.append(True))
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        with SignalWakeup() as wakeup:
            signal.pthread_kill(other.ident, signal.SIGUSR1)
            start = time.monotonic()
            assert wakeup.wait(30.0)
            assert time.monotonic() - start < 5.0 and seen == [True]
            assert not wakeup.wait(0.0)  # drained: the next wait sleeps again
    finally:
        release.set()
        signal.signal(signal.SIGUSR1, previous)


def _tgkill(pid: int, tid: int, signum: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "tgkill"):
        pytest.skip("this libc has no tgkill")
    if libc.tgkill(pid, tid, signum) != 0:
        raise OSError(ctypes.get_errno(), "tgkill")


@pytest.mark.parametrize("role", ["notification", "aiflow"])
def test_a_server_stops_when_sigterm_lands_on_a_grpc_thread(tmp_path, servers, role):
    """A notification server's main thread sleeps up to 600 s between retention rounds:
    without the wake-up fd a SIGTERM taken by one of gRPC's threads waited for that timer. (An
    AIFlow server's scheduler loop wakes at least every second.)"""
    server = servers(tmp_path / "h", role)
    pid = server.proc.pid
    threads = [int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid]
    assert threads, "a gRPC server has threads besides the main one"
    _tgkill(pid, threads[-1], signal.SIGTERM)
    deadline = time.monotonic() + 10
    while server.proc.poll() is None:
        assert time.monotonic() < deadline, "the server ignored a SIGTERM on another thread"
        time.sleep(0.02)
    assert server.proc.returncode == 0
    assert not Path(tmp_path / "h" / f"{role}_server.addr").exists()
