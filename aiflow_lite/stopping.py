"""Holding a task's stop back for a moment. A stop is SIGTERM, which the worker turns into an
exception in its main thread; one landing while an operator starts a child process (after the
fork, before the operator has recorded it) would leave that child running, unknown to the
operator's `stop()`, in a session of its own that the worker's group kill does not reach. So an
operator starts its children inside `stop_deferred()`, and a stop that arrives meanwhile is
delivered again, to this process, as the block ends."""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from typing import Iterator

_depth = 0
_pending = False


@contextmanager
def stop_deferred() -> Iterator[None]:
    global _depth, _pending
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending:
            _pending = False
            os.kill(os.getpid(), signal.SIGTERM)  # handled at the next bytecode: the stop


def defer_stop() -> bool:
    """For the SIGTERM handler: True (and the stop remembered) inside `stop_deferred()`."""
    global _pending
    if _depth:
        _pending = True
    return bool(_depth)
