"""Waking a main thread that sleeps while a signal lands on another of its process's threads.

The kernel may hand a process-directed signal (SIGTERM from `server stop`, Ctrl-C) to any
thread, a gRPC or pool thread included. CPython then only notes it: the Python handler runs in
the main thread once that thread runs bytecode again, so a main thread asleep in a long
`Event.wait()` or `poll()` runs it only at its timeout (seen: a notification server that let a
SIGTERM wait for its 600 s retention timer). `signal.set_wakeup_fd` has the C-level handler,
in whatever thread it runs, write to a socket the main thread sleeps on.

A handler should then only set a flag: one that calls `Event.set()` can deadlock if it runs
while the main thread holds that event's lock (inside its own `wait()`).

Where the main thread is the one that must hear a stop (a worker blocked in its child's
`wait()`), the other way round: threads we start there never take SIGTERM or SIGINT
(`stop_signals_blocked`), so the kernel hands those to the main thread itself.
"""

from __future__ import annotations

import _signal  # the C module under `signal`: see set_handler
import contextlib
import select
import signal
import socket
from typing import Any, Iterator

STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


def set_handler(signum: int, handler: Any) -> None:
    """`signal.signal` without its answer. The `signal` module turns the previous handler into
    a `Handlers` member, and when that handler is a Python function it does so by raising and
    catching a ValueError: in a forked worker, ~0.1 ms and a dozen copy-on-write page faults a
    call, on the path of every task's start."""
    _signal.signal(signum, handler if callable(handler) else int(handler))


@contextlib.contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """Threads started inside inherit a signal mask without SIGTERM and SIGINT: the kernel
    never hands them one (a stop pending meanwhile reaches this thread when it leaves). Plain
    numbers out (`_signal`): the `signal` wrapper makes a `Signals` member of each."""
    previous = _signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        _signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class SignalWakeup:
    """While open, every signal with a Python handler makes `wait` return. Main thread only."""

    def __init__(self) -> None:
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._poll = select.poll()  # not select(): any fd number
        self._poll.register(self._read.fileno(), select.POLLIN)
        self._previous = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)

    def wait(self, timeout_s: float) -> bool:
        """Sleep until a signal arrives or `timeout_s` passes; True when a signal woke it. The
        signal's Python handler has run by the time this returns to its caller's next line."""
        woken = bool(self._poll.poll(max(0.0, timeout_s) * 1000))
        with contextlib.suppress(BlockingIOError):
            while self._read.recv(64):
                pass
        return woken

    def close(self) -> None:
        signal.set_wakeup_fd(self._previous)
        self._read.close()
        self._write.close()

    def __enter__(self) -> SignalWakeup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
