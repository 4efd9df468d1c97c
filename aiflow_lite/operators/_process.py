"""The child processes of the engine operators: an engine's client (`flink run`, `spark-submit`)
runs in its own process group with its output copied into the task log and scanned for ids; the
short commands around it (status, cancel, kill) run to completion with a time limit.

A client dies with its worker (Linux's parent-death signal): the executor SIGKILLs a worker that
outlives its stop grace period, and a client JVM must not outlive it in turn.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections import deque
from typing import Callable, Dict, List, Optional, Sequence

from aiflow_lite.errors import InvalidInput
from aiflow_lite.signal_wakeup import stop_signals_blocked
from aiflow_lite.stopping import stop_deferred

#: Seconds between SIGTERM and SIGKILL when a client is stopped.
STOP_GRACE_S = 5.0
#: Seconds a status, cancel or kill command may take.
COMMAND_TIMEOUT_S = 60.0
#: The stop timeout of an engine operator: its stop may ask the cluster for the job id and then
#: cancel it (two commands, each a JVM start) before it stops its client.
ENGINE_STOP_TIMEOUT_S = 2 * COMMAND_TIMEOUT_S + 2 * STOP_GRACE_S

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> Optional[Callable[[], None]]:
    """A preexec function asking the kernel to SIGKILL the child when this thread ends, or None
    where that cannot be had. The libc symbol is looked up here, in the parent."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return preexec


class Client:
    """An engine's client command: started in its own process group, its output copied to our
    stdout (the task log) line by line, each line handed to `on_line`, the last ones kept."""

    def __init__(self, args: Sequence[str], env: Optional[Dict[str, str]] = None,
                 on_line: Optional[Callable[[str], None]] = None) -> None:
        self.args = list(args)
        self.env = env
        self.on_line = on_line
        self.tail: deque = deque(maxlen=20)
        self.process: Optional[subprocess.Popen] = None
        self._reader: Optional[threading.Thread] = None

    def start(self) -> None:
        print(f"[aiflow] running: {' '.join(self.args)}", flush=True)
        with stop_deferred():  # see aiflow_lite.stopping
            self.process = subprocess.Popen(
                self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, env=self.env, start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        self._reader = threading.Thread(target=self._copy_output, name="aiflow-client-output",
                                        daemon=True)
        with stop_signals_blocked():  # a stop must reach the main thread, blocked in wait()
            self._reader.start()

    def _copy_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            sys.stdout.write(line)
            sys.stdout.flush()
            self.tail.append(line.rstrip("\n"))
            if self.on_line is not None:
                self.on_line(line.rstrip("\n"))
        self.process.stdout.close()

    def wait(self, timeout: Optional[float] = None) -> int:
        """Its exit code, once its output has all been copied."""
        assert self.process is not None
        code = self.process.wait(timeout=timeout)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return code

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = STOP_GRACE_S) -> None:
        """SIGTERM its whole group, SIGKILL what is left after `grace` seconds. The group is
        signalled even when its leader has exited: a JVM it started may still run."""
        process = self.process
        if process is None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def run_command(args: List[str], env: Optional[Dict[str, str]] = None, capture: bool = False,
                timeout: float = COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run a short command (status, cancel, kill) to its end in its own process group.

    With `capture` its output is returned (stderr folded in); without, it goes straight to our
    stdout, the task log, where it lands even if this worker is killed meanwhile. Past
    `timeout` its group is killed and the result has return code -9. A missing command gives
    return code 127, as in a shell.
    """
    output = subprocess.PIPE if capture else None
    sys.stdout.flush()
    try:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, env=env, start_new_session=True)
    except OSError as exc:
        return subprocess.CompletedProcess(args, 127, f"{args[0]}: {exc}\n")
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        return subprocess.CompletedProcess(args, -9, _text(out))
    return subprocess.CompletedProcess(args, process.returncode, _text(out))


def _text(out: Optional[bytes]) -> str:
    return out.decode("utf-8", errors="replace") if out else ""


def split_options(task: str, what: str, options: Optional[str], example: str) -> List[str]:
    """A string of command-line options (`command_options`, `submit_options`) split like a
    shell would; a definition-time error names the task and how to fix it."""
    if options is None:
        return []
    if not isinstance(options, str):
        raise InvalidInput(f"task {task!r}: {what} must be one string of options, like "
                           f"{example!r}, got {options!r}")
    try:
        return shlex.split(options)
    except ValueError as exc:
        raise InvalidInput(f"task {task!r}: {what} cannot be split like a shell would ({exc}); "
                           "balance its quotes") from None
