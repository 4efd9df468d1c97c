"""What a Ray task of aiflow_lite does on its node: fork the worker that runs one claimed try,
relay the stops its owner hands it, and return the worker's result.

The worker is the local executor's own (see `launch.forker`): a new session (a stop reaches
every child), its log in the home, its result left in the home's results folder. It is forked
rather than spawned: a fresh interpreter costs ~100 ms here, a fork of the Ray worker ~3 ms.
It dies with the Ray worker (Linux's parent-death signal), so a lost node or a killed Ray
worker leaves no task running that nobody watches.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Any, Callable, Optional, Tuple

from aiflow_lite.engine.launch.protocol import Go, Order, decode, write_all
from aiflow_lite.engine.launch.results import discard_result, read_result, result_path

_PR_SET_PDEATHSIG = 1

#: The result a try returns: (status value, message).
Outcome = Tuple[str, Optional[str]]


def run_try(order_line: bytes, home: str, next_signal: Callable[[int], Optional[int]]) -> Outcome:
    """Run the try `order_line` (an encoded `Order`) of `home`; `next_signal(i)` blocks until
    the owner hands the i-th signal for it (None: no more will come)."""
    order = decode(order_line.rstrip(b"\n"))
    if not isinstance(order, Order):
        return "FAILED", "its Ray task was handed no order"
    if not os.path.isdir(os.path.join(home, "results")):  # the executor makes it
        return "FAILED", (f"this Ray node does not see the home {home}: run the Ray nodes where "
                          "the home is at the same path (this machine, or a shared disk)")
    os.environ["AIFLOW_HOME"] = home
    os.environ.pop("NOTIFICATION_HOME", None)
    _warm()
    from aiflow_lite.config import load_aiflow_settings

    settings = load_aiflow_settings()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: it never returns
        _child(read_end, write_end, settings)
    os.close(read_end)
    with contextlib.suppress(OSError):  # it died already: its exit says so below
        write_all(write_end, order_line if order_line.endswith(b"\n") else order_line + b"\n")
        write_all(write_end, Go(order.task_execution_id, pid).encode())
    os.close(write_end)
    relay = threading.Thread(target=_relay, args=(pid, next_signal), daemon=True,
                             name="aiflow-stop-relay")
    relay.start()
    code = _wait(pid)
    path = result_path(home, order.task_execution_id, order.try_number, pid)
    result = read_result(path)
    discard_result(path)
    if result is None:
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        return "FAILED", f"the worker ended ({how}) without reporting a result"
    return result[0].value, result[1]


def _warm() -> None:
    """Import what every worker imports, once per Ray worker process (as the fork server does):
    each forked worker then finds it loaded instead of importing it again."""
    import importlib

    from aiflow_lite.engine.launch import WARM_MODULES

    for name in WARM_MODULES:
        importlib.import_module(name)


def _child(read_end: int, write_end: int, settings: Any) -> None:
    """In the forked worker: die with the Ray worker, keep none of its fds, run the order."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    os.close(write_end)
    # The Ray worker's sockets and files are not the task's (a task holding the raylet's
    # socket open would keep a dead worker's connection half alive).
    os.closerange(3, read_end)
    os.closerange(read_end + 1, 1 << 16)
    from aiflow_lite.engine.launch.forker import run_child

    run_child(read_end, settings)


def _wait(pid: int) -> int:
    """Its exit code, or minus the signal that ended it."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except InterruptedError:
            continue
        except ChildProcessError:  # reaped by someone else (SIGCHLD ignored): unknown
            return 1
        return os.waitstatus_to_exitcode(status)


def _relay(pid: int, next_signal: Callable[[int], Optional[int]]) -> None:
    """Hand each signal the owner relays to the worker's process group, until none will come."""
    index = 0
    while True:
        try:
            signum = next_signal(index)
        except Exception:  # the owner is gone: the task dies with it anyway
            return
        if signum is None:
            return
        index += 1
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signum)
