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


def _blocked_signals(tid: int) -> int:
    status = Path(f"/proc/self/task/{tid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("SigBlk:"))
               .split()[1], 16)


def _bit(signum: int) -> int:
    return 1 << (signum - 1)


def test_set_handler_installs_a_function_and_restores_the_default():
    from aiflow_lite.signal_wakeup import set_handler

    seen = []
    previous = signal.getsignal(signal.SIGUSR1)
    try:
        set_handler(signal.SIGUSR1, lambda signum, frame: seen.append(signum))
        signal.raise_signal(signal.SIGUSR1)
        assert seen == [signal.SIGUSR1]
        set_handler(signal.SIGUSR1, signal.SIG_IGN)  # a Handlers member, as callers pass it
        signal.raise_signal(signal.SIGUSR1)
        assert seen == [signal.SIGUSR1]
        set_handler(signal.SIGUSR1, signal.SIG_DFL)
        assert signal.getsignal(signal.SIGUSR1) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_threads_started_with_stop_signals_blocked_never_take_a_stop():
    from aiflow_lite.signal_wakeup import stop_signals_blocked

    before = _blocked_signals(threading.get_native_id())
    release, started = threading.Event(), []
    with stop_signals_blocked():
        thread = threading.Thread(target=lambda: (started.append(threading.get_native_id()),
                                                  release.wait()), daemon=True)
        thread.start()
    try:
        deadline = time.monotonic() + 10
        while not started:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        mask = _blocked_signals(started[0])
        assert mask & _bit(signal.SIGTERM) and mask & _bit(signal.SIGINT)
        assert _blocked_signals(threading.get_native_id()) == before  # this thread: as it was
    finally:
        release.set()
        thread.join()


def test_a_worker_s_heartbeat_thread_leaves_a_stop_to_the_main_thread(home):
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.launch.worker import _Heartbeat

    settings = load_aiflow_settings()
    before = set(os.listdir("/proc/self/task"))
    heartbeat = _Heartbeat(settings, task_execution_id=1, try_number=1, pid=os.getpid())
    try:
        deadline = time.monotonic() + 10
        while not (new := set(os.listdir("/proc/self/task")) - before):
            assert time.monotonic() < deadline, "no heartbeat thread"
            time.sleep(0.005)
        assert all(_blocked_signals(int(tid)) & _bit(signal.SIGTERM) for tid in new)
    finally:
        heartbeat.stop()


def test_a_stopped_heartbeat_thread_ends_and_a_second_stop_is_harmless(home):
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.engine.launch.worker import _Heartbeat

    before = set(os.listdir("/proc/self/task"))
    heartbeat = _Heartbeat(load_aiflow_settings(), task_execution_id=1, try_number=1,
                           pid=os.getpid())
    deadline = time.monotonic() + 10
    while not (new := set(os.listdir("/proc/self/task")) - before):
        assert time.monotonic() < deadline, "no heartbeat thread"
        time.sleep(0.005)
    heartbeat.stop()
    heartbeat.stop()
    while new & set(os.listdir("/proc/self/task")):
        assert time.monotonic() < deadline, "the heartbeat thread outlived its stop"
        time.sleep(0.005)
