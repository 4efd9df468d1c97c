"""What a Ray task of aiflow_lite does on its node: fork the worker that runs one claimed try
under a guard, relay the stops its owner hands it, and return the worker's result.

The worker is the local executor's own (see `launch.forker`): a new session (a stop reaches
every child), its log in the home, its result left in the home's results folder. It is forked
rather than spawned: a fresh interpreter costs ~100 ms here, a fork of the Ray worker ~3 ms.

Between the Ray worker and the try's worker stands a guard, a forked process that is the
subreaper of everything the try starts (a Bash task's shell runs in a session of its own, which
a signal to the worker's group misses). It dies with the Ray worker (Linux's parent-death
signal, caught), and then, or when the owner relays a SIGKILL, or when the worker has exited,
it kills every process below it before it exits: a lost Ray worker or a try killed after its
stop timeout leaves nothing running that a retry could meet.

Owner and node meet in files of the home's `ray` folder, not in Ray calls: a Ray task blocked
in `ray.get` gives its CPUs back to Ray, which would start more tries than `ray_task_num_cpus`
allows. `<key>.begun` is created once, by whichever comes first: the node task starting the try
("begun"), or the owner stopping it before it started ("cancelled"). `<key>.signals` holds the
signals the owner relays, one number a line, which the node task polls.

As a zygote does for the local executor, a Ray worker loads each snapshot's workflow file once
and forks every later try of it already loaded (a file whose load starts a thread or a process,
leaves a file open or asks for the task's context is loaded by each try's worker instead).

A try's worker is a fork of a Ray worker: Ray itself is not usable inside the task (the child
holds a copy of its parent's connection to the cluster, which answers nobody).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from typing import Any, Dict, Optional, Tuple

from aiflow_lite.engine.launch.protocol import Go, Order, decode, write_all
from aiflow_lite.engine.launch.results import read_result, result_path

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36

#: The result a try returns: (status value, message).
Outcome = Tuple[str, Optional[str]]
NOT_STARTED = "stopped before it started on its Ray node"
RELAY_POLL_S = 0.05
KEPT_SNAPSHOTS = 4  # loaded workflow files a Ray worker keeps

#: (home, snapshot id) → the loaded workflow file (None: it is not safe to fork loaded), newest
#: last: this Ray worker's own, kept across the tries it runs.
_loaded: Dict[Tuple[str, int], Any] = {}
BEGUN, CANCELLED = b"begun", b"cancelled"


def ray_dir(home: str) -> str:
    """Where a home's owner and node tasks meet (the executor makes it)."""
    return os.path.join(home, "ray")


def begun_path(home: str, key: str) -> str:
    return os.path.join(ray_dir(home), f"{key}.begun")


def signals_path(home: str, key: str) -> str:
    return os.path.join(ray_dir(home), f"{key}.signals")


def mark_once(path: str, word: bytes) -> bool:
    """Create `path` holding `word`, if nobody has: true for exactly one caller."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        write_all(fd, word)
    finally:
        os.close(fd)
    return True


def run_try(order_line: bytes, home: str, key: str) -> Outcome:
    """Run the try `order_line` (an encoded `Order`) of `home`, known to its owner as `key`."""
    order = decode(order_line.rstrip(b"\n"))
    if not isinstance(order, Order):
        return "FAILED", "its Ray task was handed no order"
    if not os.path.isdir(ray_dir(home)):
        return "FAILED", (f"this Ray node does not see the home {home}: run the Ray nodes on "
                          "the machine that holds the home")
    if not mark_once(begun_path(home, key), BEGUN):
        return "STOPPED", NOT_STARTED
    os.environ["AIFLOW_HOME"] = home
    os.environ.pop("NOTIFICATION_HOME", None)
    # The relay listens from here on: a load that hangs is still stopped (see `_Relay`).
    relay = _Relay(signals_path(home, key))
    threading.Thread(target=relay.run, daemon=True, name="aiflow-stop-relay").start()
    try:
        code, worker = _run_guarded(order, order_line, relay)
    finally:
        relay.ended.set()
    # The result file stays: the executor reads it should this Ray task be lost from here on,
    # and removes it once the result has committed.
    result = read_result(result_path(home, order.task_execution_id, order.try_number,
                                     worker)) if worker else None
    if result is None:
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        return "FAILED", f"the worker ended ({how}) without reporting a result"
    return result[0].value, result[1]


def _run_guarded(order: Order, order_line: bytes, relay: _Relay) -> Tuple[int, int]:
    """Fork the guard (which forks the worker), hand the worker its order, wait for the guard:
    (its exit code, or minus its signal; the worker's pid, 0 if it never started)."""
    _warm()
    from aiflow_lite.config import load_aiflow_settings

    settings = load_aiflow_settings()
    preloaded = _preloaded(settings, order)
    read_end, write_end = os.pipe()  # the order, to the worker
    told_r, told_w = os.pipe()  # the worker's pid, from the guard
    me = os.getpid()
    guard = os.fork()
    if guard == 0:  # it never returns
        _guard(read_end, write_end, told_w, settings, preloaded, me)
    os.close(read_end)
    os.close(told_w)
    try:
        worker = _read_pid(told_r)
        relay.procs = (guard, worker)
        if worker:
            with contextlib.suppress(OSError):  # it died already: its exit says so below
                write_all(write_end, order_line if order_line.endswith(b"\n")
                          else order_line + b"\n")
                write_all(write_end, Go(order.task_execution_id, worker).encode())
    except BaseException:  # nothing may run on unwatched: the guard ends all below it
        with contextlib.suppress(OSError):
            os.kill(guard, signal.SIGTERM)
        _wait(guard)
        raise
    finally:
        os.close(told_r)
        os.close(write_end)
    return _wait(guard), worker


def _warm() -> None:
    """Import what every worker imports, once per Ray worker process (as the fork server does):
    each forked worker then finds it loaded instead of importing it again."""
    import importlib

    from aiflow_lite.engine.launch import WARM_MODULES

    for name in WARM_MODULES:
        importlib.import_module(name)


def _preloaded(settings: Any, order: Order) -> Any:
    """The order's workflow file, loaded here once per snapshot if that is safe to fork (the
    checks of `zygotes._fork_hazard`, against what this process had before), else None."""
    # A reset home numbers its snapshots anew: the id alone could name another file.
    key = (settings.home, order.snapshot_id, order.snapshot_uri, order.file_name)
    if key in _loaded:
        _loaded[key] = _loaded.pop(key)  # the newest
        return _loaded[key]
    loaded = _load_if_harmless(settings, order) if _harmless_in_a_fork(settings, order) else None
    _loaded[key] = loaded
    while len(_loaded) > KEPT_SNAPSHOTS:
        del _loaded[next(iter(_loaded))]
    return loaded


def _load_if_harmless(settings: Any, order: Order) -> Any:
    """The loaded file, or None if it did not load, or did what makes forking it unsafe."""
    from aiflow_lite import task_context as client
    from aiflow_lite.engine.launch.worker import preload
    from aiflow_lite.procfs import children_of, open_fds

    me = os.getpid()
    threads, reads, fds = len(os.listdir(f"/proc/{me}/task")), client.context_reads, open_fds()
    cwd = os.getcwd()
    try:
        loaded = preload(settings, order)
    except BaseException:  # the try's worker loads it again and says why in its log
        return None
    finally:
        with contextlib.suppress(OSError):
            os.chdir(cwd)
    if len(os.listdir(f"/proc/{me}/task")) > threads or children_of(me) or \
            client.context_reads > reads or open_fds() - fds:
        return None
    return loaded


def _harmless_in_a_fork(settings: Any, order: Order) -> bool:
    """Load the file first in a throwaway child, as a zygote does: a load that starts a thread
    or a process, or leaves a file open, would leave it in this long-lived Ray worker (outside
    any guard, and in every later fork of it), and one that hangs would hang it here."""
    me = os.getpid()
    probe = os.fork()
    if probe == 0:
        code = 1
        try:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() == me:  # else the Ray worker died before that signal was set
                code = 0 if _load_if_harmless(settings, order) is not None else 1
        finally:
            os._exit(code)
    return _wait(probe) == 0


def _prctl(option: int, value: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(option, value)


class _Kill(Exception):
    """The guard's SIGTERM: its Ray worker died, or the owner relayed a SIGKILL."""


def _guard(read_end: int, write_end: int, told_w: int, settings: Any, preloaded: Any,
           parent: int) -> None:
    """The guard (see the module): fork the worker, tell its pid, wait; then kill what is left
    below it and exit as the worker did. Never returns."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)

        def kill(signum: int, frame: Any) -> None:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one cannot cut it short
            raise _Kill()

        signal.signal(signal.SIGTERM, kill)
        for signum in (signal.SIGINT, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        os.close(write_end)
        # The Ray worker's sockets and files are not the task's (a task holding the raylet's
        # socket open would keep a dead worker's connection half alive).
        keep = sorted((read_end, told_w))
        os.closerange(3, keep[0])
        os.closerange(keep[0] + 1, keep[1])
        os.closerange(keep[1] + 1, 1 << 16)
        if os.getppid() != parent:
            raise _Kill()  # the Ray worker died before the parent-death signal was set
        worker = os.fork()
        if worker == 0:
            os.close(told_w)
            # A guard killed outright (its whole node is going): the try is stopped, as by a
            # stop, which ends its children too.
            _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
            from aiflow_lite.engine.launch.forker import run_child

            if preloaded is not None:
                os.chdir(os.path.dirname(preloaded.path))  # where `preload` works
            run_child(read_end, settings, preloaded)  # never returns
        os.close(read_end)
        write_all(told_w, b"%d\n" % worker)
        os.close(told_w)
        code = _reap_until(worker)
        _kill_below()
    except _Kill:
        while True:
            try:
                _kill_below()
                break
            except _Kill:  # one that landed before the handler ignored the rest: again
                continue
        code = -signal.SIGKILL
    except BaseException:
        with contextlib.suppress(BaseException):
            _kill_below()
    if code < 0:  # end as the worker did, so the Ray task says how it ended
        with contextlib.suppress(OSError, ValueError):  # (SIGKILL has no handler to reset)
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


def _reap_until(worker: int) -> int:
    """Reap children (the guard is their subreaper) until `worker` exits: its exit code, or
    minus its signal."""
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == worker:
            return os.waitstatus_to_exitcode(status)


def _kill_below() -> None:
    """SIGKILL every process below this one, again until none is left (each orphan comes to
    this subreaper, and is reaped here)."""
    from aiflow_lite.procfs import descendants_of

    me = os.getpid()
    while True:
        for pid in descendants_of(me):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return  # no child left
        time.sleep(0.005)


def _read_pid(fd: int) -> int:
    """The pid the guard wrote, or 0 if it ended first."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 64)
        if not chunk:
            return 0
        data += chunk
    return int(data)


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


class _Relay:
    """Hands each signal the owner writes to the try's signals file to the worker's process
    group (a SIGKILL to the guard, which kills everything below it), until the try has ended.
    Before the guard is forked (the workflow file still loading), a SIGKILL ends this Ray
    worker itself (its loss ends the try, and the guard's parent-death signal all below it),
    and other signals wait for the worker."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.procs: Tuple[int, int] = (0, 0)  # (the guard, the worker; 0: it never started)
        self.ended = threading.Event()

    def run(self) -> None:
        done = 0
        while not self.ended.wait(RELAY_POLL_S):
            try:
                with open(self.path, "rb") as fh:
                    fh.seek(done)
                    data = fh.read()
            except FileNotFoundError:
                continue
            for line in data.split(b"\n")[:-1]:  # whole lines only: the owner may be mid-line
                signum = int(line)
                guard, worker = self.procs
                if not guard:
                    if signum == signal.SIGKILL:
                        os.kill(os.getpid(), signal.SIGKILL)
                    break  # the rest when the worker runs
                done += len(line) + 1
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    if signum == signal.SIGKILL or not worker:
                        os.kill(guard, signal.SIGTERM)
                    else:
                        os.killpg(worker, signum)
